"""core/argpolicy.py: the allow-lists of options and variables handed to pip and uv.

Every list is checked against the docs (docs/usage.md lists the same names)
and against the real parsers: pip's optparse parsers of ``pip wheel`` and
``pip install`` and uv's ``uv pip install`` must read every allowed option as
the option it is, taking a value exactly when the list says so.
"""

import optparse
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from saltext_venvbuild.core import argpolicy
from saltext_venvbuild.core.argpolicy import BUILD_ARGS
from saltext_venvbuild.core.argpolicy import PIP_INSTALL_ARGS
from saltext_venvbuild.core.argpolicy import UV_INSTALL_ARGS
from saltext_venvbuild.core.errors import SpecError

USAGE = pathlib.Path(__file__).resolve().parents[3] / "docs" / "usage.md"
LISTS = {"build_args": BUILD_ARGS, "pip": PIP_INSTALL_ARGS, "uv": UV_INSTALL_ARGS}
SECRET = "s3cr3t-argpolicy"


def check(args, which):
    return argpolicy.check_args(list(args), "build_args", LISTS[which])


def refused(args, which, match=None):
    with pytest.raises(SpecError, match=match) as info:
        check(args, which)
    return str(info.value)


# -- the docs list exactly what the code allows -------------------------------------


def _docs_args_table():
    text = USAGE.read_text()
    table = text.split("| option | value | `build_args` |", 1)[1].split("\n\n", 1)[0]
    lists = {"build_args": (set(), set()), "pip": (set(), set()), "uv": (set(), set())}
    pip_only = set()
    for row in table.splitlines()[2:]:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        names = re.findall(r"`([^`]+)`", cells[0])
        assert names, row
        takes_value = bool(cells[1])
        for which, cell in zip(("build_args", "pip", "uv"), cells[2:]):
            assert cell in ("", "yes", "yes (pip only)"), row
            if cell:
                lists[which][takes_value].update(names)
            if cell == "yes (pip only)":
                pip_only.update(names)
    return lists, pip_only


def test_the_docs_list_every_allowed_option_with_its_value():
    lists, _pip_only = _docs_args_table()
    for which, allowed in LISTS.items():
        flags, values = lists[which]
        assert flags == set(allowed.flags), which
        assert values == set(allowed.values), which


def test_the_docs_list_every_allowed_variable():
    text = USAGE.read_text()
    table = text.split("| variables | for |", 1)[1].split("\n\n", 1)[0]
    listed = set()
    for row in table.splitlines()[2:]:
        listed.update(re.findall(r"`([^`]+)`", row.strip().strip("|").split("|")[0]))
    assert listed == set(argpolicy.ENV_NAMES) | set(argpolicy.ENV_PATTERNS)


def test_an_option_takes_a_value_or_not_never_both():
    for allowed in [*LISTS.values(), argpolicy.ANY_INSTALL_ARGS]:
        assert not allowed.flags & allowed.values, allowed.what


def test_error_messages_point_at_the_docs_section():
    assert "### Allowed options and variables" in USAGE.read_text()
    assert "Allowed options and variables" in refused(["--target", "/x"], "pip")


# -- the real parsers read the lists as the lists say ---------------------------------


def _pip_parser(command):
    commands = pytest.importorskip("pip._internal.commands")
    return commands.create_command(command).parser


@pytest.mark.parametrize("command, allowed", [("wheel", BUILD_ARGS), ("install", BUILD_ARGS),
                                              ("install", PIP_INSTALL_ARGS)])
def test_pip_reads_every_allowed_option_as_itself(command, allowed):
    """Exact names: optparse prefers an exact match to an abbreviation, so each is the
    option it says, with or without a value as listed."""
    parser = _pip_parser(command)
    missing = []
    for name in allowed.names():
        option = parser.get_option(name)
        if option is None:
            # An older pip without it (pip 23.0 has neither -C nor --keyring-provider)
            # must refuse it, not read it as another option.
            if name.startswith("--"):
                with pytest.raises(optparse.BadOptionError):
                    parser._match_long_opt(name)  # pylint: disable=protected-access
            missing.append(name)
            continue
        assert option.takes_value() == (name in allowed.values), name
    assert len(missing) < len(allowed.names()) / 4, missing  # the pip here is not that old


