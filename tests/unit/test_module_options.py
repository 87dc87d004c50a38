"""Unit tests of the execution module's argument handling and pillar merging."""

import pytest
from salt.exceptions import CommandExecutionError
from salt.exceptions import SaltInvocationError

import saltext_venvbuild.modules.venvbuild as venvbuild_mod


def _config_get(values=None):
    values = values or {}

    def config_get(key, default=None):
        return values.get(key, default)

    return config_get


@pytest.fixture
def dunders(monkeypatch):
    salt = {"config.get": _config_get()}
    monkeypatch.setattr(venvbuild_mod, "__salt__", salt, raising=False)
    return salt


# -- _options -----------------------------------------------------------------------


def test_defaults_are_applied(dunders):
    opts = venvbuild_mod._options({})
    assert set(opts) == set(venvbuild_mod.OPTIONS) | {"repo_owner"}  # derived from repo_user/group
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


def test_none_values_take_the_default(dunders):
    opts = venvbuild_mod._options({"python": None, "install_tool": None, "keep_versions": None})
    assert (opts["python"], opts["install_tool"], opts["keep_versions"]) == ("python3", "pip", 2)


def test_given_values_are_kept(dunders):
    opts = venvbuild_mod._options({
        "packages": ["keystone"],
        "python": "/usr/bin/python3.12",
        "install_tool": "uv",
        "package_state": "latest",
        "install_args": ["--compile", 1],
        "build_env": {"CFLAGS": "-O2"},
        "install_env": {"N": 3},
        "repo_path": "/data/repo",
        "repo_url": "http://builder/repo",
        "keep_versions": 3,
        "rebuild": True,
    })
    assert opts["packages"] == ["keystone"]
    assert opts["python"] == "/usr/bin/python3.12"
    assert opts["install_tool"] == "uv"
    assert opts["package_state"] == "latest"
    assert opts["install_args"] == ("--compile", "1")
    assert opts["build_env"] == {"CFLAGS": "-O2"}
    assert opts["install_env"] == {"N": "3"}
    assert opts["repo_path"] == "/data/repo"
    assert opts["repo_url"] == "http://builder/repo"
    assert opts["keep_versions"] == 3
    assert opts["rebuild"] is True


def test_repo_path_comes_from_config_but_repo_url_does_not(dunders):
    # venvbuild:repo:url is the URL a builder serves its repo at; it must not
    # turn a builder's own venvs into remote installs from itself.
    dunders["config.get"] = _config_get(
        {"venvbuild:repo:path": "/data/venvbuild", "venvbuild:repo:url": "http://b/r"}
    )
    opts = venvbuild_mod._options({})
    assert (opts["repo_path"], opts["repo_url"]) == ("/data/venvbuild", None)


@pytest.mark.parametrize("value", ["soon", -1, None])
def test_wait_timeout_is_checked(dunders, value):
    if value is None:
        assert venvbuild_mod._options({})["wait_timeout"] == 300
        return
    with pytest.raises(SaltInvocationError, match="wait_timeout"):
        venvbuild_mod._options({"wait_timeout": value})


def test_unknown_argument_lists_the_known_ones(dunders):
    with pytest.raises(SaltInvocationError) as info:
        venvbuild_mod._options({"pakages": ["a"], "bogus": 1})
    message = str(info.value)
    assert "unknown argument(s) bogus, pakages" in message
    assert "known ones are " + ", ".join(sorted(venvbuild_mod.OPTIONS)) in message


def test_dunder_keys_are_ignored(dunders):
    opts = venvbuild_mod._options({"__pub_fun": "venvbuild.install", "__pub_jid": "1", "__env__": "base"})
    assert set(opts) == set(venvbuild_mod.OPTIONS) | {"repo_owner"}  # derived from repo_user/group


def test_install_tool_conda_is_refused(dunders):
    with pytest.raises(SaltInvocationError, match="install_tool 'conda': must be one of pip, uv"):
        venvbuild_mod._options({"install_tool": "conda"})


