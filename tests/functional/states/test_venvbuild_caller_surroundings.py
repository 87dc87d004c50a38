"""Nothing of the caller's surroundings steers what root runs (docs/security.md,
"What steers a tool").

An operator runs ``salt-call`` from a directory another user owns, with that
user's variables in the environment (``sudo -E``). Python puts the working
directory first on ``sys.path`` for ``python -m venv`` / ``python -m pip``; uv
reads ``uv.toml`` and ``pyproject.toml`` from it; ``PYTHONPATH``, ``PIP_*`` and
``UV_*`` pick code, targets and caches. Each test plants all of these in a
directory owned by ``nobody``, runs a real build and install from there, and
checks that none of the planted code ran (no marker file), nothing was written
where the planted settings point, and the venv is what the pillar asked for.
"""

import os
import pwd
import subprocess
import types

import pytest

from saltext_venvbuild.utils import pkgs
from snapshots import tree

NOBODY = pwd.getpwnam("nobody")


def _marker_code(markers, name):
    return (f"import os\nopen(os.path.join({str(markers)!r}, {name!r}), 'w').write('ran')\n"
            "raise SystemExit(3)\n")


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """A directory owned by nobody, full of what Python, pip and uv would pick up
    from a working directory, made the working directory; and nobody's variables."""
    base = tmp_path / "hostile"
    markers = tmp_path / "markers"  # where planted code would report that it ran
    evil = tmp_path / "evil"  # where planted settings point
    markers.mkdir()
    markers.chmod(0o777)
    base.mkdir()
    for package in ("venv", "pip", "ensurepip", "setuptools", "wheel", "uv"):
        (base / package).mkdir()
        (base / package / "__init__.py").write_text(_marker_code(markers, package))
        (base / package / "__main__.py").write_text(_marker_code(markers, package + "-main"))
    for module in ("sitecustomize", "usercustomize", "site", "json", "encodings"):
        (base / f"{module}.py").write_text(_marker_code(markers, module))
    settings = (f'cache-dir = "{evil}/uv-cache"\n\n[pip]\ntarget = "{evil}/uv-target"\n'
                f'index-url = "http://127.0.0.1:9/evil"\n')
    (base / "uv.toml").write_text(settings)
    (base / "pyproject.toml").write_text(
        f'[project]\nname = "evil"\nversion = "1"\n\n[tool.uv]\ncache-dir = "{evil}/uv-cache2"\n\n'
        f'[tool.uv.pip]\ntarget = "{evil}/uv-target2"\n')
    (base / "pip.conf").write_text(f"[global]\ntarget = {evil}/pip-target\n")
    (base / ".python-version").write_text("2.7\n")
    (base / "bin").mkdir()
    for program in ("python3", "uv", "gcc", "cc", "dpkg", "dpkg-query", "apt-get", "apt-cache"):
        # first on the caller's PATH
        (base / "bin" / program).write_text(f"#!/bin/sh\necho ran > {markers}/{program}\nexit 3\n")
        (base / "bin" / program).chmod(0o755)
    # apt reads APT_CONFIG: a Pre-Invoke hook runs any command as root.
    (base / "apt.conf").write_text(f'APT::Update::Pre-Invoke {{"echo ran > {markers}/apt-hook";}};\n'
                                   f'DPkg::Pre-Invoke {{"echo ran > {markers}/dpkg-hook";}};\n')
    for root, dirs, files in os.walk(base):
        for name in dirs + files + [""]:
            os.chown(os.path.join(root, name), NOBODY.pw_uid, NOBODY.pw_gid)
    monkeypatch.chdir(base)
    # The caller's environment (sudo -E from nobody's shell).
    for key, value in {
        "PYTHONPATH": str(base), "PYTHONSTARTUP": str(base / "site.py"),
        "PIP_TARGET": f"{evil}/pip-env-target", "PIP_PREFIX": f"{evil}/pip-prefix",
        "PIP_CONFIG_FILE": str(base / "pip.conf"), "PIP_CACHE_DIR": f"{evil}/pip-cache",
        "UV_CACHE_DIR": f"{evil}/uv-env-cache", "UV_CONFIG_FILE": str(base / "uv.toml"),
        "XDG_CONFIG_HOME": str(base), "XDG_CACHE_HOME": f"{evil}/xdg-cache",
        "HOME": str(base), "TMPDIR": str(base), "PYENV_VERSION": "2.7",
        "APT_CONFIG": str(base / "apt.conf"),
        "PATH": f"{base / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }.items():
        monkeypatch.setenv(key, value)
    before = tree(base)
    yield {"base": base, "markers": markers, "evil": evil}
    assert tree(base) == before, "the planted directory was changed"


def assert_untouched(hostile):
    assert sorted(os.listdir(hostile["markers"])) == [], "planted code ran as root"
    assert not hostile["evil"].exists(), "a planted setting chose where root writes"


@pytest.mark.parametrize("tool", ["pip", "uv"])
def test_a_hostile_working_directory_and_environment_steer_nothing(states, tmp_path, hostile,
                                                                   build_args, tool):
    venv = str(tmp_path / "venvs" / "app")
    args = {"packages": ["vbapp", "vbdep==1.0"], "build_args": build_args,
            "repo_path": str(tmp_path / "repo"), "install_tool": tool}
    # wheels_rebuild with rebuild recreates the builder environment too: every
    # process venvbuild starts runs here (venv creation, pip, uv, pip wheel).
    ret = states.venvbuild.installed(name=venv, venv_id="app", rebuild=True, wheels_rebuild=True,
                                     **args)
    assert ret.result is True, ret.comment
    assert_untouched(hostile)
    out = subprocess.run([os.path.join(venv, "bin", "vbapp")], capture_output=True, text=True,
                         check=True, cwd="/", env={"PATH": "/usr/bin:/bin"}).stdout
    assert out.strip() == "hello vbapp from vbdep"
    # A second run from there is still a no-op.
    again = states.venvbuild.installed(name=venv, venv_id="app", **args)
    assert again.result is True and again.changes == {}, again.comment
    assert_untouched(hostile)


def test_a_python_on_a_path_directory_others_can_write_is_not_run(states, tmp_path, hostile,
                                                                  build_args):
    """``python: python3``, ``uv`` and the compiler are looked up only in PATH
    directories only root can write: programs nobody put first on PATH never run."""
    ret = states.venvbuild.installed(name=str(tmp_path / "venvs" / "p"), venv_id="p",
                                     packages=["vbdep==1.0"], build_args=build_args,
                                     repo_path=str(tmp_path / "repo"), python="python3",
                                     install_tool="uv")
    assert ret.result is True, ret.comment
    assert_untouched(hostile)


def test_salts_pkg_functions_run_in_the_environment_venvbuild_builds(modules, hostile):
    """build_pkgs, install_pkgs and symlink_pkgs go through Salt's pkg module, whose
    cmd.run copies the calling process's environment (APT_CONFIG, PATH) and runs in
    $HOME: venvbuild calls it with the environment it gives its own tools."""
    # The route is real: called as it is, Salt's pkg module runs nobody's dpkg.
    modules.pkg.file_list("coreutils")
    ran = os.listdir(hostile["markers"])
    assert ran and set(ran) <= {"dpkg", "dpkg-query"}, ran
    for name in ran:
        os.unlink(hostile["markers"] / name)
    interpreter = types.SimpleNamespace(major=3, minor=11)
    assert [os.path.basename(p) for p in pkgs.symlink_sources(
        modules, ["python3-packaging"], interpreter)][0] == "packaging"
    assert "coreutils" in pkgs.installed_names(modules)
    with pkgs.clean_environ():
        out = modules.cmd.run_all(["sh", "-c", 'echo "${APT_CONFIG:-unset}"; pwd'],
                                  python_shell=False)["stdout"].split()
    assert out == ["unset", pwd.getpwuid(os.geteuid()).pw_dir]
    assert os.environ["APT_CONFIG"] == str(hostile["base"] / "apt.conf")  # restored after
    assert_untouched(hostile)
