"""core/options.py: the table of options, their defaults and their strict checks."""

import grp
import math
import os
import pwd

import pytest

from saltext_venvbuild.core import options
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.spec import DEFAULT_BUILD_REQUIREMENTS

SHA = "ab" * 32


def validate(**values):
    return options.validate(values)


def refused(name, value, match=None, **others):
    """The SpecError for ``name: value``; it must name the option."""
    with pytest.raises(SpecError, match=match) as info:
        options.validate({name: value, **others})
    assert name in str(info.value)
    return str(info.value)


# -- the table -------------------------------------------------------------------------


def test_table_names_are_unique_and_documented():
    names = [option.name for option in options.TABLE]
    assert len(names) == len(set(names))
    assert set(options.OPTIONS) == set(names)
    for option in options.TABLE:
        assert option.doc and option.doc.endswith("."), option.name
        assert callable(option.check)


def test_build_options_are_those_that_matter_to_a_build():
    build = set(options.BUILD_OPTIONS)
    assert build == {option.name for option in options.TABLE if option.build}
    for name in ("packages", "constraints", "python", "install_tool", "build_args", "build_env",
                 "build_timeout", "build_requirements", "repo_path", "release", "ca_bundle",
                 "pip_noconf", "uv_bin", "seed_tools", "package_state"):
        assert name in build
    for name in ("repo_url", "manifest_sha256", "builder", "builder_target",
                 "builder_tgt_type", "builder_platforms", "wait_timeout", "install_args",
                 "install_env", "install_timeout", "keep_versions", "facts_when_changed",
                 "facts_dest", "request_build"):
        assert name not in build
    assert list(options.BUILD_OPTIONS) == [o.name for o in options.TABLE if o.build]  # ordered


# -- defaults --------------------------------------------------------------------------


def test_defaults_are_applied():
    opts = validate()
    assert set(opts) == set(options.OPTIONS) | {"repo_gid"}  # derived from repo_user/group
    assert opts["python"] == "python3"
    assert opts["install_tool"] == "pip"
    assert opts["package_state"] == "present"
    assert opts["pkgs_state"] == "present"
    assert opts["rebuild"] is False
    assert opts["wheels_rebuild"] is False
    assert opts["pip_noconf"] is False
    assert opts["seed_tools"] is False
    assert opts["wheel_build"] is True
    assert opts["build_fallback"] is False
    assert opts["request_build"] is False
    assert opts["adopt_existing"] is False
    assert opts["keep_versions"] == 2
    assert opts["packages"] is None
    assert opts["build_env"] == {}
    assert opts["install_env"] == {}
    assert opts["build_args"] == ()
    assert opts["default_build_args"] == ()
    assert opts["install_args"] == ()
    assert opts["build_pkgs"] == opts["install_pkgs"] == opts["symlink_pkgs"] == []
    assert opts["facts_when_changed"] == []
    assert opts["facts_dest"] == "venvbuild"
    assert opts["build_requirements"] == list(DEFAULT_BUILD_REQUIREMENTS)
    assert opts["build_timeout"] == 3600.0
    assert opts["install_timeout"] == 1800.0
    assert opts["wait_timeout"] == 300.0
    assert opts["pkgs_cache_valid_time"] == 600.0
    assert opts["repo_path"] == "/srv/venvbuild" == options.DEFAULT_REPO_PATH
    assert opts["builder_tgt_type"] == "glob"
    for name in ("repo_url", "manifest_sha256", "builder", "builder_target", "builder_platforms",
                 "ca_bundle", "uv_bin", "release", "repo_user", "repo_group", "repo_gid"):
        assert opts[name] is None, name


def test_none_values_take_the_default():
    opts = validate(python=None, install_tool=None, keep_versions=None, wheel_build=None,
                    build_timeout=None, build_env=None, install_args=None)
    assert (opts["python"], opts["install_tool"], opts["keep_versions"]) == ("python3", "pip", 2)
    assert opts["wheel_build"] is True
    assert opts["build_timeout"] == 3600.0
    assert (opts["build_env"], opts["install_args"]) == ({}, ())


