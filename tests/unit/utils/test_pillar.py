"""utils/pillar.py: the ``venvbuild`` pillar read plainly, checked key by key, merged per venv."""

import collections
import copy
from collections.abc import Mapping

import pytest

from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.options import OPTIONS
from saltext_venvbuild.core.options import OPTIONS_HINT
from saltext_venvbuild.utils import pillar

try:  # Salt 3008 masks pillar in these; older Salt has no such module.
    from salt.utils.secret import MaskedDict
    from salt.utils.secret import MaskedList
except ImportError:  # pragma: no cover - depends on the Salt release
    MaskedDict = MaskedList = None

needs_masked = pytest.mark.skipif(MaskedDict is None, reason="salt.utils.secret (Salt 3008+) missing")


class ReadOnlyMapping(Mapping):
    """A Mapping that is no dict subclass."""

    def __init__(self, data):
        self._data = dict(data)

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


def assert_plain(value):
    """No container in ``value`` is anything but a plain dict or list."""
    if isinstance(value, Mapping):
        assert type(value) is dict, type(value)
        for item in value.values():
            assert_plain(item)
    elif isinstance(value, (list, tuple)):
        assert type(value) is list, type(value)
        for item in value:
            assert_plain(item)


FULL = {
    "builder": {"target": "build0*", "tgt_type": "glob", "platforms": {"build01": ["debian-12-*"]}},
    "repo": {
        "path": "/srv/wheels", "url": "http://build01:8181", "user": "www-data", "group": "www-data",
        "nginx": {"listen": "0.0.0.0", "port": 8181, "server_name": "build01", "config": "/etc/x",
                  "package": "nginx", "manage_service": True},
    },
    "defaults": {"install_tool": "uv", "python": "python3.11"},
    "venvs": {"keystone": {"path": "/opt/venvs/keystone", "packages": ["keystone==26.0.0"]}},
    "orch": {"builders": "build0*", "builders_tgt_type": "glob", "targets": "*",
             "targets_tgt_type": "glob", "batch": "25%", "allow_local_builds": False},
}


# -- plain --------------------------------------------------------------------------


def test_plain_copies_mappings_and_lists_into_dicts_and_lists():
    source = collections.OrderedDict(a=ReadOnlyMapping({"b": (1, 2), "c": [{"d": "e"}]}), f="g")
    out = pillar.plain(source)
    assert out == {"a": {"b": [1, 2], "c": [{"d": "e"}]}, "f": "g"}
    assert_plain(out)


def test_plain_returns_a_copy():
    source = {"a": {"b": ["c"]}}
    out = pillar.plain(source)
    out["a"]["b"].append("d")
    out["a"]["x"] = 1
    assert source == {"a": {"b": ["c"]}}


@pytest.mark.parametrize("value", ["text", 3, 1.5, True, None, b"bytes"])
def test_plain_keeps_scalars(value):
    assert pillar.plain(value) is value


@needs_masked
def test_plain_unmasks_salt_3008_pillar():
    masked = MaskedDict({"venvbuild": {"venvs": {"keystone": {
        "path": "/opt/venvs/keystone", "packages": ["keystone"], "build_env": {"TOKEN": "s3cret"}}}}})
    assert isinstance(masked["venvbuild"], MaskedDict)
    assert isinstance(masked["venvbuild"]["venvs"]["keystone"]["packages"], MaskedList)
    assert "s3cret" not in repr(masked)  # what Salt 3008 shows
    out = pillar.plain(masked)
    assert_plain(out)
    assert out["venvbuild"]["venvs"]["keystone"]["build_env"] == {"TOKEN": "s3cret"}
    assert "s3cret" in repr(out)


# -- read ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", [None, {}, {"other": {"x": 1}}, {"venvbuild": None}])
def test_read_without_a_venvbuild_pillar_is_empty(source):
    assert pillar.read(source) == {}


def test_read_accepts_every_known_key():
    out = pillar.read({"venvbuild": copy.deepcopy(FULL)})
    assert out == FULL
    assert_plain(out)


def test_read_accepts_every_option_in_defaults_and_venvs():
    every = {name: None for name in OPTIONS}
    out = pillar.read({"venvbuild": {"defaults": dict(every),
                                     "venvs": {"a": dict(every, path="/opt/venvs/a")}}})
    assert set(out["defaults"]) == set(OPTIONS)
    assert set(out["venvs"]["a"]) == set(OPTIONS) | {"path"}


@needs_masked
def test_read_returns_plain_data_from_masked_pillar():
    out = pillar.read(MaskedDict({"venvbuild": copy.deepcopy(FULL)}))
    assert out == FULL
    assert_plain(out)


