"""Unit tests of saltext_venvbuild.core.workflow: the decisions, without Salt, pip or uv.

Salt is reached only through :class:`Hooks`; every hook here is a recording
fake. No real build or install runs: where one would, ``workflow.Builder`` or
``workflow.install_venv`` is replaced by a fake that records the call (the
functional tests run the real ones). Managed venvs are laid out by hand as the
installer leaves them::

    <venvs>/keystone -> .keystone.versions/<spec id>-20260101T000000Z   (relative link)
    <venvs>/.keystone.versions/<spec id>-20260101T000000Z/venvbuild.json, bin/python
"""

import dataclasses
import hashlib
import os
import socket
import subprocess

import pytest

from saltext_venvbuild.core import distro
from saltext_venvbuild.core import options
from saltext_venvbuild.core import plan
from saltext_venvbuild.core import remote
from saltext_venvbuild.core import trust
from saltext_venvbuild.core import workflow
from saltext_venvbuild.core.builder import BuildResult
from saltext_venvbuild.core.errors import InstallError
from saltext_venvbuild.core.errors import RepoError
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import ToolError
from saltext_venvbuild.core.errors import TrustError
from saltext_venvbuild.core.errors import UnreachableError
from saltext_venvbuild.core.installer import InstallResult
from saltext_venvbuild.core.interpreter import Interpreter
from saltext_venvbuild.core.layout import VenvPaths
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin
from saltext_venvbuild.core.spec import VenvSpec
from saltext_venvbuild.core.stamp import Stamp
from saltext_venvbuild.core.stamp import python_record
from saltext_venvbuild.core.stamp import read_stamp
from saltext_venvbuild.core.stamp import write_stamp
from saltext_venvbuild.core.trust import Source
from saltext_venvbuild.core.workflow import Hooks
from saltext_venvbuild.core.workflow import Workflow

PLATFORM = "debian-12-x86_64-cp311"
OTHER_PLATFORM = "ubuntu-24.04-x86_64-cp312"
VENV = "keystone"
PACKAGES = ["vbpkg==1.0"]
MINION = "target01"
STAMP_TIME = "20260101T000000Z"
PY = Interpreter(
    requested="python3",
    executable="/usr/bin/python3.11",
    implementation="cpython",
    version="3.11.2",
    major=3,
    minor=11,
    free_threaded=False,
    machine="x86_64",
)
OTHER_PY = Interpreter("python3", "/usr/bin/python3.11", "cpython", "3.11.9", 3, 11, False,
                       "x86_64")


def _sha(data):
    return hashlib.sha256(data).hexdigest()


# -- fixtures and helpers -----------------------------------------------------------


class Recorder:
    """Recording fakes for every hook; ``calls`` lists ``(hook name, args)`` in order."""

    def __init__(self, mine=None):
        self.calls = []
        # {target: answer} for mine_get; a callable (target, tgt_type) -> answer also works
        self.mine = mine if mine is not None else {}
        self.ensure_answer = {}
        self.links = []
        self.build_answer = None
        self.announce_answer = {"facts": "set"}
        self.installed = set()  # the distro packages installed_pkgs lists; ensure_pkgs adds

    def names(self):
        return [name for name, _args in self.calls]

    def args(self, name):
        return [args for hook, args in self.calls if hook == name]

    def hooks(self):
        def ensure_pkgs(names, state, valid, what):
            self.calls.append(("ensure_pkgs", (list(names), state, valid, what)))
            self.installed.update(names)
            return self.ensure_answer

        def installed_pkgs():
            self.calls.append(("installed_pkgs", ()))
            return set(self.installed)

        def symlink_sources(names, interpreter):
            self.calls.append(("symlink_sources", (list(names), interpreter)))
            return list(self.links)

        def mine_get(target, tgt_type):
            self.calls.append(("mine_get", (target, tgt_type)))
            if callable(self.mine):
                return self.mine(target, tgt_type)
            return self.mine

        def request_build(builder, venv_id, spec_id, platform):
            self.calls.append(("request_build", (builder, venv_id, spec_id)))
            return self.build_answer

        def mine_update():
            self.calls.append(("mine_update", ()))

        def announce(venv_id, data):
            self.calls.append(("announce", (venv_id, data)))
            return self.announce_answer

        return Hooks(minion_id=MINION, ensure_pkgs=ensure_pkgs, installed_pkgs=installed_pkgs,
                     symlink_sources=symlink_sources,
                     mine_get=mine_get, request_build=request_build, mine_update=mine_update,
                     announce=announce)


@pytest.fixture(autouse=True)
def package_database(tmp_path, monkeypatch):
    """A package database file of the test's own (core/pkgdb.py): the machine's may
    change under a test; touching this one is a package change."""
    path = tmp_path / "dpkg-status"
    path.write_text("Package: base-files\n")
    monkeypatch.setattr(Workflow, "package_databases", (str(path),))
    return path


@pytest.fixture
def state_dir(tmp_path):
    path = tmp_path / "state"
    path.mkdir(mode=0o700)
    os.chmod(path, 0o700)
    return str(path)


@pytest.fixture
def repo_path(tmp_path):
    return str(tmp_path / "repo")


@pytest.fixture
def venvs(tmp_path):
    path = tmp_path / "venvs"
    path.mkdir()
    return path


@pytest.fixture
def rec():
    return Recorder()


@pytest.fixture
def make(state_dir, repo_path, rec):
    """``make(**options)`` -> a Workflow for venv keystone on PLATFORM with ``rec``'s hooks."""

    def factory(interpreter=PY, packages=PACKAGES, **values):
        opts = options.validate({"packages": packages, **values}, repo_path)
        spec = VenvSpec.create(VENV, packages=opts["packages"], constraints=opts["constraints"],
                               global_constraints=opts["global_constraints"], platform=PLATFORM)
        return Workflow(state_dir, opts, interpreter, spec, rec.hooks())

    return factory


def _spec(packages=PACKAGES, platform=PLATFORM):
    return VenvSpec.create(VENV, packages=packages, platform=platform)


def _wheel_dir(tmp_path, files):
    """A directory of fake wheels ``{filename: bytes}``."""
    path = tmp_path / f"built-{len(list(tmp_path.iterdir()))}"
    path.mkdir()
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


def _manifest(spec, pins=None):
    if pins is None:
        pins = [Pin.from_wheel("vbpkg-1.0-py3-none-any.whl", _sha(b"vbpkg 1.0"), 9)]
    return Manifest.create(spec.venv_id, spec.spec_id, spec.platform, spec.requirements, pins)


def _publish(wf, tmp_path, wheels=True, files=None):
    """Publish the workflow's spec in its local repo; with ``wheels`` store the wheels too."""
    files = files or {"vbpkg-1.0-py3-none-any.whl": b"vbpkg 1.0"}
    repo = wf.repo()
    if wheels:
        pins, _new = repo.publish_wheels(str(_wheel_dir(tmp_path, files)))
    else:
        pins = [Pin.from_wheel(name, _sha(data), len(data)) for name, data in files.items()]
    manifest = _manifest(wf.spec, pins)
    repo.publish_manifest(manifest)
    return manifest


def _stamp(spec, manifest_sha256, interpreter=PY, **extra):
    values = dict(
        venv_id=spec.venv_id,
        spec_id=spec.spec_id,
        manifest_sha256=manifest_sha256,
        python=python_record(interpreter),
        requirements=list(spec.requirements),
        versions={"vbpkg": "1.0"},
        seeded={},
        install_tool="pip",
        source="test",
        created=STAMP_TIME,
    )
    values.update(extra)
    return Stamp(**values)


def _managed(venvs, stamp, name=VENV):
    """Lay out a managed venv by hand; return its VenvPaths (no state dir)."""
    entry = f"{stamp.spec_id}-{STAMP_TIME}"
    version = venvs / f".{name}.versions" / entry
    (version / "bin").mkdir(parents=True)
    (version / "bin" / "python").write_text("#!/bin/false\n")
    write_stamp(str(version), stamp)
    os.symlink(f".{name}.versions/{entry}", venvs / name)
    return VenvPaths(str(venvs / name))