def test_repo_path_defaults_to_the_configured_one():
    assert options.validate({}, "/data/venvbuild")["repo_path"] == "/data/venvbuild"
    assert options.validate({"repo_path": "/srv/r"}, "/data/venvbuild")["repo_path"] == "/srv/r"
    with pytest.raises(SpecError, match="repo_path"):
        options.validate({}, "relative/repo")


def test_given_values_are_kept():
    opts = validate(
        packages=["keystone"],
        python="/usr/bin/python3.12",
        install_tool="uv",
        package_state="latest",
        install_args=["--link-mode", "copy", "--config-setting", 1],
        build_env={"CFLAGS": "-O2"},
        install_env={"UV_CONCURRENT_INSTALLS": 3},
        repo_path="/data/repo",
        repo_url="http://builder/repo",
        keep_versions=3,
        rebuild=True,
        build_timeout=10,
        wait_timeout=0,
        release=2024,
    )
    assert opts["packages"] == ["keystone"]
    assert opts["python"] == "/usr/bin/python3.12"
    assert opts["install_tool"] == "uv"
    assert opts["package_state"] == "latest"
    assert opts["install_args"] == ("--link-mode", "copy", "--config-setting", "1")
    assert opts["build_env"] == {"CFLAGS": "-O2"}
    assert opts["install_env"] == {"UV_CONCURRENT_INSTALLS": "3"}
    assert opts["repo_path"] == "/data/repo"
    assert opts["repo_url"] == "http://builder/repo"
    assert opts["keep_versions"] == 3
    assert opts["rebuild"] is True
    assert opts["build_timeout"] == 10.0
    assert opts["wait_timeout"] == 0.0
    assert opts["release"] == "2024"


def test_validate_does_not_change_its_input():
    values = {"packages": ("a",), "build_args": ["--pre"], "build_env": {"MAX_JOBS": 1}}
    snapshot = {key: (list(v) if isinstance(v, (list, tuple)) else dict(v))
                for key, v in values.items()}
    validate(**values)
    assert values["build_env"] == snapshot["build_env"]
    assert list(values["build_args"]) == snapshot["build_args"]


# -- unknown keys ----------------------------------------------------------------------


def test_unknown_arguments_get_one_line_each_with_the_closest_option():
    with pytest.raises(SpecError) as info:
        validate(pakages=["a"], bogus=1, instal_tool="uv")
    assert str(info.value).splitlines() == [
        f"venvbuild: unknown argument 'bogus'; {options.OPTIONS_HINT}",
        "venvbuild: unknown argument 'instal_tool'; did you mean 'install_tool'?",
        "venvbuild: unknown argument 'pakages'; did you mean 'packages'?",
    ]


def test_unknown_keys_suggest_list_or_hint():
    known = ("path", "url", "user", "group", "nginx")
    assert options.unknown_keys(["url", "pth", "zz"], known, "pillar venvbuild:repo") == [
        "pillar venvbuild:repo: unknown key 'pth'; did you mean 'path'?",
        # No close match among a few names: they are listed.
        "pillar venvbuild:repo: unknown key 'zz'; the known keys are group, nginx, path, url, user",
    ]
    assert options.unknown_keys(["url", "path"], known, "x") == []
    # Among the options (too many to list) the hint says where they are.
    assert options.unknown_keys(["zzz"], options.OPTIONS, "x") == [
        f"x: unknown key 'zzz'; {options.OPTIONS_HINT}"]
    assert options.unknown_keys(["path"], options.OPTIONS, "x", instead={"path": "not here"}) == [
        "x: unknown key 'path'; not here"]


def test_unknown_keys_are_shown_escaped_and_cut():
    hostile = "pakages\x1b[2J" + "x" * 100
    (line,) = options.unknown_keys([hostile], options.OPTIONS, "x")
    assert "\x1b" not in line and "\\x1b" in line  # repr escapes the terminal control
    assert len(line) < 60 + len(f"x: unknown key ; {options.OPTIONS_HINT}") + 5
    (line,) = options.unknown_keys([3], ("a",), "x")  # YAML may make any key
    assert line == "x: unknown key 3; the known keys are a"


