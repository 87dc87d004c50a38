"""A venv's life through the real state module, with pip and with uv.

The tests of this module run in order for each install tool and share one repo
and one venv path: first install, no-op, predictions, spec changes, failures
that must leave the live venv alone, and removal.
"""

import os
import shutil
import socket
import subprocess

import pytest

SPEC_A = ["vbapp", "vbdep==1.0"]
SPEC_B = ["vbapp", "vbcext", "vbdep==1.0"]  # a package added (a C extension)
SPEC_C = ["vbapp", "vbcext", "vbdep==1.1"]  # a pin changed
SPEC_D = ["vbcext"]  # packages removed
OTHER_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module", params=["pip", "uv"])
def tool(request):
    return request.param


@pytest.fixture(scope="module")
def work(tool, tmp_path_factory, build_args):
    base = tmp_path_factory.mktemp(f"life-{tool}")
    return {
        "name": str(base / "venvs" / "app"),
        "venv_id": "app",
        "repo_path": str(base / "repo"),
        "build_args": build_args,
        "install_tool": tool,
        # No distro packages: the no-op tests forbid every process, and another suite's
        # apt test may change the package database in between. The no-op with packages
        # is tests/functional/states/test_venvbuild_packages_retries.py's.
        "base_pkgs": False,
    }


def apply(states, work, packages, **kwargs):
    args = dict(work)
    args.update(kwargs)
    return states.venvbuild.installed(packages=packages, **args)


def run(venv, *args):
    return subprocess.run(
        [os.path.join(venv, "bin", args[0]), *args[1:]],
        capture_output=True, text=True, check=True,
    ).stdout.strip()


def live_target(work):
    return os.path.realpath(work["name"])


def manifests(work):
    found = []
    for root, _dirs, files in os.walk(work["repo_path"]):
        if root.endswith("manifests"):
            found += sorted(files)
    return found


@pytest.fixture
def forbid_processes_and_network(monkeypatch):
    """Make any subprocess or socket connection fail the test."""
    calls = []

    def no_popen(self, *args, **kwargs):
        calls.append(("popen", args[:1]))
        raise AssertionError(f"a no-op spawned a process: {args[:1]}")

    def no_connect(self, address):
        calls.append(("connect", address))
        raise AssertionError(f"a no-op opened a connection to {address}")

    monkeypatch.setattr(subprocess.Popen, "__init__", no_popen)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: no_connect(None, a))
    return calls


def test_first_apply_builds_and_installs(states, work):
    ret = apply(states, work, SPEC_A)
    assert ret.result is True, ret.comment
    assert ret.changes["venv"]["old"] is None
    assert ret.changes["packages"] == {"added": {"vbapp": "1.0", "vbdep": "1.0"}}
    assert ret.changes["requirements"] == {"added": ["vbapp", "vbdep==1.0"]}
    assert os.path.islink(work["name"])
    assert run(work["name"], "vbapp") == "hello vbapp from vbdep"
    assert len(manifests(work)) == 1


def test_second_apply_is_a_free_noop(states, work, forbid_processes_and_network):
    ret = apply(states, work, SPEC_A)
    assert ret.result is True, ret.comment
    assert ret.changes == {}
    assert "is current" in ret.comment
    assert forbid_processes_and_network == []


def test_test_mode_on_a_current_venv_predicts_nothing(states, work, forbid_processes_and_network):
    ret = apply(states, work, SPEC_A, test=True)
    assert ret.result is True
    assert ret.changes == {}
    assert forbid_processes_and_network == []


def test_package_added_test_mode_then_apply(states, work):
    before = live_target(work)
    predicted = apply(states, work, SPEC_B, test=True)
    assert predicted.result is None
    assert predicted.changes["requirements"] == {"added": ["vbcext"]}
    assert "spec_id" in predicted.changes
    assert live_target(work) == before, "test mode changed the venv"
    assert len(manifests(work)) == 1, "test mode built wheels"

    ret = apply(states, work, SPEC_B)
    assert ret.result is True, ret.comment
    # Everything predicted happened; the pins are known only after the build.
    for key, value in predicted.changes.items():
        assert ret.changes[key] == value
    assert ret.changes["packages"] == {"added": {"vbcext": "1.0"}}
    assert run(work["name"], "python", "-c", "import vbcext; print(vbcext.add(2, 3))") == "5"
    assert live_target(work) != before


def test_pin_changed(states, work):
    ret = apply(states, work, SPEC_C)
    assert ret.result is True, ret.comment
    assert ret.changes["packages"] == {"changed": {"vbdep": {"old": "1.0", "new": "1.1"}}}
    assert run(work["name"], "python", "-c", "import vbdep, importlib.metadata as m; print(m.version('vbdep'))") == "1.1"


