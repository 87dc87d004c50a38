"""The package as users install it: a built wheel (not the editable checkout) in a
fresh venv beside Salt, seen by ``salt-call --versions-report`` and applying the
formula masterless. Offline: the wheel is built from the test wheelhouse's
setuptools, Salt comes from uv's cache (scripts/setup-venv filled it), uv from
the wheelhouse."""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest
import salt.version

import sdists
from tests.conftest import REPO_ROOT
from tests.conftest import STATES_DIR

UV = shutil.which("uv", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("uv")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """saltext-venvbuild built into a wheel, offline."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--find-links",
         str(sdists.WHEELHOUSE), "--wheel-dir", str(out), str(REPO_ROOT)],
        check=True, capture_output=True, text=True,
    )
    (built,) = out.glob("saltext_venvbuild-*.whl")
    return built


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


def test_the_wheel_holds_the_package_and_its_metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    for part in ("modules/venvbuild.py", "states/venvbuild.py", "runners/venvbuild.py",
                 "core/workflow.py", "py.typed"):
        assert f"saltext_venvbuild/{part}" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "saltext_venvbuild = saltext_venvbuild" in entry_points
    assert "Requires-Dist: salt>=3006" in metadata
    assert "Provides-Extra: uv" in metadata


def test_the_classifiers_are_valid():
    trove = pytest.importorskip("trove_classifiers")
    text = (REPO_ROOT / "setup.py").read_text()
    block = text.split("classifiers=[", 1)[1].split("]", 1)[0]
    classifiers = [line.strip().strip(",").strip('"') for line in block.splitlines() if line.strip()]
    assert classifiers
    assert [c for c in classifiers if c not in trove.classifiers] == []


def test_the_installed_wheel_works_with_salt_call(salt_venv, tmp_path, build_args):
    base = tmp_path
    (base / "pillar").mkdir()
    (base / "pillar" / "top.sls").write_text("base:\n  '*': [venvbuild]\n")
    (base / "pillar" / "venvbuild.sls").write_text(json.dumps({"venvbuild": {
        "repo": {"path": str(base / "repo")},
        "defaults": {"install_tool": "uv", "build_args": build_args},
        "venvs": {"app": {"path": str(base / "venvs" / "app"), "packages": ["vbapp"]}},
    }}))
    (base / "minion").write_text(json.dumps({
        "id": "wheel-minion", "file_client": "local", "root_dir": str(base / "root"),
        "user": os.environ.get("USER") or "root", "file_roots": {"base": [str(STATES_DIR)]},
        "pillar_roots": {"base": [str(base / "pillar")]},
    }))
    salt_call = str(salt_venv / "bin" / "salt-call")
    report = subprocess.run([salt_call, "--local", "-c", str(base), "--versions-report"],
                            capture_output=True, text=True, check=True).stdout
    assert "saltext-venvbuild: 0." in report
    proc = subprocess.run([salt_call, "--local", "-c", str(base), "--out=json",
                           "--retcode-passthrough", "state.apply", "venvbuild"],
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (state,) = json.loads(proc.stdout)["local"].values()
    assert state["changes"]["packages"]["added"] == {"vbapp": "1.0", "vbdep": "1.1"}
    # The code that ran is the wheel's, not the checkout's.
    where = subprocess.run([str(salt_venv / "bin" / "python"), "-c",
                            "import saltext_venvbuild; print(saltext_venvbuild.__file__)"],
                           capture_output=True, text=True, check=True).stdout
    assert str(salt_venv) in where
