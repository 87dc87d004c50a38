"""``salt-call --local state.apply venvbuild`` as an operator runs it.

A real salt-call process with its own config, the project's SLS formulas and a
pillar: the masterless use case, and a ``cmd.run`` that only runs ``onchanges``
of the venv (the stand-in for a service restart).
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from tests.conftest import STATES_DIR

SALT_CALL = str(pathlib.Path(sys.executable).parent / "salt-call")


@pytest.fixture(scope="module")
def minion_dir(tmp_path_factory, build_args):
    base = tmp_path_factory.mktemp("sc")
    (base / "pillar").mkdir()
    (base / "extra").mkdir()
    (base / "pillar" / "top.sls").write_text("base:\n  '*': [venvbuild]\n")
    (base / "extra" / "site.sls").write_text(
        "include:\n  - venvbuild\n\n"
        "restart_app:\n  cmd.run:\n"
        f"    - name: echo restarted >> {base}/restarts\n"
        "    - onchanges:\n      - venvbuild: app_venv\n"
    )
    (base / "minion").write_text(
        json.dumps(
            {
                "id": "sc-minion",
                "file_client": "local",
                "root_dir": str(base / "root"),
                "user": os.environ.get("USER") or "root",
                "file_roots": {"base": [str(STATES_DIR), str(base / "extra")]},
                "pillar_roots": {"base": [str(base / "pillar")]},
            }
        )
    )
    return base


def set_pillar(minion_dir, packages, build_args):
    pillar = {
        "venvbuild": {
            "repo": {"path": str(minion_dir / "repo")},
            "defaults": {"install_tool": "uv", "build_args": build_args},
            "venvs": {"app": {"path": str(minion_dir / "venvs" / "app"), "packages": packages}},
        }
    }
    (minion_dir / "pillar" / "venvbuild.sls").write_text(json.dumps(pillar))


def salt_call(minion_dir, *args):
    proc = subprocess.run(
        [SALT_CALL, "--local", "-c", str(minion_dir), "--out=json", "--retcode-passthrough", *args],
        capture_output=True, text=True, check=False, timeout=600,
    )
    try:
        data = json.loads(proc.stdout)["local"]
    except (ValueError, KeyError):
        raise AssertionError(f"salt-call {args}: rc {proc.returncode}\n{proc.stdout}\n{proc.stderr}") from None
    return proc.returncode, data


def by_id(data):
    return {key.split("_|-")[1]: value for key, value in data.items()}


def restarts(minion_dir):
    path = minion_dir / "restarts"
    return path.read_text().count("restarted") if path.exists() else 0


def test_masterless_apply_noop_and_test_mode(minion_dir, build_args):
    set_pillar(minion_dir, ["vbapp", "vbdep==1.0"], build_args)

    rc, data = salt_call(minion_dir, "state.apply", "site")
    assert rc == 0, data
    states = by_id(data)
    assert states["app_venv"]["result"] is True
    assert states["app_venv"]["changes"]["packages"]["added"] == {"vbapp": "1.0", "vbdep": "1.0"}
    assert restarts(minion_dir) == 1
    out = subprocess.run([str(minion_dir / "venvs" / "app" / "bin" / "vbapp")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "hello vbapp from vbdep"

    rc, data = salt_call(minion_dir, "state.apply", "site")
    assert rc == 0
    assert by_id(data)["app_venv"]["changes"] == {}
    assert restarts(minion_dir) == 1, "the watcher ran without a venv change"

    rc, data = salt_call(minion_dir, "state.apply", "venvbuild", "test=True")
    assert rc == 0
    assert by_id(data)["app_venv"]["result"] is True
    assert by_id(data)["app_venv"]["changes"] == {}


def _imports(minion_dir, *args):
    """The modules a salt-call imports, and its JSON output."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", SALT_CALL, "--local", "-c", str(minion_dir),
         "--out=json", *args],
        capture_output=True, text=True, check=False, timeout=600,
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
    )
    assert proc.returncode == 0, proc.stdout
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
               if line.startswith("import time:")}
    return modules, json.loads(proc.stdout)["local"]


def test_a_noop_run_imports_neither_requests_nor_the_requirement_parser(minion_dir):
    """The whole no-op run stays near a bare state run: requests (about 80 ms to
    import) and packaging's requirement parser come in only when something changes,
    unless Salt itself imports them for any state run (3006 and 3008 import
    requests through salt.utils.http)."""
    (minion_dir / "extra" / "trivial.sls").write_text("trivial:\n  test.succeed_without_changes: []\n")
    baseline, _ = _imports(minion_dir, "state.apply", "trivial")
    imported, data = _imports(minion_dir, "state.apply", "venvbuild")
    (state,) = data.values()
    assert state["changes"] == {}
    assert "saltext_venvbuild.core.workflow" in imported  # the module was loaded
    assert "packaging.requirements" not in imported
    ours = imported - baseline
    assert "requests" not in ours and "urllib3" not in ours, sorted(ours)