def test_prediction_is_exact_when_the_manifest_is_known(states, work):
    # SPEC_B was built before, so its pins are known in test mode too.
    predicted = apply(states, work, SPEC_B, test=True)
    assert predicted.result is None
    assert predicted.changes["packages"] == {"changed": {"vbdep": {"old": "1.1", "new": "1.0"}}}
    ret = apply(states, work, SPEC_B)
    assert ret.result is True, ret.comment
    assert ret.changes == predicted.changes


def test_previous_venv_is_kept_for_rollback(work):
    versions = os.path.join(os.path.dirname(work["name"]), ".app.versions")
    dirs = sorted(d for d in os.listdir(versions) if not d.startswith("."))
    assert len(dirs) == 2
    assert os.path.join(versions, os.readlink(work["name"]).split("/")[-1]) in [
        os.path.join(versions, d) for d in dirs
    ]


def _vbdep_version(work):
    return run(work["name"], "python", "-c",
               "import importlib.metadata as m; print(m.version('vbdep'))")


def test_rollback_switches_to_the_kept_version_and_back(modules, work):
    """venvbuild.rollback: verified kept version, one rename, no install (the
    versions directory gets no new venv); a second rollback returns."""
    versions = os.path.join(os.path.dirname(work["name"]), ".app.versions")
    entries = sorted(os.listdir(versions))
    live_b = live_target(work)  # SPEC_B (vbdep 1.0); SPEC_C (vbdep 1.1) is kept
    predicted = modules.venvbuild.rollback(work["name"], test=True)
    assert live_target(work) == live_b
    assert predicted["changes"]["packages"] == {"changed": {"vbdep": {"old": "1.0", "new": "1.1"}}}
    assert predicted["changes"]["venv_dir"]["old"] == live_b
    done = modules.venvbuild.rollback(work["name"])
    assert done["changed"] is True and done["changes"] == predicted["changes"], done
    assert live_target(work) == predicted["changes"]["venv_dir"]["new"]
    assert _vbdep_version(work) == "1.1"
    assert modules.venvbuild.verify(work["name"]) == {"ok": True, "problems": []}
    back = modules.venvbuild.rollback(work["name"])
    assert back["changes"]["venv_dir"] == {"old": done["changes"]["venv_dir"]["new"], "new": live_b}
    assert live_target(work) == live_b and _vbdep_version(work) == "1.0"
    assert sorted(os.listdir(versions)) == entries, "a rollback installed something"


def test_reverting_the_pillar_switches_to_the_kept_version(states, work,
                                                          forbid_processes_and_network):
    """The pillar back at SPEC_C, which the kept version holds: the state switches
    to it with no process and no network, and reports the change (watch fires)."""
    predicted = apply(states, work, SPEC_C, test=True)
    assert predicted.result is None
    assert predicted.changes["packages"] == {"changed": {"vbdep": {"old": "1.0", "new": "1.1"}}}
    ret = apply(states, work, SPEC_C)
    assert ret.result is True, ret.comment
    assert ret.changes == predicted.changes
    assert "switched to the kept version" in ret.comment
    assert forbid_processes_and_network == []
    again = apply(states, work, SPEC_C)
    assert again.result is True and again.changes == {}