def test_dunder_keys_are_ignored():
    opts = validate(__pub_fun="venvbuild.install", __pub_jid="1", __env__="base")
    assert set(opts) == set(options.OPTIONS) | {"repo_gid"}


# -- booleans, numbers, choices --------------------------------------------------------

BOOLEANS = [o.name for o in options.TABLE if isinstance(o.default, bool)]


def test_the_booleans():
    assert set(BOOLEANS) >= {"seed_tools", "wheels_rebuild", "rebuild", "pip_noconf",
                             "wheel_build", "build_fallback", "request_build", "adopt_existing"}


@pytest.mark.parametrize("name", BOOLEANS)
@pytest.mark.parametrize("value", ["false", "true", "no", 0, 1, [], "", 0.0])
def test_booleans_must_be_real_booleans(name, value):
    message = refused(name, value, match="must be true or false")
    assert message.startswith(f"{name} {value!r}:")


@pytest.mark.parametrize("name", BOOLEANS)
def test_booleans_are_kept(name):
    assert validate(**{name: True})[name] is True
    assert validate(**{name: False})[name] is False


SECONDS = ["build_timeout", "pkgs_cache_valid_time", "wait_timeout", "install_timeout"]


@pytest.mark.parametrize("name", SECONDS)
@pytest.mark.parametrize("value", ["soon", "10", -1, -0.5, math.nan, math.inf, -math.inf, True,
                                   False, [10], {"s": 1}])
def test_seconds_are_finite_non_negative_numbers(name, value):
    refused(name, value, match="seconds")


@pytest.mark.parametrize("name", SECONDS)
def test_seconds_accept_ints_and_floats(name):
    assert validate(**{name: 2.5})[name] == 2.5
    assert validate(**{name: 7})[name] == 7.0
    assert isinstance(validate(**{name: 7})[name], float)


@pytest.mark.parametrize("name", ["wait_timeout", "pkgs_cache_valid_time"])
def test_zero_seconds_is_allowed_where_it_means_no_wait(name):
    assert validate(**{name: 0})[name] == 0.0


@pytest.mark.parametrize("name", ["build_timeout", "install_timeout"])
@pytest.mark.parametrize("value", [0, 0.0])
def test_build_and_install_timeouts_must_be_positive(name, value):
    refused(name, value, match="must be more than 0 seconds")


@pytest.mark.parametrize("value", ["two", "2", 0, -1, 1.5, 2.0, True, None])
def test_keep_versions_is_a_positive_whole_number(value):
    if value is None:
        assert validate(keep_versions=None)["keep_versions"] == 2
        return
    refused("keep_versions", value, match="whole number of at least 1")


def test_keep_versions_one():
    assert validate(keep_versions=1)["keep_versions"] == 1


def test_install_tool_conda_is_refused():
    refused("install_tool", "conda", match="install_tool 'conda': must be one of pip, uv")


@pytest.mark.parametrize("value", ["installed", "LATEST", "absent", "forcereinstall", 1])
def test_invalid_package_state_is_refused(value):
    refused("package_state", value,
            match=f"package_state {value!r}: must be one of present, latest")


@pytest.mark.parametrize("value, instead", [
    ("absent", "to remove packages, drop them from packages .* venvbuild.absent state"),
    ("forcereinstall", ".* fresh venv; .*set rebuild: true for one run"),
])
def test_the_roles_other_package_states_name_what_does_their_work(value, instead):
    """The role's uv (and pip) branch also takes absent and forcereinstall."""
    refused("package_state", value,
            match=f"^package_state '{value}': must be one of present, latest; the role's "
                  f"'{value}' has no equivalent here: {instead}")


def test_invalid_pkgs_state_is_refused():
    refused("pkgs_state", "removed", match="must be one of present, latest")


@pytest.mark.parametrize("value", options.TGT_TYPES)
def test_builder_tgt_types(value):
    assert validate(builder_tgt_type=value)["builder_tgt_type"] == value


@pytest.mark.parametrize("value", ["range", "GLOB", "grains", ["list"]])
def test_unknown_builder_tgt_type_is_refused(value):
    refused("builder_tgt_type", value, match="must be one of glob, pcre, list")