def test_read_does_not_change_the_pillar():
    source = {"venvbuild": copy.deepcopy(FULL)}
    out = pillar.read(source)
    out["venvs"]["keystone"]["packages"].append("x")
    assert source == {"venvbuild": FULL}


@pytest.mark.parametrize(
    "data, where, key, tail",
    [
        ({"venv": {}}, "venvbuild", "venv", "did you mean 'venvs'?"),
        ({"repo": {"paht": "/srv/x"}}, "venvbuild:repo", "paht", "did you mean 'path'?"),
        ({"repo": {"nginx": {"ssl": True}}}, "venvbuild:repo:nginx", "ssl",
         "the known keys are config, listen, manage_service, package, port, server_name"),
        ({"builder": {"tgt": "b*"}}, "venvbuild:builder", "tgt", "did you mean 'target'?"),
        ({"orch": {"batch_size": 3}}, "venvbuild:orch", "batch_size", "did you mean 'batch'?"),
        ({"defaults": {"pakages": ["a"]}}, "venvbuild:defaults", "pakages", "did you mean 'packages'?"),
        ({"defaults": {"zzz": 1}}, "venvbuild:defaults", "zzz", OPTIONS_HINT),
        # path is a venv's own key: a default path would make every venv one.
        ({"defaults": {"path": "/opt/venvs/shared"}}, "venvbuild:defaults", "path",
         "path is each venv's own key (venvbuild:venvs:<id>:path), never a default"),
        ({"venvs": {"keystone": {"path": "/opt/venvs/k", "pakages": ["a"]}}},
         "venvbuild:venvs:keystone", "pakages", "did you mean 'packages'?"),
        ({"venvs": {"keystone": {"name": "/opt/venvs/k"}}}, "venvbuild:venvs:keystone", "name",
         "did you mean 'path'? (a state's name is a venv's path in pillar)"),
    ],
)
def test_read_refuses_an_unknown_key_naming_the_place_the_key_and_what_was_meant(data, where, key,
                                                                                   tail):
    with pytest.raises(SpecError) as info:
        pillar.read({"venvbuild": data})
    assert str(info.value) == f"pillar {where}: unknown key {key!r}; {tail}"


def test_read_refuses_every_problem_at_once_one_line_each():
    with pytest.raises(SpecError) as info:
        pillar.read({"venvbuild": {"repo": {"zz": 1, "aa": 2, "path": "/srv/x"},
                                   "defaults": {"instal_tool": "uv"},
                                   "builder": ["b1"], "venvs": {"k": {"pakages": []}}}})
    assert str(info.value).splitlines() == [
        "pillar venvbuild:repo: unknown key 'aa'; the known keys are group, nginx, path, url, user",
        "pillar venvbuild:repo: unknown key 'zz'; the known keys are group, nginx, path, url, user",
        "pillar venvbuild:builder: must be a mapping, not list",
        "pillar venvbuild:defaults: unknown key 'instal_tool'; did you mean 'install_tool'?",
        "pillar venvbuild:venvs:k: unknown key 'pakages'; did you mean 'packages'?",
    ]


def test_problems_also_name_venvs_without_a_path():
    assert pillar.problems({"venvbuild": {"venvs": {"a": None, "b": {"path": "/opt/venvs/b"}}}}) == [
        "pillar venvbuild:venvs:a: no 'path'; set e.g. path: /opt/venvs/a"]
    assert pillar.problems({"venvbuild": {"venvs": {"b": {"path": "/opt/venvs/b"}}}}) == []
    assert pillar.problems({}) == []
    assert pillar.problems({"venvbuild": "x"}) == ["pillar venvbuild: must be a mapping, not str"]


def test_read_names_non_string_keys():
    with pytest.raises(SpecError, match=r"^pillar venvbuild: unknown key 3; the known keys are "):
        pillar.read({"venvbuild": {3: "x"}})


@pytest.mark.parametrize(
    "data, where",
    [
        (["venvs"], "venvbuild"),
        ("venvs", "venvbuild"),
        ({"repo": "/srv/x"}, "venvbuild:repo"),
        ({"repo": {"nginx": True}}, "venvbuild:repo:nginx"),
        ({"builder": ["b1"]}, "venvbuild:builder"),
        ({"orch": "x"}, "venvbuild:orch"),
        ({"defaults": ["a"]}, "venvbuild:defaults"),
        ({"venvs": ["keystone"]}, "venvbuild:venvs"),
        ({"venvs": {"keystone": ["keystone==26.0.0"]}}, "venvbuild:venvs:keystone"),
    ],
)
def test_read_refuses_a_section_that_is_not_a_mapping(data, where):
    with pytest.raises(SpecError) as info:
        pillar.read({"venvbuild": data})
    assert str(info.value).startswith(f"pillar {where}: must be a mapping, not ")