def test_removed_packages_are_gone(states, modules, work):
    ret = apply(states, work, SPEC_D)
    assert ret.result is True, ret.comment
    assert ret.changes["packages"]["removed"] == {"vbapp": "1.0", "vbdep": "1.1"}  # from SPEC_C
    assert not os.path.exists(os.path.join(work["name"], "bin", "vbapp"))
    out = subprocess.run(
        [os.path.join(work["name"], "bin", "python"), "-c", "import vbapp"],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode != 0
    assert modules.venvbuild.verify(work["name"]) == {"ok": True, "problems": []}


def test_python_changed(states, work):
    if not os.path.exists(OTHER_PYTHON):
        pytest.skip(f"{OTHER_PYTHON} is not on this machine")
    predicted = apply(states, work, SPEC_D, python=OTHER_PYTHON, test=True)
    assert predicted.result is None
    assert predicted.changes["python"]["new"]["executable"].startswith("/usr/bin/python3")
    ret = apply(states, work, SPEC_D, python=OTHER_PYTHON)
    assert ret.result is True, ret.comment
    assert ret.changes == predicted.changes
    assert run(work["name"], "python", "-c", "import sys; print(sys.base_prefix)") == "/usr"
    again = apply(states, work, SPEC_D, python=OTHER_PYTHON)
    assert again.result is True and again.changes == {}


def test_failed_build_changes_nothing(states, work):
    before = live_target(work)
    before_manifests = manifests(work)
    ret = apply(states, work, SPEC_D + ["vbbroken"], python=OTHER_PYTHON if os.path.exists(OTHER_PYTHON) else None)
    assert ret.result is False
    assert "building wheels" in ret.comment
    assert "vbbroken: this package fails to build on purpose" in ret.comment
    assert live_target(work) == before
    assert manifests(work) == before_manifests
    assert run(work["name"], "python", "-c", "import vbcext; print(vbcext.add(1, 1))") == "2"


def test_failed_install_changes_nothing(states, work):
    before = live_target(work)
    versions = os.path.dirname(before)
    dirs_before = sorted(os.listdir(versions))
    # Allowed, and fatal at install time: the manifest has wheels only.
    ret = apply(states, work, SPEC_A, install_args=["--no-binary", ":all:"])
    assert ret.result is False
    assert "installing" in ret.comment
    assert live_target(work) == before
    assert sorted(os.listdir(versions)) == dirs_before, "the failed venv directory was left behind"
    assert run(work["name"], "python", "-c", "import vbcext; print(vbcext.add(1, 2))") == "3"


@pytest.mark.parametrize(
    "override, message",
    [
        ({"packages": ["vbapp", "--index-url http://evil.invalid/"]}, "looks like a pip option"),
        ({"packages": ["vbapp>>1"]}, "is not a valid requirement"),
        ({"name": "/usr"}, "refusing a system directory"),
        ({"name": "relative/venv"}, "must be absolute"),
        ({"install_tool": "conda"}, "install_tool 'conda'"),
        ({"python": "/nonexistent/python3"}, "no executable file there"),
        ({"python": "python2.4-nowhere"}, "not found in the directories of the minion's PATH"),
        ({"build_args": "--no-index --find-links '/srv"}, "cannot be split into arguments"),
        ({"build_args": "--no-index --target /srv"}, "--target is not allowed"),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(states, work, override, message):
    before = live_target(work)
    args = dict(work)
    args["packages"] = SPEC_A
    args.update(override)
    ret = states.venvbuild.installed(**args)
    assert ret.result is False
    assert message in ret.comment
    assert live_target(work) == before


def test_status_list_and_deep_verify(modules, work):
    status = modules.venvbuild.status(work["name"])
    assert status["venv_id"] == "app"
    assert status["versions"] == {"vbcext": "1.0"}
    assert work["name"] in modules.venvbuild.list_venvs()
    # Tamper with an installed file: a deep verify notices.
    site = [p for p in os.listdir(os.path.join(status["venv_dir"], "lib"))][0]
    init = os.path.join(status["venv_dir"], "lib", site, "site-packages", "vbcext", "__init__.py")
    with open(init, "a", encoding="utf-8") as handle:
        handle.write("# tampered\n")
    assert modules.venvbuild.verify(work["name"])["ok"] is True
    deep = modules.venvbuild.verify(work["name"], deep=True)
    assert deep["ok"] is False
    assert any("vbcext/__init__.py" in p for p in deep["problems"])


def test_rebuild_installs_a_fresh_venv(states, work):
    before = live_target(work)
    ret = apply(states, work, SPEC_D, python=OTHER_PYTHON if os.path.exists(OTHER_PYTHON) else None,
                rebuild=True)
    assert ret.result is True, ret.comment
    assert ret.changes == {"rebuilt": True}
    assert live_target(work) != before
    assert os.path.exists(before), "the previous venv is kept for rollback"


def test_absent_removes_venv_and_versions(states, modules, work):
    ret = states.venvbuild.absent(name=work["name"])
    assert ret.result is True
    assert ret.changes["removed"]["new"] is None
    assert not os.path.lexists(work["name"])
    assert not os.path.exists(os.path.join(os.path.dirname(work["name"]), ".app.versions"))
    assert work["name"] not in modules.venvbuild.list_venvs()
    again = states.venvbuild.absent(name=work["name"])
    assert again.result is True and again.changes == {}


def test_manifest_pins_every_wheel_with_its_hash(work):
    from saltext_venvbuild.core.fsutil import sha256_file
    from saltext_venvbuild.core.manifest import Manifest

    for root, _dirs, files in os.walk(work["repo_path"]):
        if not root.endswith("manifests"):
            continue
        wheels = os.path.join(os.path.dirname(root), "wheels")
        for name in files:
            with open(os.path.join(root, name), encoding="utf-8") as handle:
                manifest = Manifest.parse(handle.read())
            for pin in manifest.pins:
                # Stored by content: <wheels>/<sha256>/<file name>.
                assert sha256_file(os.path.join(wheels, pin.path)) == pin.sha256
    shutil.rmtree(work["repo_path"])