# -- lists, arguments, environments ----------------------------------------------------


@pytest.mark.parametrize("name", ["packages", "default_packages", "constraints",
                                  "global_constraints", "build_requirements",
                                  "build_requirements_extra"])
@pytest.mark.parametrize("value", ["keystone", b"keystone", {"keystone": None}, 3, [1],
                                   [None, 2]])
def test_requirement_lists_must_be_lists_of_strings(name, value):
    refused(name, value)


@pytest.mark.parametrize("name", ["packages", "default_packages", "constraints",
                                  "global_constraints", "build_requirements",
                                  "build_requirements_extra", "build_pkgs", "install_pkgs",
                                  "symlink_pkgs"])
def test_empty_entries_are_dropped_from_lists_as_the_role_does(name):
    """OpenStack-Ansible's templates write '' through ternary; the role's select() drops it."""
    assert validate(**{name: ["", "gcc", None, "  "]})[name] == ["gcc"]
    assert validate(**{name: [""]})[name] == []


def test_requirement_lists_accept_tuples():
    assert validate(packages=("a", "b"))["packages"] == ["a", "b"]


@pytest.mark.parametrize("name", ["build_args", "default_build_args", "install_args"])
@pytest.mark.parametrize("value", [{"--index-url": "http://x"}, 3, True,
                                   [None], [["--x"]], [{"a": 1}], [True], "--x 'a"])
def test_args_must_be_lists_of_strings(name, value):
    refused(name, value)


@pytest.mark.parametrize("kwargs, message", [
    ({"install_args": "--compile 'x"}, "install_args: the string cannot be split"),
    ({"install_args": "--target /etc"}, "install_args .*--target is not allowed"),
    ({"install_args": ["a\nb"]}, "NUL or newline"),
    ({"build_args": ["a\0b"]}, "NUL or newline"),
    ({"build_args": ["a\u2028b"]}, "line-separator"),
    ({"build_env": ["A=1"]}, "build_env must be a mapping"),
    ({"install_env": {"A=B": "1"}}, "not a valid environment variable name"),
    ({"install_env": {"1A": "1"}}, "not a valid environment variable name"),
    ({"build_env": {"CFLAGS": "x\ny"}}, "build_env: CFLAGS"),
    ({"build_env": {"PIP_TARGET": "/x"}}, "build_env: PIP_TARGET is not allowed"),
    ({"install_env": {"UV_CACHE_DIR": "/x"}}, "install_env: UV_CACHE_DIR is not allowed"),
])
def test_invalid_args_and_env_are_refused(kwargs, message):
    with pytest.raises(SpecError, match=message):
        validate(**kwargs)


@pytest.mark.parametrize("name", ["build_env", "install_env"])
@pytest.mark.parametrize("value", [{"TZ": {"nested": 1}}, {"TZ": [1, 2]}, {"TZ": True},
                                   {"TZ": ("x",)}])
def test_env_values_must_be_scalars(name, value):
    refused(name, value, match="must be a string or a number")


@pytest.mark.parametrize("name", ["build_env", "install_env"])
def test_env_values_are_strings(name):
    assert validate(**{name: {"MAX_JOBS": 1, "UV_HTTP_TIMEOUT": 2.5, "PIP_PRE": None,
                              "LANG": "x"}})[name] == {
        "MAX_JOBS": "1", "UV_HTTP_TIMEOUT": "2.5", "PIP_PRE": "", "LANG": "x"}


# install_args and build_args: the allow-lists of core/argpolicy.py (tested there in
# detail), applied by validate; install_args against the venv's install_tool.


