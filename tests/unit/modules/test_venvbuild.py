"""The venvbuild execution module as a Salt adapter (salt-factories loader mock).

Salt functions (config.get, mine.*, publish.publish, pkg.*, grains.set,
event.send) are mocks and the interpreter is a fixed :class:`Interpreter`, so
nothing here probes a Python or builds wheels: the functional tests do that.
The option table itself is tested in tests/unit/core/test_options.py; here
only that the module applies it.
"""

import copy
import logging
import os
import stat
import time
from unittest import mock

import pytest
from salt.exceptions import CommandExecutionError
from salt.exceptions import SaltInvocationError

import saltext_venvbuild.modules.venvbuild as venvbuild_mod
from saltext_venvbuild.core import options as core_options
from saltext_venvbuild.core import registry
from saltext_venvbuild.core import remote
from saltext_venvbuild.core import workflow as workflow_mod
from saltext_venvbuild.core.distro import BASE_PACKAGES
from saltext_venvbuild.core.errors import BuildError
from saltext_venvbuild.core.errors import InterpreterError
from saltext_venvbuild.core.errors import RepoError
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import VenvbuildError
from saltext_venvbuild.core.interpreter import Interpreter
from saltext_venvbuild.core.layout import VenvPaths
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin
from saltext_venvbuild.core.repo import RepoLayout
from saltext_venvbuild.core.spec import DEFAULT_BUILD_REQUIREMENTS
from saltext_venvbuild.core.spec import VenvSpec
from saltext_venvbuild.core.stamp import Stamp
from saltext_venvbuild.core.stamp import write_stamp

try:  # Salt 3008 hands modules a masked pillar.
    from salt.utils.secret import MaskedDict
except ImportError:  # pragma: no cover - depends on the Salt release
    MaskedDict = None

PLATFORM = "debian-12-x86_64-cp311"
OTHER_PLATFORM = "rocky-9-x86_64-cp39"
SPEC = "0123456789abcdef"
SHA = "ab" * 32
MINE_FUNCTIONS = {"venvbuild_repo": {"mine_function": "venvbuild.repo_info"}}
INTERP = Interpreter(
    requested="python3", executable="/usr/bin/python3.11", implementation="cpython",
    version="3.11.2", major=3, minor=11, free_threaded=False, machine="x86_64",
)
REAL_INTERPRETER = venvbuild_mod._interpreter  # the autouse fixture replaces it


# -- the loader mock ----------------------------------------------------------------


@pytest.fixture
def config():
    """What ``config.get`` answers (minion config, grains, pillar merged), by key."""
    return {}


@pytest.fixture
def salt_mocks(config):
    def config_get(key, default=None):
        return config.get(key, default)

    return {
        "config.get": mock.Mock(side_effect=config_get),
        "mine.get": mock.Mock(return_value={}),
        "mine.update": mock.Mock(return_value=True),
        "publish.publish": mock.Mock(return_value={}),
        "publish.runner": mock.Mock(return_value={}),
        # Salt 3008's pillar.get masks values outside renderers: never to be used.
        "pillar.get": mock.Mock(return_value="**********"),
        "grains.set": mock.Mock(return_value={"result": True}),
        "event.send": mock.Mock(return_value=True),
        "pkg.refresh_db": mock.Mock(return_value={}),
        "pkg.version": mock.Mock(return_value=""),
        # Installed: the role's base packages every venv ensures (core/distro.py).
        "pkg.list_pkgs": mock.Mock(return_value={name: "1.0" for lists in BASE_PACKAGES.values()
                                                 for names in lists.values() for name in names}),
        "pkg.latest_version": mock.Mock(return_value=""),
        "pkg.install": mock.Mock(return_value={}),
        "pkg.file_list": mock.Mock(return_value={"errors": [], "files": []}),
    }


@pytest.fixture
def minion_opts(tmp_path):
    return {
        "id": "t1",
        "cachedir": str(tmp_path / "cache"),
        "file_client": "remote",
        "conf_file": str(tmp_path / "etc" / "salt" / "minion"),
        "sock_dir": str(tmp_path / "sock"),
    }


@pytest.fixture
def grains():
    return {"os": "Debian", "os_family": "Debian", "osrelease": "12.5", "osmajorrelease": 12,
            "cpuarch": "x86_64"}


@pytest.fixture
def pillar(request):
    """``__pillar__``: masked as Salt 3008 hands it over (``plain`` with indirect param)."""
    if getattr(request, "param", "masked") == "masked" and MaskedDict is not None:
        return MaskedDict()
    return {}


@pytest.fixture
def configure_loader_modules(salt_mocks, minion_opts, grains, pillar):
    return {
        venvbuild_mod: {
            "__salt__": salt_mocks,
            "__opts__": minion_opts,
            "__grains__": grains,
            "__pillar__": pillar,
        }
    }


@pytest.fixture(autouse=True)
def interp(monkeypatch):
    """A fixed interpreter instead of probing one."""
    fake = mock.Mock(return_value=INTERP)
    monkeypatch.setattr(venvbuild_mod, "_interpreter", fake)
    return fake


@pytest.fixture
def state_dir(minion_opts):
    return os.path.join(minion_opts["cachedir"], "venvbuild")


def spec_id(venv_id="keystone", platform=PLATFORM, **kwargs):
    """What the module must compute for these options on PLATFORM."""
    opts = core_options.validate(kwargs)
    tools = ()
    if opts["seed_tools"]:
        tools = ["pip", *(["uv"] if opts["install_tool"] == "uv" else []),
                 *opts["build_requirements"], *(opts["build_requirements_extra"] or [])]
    return VenvSpec.create(
        venv_id, packages=opts["packages"], default_packages=opts["default_packages"],
        constraints=opts["constraints"], global_constraints=opts["global_constraints"],
        build_args=list(opts["default_build_args"]) + list(opts["build_args"]), platform=platform,
        build_requirements=list(opts["build_requirements"]) + list(opts["build_requirements_extra"] or []),
        tools=tools,
    ).spec_id


def assert_plain(value):
    if isinstance(value, dict):
        assert type(value) is dict, type(value)
        for item in value.values():
            assert_plain(item)
    elif isinstance(value, list):
        assert type(value) is list, type(value)
        for item in value:
            assert_plain(item)


PUBLIC = ("platform", "spec_hash", "build_wheels", "build_spec", "install", "remove", "status",
          "list_venvs", "verify", "repo_info", "venv_configs", "check_pillar")


def test_virtual():
    assert venvbuild_mod.__virtual__() == "venvbuild"
    with mock.patch("salt.utils.platform.is_windows", return_value=True):
        assert venvbuild_mod.__virtual__() == (False, "venvbuild: POSIX only (it uses symlinks and flock)")


@pytest.mark.parametrize("name", PUBLIC)
def test_public_functions_keep_their_name_and_documentation(name):
    function = getattr(venvbuild_mod, name)
    assert function.__name__ == name
    assert "CLI Example" in function.__doc__
    assert f"venvbuild.{name}" in function.__doc__
    assert function.__wrapped__.__doc__ == function.__doc__


def test_functions_taking_options_keep_a_short_usage():
    """Salt prints a function's docstring as its usage after any invalid argument: the
    functions taking a venv's options as ``**kwargs`` (OPTION_PARAMETERS, whose options
    docs/conf.py lists in the reference) keep it to a few lines and a CLI example."""
    import inspect  # pylint: disable=import-outside-toplevel

    takes_options = {name for name, function in inspect.getmembers(venvbuild_mod, inspect.isfunction)
                     if function.__module__ == venvbuild_mod.__name__ and not name.startswith("_")
                     and any(param.kind is inspect.Parameter.VAR_KEYWORD
                             for param in inspect.signature(function).parameters.values())}
    assert takes_options == set(venvbuild_mod.OPTION_PARAMETERS)
    for name in takes_options:
        doc = getattr(venvbuild_mod, name).__doc__
        assert len([line for line in doc.splitlines() if line.strip()]) <= 18, name
        assert "CLI Example:" in doc and "sys.state_doc" in doc, name
    assert venvbuild_mod.OPTION_PARAMETERS["install"] is None  # every option
    assert venvbuild_mod.OPTION_PARAMETERS["build_wheels"] == core_options.BUILD_OPTIONS


def test_removed_aliases_are_gone():
    assert not hasattr(venvbuild_mod, "OPTIONS")
    assert not hasattr(venvbuild_mod, "DEFAULT_REPO_PATH")


# -- core errors become Salt errors -------------------------------------------------


def _verify_raising(monkeypatch, exc):
    monkeypatch.setattr(venvbuild_mod.core_installer, "verify", mock.Mock(side_effect=exc))