def _uv():
    beside = os.path.join(os.path.dirname(sys.executable), "uv")
    found = beside if os.access(beside, os.X_OK) else shutil.which("uv")
    if not found:
        try:
            import uv  # pylint: disable=import-outside-toplevel

            found = uv.find_uv_bin()
        except (ImportError, FileNotFoundError):
            pytest.skip("uv is not installed")
    return found


def _uv_reads(uv, name):
    """'flag', 'value' or 'unknown': how ``uv pip install`` reads ``name``."""
    proc = subprocess.run([uv, "pip", "install", name, "--help"], capture_output=True, text=True,
                          check=False, timeout=60)
    if proc.returncode == 0:
        return "flag"
    if "a value is required for" in proc.stderr:
        return "value"
    assert "unexpected argument" in proc.stderr, proc.stderr
    return "unknown"


def test_uv_reads_every_allowed_option_as_itself():
    uv = _uv()
    for name in UV_INSTALL_ARGS.names():
        expected = "value" if name in UV_INSTALL_ARGS.values else "flag"
        assert _uv_reads(uv, name) == expected, name


def test_build_args_mean_the_same_to_uv_or_nothing():
    """With install_tool uv, build_args also go to ``uv pip install`` (the builder
    environment): uv reads each as the same kind of option, or refuses it, and the docs
    mark those it refuses."""
    uv = _uv()
    _lists, pip_only = _docs_args_table()
    for name in BUILD_ARGS.names():
        read = _uv_reads(uv, name)
        if read == "unknown":
            assert name in pip_only, name
        else:
            assert read == ("value" if name in BUILD_ARGS.values else "flag"), name


# -- refused options ------------------------------------------------------------------

# Options that write where the caller says, install elsewhere, run other code, read
# other files or switch a check off, in pip's and uv's spellings.
WRITES_ELSEWHERE = [
    "--report", "--log", "--log-file", "--local-log", "--cache-dir", "--src", "--source",
    "--source-dir", "--source-directory", "--build", "--target", "-t", "--prefix", "--root",
    "--user", "--home", "--wheel-dir", "-w", "--editable", "-e", "--python", "-p", "--system",
    "--break-system-packages", "--root-user-action", "--global-option", "--build-option",
    "--install-option", "--exists-action", "--no-clean", "--python-version", "--platform",
    "--directory", "--project", "--config-file", "--no-verify-hashes", "--dry-run", "--upgrade",
    "-U", "--force-reinstall", "--ignore-installed", "-I", "--use-deprecated", "--debug",
    "--requirement", "-r", "--requirements", "--constraint", "-c", "--constraints", "--overrides",
    "--build-constraints", "-b", "--excludes", "--target-dir", "--no-index-url", "--help", "-h",
    "--isolated",  # pip then drops PIP_CACHE_DIR: its cache would move under HOME
]


@pytest.mark.parametrize("which", LISTS)
@pytest.mark.parametrize("option", WRITES_ELSEWHERE)
def test_refused_options_are_refused_naming_them(which, option):
    for args in ([option, "/tmp/elsewhere"], [f"{option}=/tmp/elsewhere"], [option]):
        if option.startswith("--") or "=" not in args[0]:
            message = refused(args, which)
            assert option in message
            assert "/tmp/elsewhere" not in message


@pytest.mark.parametrize("which", LISTS)
@pytest.mark.parametrize("option", ["-t", "-e", "-p", "-w", "-r", "-c", "-b", "-U", "-I"])
def test_refused_short_options_are_refused_in_clusters_and_attached(which, option):
    letter = option[1]
    for args in ([f"-q{letter}", "/x"], [f"-{letter}/x"], [f"-vq{letter}/x"]):
        assert f"-{letter}" in refused(args, which)


