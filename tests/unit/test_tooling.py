"""The developer tooling says what scripts/test does: the noxfile's sessions, the
pre-commit hooks and the CLI-example check (scripts/check_cli_examples.py)."""

import importlib.util
import re
import shutil
import subprocess
import sys
import types

import pytest
import yaml

from tests.unit.test_docs import TOP

SCRIPTS_TEST = (TOP / "scripts" / "test").read_text()
CHECK_CLI_EXAMPLES = TOP / "scripts" / "check_cli_examples.py"


# -- noxfile.py --------------------------------------------------------------------------


class _Nox(types.ModuleType):
    """A stand-in for ``nox`` that records the sessions a noxfile declares."""

    def __init__(self):
        super().__init__("nox")
        self.options = types.SimpleNamespace(sessions=None)
        self.declared = {}

    def session(self, func=None, *, name=None, python=None, venv_backend=None, **_):
        def register(function):
            self.declared[name or function.__name__] = {
                "python": python, "venv_backend": venv_backend, "function": function}
            return function
        return register(func) if func is not None else register


@pytest.fixture
def noxfile(monkeypatch):
    """The noxfile imported with the stand-in nox: its module and the recorded sessions."""
    fake = _Nox()
    monkeypatch.setitem(sys.modules, "nox", fake)
    spec = importlib.util.spec_from_file_location("noxfile_under_test", TOP / "noxfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, fake


def test_noxfile_declares_a_session_per_salt_release_lint_and_docs(noxfile):
    module, nox = noxfile
    assert set(nox.declared) == {"tests-3006", "tests-3007", "tests-3008", "lint", "docs"}
    for name, session in nox.declared.items():
        assert session["function"].__doc__, f"{name}: nox --list shows the docstring"
        assert session["venv_backend"] == "venv", name  # scripts/setup-venv needs pip in it
    # `nox` alone runs the suite on every release and lint (docs need Graphviz).
    assert nox.options.sessions == ["tests-3006", "tests-3007", "tests-3008", "lint"]
    assert _is_python(nox.declared["tests-3008"]["python"], module.SALT_RELEASES["3008"][1])


def _is_python(declared, version):
    """A session's python: the version, or the pyenv interpreter of it (scripts/test's choice)."""
    return declared == version or (declared.endswith(f"/bin/python{version}")
                                   and f"/versions/{version}." in declared)


def test_noxfile_matrix_is_scripts_test_and_the_readme(noxfile):
    """The Salt releases, their Pythons and what runs on each agree with scripts/test's
    setup-venv calls and the README's "Tested with" table."""
    module, nox = noxfile
    pinned = set(re.findall(r"SALT_REQ=salt==(\d+\.\d+)", SCRIPTS_TEST))
    default = re.search(r"SALT_REQ=\$\{SALT_REQ:-salt==([\d.]+)\}",
                        (TOP / "scripts" / "setup-venv").read_text()).group(1)
    assert {salt for salt, _, _ in module.SALT_RELEASES.values()} == pinned | {default}
    readme = (TOP / "README.md").read_text()
    # (Salt, Python) -> what runs; a release may have a row per Python.
    table = {(row[0], row[1]): row[2] for row in re.findall(
        r"^\| (\d{4}\.\d+) \| (3\.\d+) \| ([a-z, ]+) \|$", readme, re.M)}
    for release, (salt, python, paths) in module.SALT_RELEASES.items():
        assert salt.startswith(release)
        assert (salt, python) in table, (salt, python)
        assert _is_python(nox.declared[f"tests-{release}"]["python"], python)
        assert [path.split("/")[1] for path in paths] == table[salt, python].split(", "), salt
    # Every row of the table is a Salt scripts/test installs on that Python.
    for salt, python in table:
        assert salt in pinned | {default}, salt
        assert python in SCRIPTS_TEST or python == "3.11", (salt, python)


def test_noxfile_lint_runs_scripts_tests_commands():
    text = (TOP / "noxfile.py").read_text()
    assert '"ruff", "check", "--quiet", "src", "tests", "scripts", "benchmarks"' in text
    assert ".venv/bin/ruff check --quiet src tests scripts benchmarks" in SCRIPTS_TEST
    assert '"mypy", "--ignore-missing-imports"' in text and '"saltext_venvbuild/core"' in text
    assert "mypy --ignore-missing-imports" in SCRIPTS_TEST
    assert "scripts/setup-venv" in text and "scripts/docs" in text


@pytest.mark.skipif(shutil.which("nox") is None, reason="nox is not installed (the dev extra)")
def test_nox_lists_the_sessions():
    out = subprocess.run(["nox", "--list", "-f", str(TOP / "noxfile.py")], capture_output=True,
                         text=True, check=True, cwd=TOP).stdout
    for name in ("tests-3006", "tests-3007", "tests-3008", "lint", "docs"):
        assert re.search(rf"^[*-] {name} -> ", out, re.M), out


# -- .pre-commit-config.yaml ---------------------------------------------------------------


def test_pre_commit_hooks_are_local_and_run_scripts_tests_checks():
    config = yaml.safe_load((TOP / ".pre-commit-config.yaml").read_text())
    assert all(repo["repo"] == "local" for repo in config["repos"])
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "mypy-core", "towncrier-check", "cli-examples"} <= set(hooks)
    for hook in hooks.values():
        assert hook["language"] == "system", hook["id"]  # the project's .venv, offline
    # The same commands as scripts/test, so a hook passes exactly when CI's lint does.
    assert hooks["ruff"]["entry"] in SCRIPTS_TEST
    mypy = re.search(r"'cd src && (.*)'", hooks["mypy-core"]["entry"]).group(1)
    assert f"(cd src && {mypy})" in SCRIPTS_TEST
    assert hooks["towncrier-check"]["entry"].startswith(".venv/bin/towncrier check ")
    assert "scripts/check_cli_examples.py" in hooks["cli-examples"]["entry"]
    assert re.search(hooks["cli-examples"]["files"], "src/saltext_venvbuild/modules/venvbuild.py")
    assert re.search(hooks["cli-examples"]["files"], "src/saltext_venvbuild/runners/venvbuild.py")
    for hook in hooks.values():
        for word in hook["entry"].replace("'", " ").split():
            if word.startswith(("scripts/", "tests/")):
                assert (TOP / word).exists(), f"{hook['id']}: {word} is missing"


# -- scripts/check_cli_examples.py -----------------------------------------------------------


def _check(*paths):
    return subprocess.run([sys.executable, str(CHECK_CLI_EXAMPLES), *map(str, paths)],
                          capture_output=True, text=True, check=False, cwd=TOP)


def test_every_execution_and_runner_function_has_a_cli_example():
    proc = _check()  # the execution module and the runner
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


def test_a_function_without_a_cli_example_is_named(tmp_path):
    module = tmp_path / "venvbuild.py"
    module.write_text(
        "def documented():\n"
        "    '''Do it.\n\n    CLI Example:\n\n    .. code-block:: bash\n\n        salt '*' x.documented\n    '''\n"
        "\n\ndef forgotten(name):\n    '''Do it without saying how.'''\n"
        "\n\ndef bare():\n    pass\n"
        "\n\ndef _private():\n    '''Not exposed by the loader.'''\n"
        "\n\nclass Helper:\n    def method(self):\n        pass\n"
    )
    proc = _check(module)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"{module}:12: forgotten() has no 'CLI Example:' in its docstring",
        f"{module}:16: bare() has no 'CLI Example:' in its docstring",
    ]