def test_spec_error_is_an_invocation_error(monkeypatch):
    _verify_raising(monkeypatch, SpecError("venv path 'x': must be absolute"))
    with pytest.raises(SaltInvocationError) as info:
        venvbuild_mod.verify("/opt/venvs/keystone")
    assert str(info.value) == "venv path 'x': must be absolute"
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("error", [VenvbuildError, BuildError, RepoError, InterpreterError])
def test_other_core_errors_are_execution_errors(monkeypatch, error):
    _verify_raising(monkeypatch, error("the repo is unreachable; check the URL"))
    with pytest.raises(CommandExecutionError) as info:
        venvbuild_mod.verify("/opt/venvs/keystone")
    assert not isinstance(info.value, SaltInvocationError)
    assert str(info.value) == "the repo is unreachable; check the URL"
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_a_stray_os_error_names_the_file(monkeypatch):
    _verify_raising(monkeypatch, PermissionError(13, "Permission denied", "/opt/venvs/keystone/x"))
    with pytest.raises(CommandExecutionError) as info:
        venvbuild_mod.verify("/opt/venvs/keystone")
    assert str(info.value) == (
        "venvbuild.verify: /opt/venvs/keystone/x: Permission denied; check the path, its "
        "permissions and free space")
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no traceback


def test_a_stray_os_error_hides_url_credentials(monkeypatch):
    _verify_raising(monkeypatch, OSError(2, "No such file or directory", "https://u:pw@host/x"))
    with pytest.raises(CommandExecutionError) as info:
        venvbuild_mod.verify("/opt/venvs/keystone")
    assert "https://****@host/x" in str(info.value)
    assert "pw" not in str(info.value)


def test_a_stray_os_error_without_a_file_name(monkeypatch):
    _verify_raising(monkeypatch, OSError(28, "No space left on device"))
    with pytest.raises(CommandExecutionError) as info:
        venvbuild_mod.verify("/opt/venvs/keystone")
    assert str(info.value) == (
        "venvbuild.verify: No space left on device; check the path, its permissions and free space")


# -- options ------------------------------------------------------------------------


def test_options_default_the_repo_path_from_config(salt_mocks, config):
    config["venvbuild:repo:path"] = "/data/venvbuild"
    opts = venvbuild_mod._options({})
    salt_mocks["config.get"].assert_called_once_with("venvbuild:repo:path", "/srv/venvbuild")
    assert opts["repo_path"] == "/data/venvbuild"


def test_defaults_are_applied():
    opts = venvbuild_mod._options({})
    assert set(opts) == set(core_options.OPTIONS) | {"repo_gid"}  # derived from repo_user/group
    assert opts["python"] == "python3"
    assert opts["install_tool"] == "pip"
    assert opts["package_state"] == "present"
    assert opts["rebuild"] is False
    assert opts["wheels_rebuild"] is False
    assert opts["pip_noconf"] is False
    assert opts["keep_versions"] == 2
    assert opts["packages"] is None
    assert opts["build_env"] == {}
    assert opts["install_env"] == {}
    assert opts["install_args"] == ()
    assert opts["repo_path"] == "/srv/venvbuild"
    assert opts["repo_url"] is None
    assert opts["wait_timeout"] == 300
    assert opts["repo_gid"] is None


def test_none_values_take_the_default():
    opts = venvbuild_mod._options({"python": None, "install_tool": None, "keep_versions": None})
    assert (opts["python"], opts["install_tool"], opts["keep_versions"]) == ("python3", "pip", 2)


def test_given_values_are_kept():
    opts = venvbuild_mod._options({
        "packages": ["keystone"],
        "python": "/usr/bin/python3.12",
        "install_tool": "uv",
        "package_state": "latest",
        "install_args": ["--config-setting", 1],
        "build_env": {"CFLAGS": "-O2"},
        "install_env": {"UV_HTTP_TIMEOUT": 3},
        "repo_path": "/data/repo",
        "repo_url": "http://builder/repo",
        "keep_versions": 3,
        "rebuild": True,
    })
    assert opts["packages"] == ["keystone"]
    assert opts["python"] == "/usr/bin/python3.12"
    assert opts["install_tool"] == "uv"
    assert opts["package_state"] == "latest"
    assert opts["install_args"] == ("--config-setting", "1")
    assert opts["build_env"] == {"CFLAGS": "-O2"}
    assert opts["install_env"] == {"UV_HTTP_TIMEOUT": "3"}
    assert opts["repo_path"] == "/data/repo"
    assert opts["repo_url"] == "http://builder/repo"
    assert opts["keep_versions"] == 3
    assert opts["rebuild"] is True


def test_repo_path_comes_from_config_but_repo_url_does_not(config):
    # venvbuild:repo:url is the URL a builder serves its repo at; it must not
    # turn a builder's own venvs into remote installs from itself.
    config.update({"venvbuild:repo:path": "/data/venvbuild", "venvbuild:repo:url": "http://b/r"})
    opts = venvbuild_mod._options({})
    assert (opts["repo_path"], opts["repo_url"]) == ("/data/venvbuild", None)


def test_dunder_keys_are_ignored():
    opts = venvbuild_mod._options({"__pub_fun": "venvbuild.install", "__pub_jid": "1", "__env__": "base"})
    assert set(opts) == set(core_options.OPTIONS) | {"repo_gid"}


def test_unknown_arguments_say_what_was_meant(interp, salt_mocks):
    with pytest.raises(SaltInvocationError) as info:
        venvbuild_mod.install("/opt/venvs/keystone", pakages=["a"], bogus=1)
    assert str(info.value).splitlines() == [
        f"venvbuild: unknown argument 'bogus'; {core_options.OPTIONS_HINT}",
        "venvbuild: unknown argument 'pakages'; did you mean 'packages'?",
    ]
    # Refused before anything runs.
    interp.assert_not_called()
    salt_mocks["mine.get"].assert_not_called()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"wait_timeout": "soon"}, "wait_timeout"),
        ({"wait_timeout": -1}, "wait_timeout"),
        ({"install_tool": "conda"}, "install_tool 'conda': must be one of pip, uv"),
        ({"package_state": "installed"}, "package_state 'installed': must be one of present, latest"),
        ({"package_state": "LATEST"}, "package_state 'LATEST': must be one of present, latest"),
        ({"package_state": "absent"}, "package_state 'absent': must be one of present, latest"),
        ({"install_args": "--compile 'x"}, "install_args: the string cannot be split"),
        ({"install_args": ["a\nb"]}, "NUL or newline"),
        ({"build_env": ["A=1"]}, "build_env must be a mapping"),
        ({"install_env": {"A=B": "1"}}, "not a valid environment variable name"),
        ({"keep_versions": "two"}, "keep_versions"),
        ({"build_pkgs": ["gcc;reboot"]}, "build_pkgs"),
        ({"facts_dest": "../x"}, "facts_dest"),
        ({"builder": "b*"}, "builder"),
    ],
)
@pytest.mark.parametrize("function", ["install", "spec_hash", "build_wheels"])
def test_a_bad_option_is_an_invocation_error_naming_it(interp, function, kwargs, message):
    first = "/opt/venvs/keystone" if function == "install" else "keystone"
    with pytest.raises(SaltInvocationError) as info:
        getattr(venvbuild_mod, function)(first, packages=["keystone"], **kwargs)
    assert message in str(info.value)
    interp.assert_not_called()


def test_a_bad_repo_path_in_config_is_an_invocation_error(config):
    config["venvbuild:repo:path"] = "srv/venvbuild"
    with pytest.raises(SaltInvocationError, match="repo_path 'srv/venvbuild': must be an absolute path"):
        venvbuild_mod.spec_hash("keystone", packages=["keystone"])


def test_venv_id_defaults_to_the_basename():
    assert venvbuild_mod._venv_id_for("/opt/venvs/keystone/", None) == "keystone"
    assert venvbuild_mod._venv_id_for("/opt/venvs/ks", "keystone") == "keystone"


# -- platform, interpreter, spec_hash -----------------------------------------------


def test_platform(interp):
    assert venvbuild_mod.platform() == {
        "key": PLATFORM,
        "distro": "Debian",
        "release": "12",
        "arch": "x86_64",
        "interpreter": "cp311",
        "python": "/usr/bin/python3.11",
        "python_version": "3.11.2",
    }
    interp.assert_called_once_with("python3")


def test_platform_of_another_python(interp):
    venvbuild_mod.platform(python="/usr/bin/python3.12")
    interp.assert_called_once_with("/usr/bin/python3.12")


@pytest.mark.parametrize(
    "os_grains, key, release",
    [
        ({"os": "Ubuntu", "osrelease": "24.04", "osmajorrelease": 24}, "ubuntu-24.04-x86_64-cp311", "24.04"),
        ({"os": "Rocky", "osrelease": "9.4", "osmajorrelease": 9}, "rocky-9-x86_64-cp311", "9"),
        ({"os": "Debian", "osrelease": "12.5", "osmajorrelease": None}, PLATFORM, "12"),
        ({"os": "Arch", "osrelease": "rolling", "osmajorrelease": None}, "arch-rolling-x86_64-cp311", "rolling"),
    ],
)
def test_platform_key_from_grains(grains, os_grains, key, release):
    grains.update(os_grains)
    out = venvbuild_mod.platform()
    assert (out["key"], out["release"]) == (key, release)