@pytest.mark.parametrize("which", LISTS)
@pytest.mark.parametrize("abbreviation", ["--targ", "--repo", "--rep", "--cache", "--pref", "--us",
                                          "--edit", "--ro", "--lo", "--src-d", "--wheel",
                                          "--no-ind", "--index-u", "--extra", "--find", "--trusted",
                                          "--no-build-iso", "--verb", "--qui"])
def test_abbreviations_are_refused(which, abbreviation):
    """pip would expand an unambiguous prefix (``--targ`` is ``--target``); none is
    accepted, not even of an allowed option, since uv would not expand it."""
    for args in ([abbreviation, "x"], [f"{abbreviation}=x"]):
        message = refused(args, which)
        assert abbreviation in message


def test_an_abbreviation_of_an_allowed_option_says_which():
    assert "--no-index" in refused(["--no-ind"], "pip", match="abbreviation")
    assert "--verbose" in refused(["--verb"], "uv", match="abbreviation")


@pytest.mark.parametrize("which", LISTS)
def test_constraints_and_requirements_point_at_their_options(which):
    assert "constraints or global_constraints" in refused(["-c", "/etc/shadow"], which)
    assert "constraints or global_constraints" in refused(["--constraint=/etc/shadow"], which)
    assert "packages" in refused(["-r", "/etc/shadow"], which)
    assert "packages" in refused(["--requirement", "/etc/shadow"], which)


@pytest.mark.parametrize("which", LISTS)
@pytest.mark.parametrize("args", [["/tmp/evil-package"], ["vbdep==1.0"], ["--", "/x"], ["-"],
                                  ["--no-index", "/tmp/evil"], [""], ["---target"], ["-/"]])
def test_bare_arguments_are_refused(which, args):
    message = refused(args, which)
    assert "/tmp/evil" not in message and "vbdep" not in message


# -- values -----------------------------------------------------------------------------


@pytest.mark.parametrize("which", LISTS)
def test_a_flag_takes_no_value(which):
    assert "takes no value" in refused(["--no-index=/x"], which)
    assert "takes no value" in refused(["--no-index=1"], which)


@pytest.mark.parametrize("which", LISTS)
@pytest.mark.parametrize("args", [["--index-url", "--target"], ["--index-url", "-t"],
                                  ["--index-url=--target=/x"], ["-i", "-t/x"], ["-i-t/x"],
                                  ["--find-links", "--report", "/x"]])
def test_a_value_never_starts_with_a_dash(which, args):
    """pip takes the next argument as the value whatever it is; uv would read an option:
    both must read the same, so such a value is refused."""
    assert "starts with '-'" in refused(args, which)


@pytest.mark.parametrize("which", LISTS)
@pytest.mark.parametrize("args", [["--index-url"], ["--no-index", "-i"], ["-qf"],
                                  ["--index-url="], ["--index-url", ""]])
def test_a_value_is_required(which, args):
    message = refused(args, which)
    assert "needs a value" in message or "empty value" in message


@pytest.mark.parametrize("which", LISTS)
def test_short_option_with_equals_is_refused(which):
    """pip reads ``-i=URL`` as the value ``=URL``, uv as ``URL``."""
    assert "not -i=VALUE" in refused(["-i=https://mirror/simple"], which)


@pytest.mark.parametrize("which", LISTS)
@pytest.mark.parametrize("args", [
    ["--index-url", "https://mirror.example/simple"],
    ["--index-url=https://mirror.example/simple"],
    ["-i", "https://mirror.example/simple"], ["-ihttps://mirror.example/simple"],
    ["-qi", "https://mirror.example/simple"], ["-vqihttps://mirror.example/simple"],
    ["--find-links", "/srv/sdists", "--no-index"], ["-f/srv/sdists"], ["-f", "/srv/sdists"],
    ["-q"], ["-qq"], ["-vvv"], ["-qv"], ["--verbose", "--quiet"],
    ["--no-binary", ":all:"], ["--only-binary=:all:"], ["-C", "editable_mode=compat"],
    ["-Ceditable_mode=compat"], ["--config-settings=editable_mode=compat"],
    ["--no-build-isolation", "--pre", "--no-deps"],
    ["--keyring-provider", "disabled"],
])
def test_options_of_every_list_are_accepted_in_every_form(which, args):
    assert check(args, which) == tuple(args)


