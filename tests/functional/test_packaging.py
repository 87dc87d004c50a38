"""The package as users install it (docs/install.md): an sdist and a wheel built
with ``python -m build`` (not the editable checkout), the wheel in a fresh venv
beside Salt, seen by ``salt-call --versions-report``, its formulas where the docs
say, served by the ``venvbuild`` fileserver backend or ``file_roots`` and applied
masterless. Offline: the build backends (setuptools, setuptools-scm) come from
the test wheelhouse, Salt from uv's cache (scripts/setup-venv filled both), uv
from the wheelhouse."""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest
import salt.version

try:
    import tomllib
except ImportError:  # Python < 3.11: build, a test requirement, brings tomli
    import tomli as tomllib

import sdists
from tests.conftest import REPO_ROOT
from tests.conftest import STATES_DIR

UV = shutil.which("uv", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("uv")

# Every file of the formulas, as the repository holds them (states/ is their source).
FORMULA_FILES = sorted(str(p.relative_to(STATES_DIR)) for p in STATES_DIR.rglob("*") if p.is_file())


def _digests(root):
    return {rel: hashlib.sha256((pathlib.Path(root) / rel).read_bytes()).hexdigest()
            for rel in FORMULA_FILES}


# What is not the project's source: local environments, caches, build outputs.
NOT_SOURCE = {".venv", ".cache", ".demo", "build", "dist", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".nox"}


def _not_source(directory, names):
    if pathlib.Path(directory) == REPO_ROOT:
        return [n for n in names if n in NOT_SOURCE or n.startswith(".venv-")]
    if pathlib.Path(directory) == REPO_ROOT / "docs":
        return [n for n in names if n == "_build"]
    return [n for n in names if n == "__pycache__" or n.endswith(".egg-info")]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """saltext-venvbuild's sdist and wheel, as ``python -m build`` makes them (the
    wheel from the sdist), offline. Built in a copy of the checkout with its git
    metadata (the version comes from git; 2 MB), so that building writes nothing
    into the checkout, which other test runs may be building from at the same time."""
    tree = tmp_path_factory.mktemp("checkout") / "saltext-venvbuild"
    shutil.copytree(REPO_ROOT, tree, symlinks=True, ignore=_not_source)
    out = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(sdists.WHEELHOUSE))
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(tree)],
                          capture_output=True, text=True, check=False, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (sdist,) = out.glob("saltext_venvbuild-*.tar.gz")
    (wheel,) = out.glob("saltext_venvbuild-*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def wheel(dist):
    return dist[1]


@pytest.fixture(scope="module")
def salt_venv(tmp_path_factory, wheel):
    """A fresh venv with this Salt release and the wheel, from uv's cache only."""
    if not UV:
        pytest.skip("uv is not installed")
    venv = tmp_path_factory.mktemp("wheelvenv") / "venv"
    subprocess.run([UV, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    # uv's cache is keyed by index: the default one, which setup-venv used; the
    # tests' dead index variables would miss it. --offline keeps the network out.
    env = {key: value for key, value in os.environ.items()
           if key not in ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "PIP_INDEX_URL")}
    proc = subprocess.run(
        [UV, "pip", "install", "--quiet", "--offline", "--python", str(venv / "bin" / "python"),
         # uv itself (the [uv] extra) was installed by pip, so it is not in uv's
         # cache: the wheelhouse setup-venv fills has its wheel.
         "--find-links", str(sdists.WHEELHOUSE),
         f"salt=={salt.version.__version__}", f"{wheel}[uv]"],
        capture_output=True, text=True, check=False, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return venv


def test_the_wheel_holds_the_package_the_formulas_and_its_metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        formulas = {rel: hashlib.sha256(archive.read(f"saltext_venvbuild/formula/{rel}")).hexdigest()
                    for rel in FORMULA_FILES}
    for part in ("modules/venvbuild.py", "states/venvbuild.py", "runners/venvbuild.py",
                 "fileserver/venvbuild.py", "core/workflow.py", "py.typed"):
        assert f"saltext_venvbuild/{part}" in names
    # The formulas are package data, byte for byte the repository's states/.
    assert "venvbuild/init.sls" in FORMULA_FILES and "orch/venvbuild.sls" in FORMULA_FILES
    assert "venvbuild/files/nginx-repo.conf.jinja" in FORMULA_FILES
    assert formulas == _digests(STATES_DIR)
    assert sorted(n.split("formula/", 1)[1] for n in names if "/formula/" in n) == FORMULA_FILES
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "saltext_venvbuild = saltext_venvbuild" in entry_points
    assert "Requires-Dist: salt>=3006" in metadata
    assert "Provides-Extra: uv" in metadata
    assert "License-Expression: Apache-2.0" in metadata
    assert "Keywords: salt-extension," in metadata
    # The version came from git (setuptools-scm), not from a file in the tree.
    version = metadata.split("\nVersion: ", 1)[1].split("\n", 1)[0]
    assert wheel.name.startswith(f"saltext_venvbuild-{version}-")
    assert version != "0.0.0"


def test_the_sdist_holds_the_formulas_the_pillar_example_the_tests_and_the_docs(dist):
    sdist, _ = dist
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    wanted = {f"states/{rel}" for rel in FORMULA_FILES} | {
        "pillar.example", "README.md", "LICENSE", "CHANGELOG.md", "pyproject.toml", "setup.py",
        "docs/install.md", "docs/releasing.md", "docs/usage.md", "docs/conf.py",
        "tests/conftest.py", "tests/sdists.py", "tests/functional/test_packaging.py",
        "tests/packages/vbapp/setup.py", "scripts/test", "PKG-INFO",
    }
    assert wanted - names == set()
    assert not [n for n in names if "__pycache__" in n or n.startswith((".venv", ".cache", "docs/_build"))]


def test_the_classifiers_are_valid():
    trove = pytest.importorskip("trove_classifiers")
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["classifiers"]
    assert [c for c in project["classifiers"] if c not in trove.classifiers] == []
    assert "salt-extension" in project["keywords"]


def _minion(base, build_args, **config):
    """A masterless minion's config directory with one venv in its pillar."""
    (base / "pillar").mkdir()
    (base / "salt").mkdir()  # roots' own file_roots: nothing of venvbuild's in it
    (base / "pillar" / "top.sls").write_text("base:\n  '*': [venvbuild]\n")
    (base / "pillar" / "venvbuild.sls").write_text(json.dumps({"venvbuild": {
        "repo": {"path": str(base / "repo")},
        "defaults": {"install_tool": "uv", "build_args": build_args},
        "venvs": {"app": {"path": str(base / "venvs" / "app"), "packages": ["vbapp"]}},
    }}))
    (base / "minion").write_text(json.dumps({
        "id": "wheel-minion", "file_client": "local", "root_dir": str(base / "root"),
        "user": os.environ.get("USER") or "root", "file_roots": {"base": [str(base / "salt")]},
        "pillar_roots": {"base": [str(base / "pillar")]}, **config,
    }))
    return base


# The installed wheel alone: nothing of the checkout on the module path.
ISOLATED = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def _salt_call(salt_venv, base, *args):
    proc = subprocess.run([str(salt_venv / "bin" / "salt-call"), "--local", "-c", str(base),
                           "--out=json", "--retcode-passthrough", *args],
                          capture_output=True, text=True, check=False, timeout=600, env=ISOLATED)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)["local"]


def _python(salt_venv, code):
    return subprocess.run([str(salt_venv / "bin" / "python"), "-c", code], env=ISOLATED,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_the_formulas_are_where_the_docs_say(salt_venv, tmp_path, build_args):
    """docs/install.md: ``python -c '...formula_dir()'`` and ``salt-call --local
    venvbuild.formula_dir`` name the installed formulas, the repository's states/
    byte for byte, inside the venv's site-packages."""
    where = _python(salt_venv, "import saltext_venvbuild as v; print(v.formula_dir())")
    site = _python(salt_venv, "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    assert where == os.path.realpath(os.path.join(site, "saltext_venvbuild", "formula"))
    assert _digests(where) == _digests(STATES_DIR)
    base = _minion(tmp_path, build_args)
    assert _salt_call(salt_venv, base, "venvbuild.formula_dir") == where


def test_the_installed_wheel_works_with_salt_call(salt_venv, tmp_path, build_args):
    """The documented way: ``fileserver_backend: [roots, venvbuild]`` and nothing in
    file_roots; the packaged formulas are served and applied."""
    base = _minion(tmp_path, build_args, fileserver_backend=["roots", "venvbuild"])
    report = subprocess.run([str(salt_venv / "bin" / "salt-call"), "--local", "-c", str(base),
                             "--versions-report"], capture_output=True, text=True, check=True,
                            env=ISOLATED).stdout
    assert "saltext-venvbuild: 0." in report
    assert _salt_call(salt_venv, base, "cp.list_master") == FORMULA_FILES
    data = _salt_call(salt_venv, base, "state.apply", "venvbuild")
    (state,) = data.values()
    assert state["changes"]["packages"]["added"] == {"vbapp": "1.0", "vbdep": "1.1"}
    # The code that ran is the wheel's, not the checkout's.
    assert str(salt_venv) in _python(salt_venv, "import saltext_venvbuild; print(saltext_venvbuild.__file__)")


def test_file_roots_at_formula_dir_serve_the_formulas(salt_venv, tmp_path, build_args):
    """The other documented way: the directory ``venvbuild.formula_dir`` prints in
    ``file_roots``, with Salt's default fileserver backend."""
    where = _python(salt_venv, "import saltext_venvbuild as v; print(v.formula_dir())")
    base = _minion(tmp_path, build_args, file_roots={"base": [where]})
    shown = _salt_call(salt_venv, base, "state.show_sls", "venvbuild.builder")
    assert "wheels_built" in shown["app_wheels"]["venvbuild"]
    assert shown["app_wheels"]["__sls__"] == "venvbuild.builder"
    shown = _salt_call(salt_venv, base, "state.show_sls", "venvbuild")
    assert "installed" in shown["app_venv"]["venvbuild"]