@pytest.mark.parametrize("value", ["installed", "LATEST", "absent"])
def test_invalid_package_state_is_refused(dunders, value):
    with pytest.raises(SaltInvocationError, match=f"package_state '{value}': must be one of present, latest"):
        venvbuild_mod._options({"package_state": value})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"install_args": "--compile"}, "install_args must be a list"),
        ({"install_args": ["a\nb"]}, "NUL or newline"),
        ({"build_env": ["A=1"]}, "build_env must be a mapping"),
        ({"install_env": {"A=B": "1"}}, "not a valid environment variable name"),
    ],
)
def test_invalid_args_and_env_are_invocation_errors(dunders, kwargs, message):
    with pytest.raises(SaltInvocationError, match=message):
        venvbuild_mod._options(kwargs)


def test_non_integer_keep_versions_is_an_invocation_error(dunders):
    with pytest.raises(SaltInvocationError, match="keep_versions"):
        venvbuild_mod._options({"keep_versions": "two"})


def test_venv_id_defaults_to_the_basename():
    assert venvbuild_mod._venv_id_for("/opt/venvs/keystone/", None) == "keystone"
    assert venvbuild_mod._venv_id_for("/opt/venvs/ks", "keystone") == "keystone"


# -- venv_configs -------------------------------------------------------------------


@pytest.fixture
def pillar(monkeypatch):
    data = {}

    def pillar_get(key, default=None):
        return data if key == "venvbuild" else default

    monkeypatch.setattr(venvbuild_mod, "__salt__", {"pillar.get": pillar_get}, raising=False)
    return data


def test_venv_configs_without_pillar(monkeypatch):
    monkeypatch.setattr(
        venvbuild_mod, "__salt__", {"pillar.get": lambda key, default=None: default}, raising=False
    )
    assert venvbuild_mod.venv_configs() == {}


def test_venv_configs_merge_defaults_repo_and_builder(pillar):
    pillar.update({
        "repo": {"path": "/srv/wheels", "url": "http://builder:8080"},
        "builder": {"target": "roles:venvbuild-builder", "tgt_type": "grain"},
        "defaults": {"install_tool": "uv", "python": "python3.11", "default_packages": ["pip-tools"]},
        "venvs": {
            "keystone": {"path": "/opt/venvs/keystone", "packages": ["keystone==26.0.0"]},
            "nova": {"path": "/opt/venvs/nova", "packages": ["nova"], "install_tool": "pip",
                     "repo_url": "http://other", "builder_tgt_type": "glob"},
        },
    })
    assert venvbuild_mod.venv_configs() == {
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
    # The defaults themselves are not modified by the merge.
    assert pillar["defaults"] == {"install_tool": "uv", "python": "python3.11",
                                  "default_packages": ["pip-tools"]}


def test_venv_configs_without_repo_adds_no_repo_keys(pillar):
    pillar["venvs"] = {"tools": {"path": "/opt/venvs/tools", "packages": ["ansible"]}}
    assert venvbuild_mod.venv_configs() == {"tools": {"path": "/opt/venvs/tools", "packages": ["ansible"]}}


def test_venv_configs_path_may_come_from_defaults(pillar):
    pillar.update({"defaults": {"path": "/opt/venvs/shared"}, "venvs": {"a": None}})
    assert venvbuild_mod.venv_configs() == {"a": {"path": "/opt/venvs/shared"}}


def test_venv_configs_missing_path(pillar):
    pillar["venvs"] = {
        "good": {"path": "/opt/venvs/good", "packages": ["a"]},
        "keystone": {"packages": ["keystone"]},
    }
    with pytest.raises(CommandExecutionError, match=r"venvbuild:venvs:keystone: no 'path'.*/opt/venvs/keystone"):
        venvbuild_mod.venv_configs()