@pytest.mark.parametrize("tool", ["pip", "uv"])
@pytest.mark.parametrize("args", [
    ["--prefix", "/usr/local"], ["--prefix=/usr/local"],
    ["--target", "/x"], ["--target=/x"], ["-t", "/x"], ["-t/x"],
    ["--root", "/"], ["--root=/"],
    ["--user"],
    ["--home", "/root"], ["--home=/root"],
    ["--src", "/src"], ["--src=/src"],
    ["--system"],
    ["--python", "/usr/bin/python3"], ["--python=/usr/bin/python3"], ["-p", "3.12"], ["-p3.12"],
    ["--break-system-packages"],
    ["-e", "."], ["-e."], ["--editable", "."], ["--editable=."],
    ["--compile", "--target", "/x"],
    ["--report", "/tmp/report.json"], ["--report=/tmp/report.json"],
    ["--log", "/tmp/pip.log"], ["--log-file", "/tmp/pip.log"], ["--local-log", "/tmp/pip.log"],
    ["--cache-dir", "/tmp/cache"], ["--build", "/tmp/build"], ["--root-user-action", "ignore"],
    ["--no-verify-hashes"], ["--config-file", "/tmp/uv.toml"], ["--directory", "/tmp"],
    ["--targ", "/x"], ["--targe=/x"], ["--edit", "."], ["--repor", "/tmp/r"],
    ["-Ut", "/x"], ["-qe", "."], ["-vvt/x"],
])
def test_install_args_refuse_what_writes_elsewhere(args, tool):
    message = refused("install_args", args, install_tool=tool)
    refused_flags = [arg.split("=")[0] for arg in args if arg.startswith("--") and arg != "--compile"]
    if refused_flags:
        assert refused_flags[0] in message
    assert "/x" not in message and "/tmp" not in message


def test_install_args_hide_credentials_in_messages():
    message = refused("install_args", ["--target=https://u:secret@x/"])
    assert "secret" not in message
    message = refused("install_args", ["--index-url", "https://u:secret@x/\t"])
    assert "secret" not in message and "argument 2" in message


@pytest.mark.parametrize("tool, args", [
    ("pip", ["--compile"]), ("pip", ["--no-compile"]), ("pip", ["--no-deps"]), ("pip", ["--pre"]),
    ("pip", ["--prefer-binary"]), ("pip", ["--progress-bar", "off"]), ("pip", ["--require-hashes"]),
    ("pip", ["--no-build-isolation"]), ("pip", ["-v"]), ("pip", ["-qq"]),
    ("pip", ["--config-settings", "editable_mode=compat"]), ("pip", ["--no-warn-script-location"]),
    ("pip", ["--timeout", "60", "--retries", "3", "--proxy", "http://proxy:3128"]),
    ("uv", ["--compile-bytecode"]), ("uv", ["--reinstall"]), ("uv", ["--link-mode=copy"]),
    ("uv", ["--index-strategy", "unsafe-best-match"]), ("uv", ["--native-tls", "-vv"]),
    ("uv", ["--offline", "--refresh", "--config-setting", "a=b"]),
])
def test_install_args_of_the_install_tool_are_kept(tool, args):
    assert validate(install_args=args, install_tool=tool)["install_args"] == tuple(args)


@pytest.mark.parametrize("tool, args", [
    ("pip", ["--compile-bytecode"]), ("pip", ["--link-mode", "copy"]), ("pip", ["--reinstall"]),
    ("uv", ["--timeout", "60"]), ("uv", ["--no-warn-script-location"]), ("uv", ["--proxy", "x"]),
])
def test_install_args_of_the_other_tool_are_refused_naming_the_tool(tool, args):
    message = refused("install_args", args, install_tool=tool)
    assert args[0] in message and f"install_tool {tool}" in message


@pytest.mark.parametrize("name", ["build_args", "default_build_args"])
@pytest.mark.parametrize("args", [
    ["--src", "/tmp/src"], ["--cache-dir", "/tmp/cache"], ["-w", "/tmp/wheels"],
    ["--wheel-dir=/tmp/wheels"], ["--log", "/tmp/pip.log"], ["--report", "/tmp/r"],
    ["--build-option", "--prefix=/x"], ["--global-option=--prefix=/x"], ["-e", "."],
    ["--no-ind"], ["-r", "/etc/shadow"], ["-c", "/etc/shadow"], ["--python", "/usr/bin/python"],
    ["--no-index", "/srv/sdists"],
])
def test_build_args_refuse_what_writes_elsewhere(name, args):
    refused(name, args)