def test_platform_architecture_falls_back_to_the_interpreter(grains, interp):
    del grains["cpuarch"]
    interp.return_value = Interpreter(**dict(INTERP.__dict__, machine="aarch64"))
    assert venvbuild_mod.platform()["key"] == "debian-12-aarch64-cp311"


def test_platform_without_the_os_grain_is_an_invocation_error(grains):
    del grains["os"]
    with pytest.raises(SaltInvocationError, match="distribution is unknown"):
        venvbuild_mod.platform()


def test_interpreter_is_resolved_with_a_cache_in_the_state_dir(monkeypatch, state_dir):
    resolve = mock.Mock(return_value=INTERP)
    monkeypatch.setattr(venvbuild_mod.core_interpreter, "resolve", resolve)
    assert REAL_INTERPRETER("python3.12") is INTERP
    resolve.assert_called_once_with("python3.12",
                                    cache_file=os.path.join(state_dir, "interpreters.json"),
                                    prepare=venvbuild_mod._ensure_state_dir)
    # prepare creates the state directory, private to root.
    assert not os.path.exists(state_dir)
    resolve.call_args.kwargs["prepare"]()
    assert stat.S_IMODE(os.stat(state_dir).st_mode) == 0o700


def test_a_missing_interpreter_is_an_execution_error(monkeypatch):
    monkeypatch.setattr(venvbuild_mod, "_interpreter", REAL_INTERPRETER)
    with pytest.raises(CommandExecutionError) as info:
        venvbuild_mod.platform(python="/nonexistent/bin/python3")
    assert not isinstance(info.value, SaltInvocationError)
    assert "python '/nonexistent/bin/python3': no executable file there" in str(info.value)


def test_spec_hash():
    assert venvbuild_mod.spec_hash("keystone", packages=["keystone==26.0.0"]) == spec_id(
        packages=["keystone==26.0.0"])
    assert venvbuild_mod.spec_hash("keystone", packages=["keystone==26.0.0"]) == VenvSpec.create(
        "keystone", packages=["keystone==26.0.0"], platform=PLATFORM).spec_id


def test_spec_hash_depends_on_the_platform(grains):
    before = venvbuild_mod.spec_hash("keystone", packages=["keystone"])
    grains.update(os="Ubuntu", osrelease="24.04", osmajorrelease=24)
    after = venvbuild_mod.spec_hash("keystone", packages=["keystone"])
    assert before != after
    assert after == spec_id(packages=["keystone"], platform="ubuntu-24.04-x86_64-cp311")


def test_spec_hash_ignores_what_does_not_decide_the_wheels():
    base = venvbuild_mod.spec_hash("keystone", packages=["keystone"])
    assert venvbuild_mod.spec_hash(
        "keystone", packages=["keystone"], keep_versions=5, install_args=["--compile"],
        build_timeout=10, repo_url="http://b:8181", wheels_rebuild=True) == base


def test_spec_hash_puts_default_build_args_first():
    ordered = venvbuild_mod.spec_hash("keystone", packages=["keystone"],
                                      default_build_args=["--no-build-isolation"],
                                      build_args=["--no-index"])
    assert ordered == VenvSpec.create("keystone", packages=["keystone"], platform=PLATFORM,
                                      build_args=["--no-build-isolation", "--no-index"]).spec_id
    assert ordered != VenvSpec.create("keystone", packages=["keystone"], platform=PLATFORM,
                                      build_args=["--no-index", "--no-build-isolation"]).spec_id


@pytest.mark.parametrize("install_tool, tools", [
    ("pip", ["pip"]),
    ("uv", ["pip", "uv"]),
])
def test_spec_hash_with_seed_tools(install_tool, tools):
    got = venvbuild_mod.spec_hash("keystone", packages=["keystone"], seed_tools=True,
                                  install_tool=install_tool, build_requirements_extra=["Cython"])
    requirements = [*DEFAULT_BUILD_REQUIREMENTS, "Cython"]
    assert got == VenvSpec.create("keystone", packages=["keystone"], platform=PLATFORM,
                                  build_requirements=requirements,
                                  tools=[*tools, *requirements]).spec_id
    assert got != venvbuild_mod.spec_hash("keystone", packages=["keystone"],
                                          install_tool=install_tool,
                                          build_requirements_extra=["Cython"])


def test_spec_hash_without_packages_is_an_invocation_error():
    with pytest.raises(SaltInvocationError, match="no packages given"):
        venvbuild_mod.spec_hash("keystone")


# -- venv_configs -------------------------------------------------------------------


@pytest.mark.parametrize("pillar", ["plain", "masked"], indirect=True)
def test_venv_configs_without_pillar(pillar):
    assert venvbuild_mod.venv_configs() == {}


@pytest.mark.parametrize("pillar", ["plain", "masked"], indirect=True)
def test_venv_configs_merge_defaults_repo_and_builder(pillar, salt_mocks):
    defaults = {"install_tool": "uv", "python": "python3.11", "default_packages": ["pip-tools"]}
    pillar["venvbuild"] = {
        "repo": {"path": "/srv/wheels", "url": "http://builder:8080"},
        "builder": {"target": "roles:venvbuild-builder", "tgt_type": "grain"},
        "defaults": dict(defaults),
        "venvs": {
            "keystone": {"path": "/opt/venvs/keystone", "packages": ["keystone==26.0.0"]},
            "nova": {"path": "/opt/venvs/nova", "packages": ["nova"], "install_tool": "pip",
                     "repo_url": "http://other", "builder_tgt_type": "glob"},
        },
    }
    configs = venvbuild_mod.venv_configs()
    assert configs == {
        "keystone": {
            "path": "/opt/venvs/keystone",
            "packages": ["keystone==26.0.0"],
            "install_tool": "uv",
            "python": "python3.11",
            "default_packages": ["pip-tools"],
            "repo_path": "/srv/wheels",
            "builder_target": "roles:venvbuild-builder",
            "builder_tgt_type": "grain",
        },
        "nova": {
            "path": "/opt/venvs/nova",
            "packages": ["nova"],
            "install_tool": "pip",  # the venv's key wins over defaults
            "python": "python3.11",
            "default_packages": ["pip-tools"],
            "repo_path": "/srv/wheels",
            "repo_url": "http://other",
            "builder_target": "roles:venvbuild-builder",
            "builder_tgt_type": "glob",  # and over venvbuild:builder
        },
    }
    assert_plain(configs)
    # The defaults themselves are not modified by the merge.
    assert pillar["venvbuild"]["defaults"] == defaults
    # __pillar__ is read directly: Salt 3008's pillar.get masks every value.
    salt_mocks["pillar.get"].assert_not_called()


def test_venv_configs_without_repo_adds_no_repo_keys(pillar):
    pillar["venvbuild"] = {"venvs": {"tools": {"path": "/opt/venvs/tools", "packages": ["ansible"]}}}
    assert venvbuild_mod.venv_configs() == {"tools": {"path": "/opt/venvs/tools", "packages": ["ansible"]}}


def test_venv_configs_path_may_not_come_from_defaults(pillar):
    # Changed on purpose: defaults hold options only; path is each venv's own.
    pillar["venvbuild"] = {"defaults": {"path": "/opt/venvs/shared"}, "venvs": {"a": None}}
    with pytest.raises(SaltInvocationError, match=r"^pillar venvbuild:defaults: unknown key 'path'; "
                                                  r"path is each venv's own key"):
        venvbuild_mod.venv_configs()


def test_venv_configs_missing_path(pillar):
    pillar["venvbuild"] = {"venvs": {
        "good": {"path": "/opt/venvs/good", "packages": ["a"]},
        "keystone": {"packages": ["keystone"]},
    }}
    with pytest.raises(SaltInvocationError, match=r"venvbuild:venvs:keystone: no 'path'.*/opt/venvs/keystone"):
        venvbuild_mod.venv_configs()


@pytest.mark.parametrize("venvbuild, where, key, meant", [
    ({"venvs": {"keystone": {"path": "/opt/venvs/k", "pakages": ["a"]}}}, "venvbuild:venvs:keystone",
     "pakages", "packages"),
    ({"repo": {"pth": "/srv"}}, "venvbuild:repo", "pth", "path"),
    ({"builders": {}}, "venvbuild", "builders", "builder"),
])
def test_venv_configs_unknown_keys_are_invocation_errors(pillar, venvbuild, where, key, meant):
    pillar["venvbuild"] = venvbuild
    with pytest.raises(SaltInvocationError) as info:
        venvbuild_mod.venv_configs()
    assert str(info.value) == f"pillar {where}: unknown key {key!r}; did you mean {meant!r}?"


