"""Errors a person can read, as ``salt-call`` prints them (#17 item 4).

A real salt-call process applies the project's formulas with a pillar that has
typos, an SLS that gives ``venvbuild.installed`` an argument it does not take,
and calls ``venvbuild.install`` with bad arguments. Each problem must come out as
one line that names it and what was probably meant: no traceback, no page of
usage. Nothing here builds anything: every run stops at the checks.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from tests.conftest import STATES_DIR

SALT_CALL = str(pathlib.Path(sys.executable).parent / "salt-call")
PROBLEMS = [
    "pillar venvbuild:defaults: unknown key 'instal_tool'; did you mean 'install_tool'?",
    "pillar venvbuild:venvs:app: unknown key 'pakages'; did you mean 'packages'?",
]


@pytest.fixture
def minion_dir(tmp_path):
    (tmp_path / "pillar").mkdir()
    (tmp_path / "extra").mkdir()
    (tmp_path / "pillar" / "top.sls").write_text("base:\n  '*': [venvbuild]\n")
    (tmp_path / "minion").write_text(json.dumps({
        "id": "errors-minion",
        "file_client": "local",
        "root_dir": str(tmp_path / "root"),
        "user": os.environ.get("USER") or "root",
        "file_roots": {"base": [str(STATES_DIR), str(tmp_path / "extra")]},
        "pillar_roots": {"base": [str(tmp_path / "pillar")]},
    }))
    return tmp_path


def set_pillar(minion_dir, venvbuild):
    (minion_dir / "pillar" / "venvbuild.sls").write_text(json.dumps({"venvbuild": venvbuild}))


def salt_call(minion_dir, *args):
    """rc, stdout, and stderr without the DeprecationWarnings Salt's imports print."""
    proc = subprocess.run(
        [SALT_CALL, "--local", "-c", str(minion_dir), "--retcode-passthrough", *args],
        capture_output=True, text=True, check=False, timeout=300,
    )
    lines = proc.stderr.splitlines()
    stderr = [line for number, line in enumerate(lines)
              if "Warning:" not in line and not (number and "Warning:" in lines[number - 1])]
    return proc.returncode, proc.stdout, "\n".join(stderr)


def typos(minion_dir):
    return {"defaults": {"instal_tool": "uv"},
            "venvs": {"app": {"path": str(minion_dir / "venvs" / "app"), "pakages": ["x"]}}}


@pytest.mark.parametrize("sls", ["venvbuild", "venvbuild.builder"])
@pytest.mark.parametrize("test", [False, True])
def test_a_pillar_typo_is_one_failed_state_per_problem(minion_dir, sls, test):
    """Not a render traceback: each problem is a failed state whose name is the problem
    and what was meant, so state.apply's output has one readable line per problem,
    with test=True too. Nothing is installed or built."""
    set_pillar(minion_dir, typos(minion_dir))
    extra = ["test=True"] if test else []
    rc, out, err = salt_call(minion_dir, "--out=json", "state.apply", sls, *extra)
    assert rc != 0
    assert "Traceback" not in out + err
    data = json.loads(out)["local"]
    assert isinstance(data, dict), data  # states ran; a render error would be a list of strings
    states = sorted(data.values(), key=lambda state: state["__run_num__"])
    assert [state["name"] for state in states] == PROBLEMS
    assert all(state["result"] is False and state["changes"] == {} for state in states)
    assert not (minion_dir / "venvs").exists()

    # The highstate output an operator reads: one line per problem, no traceback.
    rc, out, err = salt_call(minion_dir, "state.apply", sls, *extra)
    assert rc != 0
    assert "Traceback" not in out + err
    for problem in PROBLEMS:
        assert f"Name: {problem}\n" in out, out


def test_check_pillar_lists_the_problems(minion_dir):
    set_pillar(minion_dir, typos(minion_dir))
    rc, out, _ = salt_call(minion_dir, "--out=json", "venvbuild.check_pillar")
    assert rc == 0
    assert json.loads(out)["local"] == {"ok": False, "problems": PROBLEMS}


def test_a_state_argument_typo_fails_that_state_only(minion_dir):
    """Salt would abort the whole run and print state.apply's docstring; the state
    fails with the argument and what was meant, and the run's other states run."""
    set_pillar(minion_dir, {})
    (minion_dir / "extra" / "typo.sls").write_text(
        f"app_venv:\n  venvbuild.installed:\n    - name: {minion_dir}/venvs/app\n"
        "    - pakages: [x]\n    - instal_tool: uv\n\n"
        "app_wheels:\n  venvbuild.wheels_built:\n    - name: app\n    - repo_url: http://b:8181\n\n"
        "after:\n  test.succeed_without_changes: []\n"
    )
    rc, out, err = salt_call(minion_dir, "--out=json", "state.apply", "typo")
    assert rc != 0
    assert "Usage:" not in out + err and "Traceback" not in out + err
    states = {state["__id__"]: state for state in json.loads(out)["local"].values()}
    assert states["app_venv"]["result"] is False
    assert states["app_venv"]["comment"].splitlines() == [
        "venvbuild.installed: unknown argument 'instal_tool'; did you mean 'install_tool'?",
        "venvbuild.installed: unknown argument 'pakages'; did you mean 'packages'?",
    ]
    assert states["app_wheels"]["result"] is False
    assert states["app_wheels"]["comment"] == (
        "venvbuild.wheels_built: unknown argument 'repo_url'; repo_url is an option of "
        "venvbuild.installed, not of a build")
    assert states["after"]["result"] is True
    assert not (minion_dir / "venvs").exists()


@pytest.mark.parametrize("args, says", [
    (["{venv}", "pakages=[x]"], "venvbuild: unknown argument 'pakages'; did you mean 'packages'?"),
    (["{venv}", "packages=x"], "packages must be a list of strings, not 'x'"),
    ([], "missing 1 required positional argument: 'name'"),
])
def test_a_bad_argument_to_install_prints_a_short_usage(minion_dir, args, says):
    """Salt prints the function's docstring after an invalid argument: install's is
    short (its options are in the reference and in sys.state_doc venvbuild.installed)."""
    set_pillar(minion_dir, {})
    venv = minion_dir / "venvs" / "app"
    rc, out, err = salt_call(minion_dir, "venvbuild.install", *(arg.format(venv=venv) for arg in args))
    assert rc != 0
    shown = (out + "\n" + err).strip()
    assert says in shown
    assert "CLI Example" in shown
    assert len([line for line in shown.splitlines() if line.strip()]) < 15, shown
    assert not (minion_dir / "venvs").exists()