@pytest.mark.parametrize("name", ["build_args", "default_build_args"])
def test_build_args_accept_what_builds_need(name):
    args = ["--no-build-isolation", "--no-index", "--find-links", "/srv/sdists", "-f/srv/more",
            "--index-url=https://mirror.example/simple", "--only-binary", ":none:", "--pre",
            "-C", "setup-args=-Dblas=openblas", "--timeout", "60", "-q"]
    assert validate(**{name: args})[name] == tuple(args)


@pytest.mark.parametrize("name", ["build_env", "install_env"])
@pytest.mark.parametrize("variable", ["PIP_TARGET", "PIP_PREFIX", "PIP_ROOT", "PIP_USER", "PIP_SRC",
                                      "PIP_LOG", "PIP_REPORT", "PYTHONPATH", "PYTHONHOME",
                                      "LD_PRELOAD", "LD_LIBRARY_PATH", "UV_CACHE_DIR",
                                      "UV_CONFIG_FILE", "UV_NO_VERIFY_HASHES", "PIP_tArGeT",
                                      "PIP_CONFIG_FILE", "HOME", "PATH"])
def test_env_refuses_what_redirects_the_tools(name, variable):
    message = refused(name, {variable: "/tmp/elsewhere"})
    assert f"{name}: {variable} is not allowed" in message
    assert "/tmp/elsewhere" not in message


@pytest.mark.parametrize("name", ["build_env", "install_env"])
def test_env_accepts_what_indexes_and_builds_need(name):
    env = {"HTTPS_PROXY": "http://u:p@proxy:3128", "no_proxy": "localhost",
           "PIP_INDEX_URL": "https://mirror/simple", "UV_INDEX_URL": "https://mirror/simple",
           "CC": "gcc-12", "CFLAGS": "-O2", "MAX_JOBS": 2, "PBR_VERSION": "1.0",
           "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_MY_PKG": "2.0", "LC_ALL": "C.UTF-8"}
    assert validate(**{name: env})[name] == {key: str(value) for key, value in env.items()}


@pytest.mark.parametrize("name", ["build_env", "install_env"])
@pytest.mark.parametrize("value", ["http://u:s3cr3t@proxy\n", "s3cr3t\t", "s3cr3t\u2028",
                                   "\x1bs3cr3t", "http://u:s3c r3t\x85@proxy"])
def test_env_values_are_never_shown(name, value):
    message = refused(name, {"HTTP_PROXY": value})
    assert "s3cr3t" not in message and "s3c" not in message
    assert f"{name}: HTTP_PROXY" in message


@pytest.mark.parametrize("key", ["HTTP_PROXY=http://u:s3cr3t@proxy", "A B=s3cr3t", "=s3cr3t"])
def test_env_names_that_carry_a_value_do_not_show_it(key):
    message = refused("install_env", {key: "x"}, match="not a valid environment variable name")
    assert "s3cr3t" not in message


# -- strings, paths, URLs --------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "  ", 3, ["python3"], "py\nthon"])
def test_python_is_a_non_empty_string(value):
    refused("python", value)


@pytest.mark.parametrize("name", ["repo_path", "uv_bin"])
@pytest.mark.parametrize("value", ["relative/path", "/srv/../etc", "", 3, ["/srv"], "/srv/\x00x"])
def test_paths_must_be_absolute_without_dot_dot(name, value):
    refused(name, value)


def test_paths_are_normalized():
    assert validate(repo_path="/srv//venvbuild/./")["repo_path"] == "/srv/venvbuild"


@pytest.mark.parametrize("value", ["http://build01:8181", "https://b.example.org/repo/"])
def test_repo_url_accepts_http_urls(value):
    assert validate(repo_url=value)["repo_url"] == value


@pytest.mark.parametrize("value", [["http://b"], {"url": "http://b"}, 8181, "ftp://b/",
                                   "b:8181", "http://b/?x=1", "http://b/\nx", "/srv/venvbuild"])
def test_repo_url_must_be_an_http_url(value):
    refused("repo_url", value)


def test_repo_url_messages_hide_credentials():
    message = refused("repo_url", "ftp://user:secret@b/")
    assert "secret" not in message