def test_check_pillar_returns_every_problem(pillar):
    pillar["venvbuild"] = {"defaults": {"instal_tool": "uv"}, "repo": {"pth": "/srv"},
                           "venvs": {"a": {"pakages": ["x"]}, "b": {"path": "/opt/venvs/b"}}}
    assert venvbuild_mod.check_pillar() == {"ok": False, "problems": [
        "pillar venvbuild:repo: unknown key 'pth'; did you mean 'path'?",
        "pillar venvbuild:defaults: unknown key 'instal_tool'; did you mean 'install_tool'?",
        "pillar venvbuild:venvs:a: unknown key 'pakages'; did you mean 'packages'?",
        "pillar venvbuild:venvs:a: no 'path'; set e.g. path: /opt/venvs/a",
    ]}
    pillar["venvbuild"] = {"venvs": {"b": {"path": "/opt/venvs/b"}}}
    assert venvbuild_mod.check_pillar() == {"ok": True, "problems": []}


SECRET_VENVS = {
    "repo": {"path": "/srv/wheels", "url": "https://deploy:t0ken@build01:8443"},
    "venvs": {"keystone": {
        "path": "/opt/venvs/keystone",
        "packages": ["keystone==26.0.0"],
        "build_env": {"PIP_INDEX_URL": "https://ci:pw@pypi.example/simple", "N": "1"},
        "install_env": {"TOKEN": "s3cret"},
        "constraints": ["--constraint https://ci:pw@git.example/upper.txt"],
        "repo_url": "https://deploy:t0ken@build01:8443",
        "keep_versions": 3,
    }},
}


def test_venv_configs_hide_secrets(pillar):
    pillar["venvbuild"] = copy.deepcopy(SECRET_VENVS)
    assert venvbuild_mod.venv_configs() == {"keystone": {
        "path": "/opt/venvs/keystone",
        "packages": ["keystone==26.0.0"],
        "build_env": {"PIP_INDEX_URL": "****", "N": "****"},
        "install_env": {"TOKEN": "****"},
        "constraints": ["--constraint https://****@git.example/upper.txt"],
        "repo_url": "https://****@build01:8443",
        "repo_path": "/srv/wheels",
        "keep_versions": 3,
    }}


@pytest.mark.parametrize("pillar", ["plain", "masked"], indirect=True)
def test_venv_configs_show_secrets(pillar):
    pillar["venvbuild"] = copy.deepcopy(SECRET_VENVS)
    if MaskedDict is not None and isinstance(pillar, MaskedDict):
        assert "s3cret" not in repr(pillar)  # what Salt 3008 hands the module
    configs = venvbuild_mod.venv_configs(show_secrets=True)
    expected = dict(SECRET_VENVS["venvs"]["keystone"], repo_path="/srv/wheels")
    assert configs == {"keystone": expected}
    assert_plain(configs)
    assert "s3cret" in repr(configs)  # plain values, not Salt 3008's masked repr


def test_venv_configs_build_only(pillar):
    pillar["venvbuild"] = copy.deepcopy(SECRET_VENVS)
    pillar["venvbuild"]["builder"] = {"target": "build0*"}
    pillar["venvbuild"]["venvs"]["keystone"].update(install_args=["--compile"], wheels_rebuild=True)
    configs = venvbuild_mod.venv_configs(build_only=True)
    assert configs == {"keystone": {
        "packages": ["keystone==26.0.0"],
        "build_env": {"PIP_INDEX_URL": "****", "N": "****"},
        "constraints": ["--constraint https://****@git.example/upper.txt"],
        "repo_path": "/srv/wheels",
        "wheels_rebuild": True,
    }}
    assert set(configs["keystone"]) <= set(core_options.BUILD_OPTIONS)
    shown = venvbuild_mod.venv_configs(build_only=True, show_secrets=True)
    assert shown["keystone"]["build_env"] == {"PIP_INDEX_URL": "https://ci:pw@pypi.example/simple",
                                               "N": "1"}


# -- repo_info ----------------------------------------------------------------------


def publish_manifest(root, platform=PLATFORM, venv_id="keystone", spec=SPEC, release=None):
    pins = [Pin("foo", "1.0", "foo-1.0-py3-none-any.whl", "a" * 64, 10)]
    manifest = Manifest.create(venv_id, spec, platform, ["foo"], pins)
    RepoLayout(str(root), platform, release=release).publish_manifest(manifest)
    return manifest


@pytest.mark.parametrize("pillar", ["plain", "masked"], indirect=True)
def test_repo_info(pillar, tmp_path, salt_mocks):
    root = tmp_path / "repo"
    other = publish_manifest(root, OTHER_PLATFORM)
    released = publish_manifest(root, OTHER_PLATFORM, "nova", "fedcba9876543210", release="2024.1")
    pillar["venvbuild"] = {
        "repo": {"path": str(root), "url": "http://build01:8181"},
        "venvs": {"keystone": {"path": "/opt/venvs/keystone", "packages": ["keystone"]}},
    }
    info = venvbuild_mod.repo_info()
    assert info == {
        "url": "http://build01:8181",
        "path": str(root),
        # published ones and those the pillar's venvs are built for
        "platforms": [PLATFORM, OTHER_PLATFORM],
        "published": [OTHER_PLATFORM],
        "manifests": {
            f"{OTHER_PLATFORM}/keystone-{SPEC}": other.sha256,
            f"2024.1/{OTHER_PLATFORM}/nova-fedcba9876543210": released.sha256,
        },
    }
    assert_plain(info)
    salt_mocks["pillar.get"].assert_not_called()


def test_repo_info_configured_platforms_use_each_venvs_python(pillar, tmp_path, interp):
    pillar["venvbuild"] = {
        "repo": {"path": str(tmp_path / "repo")},
        "defaults": {"python": "python3.11"},
        "venvs": {"a": {"path": "/opt/venvs/a"}, "b": {"path": "/opt/venvs/b", "python": "python3.12"}},
    }
    venvbuild_mod.repo_info()
    assert sorted(c.args[0] for c in interp.call_args_list) == ["python3.11", "python3.12"]


@pytest.mark.parametrize("url, published", [
    ("https://deploy:t0ken@build01:8443/repo", "https://build01:8443/repo"),
    ("http://user@build01:8181", "http://build01:8181"),
    ("http://build01:8181/a@b", "http://build01:8181/a@b"),
    ("http://build01:8181", "http://build01:8181"),
])
def test_repo_info_publishes_no_url_credentials(pillar, tmp_path, caplog, url, published):
    pillar["venvbuild"] = {"repo": {"path": str(tmp_path / "repo"), "url": url}}
    with caplog.at_level(logging.WARNING, logger=venvbuild_mod.log.name):
        info = venvbuild_mod.repo_info()
    assert info["url"] == published
    warned = [r for r in caplog.records if "credentials" in r.getMessage()]
    assert bool(warned) == (url != published)
    assert all("t0ken" not in r.getMessage() for r in caplog.records)


def test_repo_info_without_pillar(monkeypatch):
    listed = []
    monkeypatch.setattr(venvbuild_mod, "list_platforms", lambda path: listed.append(path) or [])
    monkeypatch.setattr(venvbuild_mod, "published_manifests", lambda path: listed.append(path) or {})
    assert venvbuild_mod.repo_info() == {"url": None, "path": "/srv/venvbuild", "platforms": [],
                                         "published": [], "manifests": {}}
    assert listed == ["/srv/venvbuild", "/srv/venvbuild"]


def test_repo_info_logs_a_venv_whose_python_is_missing(pillar, tmp_path, interp, caplog):
    def resolve(python):
        if python == "python9":
            raise InterpreterError("python 'python9': not found on the minion's PATH")
        return INTERP

    interp.side_effect = resolve
    pillar["venvbuild"] = {"repo": {"path": str(tmp_path / "repo")}, "venvs": {
        "a": {"path": "/opt/venvs/a", "python": "python9"},
        "b": {"path": "/opt/venvs/b"}}}
    with caplog.at_level(logging.WARNING, logger=venvbuild_mod.log.name):
        info = venvbuild_mod.repo_info()
    assert info["platforms"] == [PLATFORM]
    assert any("venv a" in r.getMessage() and "python9" in r.getMessage() for r in caplog.records)


def test_repo_info_refuses_unknown_pillar_keys(pillar):
    pillar["venvbuild"] = {"repo": {"url": "http://b", "ur1": "x"}}
    with pytest.raises(SaltInvocationError, match=r"pillar venvbuild:repo: unknown key 'ur1'; did you mean 'url'\?"):
        venvbuild_mod.repo_info()


# -- build_spec (what a peer may ask) -----------------------------------------------


@pytest.fixture
def builder_pillar(pillar, tmp_path):
    pillar["venvbuild"] = {
        "repo": {"path": str(tmp_path / "repo"), "url": "http://t1:8181"},
        "defaults": {"install_args": ["--compile"], "keep_versions": 5},
        "venvs": {"keystone": {
            "path": "/opt/venvs/keystone",
            "packages": ["keystone==26.0.0"],
            # a peer must not be able to trigger any of these through the pillar either
            "wheels_rebuild": True, "rebuild": True, "package_state": "latest",
            "repo_url": "http://elsewhere:8181", "builder": "b9", "request_build": True,
        }},
    }
    return pillar


