"""Parallel builds share one wheel directory safely; installs of one venv serialize."""

import os
import threading

import pytest

from saltext_venvbuild.core import installer
from saltext_venvbuild.core import layout
from saltext_venvbuild.core.builder import Builder
from saltext_venvbuild.core.fsutil import sha256_file
from saltext_venvbuild.core.interpreter import resolve
from saltext_venvbuild.core.repo import RepoLayout
from saltext_venvbuild.core.spec import VenvSpec
from saltext_venvbuild.core.stamp import read_stamp
from saltext_venvbuild.core.tools import ToolSettings

# venvbuild's own logic and what pip and uv do with its options: the same on every
# Salt (the Salt interfaces it goes through are tested on every Salt elsewhere).
pytestmark = pytest.mark.newest_salt

PLATFORM = "test-1-x86_64-cp3x"


def run_all(functions):
    errors, results = [], {}

    def call(key, func):
        try:
            results[key] = func()
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(k, f)) for k, f in functions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def test_parallel_builds_and_installs(tmp_path, build_args):
    interp = resolve("python3", cache_file=str(tmp_path / "interpreters.json"))
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    state_dir = str(tmp_path / "state")
    os.mkdir(state_dir, 0o700)
    settings = ToolSettings(tool="uv")
    builder = Builder(repo, interp, state_dir, settings)
    packages = {"a": ["vbapp", "vbdep==1.0"], "b": ["vbdep==1.0", "vbcext"],
                "c": ["vbapp", "vbcext", "vbdep==1.0"], "d": ["vbdep==1.0"]}
    specs = {k: VenvSpec.create(k, packages=v, build_args=build_args, platform=PLATFORM)
             for k, v in packages.items()}

    built = run_all({k: (lambda s=s: builder.build(s)) for k, s in specs.items()})
    for key, result in built.items():
        manifest = repo.read_manifest(key, specs[key].spec_id)
        assert manifest == result.manifest
        for pin in manifest.pins:
            assert sha256_file(repo.wheel_path(pin)) == pin.sha256
    # Stored by content: one directory per distinct wheel, holding that wheel only.
    for sha in os.listdir(repo.wheels_dir):
        (name,) = os.listdir(os.path.join(repo.wheels_dir, sha))
        assert name.endswith(".whl") and sha256_file(os.path.join(repo.wheels_dir, sha, name)) == sha
    assert os.listdir(repo.staging_dir) == []

    # Two installs of one venv at once: one waits for the other, both complete,
    # and the venv ends up as one of them, whole.
    path = str(tmp_path / "venvs" / "shared")

    def install(key):
        manifest = built[key].manifest
        request = installer.InstallRequest(
            manifest=manifest, wheels={pin.sha256: repo.wheel_path(pin) for pin in manifest.pins},
            interpreter=interp, settings=settings, source=repo.wheels_dir, trust="local repo")
        return installer.install(layout.VenvPaths(path, state_dir), request, state_dir)

    done = run_all({key: (lambda k=key: install(k)) for key in ("a", "c")})
    stamp = read_stamp(path)
    assert stamp.spec_id in {specs["a"].spec_id, specs["c"].spec_id}
    assert installer.verify(layout.VenvPaths(path)) == []
    assert {os.path.realpath(r.venv_dir) for r in done.values()} >= {os.path.realpath(path)}