def test_ca_bundle_must_be_a_readable_file(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert validate(ca_bundle=str(bundle))["ca_bundle"] == str(bundle)
    message = refused("ca_bundle", str(tmp_path / "missing.pem"), match="cannot read it")
    assert str(tmp_path / "missing.pem") in message
    assert "give the path of an existing file" in message
    refused("ca_bundle", str(tmp_path), match="cannot read it")  # a directory
    refused("ca_bundle", "ca.pem", match="absolute path")


@pytest.mark.parametrize("value", ["build01", "build01.example.org", "b-1_x"])
def test_builder_is_one_minion_id(value):
    assert validate(builder=value)["builder"] == value


@pytest.mark.parametrize("value", ["build*", "b1,b2", "b?", "b[12]", "b1 b2", "", ["b1"], 3])
def test_builder_refuses_expressions(value):
    refused("builder", value)


def test_builder_target_may_be_a_list():
    assert validate(builder_target=["b1", "b2"])["builder_target"] == "b1,b2"
    assert validate(builder_target=("b1",))["builder_target"] == "b1"
    assert validate(builder_target="G@roles:builder")["builder_target"] == "G@roles:builder"


@pytest.mark.parametrize("value", [["b*"], ["b1", "b2,b3"], ["b1", ""], [3], "", 3])
def test_builder_target_refuses_bad_values(value):
    refused("builder_target", value)


def test_builder_platforms_are_checked():
    assert validate(builder_platforms={"b*": ["debian-12-*"]})["builder_platforms"] == {
        "b*": ["debian-12-*"]}
    refused("builder_platforms", {"b*": "debian-12-*"})
    refused("builder_platforms", ["b*"])


@pytest.mark.parametrize("value", ["2024.1", "caracal", 2024, 2024.1])
def test_release_is_a_name(value):
    assert validate(release=value)["release"] == str(value)


@pytest.mark.parametrize("value", ["a/b", "..", "-x", "", True, ["x"]])
def test_release_refuses_what_is_not_a_name(value):
    refused("release", value)


# -- manifest_sha256 -------------------------------------------------------------------


def test_manifest_sha256_with_repo_url():
    opts = validate(manifest_sha256=SHA, repo_url="http://b")
    assert opts["manifest_sha256"] == SHA


@pytest.mark.parametrize("value", ["AB" * 32, "ab" * 31, "ab" * 33, "zz" * 32, 12, ["ab" * 32]])
def test_manifest_sha256_is_64_lower_case_hex(value):
    refused("manifest_sha256", value, match="64 lower-case hex digits", repo_url="http://b")


def test_manifest_sha256_needs_repo_url():
    refused("manifest_sha256", SHA, match="set repo_url too")


# -- packages, facts -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["build_pkgs", "install_pkgs", "symlink_pkgs"])
def test_distro_package_lists_are_sorted_and_unique(name):
    assert validate(**{name: ["libssl-dev", "gcc", "gcc", "python3-apt"]})[name] == [
        "gcc", "libssl-dev", "python3-apt"]


@pytest.mark.parametrize("name", ["build_pkgs", "install_pkgs", "symlink_pkgs"])
@pytest.mark.parametrize("value", ["gcc", ["gcc make"], ["-y"], ["gcc;rm"], [3], {"gcc": 1}])
def test_distro_package_lists_refuse_what_is_not_a_package(name, value):
    refused(name, value)


def test_facts_when_changed():
    facts = [{"section": "keystone", "option": "version", "value": 26},
             {"section": "keystone", "option": "venv", "value": "/opt/venvs/keystone"}]
    assert validate(facts_when_changed=facts)["facts_when_changed"] == [
        {"section": "keystone", "option": "version", "value": "26"},
        {"section": "keystone", "option": "venv", "value": "/opt/venvs/keystone"}]


@pytest.mark.parametrize("value", [
    {"section": "s", "option": "o", "value": "v"},  # a mapping, not a list of them
    ["s.o=v"],
    [{"section": "s", "option": "o"}],
    [{"section": "s", "option": "o", "value": "v", "extra": 1}],
    [{"section": "s/x", "option": "o", "value": "v"}],
    [{"section": "s", "option": "../o", "value": "v"}],
    [{"section": "s", "option": "o", "value": None}],
    [{"section": "s", "option": "o", "value": {"a": 1}}],
    [{"section": "s", "option": "o", "value": ["a"]}],
    [{"section": "s", "option": "o", "value": "a\nb"}],
])
def test_facts_when_changed_entries_need_exactly_section_option_value(value):
    refused("facts_when_changed", value)


@pytest.mark.parametrize("value", ["../x", "a/b", "", 3])
def test_facts_dest_is_a_file_name(value):
    refused("facts_dest", value)


# -- repo_user, repo_group, repo_gid ---------------------------------------------------


def _user_with_other_primary_group():
    """A user whose primary gid differs from its uid (e.g. sync: uid 4, gid 65534)."""
    for entry in pwd.getpwall():
        if entry.pw_uid != entry.pw_gid:
            return entry
    return None


def test_repo_user_gives_its_primary_group():
    root = pwd.getpwuid(0)
    opts = validate(repo_user=root.pw_name)
    assert opts["repo_user"] == root.pw_name
    assert opts["repo_gid"] == root.pw_gid
    entry = _user_with_other_primary_group()
    if entry is not None:
        assert validate(repo_user=entry.pw_name)["repo_gid"] == entry.pw_gid


def test_repo_group_wins_over_repo_user():
    group = grp.getgrgid(os.getgid())
    other = _user_with_other_primary_group() or pwd.getpwuid(0)
    opts = validate(repo_user=other.pw_name, repo_group=group.gr_name)
    assert opts["repo_group"] == group.gr_name
    assert opts["repo_gid"] == group.gr_gid
    assert validate(repo_group=group.gr_gid)["repo_gid"] == group.gr_gid
    assert validate(repo_group=str(group.gr_gid))["repo_gid"] == group.gr_gid


def test_unknown_repo_user_and_group_are_refused():
    refused("repo_user", "no-such-user-venvbuild", match="no such user")
    refused("repo_group", "no-such-group-venvbuild", match="no such group")
    refused("repo_user", True)
    refused("repo_group", ["adm"])


def test_numeric_repo_user_gives_its_primary_group():
    entry = _user_with_other_primary_group()
    if entry is None:
        pytest.skip("no user here whose primary gid differs from its uid")
    assert validate(repo_user=entry.pw_uid)["repo_gid"] == entry.pw_gid


def _unused_id():
    uid = 4242424
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            try:
                grp.getgrgid(uid)
            except KeyError:
                return uid
        uid += 1


def test_numeric_repo_user_without_an_account_is_a_spec_error():
    uid = _unused_id()
    with pytest.raises(SpecError, match="repo_user"):
        validate(repo_user=str(uid))


# -- retries, retry_delay, base_pkgs (the role's retries: 5, delay: 2 and base lists) --


def test_retries_retry_delay_and_base_pkgs_defaults_are_the_roles():
    opts = options.validate({})
    assert (opts["retries"], opts["retry_delay"], opts["base_pkgs"]) == (5, 2.0, True)
    assert {"retries", "retry_delay", "base_pkgs"} <= set(options.BUILD_OPTIONS)


def test_retries_and_retry_delay_take_their_bounds():
    opts = options.validate({"retries": 0, "retry_delay": 0})
    assert (opts["retries"], opts["retry_delay"]) == (0, 0.0)
    opts = options.validate({"retries": options.MAX_RETRIES, "retry_delay": 0.25})
    assert (opts["retries"], opts["retry_delay"]) == (options.MAX_RETRIES, 0.25)


@pytest.mark.parametrize("value", [-1, options.MAX_RETRIES + 1, 1.5, "5", True, [5]])
def test_retries_outside_its_range_is_refused(value):
    assert "must be a whole number from 0 to" in refused("retries", value)


@pytest.mark.parametrize("value", [-1, options.MAX_RETRY_DELAY + 1, float("nan"), "2", True])
def test_retry_delay_outside_its_range_is_refused(value):
    refused("retry_delay", value)


@pytest.mark.parametrize("value", ["false", 0, "no"])
def test_base_pkgs_is_a_boolean(value):
    assert "must be true or false" in refused("base_pkgs", value)