@pytest.mark.parametrize("which", LISTS)
def test_every_allowed_option_is_accepted_with_or_without_a_value_as_it_takes(which):
    allowed = LISTS[which]
    for name in allowed.flags:
        assert check([name], which) == (name,)
    for name in allowed.values:
        assert check([name, "x"], which) == (name, "x")
        if name.startswith("--"):
            assert check([f"{name}=x"], which) == (f"{name}=x",)
        else:
            assert check([f"{name}x"], which) == (f"{name}x",)


@pytest.mark.parametrize("which, args", [
    ("build_args", ["--timeout", "60", "--retries", "2", "--proxy", "http://proxy:3128"]),
    ("build_args", ["--trusted-host", "mirror", "--extra-index-url", "https://m/simple"]),
    ("build_args", ["--prefer-binary", "--use-pep517", "--no-cache-dir"]),
    ("build_args", ["--cert", "/etc/ssl/ca.pem", "--client-cert", "/etc/ssl/me.pem"]),
    ("build_args", ["--progress-bar", "off"]),
    ("pip", ["--compile", "--no-warn-script-location", "--upgrade-strategy", "eager"]),
    ("pip", ["--no-compile", "--no-warn-conflicts", "--require-hashes"]),
    ("uv", ["--compile-bytecode", "--link-mode", "copy", "--index-strategy", "first-index"]),
    ("uv", ["--index", "https://m/simple", "--default-index", "https://m/simple"]),
    ("uv", ["--config-setting", "a=b", "--native-tls", "--offline", "--refresh", "--reinstall"]),
    ("uv", ["--allow-insecure-host", "mirror", "--trusted-host", "mirror", "-n"]),
])
def test_what_operators_pass_is_accepted(which, args):
    assert check(args, which) == tuple(args)


@pytest.mark.parametrize("which, args", [
    ("pip", ["--compile-bytecode"]), ("pip", ["--link-mode", "copy"]), ("pip", ["--offline"]),
    ("uv", ["--timeout", "60"]), ("uv", ["--proxy", "http://p"]), ("uv", ["--prefer-binary"]),
    ("uv", ["--no-warn-script-location"]), ("build_args", ["--compile-bytecode"]),
    ("build_args", ["--compile"]), ("build_args", ["--index", "https://m/simple"]),
])
def test_one_tools_options_are_not_given_to_the_other(which, args):
    assert args[0] in refused(args, which)


# -- no value is ever shown -----------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["--index-url", f"https://u:{SECRET}@h/simple", "--target", "/x"],
    ["--index-url", f"-{SECRET}"], [f"--index-url=-{SECRET}"], [f"-i-{SECRET}"],
    [f"--target={SECRET}"], [f"--proxy=http://u:{SECRET}@p", f"{SECRET}"],
    [f"{SECRET}"], [f"--{SECRET}@h/"], [f"-{SECRET}"], [f"---{SECRET}"],
    ["--no-index", f"https://u:{SECRET}@h/"], [f"--no-index={SECRET}"],
    [f"-i={SECRET}"],
])
def test_refusals_never_show_a_value(args):
    message = refused(args, "pip")
    assert SECRET not in message


# -- environment variables ---------------------------------------------------------------