def _mine_info(spec=None, sha=None, url="http://build01:8181", platforms=(PLATFORM,),
               release=None):
    manifests = {}
    if spec is not None and sha is not None:
        where = f"{release}/{spec.platform}" if release else spec.platform
        manifests[f"{where}/{spec.venv_id}-{spec.spec_id}"] = sha
    return {"url": url, "platforms": list(platforms), "manifests": manifests}


@pytest.fixture
def no_io(monkeypatch):
    """Any socket connect or process spawn fails the test."""

    def refuse_connect(self, *args, **kwargs):
        raise AssertionError(f"a socket was opened: {args!r}")

    def refuse_popen(*args, **kwargs):
        raise AssertionError(f"a process was spawned: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)
    monkeypatch.setattr(subprocess, "Popen", refuse_popen)


class FakeBuilder:
    """Stands in for core.builder.Builder: records its construction and builds."""

    instances = []
    result = None

    def __init__(self, repo, interpreter, state_dir, settings, http=None, retry=None):
        self.repo, self.interpreter, self.state_dir = repo, interpreter, state_dir
        self.settings, self.http, self.retry = settings, http, retry
        self.builds = []
        FakeBuilder.instances.append(self)

    def build(self, spec, rebuild=False, latest=False, recreate_env=False):
        self.builds.append({"spec": spec, "rebuild": rebuild, "latest": latest,
                            "recreate_env": recreate_env})
        return FakeBuilder.result

    resolved = None  # what resolve() answers: {name: version}
    resolves = []

    def resolve(self, spec):
        FakeBuilder.resolves.append(spec)
        return dict(FakeBuilder.resolved)


class RefusingBuilder:
    def __init__(self, *args, **kwargs):
        raise AssertionError("Builder must not be constructed here")


@pytest.fixture
def fake_builder(monkeypatch):
    FakeBuilder.instances = []
    FakeBuilder.result = None
    FakeBuilder.resolved, FakeBuilder.resolves = None, []
    monkeypatch.setattr(workflow, "Builder", FakeBuilder)
    return FakeBuilder


@pytest.fixture
def no_builder(monkeypatch):
    monkeypatch.setattr(workflow, "Builder", RefusingBuilder)


@pytest.fixture
def fake_install(monkeypatch):
    """Replace workflow.install_venv; the list records ``(paths, request, state_dir)``."""
    calls = []

    def install(paths, request, state_dir):
        calls.append((paths, request, state_dir))
        return InstallResult(None, None, os.path.join(paths.versions_dir, "new"), 0.5)

    monkeypatch.setattr(workflow, "install_venv", install)
    return calls


@pytest.fixture
def no_install(monkeypatch):
    def install(*args, **kwargs):
        raise AssertionError("install_venv must not be called here")

    monkeypatch.setattr(workflow, "install_venv", install)


# -- configuration --------------------------------------------------------------------


def test_repo_layout_follows_the_options(make, repo_path):
    wf = make(release="2025.2")
    repo = wf.repo()
    assert repo.root == repo_path
    assert repo.platform == PLATFORM
    assert repo.release == "2025.2"
    assert repo.platform_dir == os.path.join(repo_path, "2025.2", PLATFORM)


def test_settings_carry_build_and_install_options(make):
    wf = make(build_env={"MAX_JOBS": "1"}, install_env={"UV_HTTP_TIMEOUT": "2"}, build_timeout=10,
              install_timeout=20, install_tool="uv", pip_noconf=True)
    build, install = wf.build_settings(), wf.install_settings()
    assert (build.tool, build.env, build.timeout, build.timeout_option) == (
        "uv", {"MAX_JOBS": "1"}, 10.0, "build_timeout")
    assert (install.tool, install.env, install.timeout, install.timeout_option) == (
        "uv", {"UV_HTTP_TIMEOUT": "2"}, 20.0, "install_timeout")
    assert build.pip_noconf and install.pip_noconf


def test_distro_args_ensure_symlinked_packages_too(make):
    wf = make(install_pkgs=["libpq5"], symlink_pkgs=["python3-apt", "libpq5"])
    wants = wf.wants()
    assert {"symlink_pkgs": list(wants.symlink_pkgs), "install_pkgs": list(wants.install_pkgs)} == {
        "symlink_pkgs": ["libpq5", "python3-apt"], "install_pkgs": ["libpq5", "python3-apt"]}


# -- the no-op path -----------------------------------------------------------------


def test_current_local_venv_is_a_noop_without_hooks_sockets_or_processes(
        make, rec, venvs, tmp_path, no_io, no_builder, no_install):
    wf = make()
    manifest = _publish(wf, tmp_path)
    paths = _managed(venvs, _stamp(wf.spec, manifest.sha256))
    result = wf.install(paths, test=False)
    assert result["changed"] is False
    assert result["changes"] == {}
    assert result["name"] == paths.path
    assert result["spec_id"] == wf.spec.spec_id
    assert result["venv_id"] == VENV
    assert result["platform"] == PLATFORM
    assert "is current" in result["comment"]
    assert "warnings" not in result
    assert rec.calls == []


def test_current_local_venv_is_a_noop_in_test_mode_too(make, rec, venvs, tmp_path, no_io):
    wf = make()
    manifest = _publish(wf, tmp_path)
    paths = _managed(venvs, _stamp(wf.spec, manifest.sha256))
    result = wf.install(paths, test=True)
    assert result["changed"] is False and result["changes"] == {}
    assert rec.calls == []


def test_current_venv_with_builder_target_does_not_read_the_mine(make, rec, venvs, no_io,
                                                                  no_builder, no_install):
    rec.mine = lambda target, tgt_type: pytest.fail("the mine was read on the no-op path")
    wf = make(builder_target="build*")
    # A remote source: no local manifest exists, the spec id decides.
    paths = _managed(venvs, _stamp(wf.spec, "c" * 64))
    result = wf.install(paths, test=False)
    assert result["changed"] is False
    assert result["changes"] == {}
    assert rec.calls == []


def test_current_venv_with_builder_does_not_read_the_mine(make, rec, venvs, no_io):
    wf = make(builder="build01")
    paths = _managed(venvs, _stamp(wf.spec, "c" * 64))
    assert wf.install(paths, test=False)["changed"] is False
    assert rec.calls == []


def test_current_venv_with_pinned_repo_url_compares_the_pin(make, rec, venvs, no_io):
    pin = "d" * 64
    wf = make(repo_url="https://repo.example:8181", manifest_sha256=pin)
    paths = _managed(venvs, _stamp(wf.spec, pin))
    assert wf.install(paths, test=False)["changed"] is False
    assert rec.calls == []


def test_noop_path_reports_static_warnings(make, rec, venvs, no_io):
    wf = make(builder_target="roles:builder", builder_tgt_type="grain")
    paths = _managed(venvs, _stamp(wf.spec, "c" * 64))
    result = wf.install(paths, test=False)
    assert result["changed"] is False
    assert len(result["warnings"]) == 1
    assert "minion id" in result["warnings"][0]
    assert rec.calls == []


def test_stale_local_stamp_is_not_current(make, rec, venvs, tmp_path, no_builder, no_install):
    # The spec id matches but the published manifest differs: not a no-op.
    wf = make()
    manifest = _publish(wf, tmp_path)
    paths = _managed(venvs, _stamp(wf.spec, "e" * 64))
    result = wf.install(paths, test=True)
    assert result["changed"] is True
    assert result["changes"]["manifest"] == {"old": "e" * 64, "new": manifest.sha256}
    assert rec.calls == []


def test_other_interpreter_is_not_current(make, rec, venvs, tmp_path, no_builder, no_install):
    wf = make()
    manifest = _publish(wf, tmp_path)
    paths = _managed(venvs, _stamp(wf.spec, manifest.sha256, interpreter=OTHER_PY))
    result = wf.install(paths, test=True)
    assert result["changed"] is True
    assert result["changes"]["python"] == {"old": python_record(OTHER_PY),
                                           "new": python_record(PY)}


def _dead_venv(wf, venvs, tmp_path):
    """A current managed venv whose bin/python is gone (its base interpreter removed)."""
    manifest = _publish(wf, tmp_path)
    paths = _managed(venvs, _stamp(wf.spec, manifest.sha256))
    os.unlink(os.path.join(paths.live_dir(), "bin", "python"))
    return paths


def test_venv_without_bin_python_is_reinstalled(make, rec, venvs, tmp_path, state_dir,
                                                no_builder, fake_install):
    wf = make()
    paths = _dead_venv(wf, venvs, tmp_path)
    wf.install(VenvPaths(paths.path, state_dir), test=False)
    assert len(fake_install) == 1  # the no-op path was not taken
    assert "announce" in rec.names()


def test_reinstall_of_a_venv_without_bin_python_reports_a_change(make, venvs, tmp_path,
                                                                 state_dir, no_builder,
                                                                 fake_install):
    wf = make()
    paths = _dead_venv(wf, venvs, tmp_path)
    result = wf.install(VenvPaths(paths.path, state_dir), test=False)
    assert len(fake_install) == 1
    assert result["changed"] is True


def test_test_mode_predicts_the_reinstall_of_a_venv_without_bin_python(make, venvs, tmp_path,
                                                                       no_builder, no_install):
    wf = make()
    paths = _dead_venv(wf, venvs, tmp_path)
    result = wf.install(paths, test=True)
    assert result["changed"] is True


@pytest.mark.parametrize("forced", [{"rebuild": True}, {"wheels_rebuild": True}])
def test_forced_runs_skip_the_noop_path(make, rec, venvs, tmp_path, forced, no_builder,
                                        no_install):
    wf = make(**forced)
    manifest = _publish(wf, tmp_path)
    paths = _managed(venvs, _stamp(wf.spec, manifest.sha256))
    result = wf.install(paths, test=True)
    assert "is current (spec" not in result["comment"]
    assert rec.calls == []
    if forced.get("rebuild"):
        assert result["changes"] == {"rebuilt": True}


def test_pkgs_state_latest_on_a_current_venv_upgrades_only_outside_test(make, rec, venvs,
                                                                       tmp_path, no_io):
    wf = make(install_pkgs=["libpq5"], pkgs_state="latest")
    manifest = _publish(wf, tmp_path)
    paths = _managed(venvs, _stamp(wf.spec, manifest.sha256, install_pkgs=["libpq5"]))
    rec.installed = {"libpq5"}
    result = wf.install(paths, test=True)
    assert result["changed"] is False
    assert "is current" in result["comment"]
    assert rec.names() == ["installed_pkgs"]  # present: nothing to predict; no upgrade asked

    rec.calls.clear()
    rec.ensure_answer = {"libpq5": {"old": "15.1", "new": "15.2"}}
    result = wf.install(paths, test=False)
    assert result["changed"] is True
    assert result["changes"] == {"distro_packages": {"libpq5": {"old": "15.1", "new": "15.2"}}}
    assert "installed or upgraded distro packages libpq5" in result["comment"]
    assert rec.args("ensure_pkgs") == [(["libpq5"], "latest", 600.0,
                                        f"venv {paths.path}: install_pkgs")]


# -- static_warnings ------------------------------------------------------------------


@pytest.mark.parametrize("tgt_type", ["grain", "grain_pcre", "ipcidr"])
def test_minion_controlled_builder_target_warns(make, tgt_type):
    warnings = make(builder_target="roles:builder", builder_tgt_type=tgt_type).sources.warnings()
    assert len(warnings) == 1
    for word in ("minion id", "pillar", "nodegroup"):
        assert word in warnings[0]


def test_compound_with_grain_warns(make):
    warnings = make(builder_target="build* and G@roles:builder",
                    builder_tgt_type="compound").sources.warnings()
    assert len(warnings) == 1 and "minion id" in warnings[0]


@pytest.mark.parametrize("target, tgt_type", [
    ("build01,build02", "list"),
    (["build01", "build02"], "list"),
    ("build*", "glob"),
    ("build0[0-9]", "pcre"),
    ("builders", "nodegroup"),
    ("venvbuild:builder:True", "pillar"),
])
def test_master_controlled_builder_target_does_not_warn(make, target, tgt_type):
    assert make(builder_target=target, builder_tgt_type=tgt_type).sources.warnings() == []


def test_builder_id_wins_over_a_grain_target(make):
    wf = make(builder="build01", builder_target="roles:builder", builder_tgt_type="grain")
    assert wf.sources.warnings() == []


def test_plain_http_repo_url_warns(make):
    warnings = make(repo_url="http://user:secret@repo.example:8181").sources.warnings()
    assert len(warnings) == 1
    assert "nothing authenticates" in warnings[0]
    assert "secret" not in warnings[0]  # credentials are hidden


@pytest.mark.parametrize("extra", [
    {"manifest_sha256": "a" * 64},
    {"builder": "build01"},
    {"builder_target": "build*"},
])
def test_plain_http_repo_url_with_an_anchor_does_not_warn(make, extra):
    assert make(repo_url="http://repo.example:8181", **extra).sources.warnings() == []


def test_https_repo_url_does_not_warn(make):
    assert make(repo_url="https://repo.example:8181").sources.warnings() == []


def test_no_source_does_not_warn(make):
    assert make().sources.warnings() == []


def test_plain_http_repo_url_in_upper_case_warns(make):
    warnings = make(repo_url="HTTP://repo.example:8181").sources.warnings()
    assert len(warnings) == 1 and "nothing authenticates" in warnings[0]


UC_PIN = "b" * 64


def test_plain_http_constraints_url_warns_in_build_and_install_results(make, venvs, no_io,
                                                                       no_builder):
    wf = make(constraints=["-c http://user:secret@mirror.example/uc.txt"],
              global_constraints=["-c https://releases.example/uc.txt"])
    result, _manifest_read = wf.build(test=True)
    (warning,) = result["warnings"]
    assert warning.startswith("constraints file http://****@mirror.example/uc.txt is plain HTTP "
                              "without a sha256 pin")
    assert "#sha256=" in warning and "secret" not in warning
    installed = wf.install(VenvPaths(str(venvs / VENV)), test=True)
    assert installed["warnings"] == [warning]


@pytest.mark.parametrize("ref", [f"http://mirror.example/uc.txt#sha256={UC_PIN}",
                                 "https://mirror.example/uc.txt", "/etc/venvbuild/uc.txt"])
def test_pinned_https_or_local_constraints_do_not_warn(make, venvs, no_io, no_builder, ref):
    wf = make(constraints=[f"-c {ref}"])
    assert "warnings" not in wf.build(test=True)[0]
    assert "warnings" not in wf.install(VenvPaths(str(venvs / VENV)), test=True)
    assert wf.constraint_warnings() == []


def test_http_bounds_fetches_by_wait_timeout(make):
    with make(wait_timeout=600).http() as http:
        assert http.wheel_seconds == 600  # a wheel may take wait_timeout + 1 s per 100 KiB
        assert 599 < http.remaining() <= 600
        assert http.text_limit().text == "wait_timeout (600 s)"
    with make(wait_timeout=5).http() as http:
        assert http.wheel_seconds == remote.WHEEL_SECONDS  # at least 120 s
    with make().http(wait=False) as http:
        assert http.deadline is None


def test_build_fetches_constraints_within_wait_timeout(make, fake_builder, tmp_path):
    wf = make(wait_timeout=42)
    previous = _publish(wf, tmp_path, wheels=False)
    fake_builder.result = BuildResult(previous, False, previous, [], 1.0)
    wf.build(test=False)
    http = fake_builder.instances[0].http
    assert http.wait_seconds == pytest.approx(42, abs=1)


def test_result_deduplicates_warnings_in_order(make):
    wf = make()
    result = wf._result({"name": "/x"}, {"a": 1}, "done", ["w1", "w2", "w1", "w2", "w3"],
                        extra=1)
    assert result == {"name": "/x", "changed": True, "changes": {"a": 1}, "comment": "done",
                      "warnings": ["w1", "w2", "w3"], "extra": 1}
    assert "warnings" not in wf._result({}, {}, "done", [])


def test_install_result_carries_warnings_once(make, rec, venvs, monkeypatch):
    wf = make(builder_target="roles:builder", builder_tgt_type="grain", build_fallback=True)
    # The same warning twice (e.g. static warnings computed again): reported once.
    monkeypatch.setattr(wf.sources, "warnings", lambda: ["same warning", "same warning"])
    paths = VenvPaths(str(venvs / VENV))
    result = wf.install(paths, test=True)
    assert result["warnings"].count("same warning") == 1
    # The fallback appended its own warning.
    assert any("build_fallback" in w for w in result["warnings"])


# -- find_source ----------------------------------------------------------------------


def test_builder_id_reads_its_mine_entry(make, rec):
    rec.mine = {"build01": _mine_info()}
    wf = make(builder="build01")
    warnings = []
    source = wf.sources.find(warnings)
    assert rec.calls == [("mine_get", ("build01", "list"))]
    assert source.url == "http://build01:8181"
    assert source.builder == "build01"
    assert source.info == _mine_info()
    assert source.anchor == "mine"
    assert source.how == "builder build01"
    assert warnings == []


@pytest.mark.parametrize("target, tgt_type", [
    ("build*", "glob"),
    ("build01,build02", "list"),
    ("build* and L@build01", "compound"),
    ("builders", "nodegroup"),
])
def test_builder_target_and_type_are_passed_through(make, rec, target, tgt_type):
    rec.mine = {"build01": _mine_info()}
    source = make(builder_target=target, builder_tgt_type=tgt_type).sources.find([])
    assert rec.calls == [("mine_get", (target, tgt_type))]
    assert source.builder == "build01"


def test_builder_target_default_type_is_glob(make, rec):
    rec.mine = {"build01": _mine_info()}
    make(builder_target="build*").sources.find([])
    assert rec.args("mine_get") == [("build*", "glob")]


def test_builder_wins_over_builder_target(make, rec):
    rec.mine = {"build01": _mine_info()}
    make(builder="build01", builder_target="other*").sources.find([])
    assert rec.args("mine_get") == [("build01", "list")]


def test_repo_url_with_a_builder_fetches_from_repo_url(make, rec):
    rec.mine = {"build01": _mine_info()}
    source = make(builder="build01", repo_url="https://mirror.example/repo").sources.find([])
    assert source.url == "https://mirror.example/repo"
    assert source.builder == "build01"
    assert source.anchor == "mine"
    assert "builder build01" in source.how
    assert "https://mirror.example/repo" in source.how


def test_builder_platforms_filter_the_builders(make, rec):
    rec.mine = {"build01": _mine_info(url="http://build01:8181"),
                "build02": _mine_info(url="http://build02:8181")}
    for allowed in ("build01", "build02"):
        source = make(builder_target="build*",
                      builder_platforms={allowed: ["debian-*"]}).sources.find([])
        assert source.builder == allowed
        assert source.url == f"http://{allowed}:8181"


def test_builder_platforms_refusing_every_builder_is_no_builder(make, rec):
    rec.mine = {"build01": _mine_info()}
    with pytest.raises(SpecError, match="no builder serves platform"):
        make(builder_target="build*", builder_platforms={"build01": ["ubuntu-*"]}).sources.find([])


def test_only_builders_of_the_platform_are_chosen(make, rec):
    rec.mine = {"build01": _mine_info(platforms=[OTHER_PLATFORM]),
                "build02": _mine_info(url="http://build02:8181")}
    source = make(builder_target="build*").sources.find([])
    assert source.builder == "build02"


def test_the_choice_is_stable(make, rec):
    rec.mine = {f"build0{i}": _mine_info(url=f"http://build0{i}:8181") for i in range(1, 6)}
    chosen = {make(builder_target="build*").sources.find([]).builder for _ in range(3)}
    assert len(chosen) == 1


def test_no_builder_serving_refuses_and_names_build_fallback(make, rec):
    rec.mine = {"build01": _mine_info(platforms=[OTHER_PLATFORM])}
    with pytest.raises(SpecError) as exc:
        make(builder_target="build*").sources.find([])
    text = str(exc.value)
    assert "build_fallback" in text
    assert f"no builder serves platform {PLATFORM}" in text
    assert "build01" in text  # what the mine had
    assert "venvbuild_repo" in text


def test_no_mine_data_at_all_says_none(make, rec):
    rec.mine = None
    with pytest.raises(SpecError, match=r"build\*'?: none\)"):
        make(builder_target="build*").sources.find([])


def test_no_builder_with_compound_target_suggests_commands(make, rec):
    with pytest.raises(SpecError, match=r"salt -C 'build\* and L@b1'"):
        make(builder_target="build* and L@b1", builder_tgt_type="compound").sources.find([])


def test_no_builder_and_wheel_build_false(make, rec):
    with pytest.raises(SpecError, match="wheel_build is false"):
        make(builder="build01", wheel_build=False, build_fallback=True).sources.find([])


def test_no_builder_with_build_fallback_builds_here(make, rec):
    rec.mine = {"build01": _mine_info(platforms=[OTHER_PLATFORM])}
    warnings = []
    source = make(builder_target="build*", build_fallback=True).sources.find(warnings)
    assert source.url is None
    assert source.builder is None
    assert source.anchor == "local"
    assert "build_fallback" in source.how
    assert len(warnings) == 1
    assert "build_fallback" in warnings[0]
    assert f"no builder serves platform {PLATFORM}" in warnings[0]


def test_invalid_mine_entries_are_ignored(make, rec):
    rec.mine = {"evil": {"url": "file:///etc", "platforms": [PLATFORM]},
                "broken": "not a dict",
                "build02": _mine_info(url="http://build02:8181")}
    assert make(builder_target="*").sources.find([]).builder == "build02"


def test_repo_url_with_manifest_sha256_is_pinned(make, rec):
    source = make(repo_url="http://repo.example:8181", manifest_sha256="a" * 64).sources.find([])
    assert (source.url, source.builder, source.anchor) == ("http://repo.example:8181", None,
                                                            "pinned")
    assert rec.calls == []


def test_repo_url_alone_is_not_authenticated(make, rec):
    source = make(repo_url="https://repo.example:8181").sources.find([])
    assert (source.url, source.builder, source.anchor) == ("https://repo.example:8181", None,
                                                            "none")
    assert source.how == "repo_url"
    assert rec.calls == []


# -- authentic: asked with the sha256 of a manifest's bytes, before they are parsed ------

URL = "http://build01:8181/debian-12-x86_64-cp311/manifests/keystone-x.txt"


def _mine_source(spec, sha, **kwargs):
    return Source("http://build01:8181", "build01", _mine_info(spec, sha, **kwargs), "mine",
                  "builder build01")


def test_unauthenticated_source_accepts_any_manifest(make, rec):
    wf = make(repo_url="http://repo.example:8181")
    assert wf.sources.authentic(_manifest(wf.spec).sha256, Source("http://x", anchor="none"), URL) is True
    assert rec.calls == []


def test_pinned_source_accepts_the_pinned_hash(make, rec):
    manifest = _manifest(_spec())
    wf = make(repo_url="http://repo.example:8181", manifest_sha256=manifest.sha256)
    assert wf.sources.authentic(manifest.sha256, Source("http://x", anchor="pinned"), URL) is True
    assert rec.calls == []


def test_pinned_source_refuses_another_hash(make, rec):
    wf = make(repo_url="http://repo.example:8181", manifest_sha256="a" * 64)
    with pytest.raises(TrustError, match="manifest_sha256 in the pillar"):
        wf.sources.authentic(_manifest(wf.spec).sha256, Source("http://x", anchor="pinned"), URL)
    assert rec.calls == []


def test_mine_source_accepts_the_published_hash_without_rereading(make, rec):
    wf = make(builder="build01")
    manifest = _manifest(wf.spec)
    assert wf.sources.authentic(manifest.sha256, _mine_source(wf.spec, manifest.sha256), URL) is True
    assert rec.calls == []


def test_mine_source_with_a_release_level(make, rec):
    wf = make(builder="build01", release="2025.2")
    manifest = _manifest(wf.spec)
    source = _mine_source(wf.spec, manifest.sha256, release="2025.2")
    assert wf.sources.authentic(manifest.sha256, source, URL) is True
    # Published without the release level: not this manifest's entry.
    rec.mine = {"build01": _mine_info(wf.spec, manifest.sha256)}
    assert wf.sources.authentic(manifest.sha256, _mine_source(wf.spec, manifest.sha256), URL) is False


def test_mine_source_missing_hash_refreshes_then_waits(make, rec):
    wf = make(builder="build01")
    manifest = _manifest(wf.spec)
    rec.mine = {"build01": _mine_info()}  # still nothing published
    assert wf.sources.authentic(manifest.sha256, _mine_source(wf.spec, None), URL) is False
    assert rec.calls == [("mine_get", ("build01", "list"))]


def test_mine_source_missing_hash_then_published(make, rec):
    wf = make(builder="build01")
    manifest = _manifest(wf.spec)
    rec.mine = {"build01": _mine_info(wf.spec, manifest.sha256)}
    source = _mine_source(wf.spec, None)
    assert wf.sources.authentic(manifest.sha256, source, URL) is True
    assert rec.calls == [("mine_get", ("build01", "list"))]
    assert source.info == _mine_info(wf.spec, manifest.sha256)  # the fresh entry is kept


def test_mine_source_mismatch_refreshes_once_then_refuses(make, rec):
    wf = make(builder="build01")
    manifest = _manifest(wf.spec)
    rec.mine = {"build01": _mine_info(wf.spec, "b" * 64)}
    with pytest.raises(TrustError, match="builder build01's mine entry"):
        wf.sources.authentic(manifest.sha256, _mine_source(wf.spec, "b" * 64), URL)
    assert rec.calls == [("mine_get", ("build01", "list"))]


def test_mine_source_stale_then_updated(make, rec):
    wf = make(builder="build01")
    manifest = _manifest(wf.spec)
    rec.mine = {"build01": _mine_info(wf.spec, manifest.sha256)}
    assert wf.sources.authentic(manifest.sha256, _mine_source(wf.spec, "b" * 64), URL) is True
    assert rec.calls == [("mine_get", ("build01", "list"))]


def test_mine_source_refresh_without_the_builder_keeps_the_old_entry(make, rec):
    wf = make(builder="build01")
    manifest = _manifest(wf.spec)
    rec.mine = {}  # the builder vanished from the mine: its old word still stands
    with pytest.raises(TrustError):
        wf.sources.authentic(manifest.sha256, _mine_source(wf.spec, "b" * 64), URL)
    rec.mine = {"build01": "garbage"}
    with pytest.raises(TrustError):
        wf.sources.authentic(manifest.sha256, _mine_source(wf.spec, "b" * 64), URL)


def test_mine_source_hash_withdrawn_on_refresh_waits(make, rec):
    wf = make(builder="build01")
    manifest = _manifest(wf.spec)
    rec.mine = {"build01": _mine_info()}
    assert wf.sources.authentic(manifest.sha256, _mine_source(wf.spec, "b" * 64), URL) is False


# -- install(): what is at the path ---------------------------------------------------


def test_directory_not_a_venv_is_refused_in_test_mode(make, rec, venvs, no_builder, no_install):
    (venvs / VENV).mkdir()
    (venvs / VENV / "data.txt").write_text("mine")
    wf = make()
    with pytest.raises(InstallError, match="not a venv"):
        wf.install(VenvPaths(str(venvs / VENV)), test=True)
    assert rec.calls == []


def test_directory_not_a_venv_is_refused_before_the_mine_is_read(make, rec, venvs):
    (venvs / VENV).mkdir()
    with pytest.raises(InstallError):
        make(builder="build01").install(VenvPaths(str(venvs / VENV)), test=True)
    assert rec.calls == []


def test_foreign_symlink_is_refused_in_test_mode(make, venvs, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    os.symlink(str(tmp_path / "elsewhere"), venvs / VENV)
    with pytest.raises(InstallError, match="adopt_existing"):
        make().install(VenvPaths(str(venvs / VENV)), test=True)


def test_file_is_refused_even_with_adopt_existing(make, venvs):
    (venvs / VENV).write_text("a file")
    with pytest.raises(InstallError, match="a file is there"):
        make(adopt_existing=True).install(VenvPaths(str(venvs / VENV)), test=True)


def test_adopt_existing_directory_is_predicted(make, rec, venvs, no_builder, no_install):
    (venvs / VENV).mkdir()
    wf = make(adopt_existing=True)
    result = wf.install(VenvPaths(str(venvs / VENV)), test=True)
    assert result["changed"] is True
    assert result["changes"]["existing"] == {
        "old": "a directory",
        "new": f"moved into {venvs / ('.' + VENV + '.versions')} and kept (never pruned)"}
    assert result["changes"]["venv"] == {"old": None, "new": wf.spec.spec_id}
    assert "would be built locally" in result["comment"]
    assert rec.calls == []
    assert os.path.isdir(venvs / VENV)  # test mode touches nothing


def test_foreign_venv_is_predicted_to_be_kept(make, rec, venvs, no_builder, no_install):
    (venvs / VENV).mkdir()
    (venvs / VENV / "pyvenv.cfg").write_text("home = /usr/bin\n")
    result = make().install(VenvPaths(str(venvs / VENV)), test=True)
    assert result["changes"]["existing"]["old"] == "a venv made by other means"


def test_absent_venv_with_published_manifest_predicts_packages(make, rec, venvs, tmp_path,
                                                               no_builder, no_install):
    wf = make()
    manifest = _publish(wf, tmp_path)
    result = wf.install(VenvPaths(str(venvs / VENV)), test=True)
    assert result["changes"]["venv"] == {"old": None, "new": wf.spec.spec_id}
    assert result["changes"]["packages"] == {"added": {"vbpkg": "1.0"}}
    assert result["comment"].endswith(f"would be installed from {manifest.filename}")
    assert rec.calls == []


def test_absent_venv_without_manifest_predicts_a_build(make, venvs, no_builder, no_install):
    wf = make()
    result = wf.install(VenvPaths(str(venvs / VENV)), test=True)
    assert "packages" not in result["changes"]
    assert result["changes"]["requirements"] == {"added": list(wf.spec.requirements)}
    assert "pins known after the build" in result["comment"]


# -- _install_local -------------------------------------------------------------------


def test_wheel_build_false_without_a_source_has_nothing_to_install_from(make, rec, venvs,
                                                                          no_builder,
                                                                          no_install):
    wf = make(wheel_build=False)
    for test in (True, False):
        with pytest.raises(SpecError, match="nothing to install from"):
            wf.install(VenvPaths(str(venvs / VENV)), test=test)
    assert rec.calls == []


def test_install_local_directly_with_wheel_build_false(make, venvs):
    wf = make(wheel_build=False)
    paths = VenvPaths(str(venvs / VENV))
    ctx = workflow._Target(paths, plan.Found(None, False, None), {}, [])
    with pytest.raises(SpecError, match="nothing to install from"):
        wf._install_local(ctx, None, test=True, fallback=False)


def test_local_install_uses_the_published_manifest_without_building(
        make, rec, venvs, tmp_path, state_dir, no_builder, fake_install):
    wf = make(install_pkgs=["libpq5"], symlink_pkgs=["python3-apt"],
              install_args=["--no-compile"], keep_versions=3)
    manifest = _publish(wf, tmp_path)
    rec.links = ["/usr/lib/python3/dist-packages/apt"]
    rec.ensure_answer = {"libpq5": {"old": "", "new": "15"}}
    paths = VenvPaths(str(venvs / VENV), state_dir)
    result = wf.install(paths, test=False)

    assert len(fake_install) == 1
    got_paths, request, got_state = fake_install[0]
    assert got_paths is paths and got_state == state_dir
    assert request.manifest == manifest
    repo = wf.repo()
    assert request.wheels == {pin.sha256: repo.wheel_path(pin) for pin in manifest.pins}
    assert request.source == repo.wheels_dir
    assert request.trust == f"local repo {repo.root}"
    assert request.install_args == ("--no-compile",)
    assert request.links == ("/usr/lib/python3/dist-packages/apt",)
    assert request.symlink_pkgs == ("python3-apt",)
    assert request.install_pkgs == ("libpq5", "python3-apt")
    assert request.keep == 3 and request.adopt is False
    assert request.interpreter == PY

    # The packages are listed, the missing ones installed, listed again; then the venv.
    assert rec.names() == ["installed_pkgs", "ensure_pkgs", "installed_pkgs", "symlink_sources",
                           "mine_update", "announce"]
    assert rec.args("ensure_pkgs")[0][0] == ["libpq5", "python3-apt"]
    venv_id, data = rec.args("announce")[0]
    assert venv_id == VENV
    assert data["old"] is None and data["new"] == wf.spec.spec_id
    assert result["changed"] is True
    assert result["changes"]["distro_packages"] == {"libpq5": {"old": "", "new": "15"}}
    assert result["changes"]["packages"] == {"added": {"vbpkg": "1.0"}}
    assert result["announced"] == {"facts": "set"}
    assert rec.names().count("mine_update") == 1  # the install refreshes the fleet view; nothing built
    # The venv is registered for list_venvs.
    with open(os.path.join(state_dir, "venvs.json"), encoding="utf-8") as handle:
        assert VENV in handle.read()


def test_install_manifest_leaves_a_current_venv_alone(
        make, rec, venvs, tmp_path, state_dir, no_builder, no_install):
    # A current, live venv reached past the no-op path: nothing is installed.
    wf = make()
    manifest = _publish(wf, tmp_path)
    paths = _managed(venvs, _stamp(wf.spec, manifest.sha256))
    ctx = workflow._Target(paths, plan.Found(read_stamp(paths.path), True, None),
                           {"name": paths.path}, [])
    result = wf._install_manifest(ctx, manifest, {}, workflow._Origin("src", "trust", "note"))
    assert result["changed"] is False
    assert "is current" in result["comment"] and result["comment"].endswith("note")
    assert rec.calls == []


def test_local_install_builds_when_no_manifest(make, rec, venvs, tmp_path, state_dir,
                                               fake_builder, fake_install):
    wf = make(build_pkgs=["gcc"])
    spec = wf.spec
    built = _manifest(spec)
    fake_builder.result = BuildResult(built, True, None, [built.pins[0].filename], 2.0)
    result = wf.install(VenvPaths(str(venvs / VENV), state_dir), test=False)
    assert len(fake_builder.instances) == 1
    assert fake_builder.instances[0].builds == [
        {"spec": spec, "rebuild": False, "latest": False, "recreate_env": False}]
    assert len(fake_install) == 1 and fake_install[0][1].manifest == built
    # A minion that builds for itself ensures the build's packages with the venv's, once:
    # the build finds them recorded (core/pkgdb.py) and asks nothing.
    path = str(venvs / VENV)
    assert rec.names() == ["installed_pkgs", "ensure_pkgs", "installed_pkgs", "mine_update",
                           "symlink_sources", "mine_update", "announce"]
    assert rec.args("ensure_pkgs")[0] == (["gcc"], "present", 600.0,
                                          f"venv {path}: build_pkgs and install_pkgs")
    assert "built 1 wheels (1 new)" in result["comment"]


def test_build_fallback_install_builds_locally(make, rec, venvs, state_dir, fake_builder,
                                               fake_install):
    rec.mine = {"build01": _mine_info(platforms=[OTHER_PLATFORM])}
    wf = make(builder_target="build*", build_fallback=True)
    built = _manifest(wf.spec)
    fake_builder.result = BuildResult(built, True, None, [], 1.0)
    result = wf.install(VenvPaths(str(venvs / VENV), state_dir), test=False)
    assert len(fake_builder.instances) == 1
    assert len(fake_install) == 1
    assert "no builder serves this platform, built locally" in result["comment"]
    assert any("build_fallback" in w for w in result["warnings"])
    assert rec.names()[0] == "mine_get"


# -- install(): remote sources in test mode -------------------------------------------


def test_remote_test_mode_with_unvouched_manifest_predicts_not_built(make, rec, venvs,
                                                                     monkeypatch, no_install):
    wf = make(builder="build01")
    manifest = _manifest(wf.spec)
    rec.mine = {"build01": _mine_info()}  # nothing published yet
    fetched = []

    def fetch_manifest(http, url, want, vouch):
        fetched.append(url)
        return manifest if vouch(manifest.sha256) else None

    monkeypatch.setattr(workflow.remote, "fetch_manifest", fetch_manifest)
    result = wf.install(VenvPaths(str(venvs / VENV)), test=True)
    assert fetched == [f"http://build01:8181/{PLATFORM}/manifests/{manifest.filename}"]
    assert "packages" not in result["changes"]
    assert "the manifest is not on builder build01 yet" in result["comment"]
    assert rec.names() == ["mine_get", "mine_get"]
    assert "request_build" not in rec.names()


def test_remote_test_mode_with_vouched_manifest_predicts_packages(make, rec, venvs,
                                                                  monkeypatch, no_install):
    wf = make(builder="build01")
    manifest = _manifest(wf.spec)
    rec.mine = {"build01": _mine_info(wf.spec, manifest.sha256)}
    monkeypatch.setattr(workflow.remote, "fetch_manifest",
                        lambda http, url, want, vouch: manifest if vouch(manifest.sha256) else None)
    result = wf.install(VenvPaths(str(venvs / VENV)), test=True)
    assert result["changes"]["packages"] == {"added": {"vbpkg": "1.0"}}
    assert rec.names() == ["mine_get"]


def test_remote_test_mode_with_tampered_manifest_refuses(make, rec, venvs, monkeypatch):
    wf = make(builder="build01")
    manifest = _manifest(wf.spec)
    rec.mine = {"build01": _mine_info(wf.spec, "b" * 64)}
    monkeypatch.setattr(workflow.remote, "fetch_manifest",
                        lambda http, url, want, vouch: manifest if vouch(manifest.sha256) else None)
    with pytest.raises(TrustError):
        wf.install(VenvPaths(str(venvs / VENV)), test=True)


# -- build ---------------------------------------------------------------------------


def test_build_test_mode_without_manifest_predicts_a_build(make, rec, no_builder, no_io):
    wf = make(build_pkgs=["gcc"])
    result, manifest = wf.build(test=True)
    assert manifest is None
    assert result["changed"] is True
    assert result["changes"] == {
        "manifest": {"old": None, "new": f"{VENV}-{wf.spec.spec_id}.txt"},
        "requirements": list(wf.spec.requirements),
        "distro_packages": {"gcc": {"old": "", "new": workflow.WOULD_INSTALL}},
    }
    assert result["pins"] is None
    assert result["spec_id"] == wf.spec.spec_id
    assert result["platform"] == PLATFORM
    assert result["manifest_path"] == wf.repo().manifest_path(VENV, wf.spec.spec_id)
    assert "would be built" in result["comment"]
    assert "would install distro packages gcc" in result["comment"]
    assert rec.names() == ["installed_pkgs"]  # asked what is installed, installed nothing


@pytest.mark.parametrize("test", [True, False])
def test_build_with_published_manifest_is_no_change(make, rec, tmp_path, no_builder, test):
    wf = make()
    published = _publish(wf, tmp_path)
    result, manifest = wf.build(test=test)
    assert manifest == published
    assert result["changed"] is False and result["changes"] == {}
    assert result["pins"] == {"vbpkg": "1.0"}
    assert result["manifest_sha256"] == published.sha256
    assert "is published (1 wheels)" in result["comment"]
    assert rec.calls == []


def test_build_uses_a_manifest_passed_in(make, rec, tmp_path, no_builder):
    wf = make()
    published = _publish(wf, tmp_path)
    result, manifest = wf.build(test=True, manifest=published)
    assert manifest is published and result["changed"] is False


def test_build_test_mode_with_missing_wheels_predicts_them(make, rec, tmp_path, no_builder):
    wf = make()
    published = _publish(wf, tmp_path, wheels=False)
    result, manifest = wf.build(test=True)
    assert manifest == published
    assert result["changes"] == {"wheels": {"missing": ["vbpkg-1.0-py3-none-any.whl"]}}
    assert "1 wheels of" in result["comment"] and "would be rebuilt" in result["comment"]
    assert result["pins"] is None
    assert rec.calls == []


def test_build_test_mode_wheels_rebuild_defers_to_the_real_run(make, rec, tmp_path, no_builder):
    wf = make(wheels_rebuild=True)
    _publish(wf, tmp_path)
    result, _manifest_read = wf.build(test=True)
    assert result["changes"] == {}
    assert "only outside test mode" in result["comment"]
    assert rec.calls == []


# -- package_state latest in test mode: resolved as the real run resolves ----------------


def test_build_test_mode_latest_resolves_and_predicts_a_new_manifest(make, rec, tmp_path,
                                                                     fake_builder):
    wf = make(package_state="latest")
    published = _publish(wf, tmp_path)
    fake_builder.resolved = {"vbpkg": "1.1", "vbdep": "2.0"}
    result, manifest = wf.build(test=True)
    assert manifest == published
    assert fake_builder.resolves == [wf.spec]
    assert all(b.builds == [] for b in fake_builder.instances)  # resolved, never built
    assert result["changes"] == {
        "manifest": {"old": published.sha256, "new": plan.NEW_MANIFEST},
        "packages": {"added": {"vbdep": "2.0"}, "changed": {"vbpkg": {"old": "1.0", "new": "1.1"}}},
    }
    assert "other versions: a new manifest would be published" in result["comment"]
    assert rec.calls == []  # no build_pkgs, no mine update in test mode

    fake_builder.resolved = {"vbpkg": "1.0"}
    same, _ = wf.build(test=True)
    assert same["changes"] == {} and "pins the same versions" in same["comment"]


def test_install_test_mode_latest_predicts_the_upgrade_a_real_run_installs(
        make, rec, venvs, tmp_path, fake_builder, no_install):
    wf = make(package_state="latest")
    published = _publish(wf, tmp_path)
    paths = _managed(venvs, _stamp(wf.spec, published.sha256))
    fake_builder.resolved = {"vbpkg": "1.1"}
    result = wf.install(paths, test=True)
    assert result["changes"] == {
        "packages": {"changed": {"vbpkg": {"old": "1.0", "new": "1.1"}}},
        "manifest": {"old": published.sha256, "new": plan.NEW_MANIFEST},
    }
    assert "latest resolution pins other versions" in result["comment"]
    assert all(b.builds == [] for b in fake_builder.instances)
    assert rec.calls == []

    fake_builder.resolved = {"vbpkg": "1.0"}
    current = wf.install(paths, test=True)
    assert current["changes"] == {}
    assert current["comment"] == f"venv {paths.path} is current"


def test_install_test_mode_present_never_resolves(make, venvs, tmp_path, fake_builder,
                                                  no_install):
    wf = make()
    published = _publish(wf, tmp_path)
    paths = _managed(venvs, _stamp(wf.spec, "0" * 64, versions={"vbpkg": "0.9"}))
    result = wf.install(paths, test=True)
    assert result["changes"]["packages"] == {"changed": {"vbpkg": {"old": "0.9", "new": "1.0"}}}
    assert result["changes"]["manifest"] == {"old": "0" * 64, "new": published.sha256}
    assert fake_builder.resolves == [] and fake_builder.instances == []


def test_build_that_publishes_a_new_manifest_updates_the_mine(make, rec, fake_builder):
    wf = make(build_pkgs=["gcc"], pkgs_state="latest", pkgs_cache_valid_time=60)
    built = _manifest(wf.spec)
    fake_builder.result = BuildResult(built, True, None, ["vbpkg-1.0-py3-none-any.whl"], 3.21)
    result, manifest = wf.build(test=False)
    assert manifest is built
    # latest: pkg is asked on every run, without a listing first; a listing after records it.
    assert rec.names() == ["ensure_pkgs", "installed_pkgs", "mine_update"]
    assert rec.args("ensure_pkgs") == [(["gcc"], "latest", 60.0, f"venv {VENV}: build_pkgs")]
    assert result["changed"] is True
    assert result["changes"] == {
        "manifest": {"old": None, "new": built.sha256},
        "packages": {"added": {"vbpkg": "1.0"}},
        "wheels": {"added": ["vbpkg-1.0-py3-none-any.whl"]},
    }
    assert result["pins"] == {"vbpkg": "1.0"}
    assert result["manifest_sha256"] == built.sha256
    assert result["seconds"] == 3.21
    builder = fake_builder.instances[0]
    assert builder.repo.platform_dir == wf.repo().platform_dir
    assert builder.interpreter == PY
    assert builder.settings.timeout_option == "build_timeout"
    assert builder.http is not None


def test_rebuild_with_new_versions_reports_them_and_updates_the_mine(make, rec, tmp_path,
                                                                     fake_builder):
    wf = make(package_state="latest")
    previous = _publish(wf, tmp_path)
    newer = _manifest(wf.spec, [Pin.from_wheel("vbpkg-1.1-py3-none-any.whl", _sha(b"1.1"), 3)])
    fake_builder.result = BuildResult(newer, True, previous, [], 1.0)
    result, _ = wf.build(test=False)
    assert fake_builder.instances[0].builds[0]["latest"] is True
    assert result["changes"]["manifest"] == {"old": previous.sha256, "new": newer.sha256}
    assert result["changes"]["packages"] == {"changed": {"vbpkg": {"old": "1.0", "new": "1.1"}}}
    assert rec.names().count("mine_update") == 1


def test_build_that_changes_nothing_does_not_update_the_mine(make, rec, tmp_path, fake_builder):
    wf = make(package_state="latest")
    previous = _publish(wf, tmp_path)
    fake_builder.result = BuildResult(previous, False, previous, [], 1.0)
    result, manifest = wf.build(test=False)
    assert manifest is previous
    assert "mine_update" not in rec.names()
    assert rec.names() == []  # no distro package to ensure: pkg is not asked
    assert result["changed"] is False
    assert result["changes"] == {}


def test_rebuilt_wheels_with_the_same_manifest_do_not_update_the_mine(make, rec, tmp_path,
                                                                     fake_builder):
    wf = make(wheels_rebuild=True)
    previous = _publish(wf, tmp_path, wheels=False)
    fake_builder.result = BuildResult(previous, False, previous,
                                      ["vbpkg-1.0-py3-none-any.whl"], 1.0)
    result, _ = wf.build(test=False)
    assert fake_builder.instances[0].builds[0]["rebuild"] is True
    assert fake_builder.instances[0].builds[0]["recreate_env"] is False
    assert result["changes"] == {"wheels": {"added": ["vbpkg-1.0-py3-none-any.whl"]}}
    assert "mine_update" not in rec.names()


def test_wheels_rebuild_with_rebuild_recreates_the_builder_env(make, fake_builder):
    wf = make(wheels_rebuild=True, rebuild=True)
    built = _manifest(wf.spec)
    fake_builder.result = BuildResult(built, True, None, [], 1.0)
    wf.build(test=False)
    assert fake_builder.instances[0].builds[0]["recreate_env"] is True


def test_missing_wheels_are_rebuilt_outside_test_mode(make, rec, tmp_path, fake_builder):
    wf = make()
    previous = _publish(wf, tmp_path, wheels=False)
    fake_builder.result = BuildResult(previous, False, previous,
                                      ["vbpkg-1.0-py3-none-any.whl"], 1.0)
    wf.build(test=False)
    assert len(fake_builder.instances) == 1
    assert "mine_update" not in rec.names()


# -- builder failover -----------------------------------------------------------------


def _two_builders(spec, sha, stale_first=False):
    """Two builders serving PLATFORM; ``down`` ranks first for MINION."""
    ranked = [b for b, _ in trust.ranked_builders(MINION, {"bA": _mine_info(), "bB": _mine_info()},
                                                  PLATFORM)]
    first, second = ranked
    return first, second, {
        first: _mine_info(spec, None if stale_first else sha, url=f"http://{first}:8181"),
        second: _mine_info(spec, sha, url=f"http://{second}:8181"),
    }


@pytest.mark.parametrize("failure", ["down", "stale"])
def test_a_target_moves_on_to_the_next_builder(make, rec, venvs, monkeypatch, failure):
    """The chosen builder down (its repo refuses) or its mine entry stale (it no
    longer vouches for the manifest): the next builder of the platform serves,
    vouched for by its own mine entry."""
    wf = make(builder_target="bA,bB", builder_tgt_type="list", wait_timeout=30)
    manifest = _manifest(wf.spec)
    first, second, rec.mine = _two_builders(wf.spec, manifest.sha256,
                                            stale_first=failure == "stale")
    asked = []

    def fetch_manifest(http, url, want, vouch):
        asked.append(url.split("/")[2])
        if failure == "down" and url.startswith(f"http://{first}:"):
            raise UnreachableError(f"manifest {url}: repo unreachable (ConnectionError)")
        return manifest if vouch(manifest.sha256) else None

    installed = []
    monkeypatch.setattr(workflow.remote, "fetch_manifest", fetch_manifest)
    monkeypatch.setattr(workflow.remote.WheelCache, "fetch",
                        lambda self, http, base, pins: installed.append(base) or {})
    monkeypatch.setattr(workflow.Workflow, "_install_manifest",
                        lambda self, ctx, man, wheels, origin, prune=True: {"trust": origin.trust})
    result = wf.install(VenvPaths(str(venvs / VENV)), test=False)
    assert asked == [f"{first}:8181", f"{second}:8181"]
    assert installed == [f"http://{second}:8181/{PLATFORM}/wheels/"]
    assert result["trust"] == f"manifest sha256 published by builder {second} (mine)"


def test_no_builder_answering_is_one_error_naming_each(make, rec, venvs, monkeypatch):
    wf = make(builder_target="bA,bB", builder_tgt_type="list", wait_timeout=0)
    manifest = _manifest(wf.spec)
    first, second, rec.mine = _two_builders(wf.spec, manifest.sha256)

    def fetch_manifest(http, url, want, vouch):
        raise UnreachableError(f"manifest {url}: repo unreachable (ConnectionError)")

    monkeypatch.setattr(workflow.remote, "fetch_manifest", fetch_manifest)
    with pytest.raises(RepoError, match="none of 2 builders served") as info:
        wf.install(VenvPaths(str(venvs / VENV)), test=False)
    assert f"builder {first}: manifest http://{first}" in str(info.value)
    assert f"builder {second}: manifest http://{second}" in str(info.value)


def test_a_builder_contradicting_its_own_entry_is_not_passed_over(make, rec, venvs, monkeypatch):
    wf = make(builder_target="bA,bB", builder_tgt_type="list", wait_timeout=30)
    manifest = _manifest(wf.spec)
    first, _second, rec.mine = _two_builders(wf.spec, "c" * 64)
    monkeypatch.setattr(workflow.remote, "fetch_manifest",
                        lambda http, url, want, vouch: manifest if vouch(manifest.sha256) else None)
    with pytest.raises(TrustError, match=first):
        wf.install(VenvPaths(str(venvs / VENV)), test=False)


# -- distro packages: on every run, files only while the package database is unchanged --


def _current(make, venvs, tmp_path, **values):
    """A workflow and its venv, installed and current."""
    wf = make(**values)
    manifest = _publish(wf, tmp_path)
    stamp = _stamp(wf.spec, manifest.sha256, install_pkgs=list(wf.wants().install_pkgs),
                   symlink_pkgs=list(wf.wants().symlink_pkgs))
    return wf, _managed(venvs, stamp)


def test_distro_packages_are_ensured_on_every_run_and_asked_for_only_after_a_change(
        make, rec, venvs, tmp_path, package_database):
    wf, paths = _current(make, venvs, tmp_path, install_pkgs=["libpq5"])
    rec.installed = {"libpq5"}
    result = wf.install(paths, test=False)
    assert result["changes"] == {} and "is current" in result["comment"]
    assert rec.names() == ["installed_pkgs"]  # asked once, and remembered

    rec.calls.clear()
    assert wf.install(paths, test=False)["changes"] == {}
    assert wf.install(paths, test=True)["changes"] == {}
    assert rec.calls == []  # the package database is as it was: nothing is asked

    # The package is removed: the package manager rewrites its database.
    rec.installed.clear()
    package_database.write_text("Package: base-files\nStatus: install ok installed\n")
    predicted = wf.install(paths, test=True)
    assert predicted["changed"] is True
    assert predicted["changes"] == {
        "distro_packages": {"libpq5": {"old": "", "new": workflow.WOULD_INSTALL}}}
    assert "would install distro packages libpq5" in predicted["comment"]
    assert rec.names() == ["installed_pkgs"] and rec.installed == set()

    rec.calls.clear()
    rec.ensure_answer = {"libpq5": {"old": "", "new": "15.2"}}
    result = wf.install(paths, test=False)
    assert result["changes"] == {"distro_packages": {"libpq5": {"old": "", "new": "15.2"}}}
    assert result["comment"].startswith(f"venv {paths.path} is current")
    assert result["comment"].endswith("; installed or upgraded distro packages libpq5")
    assert rec.names() == ["installed_pkgs", "ensure_pkgs", "installed_pkgs"]
    assert rec.args("ensure_pkgs") == [(["libpq5"], "present", 600.0,
                                        f"venv {paths.path}: install_pkgs")]
    rec.calls.clear()
    assert wf.install(paths, test=False)["changes"] == {}
    assert rec.calls == []


def test_only_the_missing_distro_packages_are_installed(make, rec, venvs, tmp_path):
    wf, paths = _current(make, venvs, tmp_path, install_pkgs=["libpq5", "libxml2"],
                         symlink_pkgs=["python3-apt"])
    rec.installed = {"libxml2"}
    wf.install(paths, test=False)
    assert rec.args("ensure_pkgs")[0][0] == ["libpq5", "python3-apt"]


def test_a_package_still_missing_after_pkg_install_is_an_error_naming_it(make, rec, venvs,
                                                                          tmp_path):
    wf, paths = _current(make, venvs, tmp_path, install_pkgs=["mail-transport-agent"])
    wf.hooks = dataclasses.replace(wf.hooks, ensure_pkgs=lambda names, state, valid, what: {})
    with pytest.raises(ToolError, match="mail-transport-agent not installed after pkg.install"):
        wf.install(paths, test=False)
    assert not os.path.exists(os.path.join(wf.state_dir, "pkgs.json"))


@pytest.mark.parametrize("family", ["Debian", "RedHat", "Suse", ""])
def test_the_role_base_packages_of_the_os_family_join_the_venvs_own(make, family):
    wf = make(build_pkgs=["libffi-dev"], install_pkgs=["libpq5"], symlink_pkgs=["python3-apt"])
    wf.hooks = dataclasses.replace(wf.hooks, os_family=family)
    assert wf.build_pkgs() == sorted({"libffi-dev", *distro.base_packages(family, "build")})
    assert wf.runtime_pkgs() == sorted({"libpq5", "python3-apt",
                                        *distro.base_packages(family, "install")})
    alone = make(build_pkgs=["libffi-dev"], install_pkgs=["libpq5"], base_pkgs=False)
    alone.hooks = dataclasses.replace(alone.hooks, os_family=family)
    assert alone.build_pkgs() == ["libffi-dev"]
    assert alone.runtime_pkgs() == ["libpq5"]
    # The stamp records the venv's own packages only: base lists never make a venv stale.
    assert wf.wants().install_pkgs == ("libpq5", "python3-apt")


class _Asked(Exception):
    pass


@pytest.mark.parametrize("values, builds", [
    ({}, True),
    ({"repo_url": "http://build01:8181"}, False),
    ({"builder": "build01"}, False),
    ({"wheel_build": False}, False),
])
def test_a_minion_that_builds_for_itself_ensures_the_build_packages_too(make, venvs, values,
                                                                         builds):
    """As the role: a target with a build host gets the install lists, one that builds
    for itself every list."""
    wf = make(build_pkgs=["libffi-dev"], install_pkgs=["libpq5"], **values)
    wf.hooks = dataclasses.replace(wf.hooks, os_family="Debian")
    asked = []

    def ensure_pkgs(names, what, test):
        asked.append((sorted(set(names)), what))
        raise _Asked

    wf.ensure_pkgs = ensure_pkgs
    with pytest.raises(_Asked):
        wf.install(VenvPaths(str(venvs / VENV)), test=False)
    expected = set(wf.runtime_pkgs()) | (set(wf.build_pkgs()) if builds else set())
    assert asked == [(sorted(expected), f"venv {venvs / VENV}: "
                      + ("build_pkgs and install_pkgs" if builds else "install_pkgs"))]


def test_the_builders_packages_are_ensured_on_every_run_of_a_build(make, rec, tmp_path,
                                                                   no_builder):
    wf = make(build_pkgs=["gcc"])
    _publish(wf, tmp_path)
    rec.ensure_answer = {"gcc": {"old": "", "new": "12"}}
    result, _manifest_read = wf.build(test=False)
    assert result["changes"] == {"distro_packages": {"gcc": {"old": "", "new": "12"}}}
    assert "is published" in result["comment"] and "distro packages gcc" in result["comment"]
    rec.calls.clear()
    assert wf.build(test=False)[0]["changes"] == {}
    assert rec.calls == []
