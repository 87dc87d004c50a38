"""venvbuild.prune_repo through the loader, on a repo built with real pip.

Three specs of venv ``app`` are built: A (vbdep 1.0, installed), B (vbdep 1.1)
and C (vbapp with vbdep 1.0, the newest). With A in use and ``keep=1`` a prune
removes B's manifest and the one wheel only B names; a target then still
installs A from the pruned repo over HTTP, anchored by A's manifest hash.
"""

import os
import stat
import time

import pytest

import servers
from saltext_venvbuild.core.manifest import Manifest

# venvbuild's own logic and what pip and uv do with its options: the same on every
# Salt (the Salt interfaces it goes through are tested on every Salt elsewhere).
pytestmark = pytest.mark.newest_salt

SPECS = {"A": ["vbdep==1.0"], "B": ["vbdep==1.1"], "C": ["vbapp", "vbdep==1.0"]}


def tree(path):
    """Every path under ``path`` (but the private .locks and .staging) with its kind and size."""
    out = {}
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in (".locks", ".staging")]
        for name in dirs + files:
            full = os.path.join(root, name)
            st = os.lstat(full)
            out[os.path.relpath(full, path)] = (stat.S_IFMT(st.st_mode), st.st_size)
    return out


def test_prune_repo_removes_exactly_the_plan_and_the_kept_spec_still_installs(modules, tmp_path,
                                                                               build_args):
    repo = str(tmp_path / "repo")
    platform = modules.venvbuild.platform()["key"]
    built = {}
    for age, (name, packages) in zip((3, 2, 1), SPECS.items()):
        ret = modules.venvbuild.build_wheels("app", repo_path=repo, packages=packages,
                                             build_args=build_args)
        path = ret["manifest_path"]
        with open(path, encoding="utf-8") as handle:
            built[name] = Manifest.parse(handle.read())
        when = time.time() - age * 60  # A oldest, C newest
        os.utime(path, (when, when))
    venv = str(tmp_path / "venvs" / "app")
    installed = modules.venvbuild.install(venv, venv_id="app", repo_path=repo,
                                          packages=SPECS["A"], build_args=build_args)
    assert installed["changed"] is True, installed["comment"]
    key = {name: f"{platform}/app-{manifest.spec_id}" for name, manifest in built.items()}
    (b_only,) = {pin.path for pin in built["B"].pins} - {
        pin.path for name in ("A", "C") for pin in built[name].pins}

    before = tree(repo)
    dry = modules.venvbuild.prune_repo(in_use=[key["A"]], keep=1, min_age=0, repo_path=repo)
    assert tree(repo) == before  # the default is a dry run
    assert dry["test"] is True and dry["skipped"] == []
    assert dry["removed"]["manifests"] == [key["B"]]
    assert dry["removed"]["wheels"] == 1
    assert dry["removed"]["bytes"] == before[os.path.join(platform, "wheels", b_only)][1]
    assert dry["kept"]["manifests"] == {key["A"]: "in use", key["C"]: "newest"}
    # The grace period keeps everything just built.
    assert modules.venvbuild.prune_repo(keep=1, repo_path=repo)["removed"]["manifests"] == []

    real = modules.venvbuild.prune_repo(in_use=[key["A"]], keep=1, min_age=0, test=False,
                                        repo_path=repo)
    assert dict(real, test=True) == dry
    gone = {os.path.join(platform, "manifests", built["B"].filename),
            os.path.join(platform, "wheels", b_only),
            os.path.join(platform, "wheels", os.path.dirname(b_only))}
    assert set(before) - set(tree(repo)) == gone and set(tree(repo)) <= set(before)

    # The installed venv is untouched, and a target installs the kept spec from the pruned repo.
    assert modules.venvbuild.verify(venv)["ok"] is True
    with servers.serve(repo) as (url, _server):
        target = modules.venvbuild.install(str(tmp_path / "venvs" / "target"), venv_id="app",
                                           repo_url=url, manifest_sha256=built["A"].sha256,
                                           wheel_build=False, wait_timeout=5,
                                           packages=SPECS["A"], build_args=build_args)
    assert target["changed"] is True and target["spec_id"] == built["A"].spec_id, target["comment"]
    assert modules.venvbuild.verify(str(tmp_path / "venvs" / "target"))["ok"] is True