def test_read_accepts_empty_sections():
    data = {"repo": None, "builder": None, "defaults": None, "orch": None,
            "venvs": {"keystone": None}}
    assert pillar.read({"venvbuild": data}) == data


# -- venv_configs -------------------------------------------------------------------


def test_venv_configs_merge_inherited_keys_then_defaults_then_the_venv():
    data = {
        "repo": {"path": "/srv/wheels", "url": "http://builder:8080", "user": "www-data",
                 "group": "nginx", "nginx": {"port": 8080}},
        "builder": {"target": "roles:venvbuild-builder", "tgt_type": "grain",
                    "platforms": {"b1": ["debian-*"]}},
        "defaults": {"install_tool": "uv", "python": "python3.11", "default_packages": ["pip-tools"],
                     "repo_group": "www-data"},
        "venvs": {
            "keystone": {"path": "/opt/venvs/keystone", "packages": ["keystone==26.0.0"]},
            "nova": {"path": "/opt/venvs/nova", "packages": ["nova"], "install_tool": "pip",
                     "repo_url": "http://other", "builder_tgt_type": "glob"},
        },
    }
    original = copy.deepcopy(data)
    inherited = {
        "repo_path": "/srv/wheels",
        "repo_user": "www-data",
        "repo_group": "www-data",  # defaults win over venvbuild:repo
        "builder_target": "roles:venvbuild-builder",
        "builder_platforms": {"b1": ["debian-*"]},
    }
    assert pillar.venv_configs(data) == {
        "keystone": dict(
            inherited, path="/opt/venvs/keystone", packages=["keystone==26.0.0"], install_tool="uv",
            python="python3.11", default_packages=["pip-tools"], builder_tgt_type="grain"),
        "nova": dict(
            inherited, path="/opt/venvs/nova", packages=["nova"],
            install_tool="pip",  # the venv's key wins over defaults
            python="python3.11", default_packages=["pip-tools"], repo_url="http://other",
            builder_tgt_type="glob"),  # and over venvbuild:builder
    }
    # venvbuild:repo:url is where a builder serves its repo: it must not turn a
    # builder's own venvs into remote installs from itself.
    assert "repo_url" not in pillar.venv_configs(data)["keystone"]
    assert data == original  # nothing of the pillar is modified by the merge


def test_venv_configs_inherited_keys_map_to_their_pillar_places():
    assert pillar.INHERITED == {
        "repo_path": ("repo", "path"),
        "repo_user": ("repo", "user"),
        "repo_group": ("repo", "group"),
        "builder_target": ("builder", "target"),
        "builder_tgt_type": ("builder", "tgt_type"),
        "builder_platforms": ("builder", "platforms"),
    }
    for key in pillar.INHERITED:
        assert key in OPTIONS


def test_venv_configs_without_repo_adds_no_repo_keys():
    data = {"venvs": {"tools": {"path": "/opt/venvs/tools", "packages": ["ansible"]}}}
    assert pillar.venv_configs(data) == {"tools": {"path": "/opt/venvs/tools", "packages": ["ansible"]}}


def test_venv_configs_skip_inherited_keys_set_to_none():
    data = {"repo": {"path": None, "user": None}, "builder": {"target": None},
            "venvs": {"a": {"path": "/opt/venvs/a"}}}
    assert pillar.venv_configs(data) == {"a": {"path": "/opt/venvs/a"}}


def test_venv_configs_without_venvs():
    assert pillar.venv_configs({}) == {}
    assert pillar.venv_configs({"venvs": None, "defaults": {"python": "python3"}}) == {}


def test_venv_configs_are_sorted_by_venv_id():
    data = {"venvs": {name: {"path": f"/opt/venvs/{name}"} for name in ("nova", "glance", "keystone")}}
    assert list(pillar.venv_configs(data)) == ["glance", "keystone", "nova"]


def test_venv_configs_copies_do_not_share_the_defaults():
    data = {"defaults": {"build_env": {"A": "1"}},
            "venvs": {"a": {"path": "/opt/venvs/a"}, "b": {"path": "/opt/venvs/b"}}}
    configs = pillar.venv_configs(data)
    configs["a"]["packages"] = ["x"]
    assert "packages" not in configs["b"]
    assert data["defaults"] == {"build_env": {"A": "1"}}


@pytest.mark.parametrize("cfg", [{"packages": ["keystone"]}, None, {}])
def test_venv_configs_need_a_path(cfg):
    data = {"venvs": {"good": {"path": "/opt/venvs/good", "packages": ["a"]}, "keystone": cfg}}
    with pytest.raises(SpecError) as info:
        pillar.venv_configs(data)
    assert str(info.value) == (
        "pillar venvbuild:venvs:keystone: no 'path'; set e.g. path: /opt/venvs/keystone")