@pytest.fixture
def workflow_spy(monkeypatch):
    """Record the options build_spec builds with; the build itself is a mock."""
    real = venvbuild_mod._workflow
    seen = []

    def spy(venv_id, opts):
        seen.append(opts)
        return real(venv_id, opts)

    monkeypatch.setattr(venvbuild_mod, "_workflow", spy)
    build = mock.Mock(return_value=({"manifest_sha256": "c" * 64, "comment": "built 3 wheels"}, None))
    monkeypatch.setattr(workflow_mod.Workflow, "build", build)
    return seen, build


def test_build_spec_builds_a_spec_of_its_own_pillar(builder_pillar, workflow_spy, tmp_path):
    seen, build = workflow_spy
    wanted = spec_id(packages=["keystone==26.0.0"])
    assert venvbuild_mod.build_spec("keystone", wanted) == {
        "venv_id": "keystone", "spec_id": wanted, "result": True,
        "manifest_sha256": "c" * 64, "comment": "built 3 wheels",
    }
    build.assert_called_once_with(test=False)
    (opts,) = seen
    # Forced, whatever the pillar says: a peer asks for a spec to exist, nothing more.
    assert (opts["rebuild"], opts["wheels_rebuild"], opts["package_state"]) == (False, False, "present")
    # Only build options of the pillar are used; the others take their defaults.
    assert opts["repo_path"] == str(tmp_path / "repo")
    assert opts["install_args"] == ()
    assert opts["keep_versions"] == 2
    assert (opts["repo_url"], opts["builder"], opts["request_build"]) == (None, None, False)


def test_build_spec_refuses_another_spec_id(builder_pillar, workflow_spy):
    _seen, build = workflow_spy
    other = "fedcba9876543210"
    mine = spec_id(packages=["keystone==26.0.0"])
    assert venvbuild_mod.build_spec("keystone", other) == {
        "venv_id": "keystone", "spec_id": other, "result": False,
        "comment": (f"builder t1's pillar defines spec {mine} of venv keystone for platform "
                    f"{PLATFORM}, not {other}; refusing"),
    }
    build.assert_not_called()


def test_build_spec_refuses_a_venv_not_in_its_pillar(builder_pillar, workflow_spy, interp):
    seen, build = workflow_spy
    assert venvbuild_mod.build_spec("nova", SPEC) == {
        "venv_id": "nova", "spec_id": SPEC, "result": False,
        "comment": "venv nova is not in builder t1's pillar",
    }
    assert seen == []
    build.assert_not_called()
    interp.assert_not_called()


def test_build_spec_without_pillar(workflow_spy):
    assert venvbuild_mod.build_spec("keystone", SPEC)["result"] is False


def test_build_spec_failure_keeps_the_log_on_the_builder(builder_pillar, workflow_spy):
    _seen, build = workflow_spy
    build.side_effect = BuildError("pip wheel failed:\nCollecting x from https://u:secret@idx\n")
    wanted = spec_id(packages=["keystone==26.0.0"])
    answer = venvbuild_mod.build_spec("keystone", wanted)
    assert answer == {
        "venv_id": "keystone", "spec_id": wanted, "result": False,
        "comment": (f"the build of spec {wanted} failed on builder t1; its log is there "
                    "(salt-call venvbuild.build_wheels shows the cause)"),
    }
    assert "secret" not in repr(answer) and "Collecting" not in repr(answer)


@pytest.mark.parametrize("venv_id, spec, message", [
    ("../keystone", SPEC, "venv id '../keystone'"),
    ("keystone", "0123", "spec id '0123'"),
    ("keystone", SPEC.upper(), "spec id"),
    (None, SPEC, "venv id None"),
])
def test_build_spec_checks_its_arguments(builder_pillar, workflow_spy, venv_id, spec, message):
    seen, build = workflow_spy
    with pytest.raises(SaltInvocationError) as info:
        venvbuild_mod.build_spec(venv_id, spec)
    assert message in str(info.value)
    assert seen == []
    build.assert_not_called()


def test_build_spec_with_a_bad_pillar_option(builder_pillar, workflow_spy):
    builder_pillar["venvbuild"]["venvs"]["keystone"]["packages"] = "keystone"
    with pytest.raises(SaltInvocationError, match="packages must be a list"):
        venvbuild_mod.build_spec("keystone", SPEC)
    workflow_spy[1].assert_not_called()


# -- peer requests and the mine -----------------------------------------------------


PLATFORM_KEY = "debian-12-x86_64-cp311"


def test_request_build_asks_the_masters_runner_with_only_the_ids(salt_mocks):
    answer = {"result": True, "venv_id": "keystone", "spec_id": SPEC, "builder": "b2"}
    salt_mocks["publish.runner"].return_value = answer
    assert venvbuild_mod._request_build("b1", "keystone", SPEC, PLATFORM_KEY, 300.0) == answer
    salt_mocks["publish.runner"].assert_called_once_with(
        "venvbuild.request", arg=["keystone", SPEC, PLATFORM_KEY], timeout=30)
    salt_mocks["publish.publish"].assert_not_called()


def test_request_build_falls_back_to_the_builders_peer_function(salt_mocks):
    answer = {"result": True, "venv_id": "keystone", "spec_id": SPEC}
    salt_mocks["publish.runner"].return_value = "'venvbuild.request' is not available."
    salt_mocks["publish.publish"].return_value = {"b1": answer}
    assert venvbuild_mod._request_build("b1", "keystone", SPEC, PLATFORM_KEY, 300.0) == answer
    salt_mocks["publish.publish"].assert_called_once_with(
        "b1", "venvbuild.build_spec", arg=["keystone", SPEC], timeout=300)


@pytest.mark.parametrize("wait_timeout, timeout", [(0, 1), (0.5, 1), (42.9, 42)])
def test_request_build_timeout_is_a_whole_second_at_least(salt_mocks, wait_timeout, timeout):
    venvbuild_mod._request_build("b1", "keystone", SPEC, PLATFORM_KEY, wait_timeout)
    assert salt_mocks["publish.publish"].call_args.kwargs["timeout"] == timeout


@pytest.mark.parametrize("answer", [{}, None, {"b1": "'venvbuild.build_spec' is not available."},
                                    {"b2": {"result": True}}])
def test_request_build_without_an_answer_warns(salt_mocks, caplog, answer):
    salt_mocks["publish.publish"].return_value = answer
    with caplog.at_level(logging.WARNING, logger=venvbuild_mod.log.name):
        result = venvbuild_mod._request_build("b1", "keystone", SPEC, PLATFORM_KEY, 5)
    assert result == (answer or {}).get("b1")
    assert any("peer_run rule" in r.getMessage() for r in caplog.records)


def test_mine_update_publishes_repo_info(salt_mocks, config):
    config["mine_functions"] = copy.deepcopy(MINE_FUNCTIONS)
    venvbuild_mod._mine_update()
    salt_mocks["mine.update"].assert_called_once_with(mine_functions=MINE_FUNCTIONS)
    salt_mocks["config.get"].assert_called_once_with("mine_functions", {})


def test_mine_update_passes_a_fresh_dict_each_time(salt_mocks, config):
    config["mine_functions"] = {"venvbuild_repo": "whatever the minion config says", "x": {}}
    seen = []

    def update(mine_functions):
        seen.append(copy.deepcopy(mine_functions))
        mine_functions["venvbuild_repo"].pop("mine_function")  # as mine.update does

    salt_mocks["mine.update"].side_effect = update
    venvbuild_mod._mine_update()
    venvbuild_mod._mine_update()
    assert seen == [MINE_FUNCTIONS, MINE_FUNCTIONS]


@pytest.mark.parametrize("opts_update", [{"file_client": "local"}, {"local": True}])
def test_mine_update_needs_a_master(salt_mocks, config, minion_opts, opts_update):
    config["mine_functions"] = copy.deepcopy(MINE_FUNCTIONS)
    minion_opts.update(opts_update)
    venvbuild_mod._mine_update()
    salt_mocks["mine.update"].assert_not_called()


@pytest.mark.parametrize("configured", [None, {}, {"network.ip_addrs": {}}])
def test_mine_update_needs_the_alias_configured(salt_mocks, config, configured):
    config["mine_functions"] = configured
    venvbuild_mod._mine_update()
    salt_mocks["mine.update"].assert_not_called()


@pytest.mark.parametrize("sock_files, file_client, available", [
    ([], "remote", True),
    (["minion_event_3c2e_pub.ipc"], "local", True),
    (["minion_event_3c2e_pull.ipc", "master_event_pub.ipc"], "local", False),
    ([], "local", False),
])
def test_event_bus_available(minion_opts, tmp_path, sock_files, file_client, available):
    minion_opts["file_client"] = file_client
    (tmp_path / "sock").mkdir()
    for name in sock_files:
        (tmp_path / "sock" / name).touch()
    assert venvbuild_mod._event_bus_available() is available


