"""nox sessions: the suite per Salt release, lint, docs (``pip install nox``, or the
``dev`` extra; ``nox --list`` shows them).

    nox -s tests-3008                  Salt 3008 on Python 3.11: unit, functional, integration
    nox -s tests-3006 -- -k noop       extra arguments go to pytest
    nox -s lint docs

They do what the scripts do, in one venv per session under ``.nox/``:
``scripts/setup-venv`` installs Salt, this extension and the wheels the offline
test builds need, with the Salt and Python of ``scripts/test``'s matrix (the
README's "Tested with"; tests/unit/test_tooling.py checks that they agree);
``lint`` runs scripts/test's ruff, mypy and towncrier commands; ``docs`` runs
``scripts/docs``. As in scripts/test, the functional and integration tests run
on the oldest and the newest Salt, the unit tests on all three.
"""

import glob
import os
import pathlib

import nox

TOP = pathlib.Path(__file__).resolve().parent
# Salt release -> (exact Salt, Python, what runs by default): scripts/test's matrix.
SALT_RELEASES = {
    "3006": ("3006.29", "3.10", ("tests/unit", "tests/functional", "tests/integration")),
    "3007": ("3007.16", "3.10", ("tests/unit",)),
    "3008": ("3008.4", "3.11", ("tests/unit", "tests/functional", "tests/integration")),
}
LINT_PYTHON = "3.11"


def _python(version):
    """scripts/test's find_python: pyenv's interpreter of ``version`` (its shims run only
    the global one), else the version for nox to find on PATH."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}")))
    return found[-1] if found else version


# `nox` alone: the suite on every release, and lint; `nox -s docs` needs Graphviz's dot.
nox.options.sessions = [f"tests-{release}" for release in SALT_RELEASES] + ["lint"]


def _setup(session, salt, extras):
    """``scripts/setup-venv`` into the session's venv (a venv with pip: setup-venv uses it)."""
    session.run(str(TOP / "scripts" / "setup-venv"), external=True, env={
        "VENV": session.virtualenv.location, "SALT_REQ": f"salt=={salt}", "EXTRAS": extras,
        "QUIET": "1"})


def _tests(session, release):
    salt, _, paths = SALT_RELEASES[release]
    _setup(session, salt, "uv,tests")
    # A short fixed base, as scripts/test's: salt-factories' daemons put unix sockets there.
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *paths,
                f"--basetemp=/tmp/venvbuild-nox-{release}", *session.posargs)


def _tests_session(release):
    salt, python, paths = SALT_RELEASES[release]

    @nox.session(name=f"tests-{release}", python=_python(python), venv_backend="venv")
    def tests(session):
        _tests(session, release)

    tests.__doc__ = f"Salt {salt} on Python {python}: {', '.join(paths)}."
    return tests


for _release in SALT_RELEASES:
    globals()[f"tests_{_release}"] = _tests_session(_release)


@nox.session(python=_python(LINT_PYTHON), venv_backend="venv")
def lint(session):
    """ruff, mypy on the core and the changelog fragments, as scripts/test runs them."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", "--quiet", "src", "tests", "scripts", "benchmarks")
    session.chdir(TOP / "src")
    session.run("mypy", "--ignore-missing-imports", f"--cache-dir={TOP / '.cache' / 'mypy'}",
                "saltext_venvbuild/core")
    session.chdir(TOP)
    session.run("towncrier", "build", "--draft", "--version", "unreleased", silent=True)


@nox.session(python=_python(LINT_PYTHON), venv_backend="venv")
def docs(session):
    """The docs site with warnings as errors (scripts/docs): docs/_build/html."""
    session.run(str(TOP / "scripts" / "docs"), external=True,
                env={"VENV": session.virtualenv.location, "QUIET": "1"})