def test_venv_configs_with_a_numeric_venv_id_beside_named_ones():
    data = {"venvs": {"keystone": {"path": "/opt/venvs/keystone"}, 2024: {"path": "/opt/venvs/2024"}}}
    assert pillar.venv_configs(pillar.read({"venvbuild": data})) == {
        "2024": {"path": "/opt/venvs/2024"}, "keystone": {"path": "/opt/venvs/keystone"}}


# -- redacted -----------------------------------------------------------------------


def test_redacted_hides_environment_values_and_url_credentials():
    configs = {
        "keystone": {
            "path": "/opt/venvs/keystone",
            "build_env": {"PIP_INDEX_URL": "https://u:p@pypi.example/simple", "TOKEN": "s3cret"},
            "install_env": {"N": "3"},
            "repo_url": "https://deploy:t0ken@build01:8443/repo",
            "constraints": ["--constraint https://ci:pw@git.example/upper.txt", "six==1.16.0"],
            "keep_versions": 3,
            "seed_tools": True,
            "builder_platforms": {"b1": ["debian-*"]},
        },
    }
    original = copy.deepcopy(configs)
    assert pillar.redacted(configs) == {
        "keystone": {
            "path": "/opt/venvs/keystone",
            "build_env": {"PIP_INDEX_URL": "****", "TOKEN": "****"},
            "install_env": {"N": "****"},
            "repo_url": "https://****@build01:8443/repo",
            "constraints": ["--constraint https://****@git.example/upper.txt", "six==1.16.0"],
            "keep_versions": 3,
            "seed_tools": True,
            "builder_platforms": {"b1": ["debian-*"]},
        },
    }
    assert configs == original


@pytest.mark.parametrize("value", [None, 3, True, "plain", "http://host/x"])
def test_redacted_keeps_values_without_secrets(value):
    assert pillar.redacted(value) == value


def test_redacted_of_an_empty_environment():
    assert pillar.redacted({"build_env": {}, "install_env": None}) == {"build_env": {}, "install_env": None}


@pytest.mark.parametrize("value, shown", [
    ([{"UV_INDEX_PRIV_PASSWORD": "hunter2"}], "****"),  # Salt's list-of-mappings env style
    ("UV_INDEX_PRIV_PASSWORD=hunter2", "****"),
    ({"UV_INDEX_PRIV_PASSWORD=hunter2": None}, {"UV_INDEX_PRIV_PASSWORD=****": "****"}),
    ({"UV_INDEX_PRIV_PASSWORD": "hunter2"}, {"UV_INDEX_PRIV_PASSWORD": "****"}),
])
def test_redacted_shows_no_secret_whatever_the_environments_shape(value, shown):
    # venv_configs shows the pillar as it is, before the options' checks refuse these shapes.
    assert pillar.redacted({"build_env": value, "install_env": value}) == {"build_env": shown,
                                                                           "install_env": shown}


def test_redacted_hides_credentials_and_queries_in_requirements():
    cfg = {"packages": ["vbdep @ https://ci:hunter2/x@h.example/vbdep-1.0.tar.gz",
                        "app @ git+https://h.example/app@v1"],
           "constraints": ["-c https://h.example/uc.txt?private_token=glpat-x"]}
    shown = pillar.redacted(cfg)
    assert "hunter2" not in str(shown) and "glpat" not in str(shown)
    assert shown["packages"][1] == "app @ git+https://h.example/app@v1"  # a VCS ref is no secret


def test_redacted_hides_argument_credentials_redact_cannot_delimit():
    """A URL in build_args/install_args whose credentials hold a raw space, '/' or '#'
    (refused by the options' checks, but venv_configs shows the pillar as it is)."""
    configs = {"keystone": {
        "build_args": ["--extra-index-url", "https://u:s3c ret@mirror.example/simple",
                       "--find-links", "https://u:s3c/ret@mirror.example/links"],
        "default_build_args": ["-ihttps://u:s3c#ret@mirror.example/simple"],
        "install_args": ["--index-url=https://u:s3cret@mirror.example/simple"],
        "packages": ["vbdep @ git+https://host.example/vbdep.git@v1"],
    }}
    shown = pillar.redacted(configs)["keystone"]
    assert "s3c" not in repr(shown)
    assert shown["build_args"] == ["--extra-index-url", "https://****@mirror.example/simple",
                                   "--find-links", "https://****@mirror.example/links"]
    assert shown["install_args"] == ["--index-url=https://****@mirror.example/simple"]
    assert shown["packages"] == ["vbdep @ git+https://host.example/vbdep.git@v1"]