def test_event_bus_without_a_sock_dir(minion_opts):
    minion_opts.update(file_client="local", sock_dir=None)
    assert venvbuild_mod._event_bus_available() is False


@pytest.mark.parametrize("opts_update, facts_dir", [
    ({"conf_file": "/etc/salt/minion"}, "/etc/salt/facts.d"),
    ({"conf_file": None, "config_dir": "/usr/local/etc/salt"}, "/usr/local/etc/salt/facts.d"),
    ({"conf_file": None}, "/etc/salt/facts.d"),
])
def test_facts_dir_is_beside_the_minion_config(minion_opts, opts_update, facts_dir):
    minion_opts.update(opts_update)
    assert venvbuild_mod._facts_dir() == facts_dir


# -- the hooks the workflow reaches Salt through ------------------------------------


def hooks(**kwargs):
    return venvbuild_mod._hooks(venvbuild_mod._options(kwargs))


def test_hooks_minion_id_and_mine():
    assert hooks().minion_id == "t1"
    assert hooks().mine_update is venvbuild_mod._mine_update


def test_hook_mine_get(salt_mocks):
    salt_mocks["mine.get"].return_value = {"b1": {"url": "http://b1"}}
    assert hooks().mine_get("G@role:builder", "compound") == {"b1": {"url": "http://b1"}}
    salt_mocks["mine.get"].assert_called_once_with("G@role:builder", "venvbuild_repo",
                                                    tgt_type="compound")


def test_hook_request_build_uses_wait_timeout(salt_mocks):
    hooks(wait_timeout=7).request_build("b1", "keystone", SPEC, PLATFORM_KEY)
    salt_mocks["publish.publish"].assert_called_once_with(
        "b1", "venvbuild.build_spec", arg=["keystone", SPEC], timeout=7)


def test_hook_ensure_pkgs_uses_the_grains(salt_mocks, grains):
    hooks().ensure_pkgs(["gcc"], "present", 600, "venv keystone: build_pkgs")
    salt_mocks["pkg.refresh_db"].assert_called_once_with(cache_valid_time=600)
    salt_mocks["pkg.install"].assert_called_once_with(pkgs=["gcc"], refresh=False)
    grains["os_family"] = "RedHat"
    salt_mocks["pkg.refresh_db"].reset_mock()
    hooks().ensure_pkgs(["gcc"], "present", 600, "venv keystone: build_pkgs")
    salt_mocks["pkg.refresh_db"].assert_not_called()


def test_hooks_os_family_and_installed_pkgs(salt_mocks, grains):
    assert hooks().os_family == "Debian"
    salt_mocks["pkg.list_pkgs"].return_value = {"gcc": "4:12.2.0-3"}
    assert hooks().installed_pkgs() == {"gcc"}
    grains["os_family"] = "RedHat"
    assert hooks().os_family == "RedHat"
    del grains["os_family"]
    assert hooks().os_family == ""


def test_hook_ensure_pkgs_retries_as_the_options_say(salt_mocks):
    lock = CommandExecutionError("E: Could not get lock /var/lib/dpkg/lock-frontend")
    salt_mocks["pkg.install"].side_effect = [lock, lock, {"gcc": {}}]
    assert hooks(retries=2, retry_delay=0).ensure_pkgs(["gcc"], "present", 600, "build_pkgs") == {
        "gcc": {}}
    salt_mocks["pkg.install"].side_effect = [lock, lock, {"gcc": {}}]
    with pytest.raises(CommandExecutionError, match="failed 2 times"):
        hooks(retries=1, retry_delay=0).ensure_pkgs(["gcc"], "present", 600, "build_pkgs")


def test_hook_symlink_sources(salt_mocks):
    salt_mocks["pkg.file_list"].return_value = {
        "errors": [], "files": ["/usr/lib/python3/dist-packages/yaml/__init__.py"]}
    assert hooks().symlink_sources(["python3-yaml"], INTERP) == ["/usr/lib/python3/dist-packages/yaml"]
    salt_mocks["pkg.file_list"].assert_called_once_with("python3-yaml")


FACTS = [{"section": "keystone", "option": "version", "value": "26.0.0"}]


def test_hook_announce(salt_mocks, tmp_path):
    data = {"path": "/opt/venvs/keystone", "old": None, "new": SPEC}
    done = hooks(facts_dest="openstack", facts_when_changed=FACTS).announce("keystone", data)
    facts_file = tmp_path / "etc" / "salt" / "facts.d" / "openstack.fact"
    assert done == {"file": str(facts_file), "grains": ["openstack:keystone:version"],
                    "event": "venvbuild/venv/keystone/changed"}
    assert facts_file.read_text() == "[keystone]\nversion = 26.0.0\n\n"
    salt_mocks["grains.set"].assert_called_once_with("openstack:keystone:version", "26.0.0", force=True)
    salt_mocks["event.send"].assert_called_once_with("venvbuild/venv/keystone/changed", data)


def test_hook_announce_masterless_without_a_daemon_sends_no_event(salt_mocks, minion_opts):
    minion_opts["file_client"] = "local"
    done = hooks().announce("keystone", {})
    assert done == {"event": None}
    salt_mocks["event.send"].assert_not_called()


# -- install: where the wheels come from --------------------------------------------


@pytest.fixture
def venv_path(tmp_path):
    return str(tmp_path / "venvs" / "keystone")


@pytest.fixture
def fetch(monkeypatch):
    """The manifest fetch of a remote repo: not built yet (no network)."""
    fetch = mock.Mock(return_value=None)
    monkeypatch.setattr(remote, "fetch_manifest", fetch)
    return fetch


def builders(*entries):
    return {builder_id: {"url": f"http://{builder_id}:8181", "platforms": platforms,
                         "published": platforms, "manifests": {}}
            for builder_id, platforms in entries}


def test_install_test_mode_local_build_is_predicted(venv_path, tmp_path, salt_mocks):
    result = venvbuild_mod.install(venv_path, test=True, packages=["keystone==26.0.0"],
                                   repo_path=str(tmp_path / "repo"))
    wanted = spec_id(packages=["keystone==26.0.0"])
    assert result["name"] == venv_path
    assert result["venv_id"] == "keystone"  # the basename of name
    assert result["spec_id"] == wanted
    assert result["platform"] == PLATFORM
    assert result["changes"]
    assert result["comment"].startswith(f"wheels for spec {wanted} would be built locally")
    assert "warnings" not in result
    assert not os.path.lexists(venv_path)
    assert not os.path.exists(tmp_path / "repo")
    for name in ("mine.get", "publish.publish", "pkg.install", "pkg.refresh_db", "event.send"):
        salt_mocks[name].assert_not_called()


def test_install_venv_id_argument(venv_path, tmp_path):
    result = venvbuild_mod.install(venv_path, venv_id="ks", test=True, packages=["keystone"],
                                   repo_path=str(tmp_path / "repo"))
    assert (result["venv_id"], result["spec_id"]) == ("ks", spec_id("ks", packages=["keystone"]))


def test_install_refuses_a_relative_path():
    with pytest.raises(SaltInvocationError, match="must be absolute"):
        venvbuild_mod.install("venvs/keystone", packages=["keystone"], test=True)


def test_install_from_repo_url_needs_no_mine(venv_path, salt_mocks, fetch):
    result = venvbuild_mod.install(venv_path, test=True, packages=["keystone"],
                                   repo_url="http://r:8181")
    salt_mocks["mine.get"].assert_not_called()
    url = fetch.call_args.args[1]
    assert url.startswith(f"http://r:8181/{PLATFORM}/manifests/keystone-")
    assert "the manifest is not on repo_url yet" in result["comment"]
    # Nothing vouches for a plain-HTTP repo_url: the result says so.
    assert any("plain HTTP" in w for w in result["warnings"])


def test_install_builder_id_is_looked_up_in_the_mine_as_a_list(venv_path, salt_mocks, fetch):
    salt_mocks["mine.get"].return_value = builders(("b1", [PLATFORM]))
    result = venvbuild_mod.install(venv_path, test=True, packages=["keystone"], builder="b1")
    salt_mocks["mine.get"].assert_called_once_with("b1", "venvbuild_repo", tgt_type="list")
    assert fetch.call_args.args[1].startswith(f"http://b1:8181/{PLATFORM}/")
    assert "builder b1" in result["comment"]
    assert "warnings" not in result


def test_install_builder_target_with_its_type(venv_path, salt_mocks, fetch):
    salt_mocks["mine.get"].return_value = builders(("b1", [OTHER_PLATFORM]), ("b2", [PLATFORM]))
    result = venvbuild_mod.install(venv_path, test=True, packages=["keystone"],
                                   builder_target="roles:venvbuild-builder", builder_tgt_type="grain")
    salt_mocks["mine.get"].assert_called_once_with("roles:venvbuild-builder", "venvbuild_repo",
                                                   tgt_type="grain")
    assert fetch.call_args.args[1].startswith("http://b2:8181/")
    # A grain is the minion's own claim: the result warns.
    assert len(result["warnings"]) == 1
    assert "grain target 'roles:venvbuild-builder'" in result["warnings"][0]