REFUSED_ENV = [
    "PIP_TARGET", "PIP_PREFIX", "PIP_ROOT", "PIP_USER", "PIP_SRC", "PIP_LOG", "PIP_LOG_FILE",
    "PIP_REPORT", "PIP_CACHE_DIR", "PIP_CONFIG_FILE", "PIP_REQUIREMENT", "PIP_CONSTRAINT",
    "PIP_EDITABLE", "PIP_PYTHON", "PIP_WHEEL_DIR", "PIP_BUILD", "PIP_EXISTS_ACTION",
    "PIP_ROOT_USER_ACTION", "PIP_GLOBAL_OPTION", "PIP_BREAK_SYSTEM_PACKAGES",
    "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONINSPECT",
    "PYTHONSAFEPATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "PATH", "HOME", "TMPDIR",
    "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "SHELL", "BASH_ENV", "ENV", "IFS",
    "UV_CACHE_DIR", "UV_CONFIG_FILE", "UV_NO_CONFIG", "UV_TOOL_DIR", "UV_PYTHON",
    "UV_PYTHON_INSTALL_DIR", "UV_PYTHON_DOWNLOADS", "UV_PROJECT_ENVIRONMENT", "UV_SYSTEM_PYTHON",
    "UV_BREAK_SYSTEM_PACKAGES", "UV_NO_VERIFY_HASHES", "UV_REQUIRE_HASHES", "UV_WORKING_DIR",
    "UV_PROJECT", "UV_CONSTRAINT", "UV_BUILD_CONSTRAINT", "UV_OVERRIDE", "UV_TARGET",
    "UV_PREFIX", "UV_INSTALL_DIR", "UV_CACHE_DIR_", "SOURCE_DATE_EPOCH", "CARGO_HOME",
    "RUSTUP_HOME", "DISTUTILS_DEBUG", "SETUPTOOLS_USE_DISTUTILS", "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_",
    "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_lower", "UV_INDEX__USERNAME", "UV_INDEX_X_TOKEN",
    # Case variants: pip reads PIP_tArGeT as PIP_TARGET.
    "PIP_tArGeT", "PIP_target", "Pip_Index_Url", "pip_index_url", "Http_Proxy", "cc",
]


@pytest.mark.parametrize("name", REFUSED_ENV)
def test_refused_variables_are_refused_naming_them(name):
    with pytest.raises(SpecError) as info:
        argpolicy.check_env_name(name, "install_env")
    assert str(info.value).startswith(f"install_env: {name} is not allowed")


@pytest.mark.parametrize("name", sorted(argpolicy.ENV_NAMES) + [
    "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_MY_PACKAGE", "UV_INDEX_INTERNAL_USERNAME",
    "UV_INDEX_INTERNAL_PASSWORD", "UV_INDEX_A1_PASSWORD"])
def test_allowed_variables_are_accepted(name):
    assert argpolicy.check_env_name(name, "build_env") == name


# -- URL credentials that logs could not hide ---------------------------------------------


@pytest.mark.parametrize("which", LISTS)
@pytest.mark.parametrize("value", [f"https://u:{SECRET}/x@mirror/simple",
                                   f"https://u:{SECRET} x@mirror/simple",
                                   f"https://u:{SECRET}#x@mirror/simple",
                                   f"https://u:{SECRET}?x@mirror/simple"])
@pytest.mark.parametrize("option", ["--index-url", "-i", "--extra-index-url", "--find-links",
                                    "-f"])
def test_a_url_whose_credentials_logs_could_not_hide_is_refused(which, value, option):
    message = refused([option, value], which, match="percent-encode")
    assert SECRET not in message and option in message


@pytest.mark.parametrize("value", ["https://user:t0ken@mirror/simple", "https://mirror/simple",
                                   "https://t0ken@mirror/simple", "/srv/sdists@2024",
                                   "https://user:t%2Fk%40n@mirror/simple"])
def test_urls_with_well_formed_credentials_are_accepted(value):
    assert check(["--index-url", value, "-f", value], "pip") == ("--index-url", value, "-f", value)


def test_proxy_credentials_are_checked_too():
    assert check(["--proxy", "http://u:p@proxy:3128"], "pip")
    refused(["--proxy=http://u:p/q@proxy:3128"], "pip", match="percent-encode")