def test_pillar_change_is_predicted_then_applied(minion_dir, build_args):
    set_pillar(minion_dir, ["vbapp", "vbdep==1.1"], build_args)
    rc, data = salt_call(minion_dir, "state.apply", "venvbuild", "test=True")
    assert rc == 0
    predicted = by_id(data)["app_venv"]
    assert predicted["result"] is None
    assert predicted["changes"]["requirements"] == {"added": ["vbdep==1.1"], "removed": ["vbdep==1.0"]}

    rc, data = salt_call(minion_dir, "state.apply", "site")
    assert rc == 0, data
    applied = by_id(data)["app_venv"]
    assert applied["changes"]["packages"] == {"changed": {"vbdep": {"old": "1.0", "new": "1.1"}}}
    assert applied["changes"]["requirements"] == predicted["changes"]["requirements"]
    assert restarts(minion_dir) == 2


def test_failure_returns_nonzero_and_keeps_venv(minion_dir, build_args):
    live = os.path.realpath(minion_dir / "venvs" / "app")
    set_pillar(minion_dir, ["vbapp", "vbbroken"], build_args)
    rc, data = salt_call(minion_dir, "state.apply", "site")
    assert rc != 0
    state = by_id(data)["app_venv"]
    assert state["result"] is False
    assert "vbbroken" in state["comment"]
    assert os.path.realpath(minion_dir / "venvs" / "app") == live
    assert restarts(minion_dir) == 2


def test_versions_report_lists_the_extension(minion_dir):
    proc = subprocess.run([SALT_CALL, "--local", "-c", str(minion_dir), "--versions-report"],
                          capture_output=True, text=True, check=True)
    assert "saltext-venvbuild" in proc.stdout


@pytest.mark.parametrize("grains, prefix", [
    ({"os": "Rocky", "osrelease": "9.4", "osmajorrelease": 9}, "rocky-9-"),
    ({"os": "Rocky", "osrelease": "9.5", "osmajorrelease": 9}, "rocky-9-"),
    ({"os": "Debian", "osrelease": "12.5", "osmajorrelease": 12}, "debian-12-"),
    ({"os": "Ubuntu", "osrelease": "22.04", "osmajorrelease": 22}, "ubuntu-22.04-"),
    ({"os": "Ubuntu", "osrelease": "24.04.1", "osmajorrelease": 24}, "ubuntu-24.04-"),
])
def test_minor_releases_share_a_platform_key(minion_dir, tmp_path, grains, prefix):
    """A builder on EL 9.4 serves targets on 9.5: the key has the role's granularity
    (major version; Ubuntu major.minor), plus architecture and interpreter tag."""
    config = json.loads((minion_dir / "minion").read_text())
    config["grains"] = grains
    (tmp_path / "minion").write_text(json.dumps(config))
    rc, data = salt_call(tmp_path, "venvbuild.platform")
    assert rc == 0, data
    assert data["key"].startswith(prefix), data
    assert data["key"].endswith(f"-{data['arch']}-{data['interpreter']}")


@pytest.mark.parametrize("pillar, message", [
    ({"repo": {"pth": "/srv/x"}}, "pillar venvbuild:repo: unknown key 'pth'; did you mean 'path'?"),
    ({"venvs": {"app": {"path": "/opt/venvs/app", "pakages": ["x"]}}},
     "pillar venvbuild:venvs:app: unknown key 'pakages'; did you mean 'packages'?"),
    ({"defaults": {"instal_tool": "uv"}},
     "pillar venvbuild:defaults: unknown key 'instal_tool'; did you mean 'install_tool'?"),
])
@pytest.mark.parametrize("sls", ["venvbuild", "venvbuild.builder"])
def test_unknown_pillar_keys_are_a_clear_error(tmp_path, minion_dir, pillar, message, sls):
    """A typo under venvbuild is named, never silently ignored or defaulted."""
    config = json.loads((minion_dir / "minion").read_text())
    config["pillar_roots"] = {"base": [str(tmp_path / "pillar")]}
    (tmp_path / "pillar").mkdir()
    (tmp_path / "pillar" / "top.sls").write_text("base:\n  '*': [venvbuild]\n")
    (tmp_path / "pillar" / "venvbuild.sls").write_text(json.dumps({"venvbuild": pillar}))
    (tmp_path / "minion").write_text(json.dumps(config))
    rc, data = salt_call(tmp_path, "state.apply", sls)
    assert rc != 0
    # One failed state named by the problem (tests/functional/formulas/test_readable_errors.py).
    assert [state["name"] for state in data.values()] == [message]