@pytest.mark.parametrize("target, tgt_type, expected_target, expected_type", [
    ("build0*", None, "build0*", "glob"),
    (["b1", "b2"], "list", "b1,b2", "list"),
    ("N@builders", "nodegroup", "N@builders", "nodegroup"),
])
def test_install_builder_target_mine_lookup(venv_path, salt_mocks, fetch, target, tgt_type,
                                            expected_target, expected_type):
    salt_mocks["mine.get"].return_value = builders(("b1", [PLATFORM]))
    kwargs = {"builder_tgt_type": tgt_type} if tgt_type else {}
    result = venvbuild_mod.install(venv_path, test=True, packages=["keystone"],
                                   builder_target=target, **kwargs)
    salt_mocks["mine.get"].assert_called_once_with(expected_target, "venvbuild_repo",
                                                   tgt_type=expected_type)
    assert "warnings" not in result


def test_install_no_builder_for_the_platform_is_an_error_by_default(venv_path, salt_mocks):
    # Changed on purpose: with builders configured, no silent local build.
    salt_mocks["mine.get"].return_value = builders(("b1", [OTHER_PLATFORM]))
    with pytest.raises(SaltInvocationError) as info:
        venvbuild_mod.install(venv_path, packages=["keystone"], builder_target="build0*")
    message = str(info.value)
    assert f"no builder serves platform {PLATFORM}" in message
    assert "b1" in message
    assert "build_fallback: true" in message
    assert "mine.update" in message
    salt_mocks["publish.publish"].assert_not_called()
    assert not os.path.lexists(venv_path)


def test_install_no_builder_in_the_mine_at_all(venv_path, salt_mocks):
    salt_mocks["mine.get"].return_value = None
    with pytest.raises(SaltInvocationError, match=r"\(mine venvbuild_repo of list 'b1': none\)"):
        venvbuild_mod.install(venv_path, packages=["keystone"], builder="b1")


def test_install_no_builder_without_wheel_build_is_a_clear_error(venv_path, salt_mocks):
    salt_mocks["mine.get"].return_value = builders(("b1", [OTHER_PLATFORM]))
    with pytest.raises(SaltInvocationError) as info:
        venvbuild_mod.install(venv_path, packages=["keystone"], builder_target="roles:x",
                              builder_tgt_type="grain", wheel_build=False, build_fallback=True)
    message = str(info.value)
    assert f"no builder serves platform {PLATFORM}" in message
    assert "b1" in message and "wheel_build is false" in message
    assert "venvbuild.builder" in message


def test_install_no_builder_with_compound_target_names_the_fix(venv_path, salt_mocks):
    with pytest.raises(SaltInvocationError) as info:
        venvbuild_mod.install(venv_path, packages=["keystone"], builder_target="L@b1,b2",
                              builder_tgt_type="compound")
    assert "salt -C 'L@b1,b2' state.apply venvbuild.builder" in str(info.value)


def test_install_build_fallback_builds_locally_with_warnings(venv_path, tmp_path, salt_mocks):
    salt_mocks["mine.get"].return_value = builders(("b1", [OTHER_PLATFORM]))
    result = venvbuild_mod.install(venv_path, test=True, packages=["keystone"],
                                   builder_target="roles:builder", builder_tgt_type="grain",
                                   build_fallback=True, repo_path=str(tmp_path / "repo"))
    salt_mocks["mine.get"].assert_called_once_with("roles:builder", "venvbuild_repo", tgt_type="grain")
    assert result["changes"]
    assert "would be built locally" in result["comment"]
    assert len(result["warnings"]) == 2
    assert "grain target 'roles:builder'" in result["warnings"][0]
    assert result["warnings"][1] == (
        f"no builder serves platform {PLATFORM} (mine venvbuild_repo of grain 'roles:builder': "
        "b1): the wheels were built on this minion (build_fallback)")


def test_install_without_wheel_build_or_any_source_is_an_error(venv_path, tmp_path, salt_mocks):
    with pytest.raises(SaltInvocationError) as info:
        venvbuild_mod.install(venv_path, packages=["keystone"], wheel_build=False,
                              repo_path=str(tmp_path / "repo"))
    assert "wheel_build is false and neither builder, builder_target nor repo_url is set" in str(info.value)
    salt_mocks["mine.get"].assert_not_called()
    assert not os.path.lexists(venv_path)


def test_install_request_build_asks_the_master_with_the_ids_only(venv_path, salt_mocks, monkeypatch):
    salt_mocks["mine.get"].return_value = builders(("b1", [PLATFORM]))
    salt_mocks["publish.runner"].return_value = {"result": True}
    wait = mock.Mock(side_effect=RepoError("manifest not found within the wait"))
    monkeypatch.setattr(remote, "wait_for_manifest", wait)
    with pytest.raises(CommandExecutionError, match="not found within the wait"):
        venvbuild_mod.install(venv_path, packages=["keystone==26.0.0"], builder="b1",
                              request_build=True, wait_timeout=42, install_args=["--compile"],
                              build_env={"PIP_INDEX_URL": "https://u:s3cret@mirror/simple"})
    salt_mocks["publish.runner"].assert_called_once_with(
        "venvbuild.request", arg=["keystone", spec_id(packages=["keystone==26.0.0"]), PLATFORM],
        timeout=30)
    salt_mocks["publish.publish"].assert_not_called()
    wait.assert_called_once()


def test_install_request_build_not_when_the_builder_publishes_the_spec(venv_path, salt_mocks,
                                                                       monkeypatch):
    wanted = spec_id(packages=["keystone"])
    entry = builders(("b1", [PLATFORM]))
    entry["b1"]["manifests"] = {f"{PLATFORM}/keystone-{wanted}": SHA}
    salt_mocks["mine.get"].return_value = entry
    monkeypatch.setattr(remote, "wait_for_manifest",
                        mock.Mock(side_effect=RepoError("manifest not found within the wait")))
    with pytest.raises(CommandExecutionError):
        venvbuild_mod.install(venv_path, packages=["keystone"], builder="b1", request_build=True)
    salt_mocks["publish.publish"].assert_not_called()
    salt_mocks["publish.runner"].assert_not_called()


def test_install_without_request_build_never_publishes(venv_path, salt_mocks, monkeypatch):
    salt_mocks["mine.get"].return_value = builders(("b1", [PLATFORM]))
    monkeypatch.setattr(remote, "wait_for_manifest",
                        mock.Mock(side_effect=RepoError("manifest not found within the wait")))
    with pytest.raises(CommandExecutionError):
        venvbuild_mod.install(venv_path, packages=["keystone"], builder="b1")
    salt_mocks["publish.publish"].assert_not_called()


def test_build_wheels_test_mode_predicts_the_build(tmp_path, salt_mocks):
    wanted = spec_id(packages=["keystone==26.0.0"])
    result = venvbuild_mod.build_wheels("keystone", test=True, packages=["keystone==26.0.0"],
                                        repo_path=str(tmp_path / "repo"))
    assert result["spec_id"] == wanted
    assert result["changes"] == {
        "manifest": {"old": None, "new": f"keystone-{wanted}.txt"},
        "requirements": ["keystone==26.0.0"],
    }
    assert result["manifest_path"] == str(tmp_path / "repo" / PLATFORM / "manifests"
                                          / f"keystone-{wanted}.txt")
    assert not os.path.exists(tmp_path / "repo")
    salt_mocks["mine.update"].assert_not_called()
    salt_mocks["pkg.install"].assert_not_called()


# -- remove, status, list_venvs, verify ---------------------------------------------


def make_venv(parent, name="keystone", spec=SPEC):
    """A venv as the installer leaves it: a link to a versioned directory with a stamp."""
    entry = f"{spec}-20240101T000000Z"
    live = parent / f".{name}.versions" / entry
    (live / "bin").mkdir(parents=True)
    (parent / name).symlink_to(f".{name}.versions/{entry}")
    stamp = Stamp(venv_id=name, spec_id=spec, manifest_sha256=SHA,
                  python={"executable": INTERP.executable, "version": INTERP.version, "tag": "cp311"},
                  requirements=[name], versions={name: "1.0"}, seeded={}, install_tool="pip",
                  source="local repo /srv/venvbuild", created="2024-01-01T00:00:00Z")
    write_stamp(str(live), stamp)
    return str(parent / name), str(live), stamp


def test_remove_test_mode_removes_nothing(tmp_path):
    path, live, _stamp = make_venv(tmp_path / "venvs")
    versions = str(tmp_path / "venvs" / ".keystone.versions")
    assert venvbuild_mod.remove(path, test=True) == {"removed": [path, live, versions], "kept": []}
    assert os.path.islink(path) and os.path.isdir(live)


