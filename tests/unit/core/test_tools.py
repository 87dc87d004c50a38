"""core/tools.py: how pip and uv are found, configured and called."""

import os
import pwd
import sys
import types

import pytest

from saltext_venvbuild.core import runner
from saltext_venvbuild.core import tools
from saltext_venvbuild.core.errors import BuildError
from saltext_venvbuild.core.errors import ToolError

CA_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT")


@pytest.fixture
def clean_environ(monkeypatch):
    """No CA or pip configuration inherited from the test runner's environment."""
    for var in CA_VARS + ("PIP_CONFIG_FILE",) + tuple(tools.BASE_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VB_INHERITED", "from-os-environ")


def executable(path, text="#!/bin/sh\nexit 0\n"):
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


# -- environ ---------------------------------------------------------------------------


def test_environ_defaults(clean_environ):
    env = tools.ToolSettings().environ()
    for key, value in tools.BASE_ENV.items():
        assert env[key] == value
    assert env["UV_PYTHON_DOWNLOADS"] == "never"
    assert env["UV_NO_CONFIG"] == "1"  # no uv.toml or pyproject.toml is discovered
    assert "VB_INHERITED" not in env  # the caller's variables are not inherited...
    assert env["PATH"] == runner.trusted_path(os.environ["PATH"])  # ...but PATH's trusted part
    assert env["HOME"] == pwd.getpwuid(os.geteuid()).pw_dir
    for var in CA_VARS + ("PIP_CONFIG_FILE", "PIP_CACHE_DIR", "UV_CACHE_DIR"):
        assert var not in env


STEERING = {
    "PIP_TARGET": "/tmp/x", "PIP_PREFIX": "/tmp/x", "PIP_CONFIG_FILE": "/home/eve/pip.conf",
    "PIP_INDEX_URL": "http://eve/simple", "PIP_CACHE_DIR": "/home/eve/cache",
    "UV_CACHE_DIR": "/home/eve/uv", "UV_CONFIG_FILE": "/home/eve/uv.toml",
    "UV_INDEX_URL": "http://eve/simple", "PYTHONPATH": "/home/eve/lib",
    "PYTHONHOME": "/home/eve", "PYTHONSTARTUP": "/home/eve/x.py", "LD_PRELOAD": "/home/eve/x.so",
    "LD_LIBRARY_PATH": "/home/eve/lib", "XDG_CONFIG_HOME": "/home/eve/.config",
    "XDG_CACHE_HOME": "/home/eve/.cache", "HOME": "/home/eve", "TMPDIR": "/home/eve/tmp",
    "VIRTUAL_ENV": "/home/eve/venv", "PYENV_VERSION": "eve", "SSL_CERT_FILE": "/home/eve/ca.pem",
}


def test_environ_inherits_nothing_that_steers_a_tool(clean_environ, monkeypatch):
    for key, value in STEERING.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("https_proxy", "http://proxy:3128")
    env = tools.ToolSettings(tool="uv").environ()
    for key in STEERING:
        if key != "HOME":
            assert key not in env, key
    assert env["HOME"] == pwd.getpwuid(os.geteuid()).pw_dir
    assert env["LC_ALL"] == "C.UTF-8"
    assert env["https_proxy"] == "http://proxy:3128"


def test_environ_inherits_the_ca_trust_only_root_can_change(clean_environ, monkeypatch, tmp_path):
    """uv reads SSL_CERT_FILE/SSL_CERT_DIR: the system's (root's) CA trust passes, a
    bundle or directory another user can change does not."""
    certs = tmp_path / "certs"
    certs.mkdir(mode=0o755)
    bundle = certs / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    bundle.chmod(0o644)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("SSL_CERT_DIR", os.pathsep.join([str(certs), "relative", str(tmp_path / "no")]))
    env = tools.ToolSettings(tool="uv").environ()
    assert (env["SSL_CERT_FILE"], env["SSL_CERT_DIR"]) == (str(bundle), str(certs))
    bundle.chmod(0o666)  # others may write it
    certs.chmod(0o777)
    env = tools.ToolSettings(tool="uv").environ()
    assert "SSL_CERT_FILE" not in env and "SSL_CERT_DIR" not in env


def test_environ_caches_are_venvbuilds_own(clean_environ, monkeypatch):
    monkeypatch.setenv("PIP_CACHE_DIR", "/home/eve/cache")
    env = tools.ToolSettings(cache_dir="/var/cache/salt/minion/venvbuild/cache").environ()
    assert env["PIP_CACHE_DIR"] == "/var/cache/salt/minion/venvbuild/cache/pip"
    assert env["UV_CACHE_DIR"] == "/var/cache/salt/minion/venvbuild/cache/uv"


def test_trusted_path_keeps_only_directories_only_root_can_write(tmp_path):
    good = tmp_path / "good"
    good.mkdir(mode=0o755)
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    below_open = open_dir / "bin"
    below_open.mkdir(mode=0o755)
    missing = tmp_path / "missing"
    value = os.pathsep.join(["bin", "", str(open_dir), str(below_open), str(good), str(missing),
                             str(good)])
    assert runner.trusted_path(value) == str(good)


def test_environ_does_not_change_os_environ(clean_environ):
    before = dict(os.environ)
    tools.ToolSettings(ca_bundle="/etc/ca.pem", pip_noconf=True, env={"X": "1"}).environ({"Y": "2"})
    assert dict(os.environ) == before


def test_environ_ca_bundle_sets_every_ca_variable(clean_environ):
    env = tools.ToolSettings(ca_bundle="/etc/venvbuild/ca.pem").environ()
    for var in CA_VARS:
        assert env[var] == "/etc/venvbuild/ca.pem"


def test_environ_ca_bundle_overrides_inherited_ca_variables(clean_environ, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    env = tools.ToolSettings(ca_bundle="/etc/venvbuild/ca.pem").environ()
    assert env["REQUESTS_CA_BUNDLE"] == env["SSL_CERT_FILE"] == "/etc/venvbuild/ca.pem"


def test_environ_pip_noconf_only_for_the_tool_upgrade(clean_environ, monkeypatch):
    """pip_noconf covers the builder environment's provisioning (the role's tool
    upgrade) only; builds and installs read pip's configuration files."""
    noconf = tools.ToolSettings(pip_noconf=True)
    assert noconf.environ(tool_upgrade=True)["PIP_CONFIG_FILE"] == os.devnull == "/dev/null"
    assert "PIP_CONFIG_FILE" not in noconf.environ()  # a build or an install
    assert "PIP_CONFIG_FILE" not in tools.ToolSettings(pip_noconf=False).environ(tool_upgrade=True)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/etc/pip.conf")  # the caller's: not inherited
    assert noconf.environ(tool_upgrade=True)["PIP_CONFIG_FILE"] == "/dev/null"
    assert "PIP_CONFIG_FILE" not in noconf.environ()
    assert tools.ToolSettings(pip_noconf=True, env={"PIP_CONFIG_FILE": "/x"}).environ(
        {"PIP_CONFIG_FILE": "/y"}, tool_upgrade=True)["PIP_CONFIG_FILE"] == "/dev/null"
    assert "PIP_CONFIG_FILE" not in tools.ToolSettings(pip_noconf=False).environ()


def test_environ_uv_uses_the_system_ca_store(clean_environ):
    env = tools.ToolSettings(tool="uv").environ()
    assert env["UV_SYSTEM_CERTS"] == env["UV_NATIVE_TLS"] == "1"
    assert "SSL_CERT_FILE" not in env  # uv finds the store itself
    bundled = tools.ToolSettings(ca_bundle="/etc/venvbuild/ca.pem").environ()
    assert bundled["SSL_CERT_FILE"] == "/etc/venvbuild/ca.pem"  # which uv prefers to the store
    for var in ("UV_SYSTEM_CERTS", "UV_NATIVE_TLS"):  # the operator's choice, alone
        env = tools.ToolSettings(env={var: "0"}).environ()
        assert env[var] == "0"
        assert not set(tools.SYSTEM_CERTS_ENV) - {var} & set(env)


def test_environ_extra_then_own_env_last(clean_environ):
    settings = tools.ToolSettings(ca_bundle="/ca.pem", pip_noconf=True,
                                  env={"CFLAGS": "-O2", "SHARED": "own",
                                       "PIP_NO_INPUT": "0", "SSL_CERT_FILE": "/mine.pem"})
    env = settings.environ({"SHARED": "extra", "EXTRA_ONLY": "1", "PIP_CONFIG_FILE": "/x.conf",
                            "VB_INHERITED": "overridden"}, tool_upgrade=True)
    assert env["CFLAGS"] == "-O2"
    assert env["SHARED"] == "own"  # self.env wins over extra
    assert env["EXTRA_ONLY"] == "1"
    assert env["PIP_CONFIG_FILE"] == "/dev/null"  # pip_noconf wins over any config file named
    assert env["VB_INHERITED"] == "overridden"
    assert env["PIP_NO_INPUT"] == "0"  # the operator's env wins over BASE_ENV
    assert env["SSL_CERT_FILE"] == "/mine.pem"  # and over the CA variables
    assert env["REQUESTS_CA_BUNDLE"] == "/ca.pem"


def test_environ_reaches_the_tool(clean_environ):
    settings = tools.ToolSettings(env={"VB_OWN": "yes"}, pip_noconf=True)
    out = settings.run([sys.executable, "-c", "import os; print(os.environ['VB_OWN'], "
                        "os.environ['PIP_CONFIG_FILE'], os.environ['VB_EXTRA'])"],
                       ToolError, "x", extra_env={"VB_EXTRA": "too"}, tool_upgrade=True)
    assert out.split() == ["yes", "/dev/null", "too"]


def test_run_uses_the_timeout_and_names_its_option():
    settings = tools.ToolSettings(timeout=1, timeout_option="build_timeout")
    with pytest.raises(BuildError, match="still running after 1 s.*raise build_timeout"):
        settings.run([sys.executable, "-c", "import time; time.sleep(1000)"], BuildError,
                     "building")


# -- cert_args / install_cmd -----------------------------------------------------------


def test_cert_args_only_for_pip_with_a_ca_bundle():
    assert tools.ToolSettings(ca_bundle="/ca.pem").cert_args() == ["--cert", "/ca.pem"]
    assert tools.ToolSettings(ca_bundle="/ca.pem").cert_args("pip") == ["--cert", "/ca.pem"]
    assert tools.ToolSettings(ca_bundle="/ca.pem").cert_args("uv") == []
    assert tools.ToolSettings(tool="uv", ca_bundle="/ca.pem").cert_args() == []
    assert tools.ToolSettings(tool="uv", ca_bundle="/ca.pem").cert_args("pip") == [
        "--cert", "/ca.pem"]
    assert tools.ToolSettings().cert_args() == []
    assert tools.ToolSettings().cert_args("pip") == []


def test_install_cmd_pip():
    assert tools.ToolSettings().install_cmd("/opt/v/bin/python") == [
        "/opt/v/bin/python", "-I", "-m", "pip", "install"]
    assert tools.ToolSettings(ca_bundle="/ca.pem").install_cmd("/opt/v/bin/python") == [
        "/opt/v/bin/python", "-I", "-m", "pip", "install", "--cert", "/ca.pem"]


def test_install_cmd_uv(tmp_path):
    uv = executable(tmp_path / "uv")
    settings = tools.ToolSettings(tool="uv", uv_bin=uv, ca_bundle="/ca.pem")
    # uv takes the CA bundle from SSL_CERT_FILE, not a --cert option
    assert settings.install_cmd("/opt/v/bin/python") == [
        uv, "pip", "install", "--python", "/opt/v/bin/python"]


def test_install_cmd_uv_missing_is_a_tool_error(tmp_path):
    settings = tools.ToolSettings(tool="uv", uv_bin=str(tmp_path / "nope"))
    with pytest.raises(ToolError, match="uv_bin"):
        settings.install_cmd("/opt/v/bin/python")


def test_create_venv_with_uv(tmp_path, clean_environ):
    try:
        uv = tools.find_uv()
    except ToolError:
        pytest.skip("no uv here")
    settings = tools.ToolSettings(tool="uv", uv_bin=uv)
    interpreter = types.SimpleNamespace(executable=sys.executable)
    python = settings.create_venv(interpreter, str(tmp_path / "venv"), ToolError,
                                  log_path=str(tmp_path / "log"))
    assert python == str(tmp_path / "venv" / "bin" / "python")
    assert os.path.exists(python)
    assert "uv venv --python" in (tmp_path / "log").read_text()


# -- find_uv ---------------------------------------------------------------------------


def test_find_uv_explicit_path(tmp_path):
    uv = executable(tmp_path / "my-uv")
    assert tools.find_uv(uv) == uv


@pytest.mark.parametrize("make", ["missing", "not-executable", "directory"])
def test_find_uv_explicit_path_must_be_executable(tmp_path, monkeypatch, make):
    path = tmp_path / "uv"
    if make == "not-executable":
        path.write_text("#!/bin/sh\n")
        path.chmod(0o644)
    elif make == "directory":
        path.mkdir()
    # An explicit uv_bin is never replaced by another uv found elsewhere.
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError, match=f"uv_bin '{path}': no executable there"):
        tools.find_uv(str(path))


def test_find_uv_on_path(tmp_path, monkeypatch):
    uv = executable(tmp_path / "uv")
    monkeypatch.setenv("PATH", f"{tmp_path / 'empty'}:{tmp_path}")
    assert tools.find_uv() == uv
    assert tools.find_uv(None) == uv


def test_find_uv_not_executable_on_path_is_skipped(tmp_path, monkeypatch):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "uv").write_text("#!/bin/sh\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setitem(sys.modules, "uv", None)  # and no uv package
    with pytest.raises(ToolError):
        tools.find_uv()


def test_find_uv_from_the_uv_package(tmp_path, monkeypatch):
    uv_package = pytest.importorskip("uv")
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    found = tools.find_uv()
    assert found == uv_package.find_uv_bin()
    assert os.access(found, os.X_OK)


def test_find_uv_nowhere(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "uv", None)  # import uv raises ImportError
    with pytest.raises(ToolError) as info:
        tools.find_uv()
    message = str(info.value)
    assert "uv was not found on PATH nor as the 'uv' Python package" in message
    assert "set install_tool: pip" in message