def test_remove(tmp_path, state_dir):
    path, live, _stamp = make_venv(tmp_path / "venvs")
    versions = str(tmp_path / "venvs" / ".keystone.versions")
    venvbuild_mod._ensure_state_dir()
    registry.register(state_dir, path, "keystone")
    registry.register(state_dir, "/opt/venvs/nova", "nova")
    assert venvbuild_mod.remove(path) == {"removed": [path, live, versions], "kept": []}
    assert not os.path.lexists(path) and not os.path.lexists(versions)
    assert registry.read(state_dir) == {"/opt/venvs/nova": "nova"}


def test_remove_test_mode_predicts_the_real_run(tmp_path):
    path, _live, _stamp = make_venv(tmp_path / "venvs")
    assert venvbuild_mod.remove(path, test=True) == venvbuild_mod.remove(path)


def test_rollback_by_venv_id_finds_the_paths_in_the_registry(tmp_path, state_dir):
    path, _live, _stamp = make_venv(tmp_path / "venvs")
    venvbuild_mod._ensure_state_dir()
    with pytest.raises(SaltInvocationError, match="no venv with id .keystone. is installed"):
        venvbuild_mod.rollback("keystone")
    registry.register(state_dir, path, "keystone")
    # Found by id; it has no kept version to go back to.
    with pytest.raises(CommandExecutionError, match=f"venv {path}: no kept version to roll back"):
        venvbuild_mod.rollback("keystone", test=True)
    with pytest.raises(SaltInvocationError, match="letters, digits"):
        venvbuild_mod.rollback("../keystone")


@pytest.mark.parametrize("test", [True, False])
def test_remove_of_an_absent_venv(tmp_path, test):
    assert venvbuild_mod.remove(str(tmp_path / "venvs" / "keystone"), test=test) == {
        "removed": [], "kept": []}


@pytest.mark.parametrize("test", [True, False])
def test_remove_refuses_what_venvbuild_did_not_install(tmp_path, test):
    path = tmp_path / "venvs" / "keystone"
    path.mkdir(parents=True)
    (path / "data").write_text("keep me")
    with pytest.raises(CommandExecutionError) as info:
        venvbuild_mod.remove(str(path), test=test)
    assert not isinstance(info.value, SaltInvocationError)
    assert "refusing to remove it" in str(info.value)
    assert (path / "data").read_text() == "keep me"


@pytest.mark.parametrize("name", ["venvs/keystone", "/etc/keystone", "/"])
def test_remove_refuses_a_path_it_may_not_manage(name):
    with pytest.raises(SaltInvocationError):
        venvbuild_mod.remove(name, test=True)


def test_status(tmp_path):
    path, live, stamp = make_venv(tmp_path / "venvs")
    assert venvbuild_mod.status(path) == dict(stamp.as_dict(), path=path, venv_dir=live,
                                              versions_kept=[live])


def test_status_of_no_venv(tmp_path):
    assert venvbuild_mod.status(str(tmp_path / "venvs" / "keystone")) is None
    (tmp_path / "plain").mkdir()
    assert venvbuild_mod.status(str(tmp_path / "plain")) is None


def test_status_refuses_a_relative_path():
    with pytest.raises(SaltInvocationError, match="must be absolute"):
        venvbuild_mod.status("venvs/keystone")


def test_list_venvs(tmp_path, state_dir):
    path, _live, _stamp = make_venv(tmp_path / "venvs")
    gone = str(tmp_path / "venvs" / "nova")
    venvbuild_mod._ensure_state_dir()
    registry.register(state_dir, path, "keystone")
    registry.register(state_dir, gone, "nova")
    registry.register(state_dir, "relative/old", "old")  # refused by status: listed, not installed
    assert venvbuild_mod.list_venvs() == {
        path: {"venv_id": "keystone", "spec_id": SPEC, "installed": True},
        gone: {"venv_id": "nova", "spec_id": None, "installed": False},
        "relative/old": {"venv_id": "old", "spec_id": None, "installed": False},
    }


def test_list_venvs_without_a_registry():
    assert venvbuild_mod.list_venvs() == {}


def test_verify_without_a_venv(tmp_path):
    path = str(tmp_path / "venvs" / "keystone")
    assert venvbuild_mod.verify(path) == {"ok": False, "problems": [f"{path}: no venv there"]}


def test_verify_reports_problems(tmp_path):
    path, live, _stamp = make_venv(tmp_path / "venvs")
    result = venvbuild_mod.verify(path, deep=True)
    assert result["ok"] is False
    assert any("venvbuild-lock.txt" in p for p in result["problems"])
    assert any(p.startswith(f"{path}/bin/python") for p in result["problems"])
    assert "keystone==1.0: not installed" in result["problems"]
    assert os.path.isdir(live)


# -- prune_repo and the kept versions fleet_info publishes --------------------------


def _published(root, spec, age):
    layout = RepoLayout(root, PLATFORM)
    built = layout.staging("t")
    with open(os.path.join(built, f"app-{spec[-1]}-py3-none-any.whl"), "wb") as handle:
        handle.write(spec.encode())
    pins, _new = layout.publish_wheels(built)
    layout.remove_staging(built)
    layout.publish_manifest(Manifest.create("app", spec, PLATFORM, ["app"], pins))
    when = time.time() - age
    os.utime(layout.manifest_path("app", spec), (when, when))
    for pin in pins:
        os.utime(layout.wheel_path(pin), (when, when))
        os.utime(os.path.dirname(layout.wheel_path(pin)), (when, when))
    return layout


@pytest.mark.parametrize("kwargs, match", [
    ({"in_use": "debian-12-x86_64-cp311/app-0123456789abcdef"}, "in_use: must be a list"),
    ({"in_use": ["../../etc/app-0123456789abcdef"]}, "is not a"),
    ({"keep": 0}, "keep 0: must be an integer of at least 1"),
    ({"min_age": -5}, "min_age -5"),
    ({"repo_path": "relative/repo"}, "repo_path"),
])
def test_prune_repo_checks_its_arguments(kwargs, match):
    with pytest.raises(SaltInvocationError, match=match):
        venvbuild_mod.prune_repo(**kwargs)


@pytest.mark.parametrize("pillar", ["plain"], indirect=True)
def test_prune_repo_is_a_dry_run_unless_asked_and_then_refreshes_the_mine(tmp_path, pillar, config,
                                                                          salt_mocks):
    root = str(tmp_path / "repo")
    pillar["venvbuild"] = {"repo": {"path": root}}
    config["mine_functions"] = copy.deepcopy(MINE_FUNCTIONS)
    old, new = "1" * 16, "2" * 16
    layout = _published(root, old, 7200)
    _published(root, new, 7000)
    dry = venvbuild_mod.prune_repo(keep=1)
    assert dry["removed"]["manifests"] == [f"{PLATFORM}/app-{old}"]
    assert os.path.exists(layout.manifest_path("app", old))
    salt_mocks["mine.update"].assert_not_called()
    kept = venvbuild_mod.prune_repo(in_use=[f"{PLATFORM}/app-{old}"], keep=1, test=False)
    assert kept["removed"]["manifests"] == [] and os.path.exists(layout.manifest_path("app", old))
    salt_mocks["mine.update"].assert_not_called()  # nothing removed: the entry is unchanged
    real = venvbuild_mod.prune_repo(keep=1, test=False)
    assert real["removed"] == {"manifests": [f"{PLATFORM}/app-{old}"], "wheels": 1, "bytes": 16}
    assert not os.path.exists(layout.manifest_path("app", old))
    salt_mocks["mine.update"].assert_called_once_with(mine_functions=MINE_FUNCTIONS)


def test_kept_specs_are_the_stamped_versions_but_the_live_one_newest_first(tmp_path):
    paths = VenvPaths(str(tmp_path / "venvs" / "app"))
    os.makedirs(paths.versions_dir)
    specs = ["1" * 16, "2" * 16, "1" * 16, "3" * 16]
    for index, spec in enumerate(specs):
        directory = os.path.join(paths.versions_dir, f"{spec}-2026010{index}T000000Z")
        os.mkdir(directory)
        write_stamp(directory, Stamp(venv_id="app", spec_id=spec, manifest_sha256=SHA,
                                     python={}, requirements=[], versions={}, seeded={},
                                     install_tool="uv", source="", created=""))
        os.utime(directory, (1000 + index, 1000 + index))
    os.mkdir(os.path.join(paths.versions_dir, "preexisting-20260101T000000Z"))  # not venvbuild's
    os.mkdir(os.path.join(paths.versions_dir, f"{'4' * 16}-20260105T000000Z"))  # no stamp
    live = os.path.join(paths.versions_dir, f"{'3' * 16}-20260103T000000Z")
    assert venvbuild_mod._kept_specs(paths, live) == ["1" * 16, "2" * 16]
    assert venvbuild_mod._kept_specs(paths, None) == ["3" * 16, "1" * 16, "2" * 16]
