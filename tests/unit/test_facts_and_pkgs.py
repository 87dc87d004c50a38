"""utils/pkgs.py and utils/facts.py with a dict of mocked Salt functions."""

import configparser
import os
from unittest import mock

import pytest
from salt.exceptions import CommandExecutionError

from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.interpreter import Interpreter
from saltext_venvbuild.utils import facts
from saltext_venvbuild.utils import pkgs

DEBIAN = {"os_family": "Debian", "os": "Debian", "osmajorrelease": 12}
REDHAT = {"os_family": "RedHat", "os": "Rocky", "osmajorrelease": 9}
DIST = "/usr/lib/python3/dist-packages"


def interpreter(major=3, minor=11):
    return Interpreter(
        requested="python3", executable=f"/usr/bin/python{major}.{minor}",
        implementation="cpython", version=f"{major}.{minor}.2", major=major, minor=minor,
        free_threaded=False, machine="x86_64",
    )


# -- pkgs.check_names ---------------------------------------------------------------


def test_check_names_sorts_and_dedupes():
    names = ["python3-yaml", "libvirt-dev", "python3-apt", "libvirt-dev"]
    assert pkgs.check_names(names, "build_pkgs") == ["libvirt-dev", "python3-apt", "python3-yaml"]
    assert pkgs.check_names(("gcc", "g++"), "build_pkgs") == ["g++", "gcc"]


def test_check_names_accepts_real_package_name_shapes():
    names = ["libstdc++6", "python3.11-dev", "libssl3:amd64", "gcc_12", "pkg~beta", "0ad"]
    assert pkgs.check_names(names, "install_pkgs") == sorted(names)


def test_check_names_none_and_empty_are_no_packages():
    assert pkgs.check_names(None, "build_pkgs") == []
    assert pkgs.check_names([], "build_pkgs") == []


@pytest.mark.parametrize("value", ["python3-yaml", "a b", {"python3-yaml": None}, 3, {"x"}])
def test_check_names_refuses_anything_but_a_list(value):
    with pytest.raises(SpecError, match="build_pkgs must be a list of package names"):
        pkgs.check_names(value, "build_pkgs")


@pytest.mark.parametrize(
    "name",
    [
        "-y",
        "--allow-unauthenticated",
        "-o",
        "--force-yes",
        "python3 yaml",
        "python3-yaml;reboot",
        "$(reboot)",
        "`id`",
        "a|b",
        "a&b",
        "a>b",
        "pkg=1.0",
        "../pkg",
        "",
        " ",
        None,
        3,
        ["nested"],
    ],
)
def test_check_names_refuses_what_is_not_a_package_name(name):
    with pytest.raises(SpecError) as exc:
        pkgs.check_names(["python3-yaml", name], "install_pkgs")
    assert str(exc.value) == f"install_pkgs: {name!r} is not a distro package name"


def test_check_names_refuses_a_trailing_newline():
    with pytest.raises(SpecError):
        pkgs.check_names(["python3-yaml\n"], "install_pkgs")


# -- pkgs.ensure --------------------------------------------------------------------


def pkg_functions(version=None, latest=None, install=None):
    """Mocks of the Salt pkg functions ensure uses."""
    return {
        "pkg.refresh_db": mock.Mock(return_value={}),
        "pkg.version": mock.Mock(return_value=version),
        "pkg.latest_version": mock.Mock(return_value=latest),
        "pkg.install": mock.Mock(return_value=install),
    }


def test_ensure_with_no_names_does_nothing():
    salt = pkg_functions()
    assert pkgs.ensure(salt, DEBIAN, [], "present", 600, "build_pkgs") == {}
    assert pkgs.ensure(salt, DEBIAN, None, "latest", 600, "build_pkgs") == {}
    for function in salt.values():
        function.assert_not_called()


def test_ensure_present_installs_only_the_missing_packages():
    changes = {"python3-apt": {"old": "", "new": "2.6.0"}}
    salt = pkg_functions(version={"python3-apt": "", "python3-yaml": "6.0-3+b2"}, install=changes)
    result = pkgs.ensure(salt, DEBIAN, ["python3-apt", "python3-yaml"], "present", 600, "install_pkgs")
    assert result == changes
    salt["pkg.version"].assert_called_once_with("python3-apt", "python3-yaml")
    salt["pkg.install"].assert_called_once_with(pkgs=["python3-apt"], refresh=False)
    salt["pkg.latest_version"].assert_not_called()


def test_ensure_present_with_one_missing_name_reads_the_string_answer():
    # pkg.version returns a plain string for a single name.
    changes = {"libvirt-dev": {"old": "", "new": "9.0.0-4"}}
    salt = pkg_functions(version="", install=changes)
    assert pkgs.ensure(salt, DEBIAN, ["libvirt-dev"], "present", 600, "build_pkgs") == changes
    salt["pkg.version"].assert_called_once_with("libvirt-dev")
    salt["pkg.install"].assert_called_once_with(pkgs=["libvirt-dev"], refresh=False)


def test_ensure_present_with_one_installed_name_installs_nothing():
    salt = pkg_functions(version="9.0.0-4")
    assert pkgs.ensure(salt, DEBIAN, ["libvirt-dev"], "present", 600, "build_pkgs") == {}
    salt["pkg.install"].assert_not_called()


def test_ensure_present_installs_nothing_when_all_are_there():
    salt = pkg_functions(version={"gcc": "4:12.2.0-3", "make": "4.3-4.1"})
    assert pkgs.ensure(salt, DEBIAN, ["gcc", "make"], "present", 600, "build_pkgs") == {}
    salt["pkg.install"].assert_not_called()
    salt["pkg.latest_version"].assert_not_called()


def test_ensure_returns_an_empty_dict_when_pkg_install_returns_nothing():
    salt = pkg_functions(version="", install=None)
    assert pkgs.ensure(salt, DEBIAN, ["gcc"], "present", 600, "build_pkgs") == {}
    salt["pkg.install"].assert_called_once_with(pkgs=["gcc"], refresh=False)


def test_ensure_latest_upgrades_installed_packages_with_a_newer_version():
    installed = {"gcc": "4:12.2.0-3", "make": "4.3-4.1", "python3-apt": ""}
    # pkg.latest_version: "" when the installed version is the newest.
    newer = {"gcc": "4:12.2.0-14", "make": "", "python3-apt": "2.6.0"}
    salt = pkg_functions(version=installed, latest=newer, install={"gcc": {}})
    names = ["gcc", "make", "python3-apt"]
    assert pkgs.ensure(salt, DEBIAN, names, "latest", 600, "build_pkgs") == {"gcc": {}}
    salt["pkg.latest_version"].assert_called_once_with("gcc", "make", "python3-apt", refresh=False)
    salt["pkg.install"].assert_called_once_with(
        pkgs=["python3-apt", {"gcc": "4:12.2.0-14"}], refresh=False
    )


def test_ensure_latest_with_one_name_reads_the_string_answers():
    salt = pkg_functions(version="4:12.2.0-3", latest="4:12.2.0-14", install={"gcc": {}})
    assert pkgs.ensure(salt, DEBIAN, ["gcc"], "latest", 600, "build_pkgs") == {"gcc": {}}
    salt["pkg.latest_version"].assert_called_once_with("gcc", refresh=False)
    salt["pkg.install"].assert_called_once_with(pkgs=[{"gcc": "4:12.2.0-14"}], refresh=False)


def test_ensure_latest_installs_nothing_when_all_are_newest():
    salt = pkg_functions(version={"gcc": "1", "make": "2"}, latest={"gcc": "", "make": ""})
    assert pkgs.ensure(salt, DEBIAN, ["gcc", "make"], "latest", 600, "build_pkgs") == {}
    salt["pkg.install"].assert_not_called()


def test_ensure_refreshes_apt_with_the_cache_valid_time():
    salt = pkg_functions(version="1.0")
    pkgs.ensure(salt, DEBIAN, ["gcc"], "present", "3600", "build_pkgs")
    salt["pkg.refresh_db"].assert_called_once_with(cache_valid_time=3600)


def test_ensure_leaves_metadata_expiry_to_dnf_and_zypper():
    salt = pkg_functions(version="", install={"gcc": {}})
    pkgs.ensure(salt, REDHAT, ["gcc"], "present", 600, "build_pkgs")
    pkgs.ensure(salt, {"os_family": "Suse"}, ["gcc"], "present", 600, "build_pkgs")
    pkgs.ensure(salt, {}, ["gcc"], "present", 600, "build_pkgs")
    salt["pkg.refresh_db"].assert_not_called()
    assert salt["pkg.install"].call_count == 3


def test_refresh_alone():
    salt = pkg_functions()
    pkgs.refresh(salt, DEBIAN, 600)
    salt["pkg.refresh_db"].assert_called_once_with(cache_valid_time=600)
    salt = pkg_functions()
    pkgs.refresh(salt, REDHAT, 600)
    salt["pkg.refresh_db"].assert_not_called()


def test_ensure_names_what_failed_when_pkg_install_fails():
    salt = pkg_functions(version={"python3-apt": "", "python3-yaml": ""})
    salt["pkg.install"].side_effect = CommandExecutionError("E: Unable to locate package python3-apt")
    with pytest.raises(CommandExecutionError) as exc:
        pkgs.ensure(salt, DEBIAN, ["python3-apt", "python3-yaml"], "present", 600, "install_pkgs")
    message = str(exc.value)
    assert message.startswith("install_pkgs: ")
    assert "python3-apt, python3-yaml" in message
    assert "E: Unable to locate package python3-apt" in message


def test_ensure_names_what_failed_when_the_refresh_fails():
    salt = pkg_functions(version="")
    salt["pkg.refresh_db"].side_effect = CommandExecutionError("apt-get update failed")
    with pytest.raises(CommandExecutionError, match="^build_pkgs: .*gcc.*apt-get update failed"):
        pkgs.ensure(salt, DEBIAN, ["gcc"], "present", 600, "build_pkgs")
    salt["pkg.install"].assert_not_called()


# -- pkgs.symlink_sources -----------------------------------------------------------


def file_lists(listings):
    return {"pkg.file_list": mock.Mock(side_effect=lambda name: listings[name])}


def test_symlink_sources_lists_each_package_for_the_venvs_python():
    salt = file_lists({
        "python3-apt": {"errors": [], "files": [
            f"{DIST}/apt/__init__.py",
            f"{DIST}/apt_pkg.cpython-311-x86_64-linux-gnu.so",
            "/usr/share/doc/python3-apt/copyright",
        ]},
        "python3-libvirt": {"errors": [], "files": [
            f"{DIST}/libvirt.py",
            f"{DIST}/libvirtmod.cpython-311-x86_64-linux-gnu.so",
        ]},
    })
    sources = pkgs.symlink_sources(salt, ["python3-apt", "python3-libvirt"], interpreter())
    assert sources == [
        f"{DIST}/apt",
        f"{DIST}/apt_pkg.cpython-311-x86_64-linux-gnu.so",
        f"{DIST}/libvirt.py",
        f"{DIST}/libvirtmod.cpython-311-x86_64-linux-gnu.so",
    ]
    assert salt["pkg.file_list"].call_args_list == [mock.call("python3-apt"), mock.call("python3-libvirt")]


def test_symlink_sources_of_no_packages_is_empty():
    salt = file_lists({})
    assert pkgs.symlink_sources(salt, [], interpreter()) == []
    salt["pkg.file_list"].assert_not_called()


def test_symlink_sources_uses_the_interpreters_version():
    salt = file_lists({"python3-apt": {"errors": [], "files": [
        f"{DIST}/apt_pkg.cpython-311-x86_64-linux-gnu.so"]}})
    with pytest.raises(SpecError, match="python3-apt .*runs Python 3.12"):
        pkgs.symlink_sources(salt, ["python3-apt"], interpreter(3, 12))


def test_symlink_sources_refuses_a_package_it_cannot_list():
    salt = file_lists({"python3-nope": {
        "errors": ["Error:  package python3-nope is not installed"], "files": []}})
    with pytest.raises(SpecError) as exc:
        pkgs.symlink_sources(salt, ["python3-nope"], interpreter())
    message = str(exc.value)
    assert "python3-nope" in message
    assert "cannot list the files" in message
    assert "package python3-nope is not installed" in message


def test_symlink_sources_errors_beside_files_do_not_stop_it():
    salt = file_lists({"python3-yaml": {
        "errors": ["dpkg-query: warning: something minor"],
        "files": [f"{DIST}/yaml/__init__.py"]}})
    assert pkgs.symlink_sources(salt, ["python3-yaml"], interpreter()) == [f"{DIST}/yaml"]


def test_symlink_sources_refuses_a_package_without_python_modules():
    salt = file_lists({"libvirt0": {"errors": [], "files": ["/usr/lib/x86_64-linux-gnu/libvirt.so.0"]}})
    with pytest.raises(SpecError, match="libvirt0 installs no Python 3 module"):
        pkgs.symlink_sources(salt, ["libvirt0"], interpreter())


# -- facts.check --------------------------------------------------------------------


def test_check_defaults():
    assert facts.check(None, "venvbuild") == ([], "venvbuild")
    assert facts.check([], "venvbuild") == ([], "venvbuild")


def test_check_normalizes_valid_facts():
    given = [
        {"section": "keystone", "option": "version", "value": "26.0.0"},
        {"section": "keystone", "option": "restart_needed", "value": True, "extra": "ignored"},
        {"section": "nova-api", "option": "build.count", "value": 3},
    ]
    assert facts.check(given, "openstack_venvs") == (
        [
            {"section": "keystone", "option": "version", "value": "26.0.0"},
            {"section": "keystone", "option": "restart_needed", "value": "True"},
            {"section": "nova-api", "option": "build.count", "value": "3"},
        ],
        "openstack_venvs",
    )
    assert facts.check(tuple(given[:1]), "x")[0] == given[:1]


@pytest.mark.parametrize("dest", ["etc/venvbuild", "/etc/ansible/facts.d/x", "../x", "a b", "", ".hidden", None, 3])
def test_check_refuses_a_dest_that_is_not_a_file_name(dest):
    with pytest.raises(SpecError, match="facts_dest"):
        facts.check(None, dest)


@pytest.mark.parametrize("value", [{"section": "a", "option": "b", "value": "c"}, "a=b", 3])
def test_check_refuses_facts_that_are_not_a_list(value):
    with pytest.raises(SpecError, match="facts_when_changed must be a list"):
        facts.check(value, "venvbuild")


@pytest.mark.parametrize(
    "fact",
    [
        {"section": "keystone", "option": "version"},
        {"section": "keystone", "value": "1"},
        {"option": "version", "value": "1"},
        "keystone.version=1",
        ["keystone", "version", "1"],
    ],
)
def test_check_refuses_incomplete_facts(fact):
    with pytest.raises(SpecError, match="needs section, option and value"):
        facts.check([fact], "venvbuild")


@pytest.mark.parametrize(
    "key, bad",
    [
        ("section", "my section"),
        ("section", "a]b"),
        ("section", "a:b"),  # ':' separates the grain's levels
        ("section", ""),
        ("section", 3),
        ("option", "an option"),
        ("option", "a=b"),
        ("option", "-x"),
        ("option", None),
    ],
)
def test_check_refuses_sections_and_options_that_are_not_simple_names(key, bad):
    fact = {"section": "keystone", "option": "version", "value": "1", key: bad}
    with pytest.raises(SpecError) as exc:
        facts.check([fact], "venvbuild")
    assert str(exc.value) == f"facts_when_changed: {key} {bad!r} is not a simple name"


@pytest.mark.parametrize(
    "fact, dest",
    [
        ({"section": "keystone\n", "option": "version", "value": "1"}, "venvbuild"),
        ({"section": "keystone", "option": "version\n", "value": "1"}, "venvbuild"),
        ({"section": "keystone", "option": "version", "value": "1"}, "venvbuild\n"),
    ],
)
def test_check_refuses_a_trailing_newline(fact, dest):
    with pytest.raises(SpecError):
        facts.check([fact], dest)


# -- facts.write_file ---------------------------------------------------------------


def read_ini(path):
    parser = configparser.ConfigParser(interpolation=None)
    with open(path, encoding="utf-8") as handle:
        parser.read_file(handle)
    return {section: dict(parser[section]) for section in parser.sections()}


def test_write_file_creates_the_directory_and_file(tmp_path):
    facts_dir = tmp_path / "facts.d"
    path = facts.write_file(str(facts_dir), "venvbuild", [
        {"section": "keystone", "option": "version", "value": "26.0.0"},
        {"section": "keystone", "option": "spec_id", "value": "0123456789abcdef"},
        {"section": "nova", "option": "version", "value": "30.0.0"},
    ])
    assert path == str(facts_dir / "venvbuild.fact")
    assert read_ini(path) == {
        "keystone": {"version": "26.0.0", "spec_id": "0123456789abcdef"},
        "nova": {"version": "30.0.0"},
    }
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o644)


def test_write_file_merges_into_an_existing_file(tmp_path):
    existing = tmp_path / "venvbuild.fact"
    existing.write_text(
        "[keystone]\nversion = 25.0.0\nspec_id = aaaaaaaaaaaaaaaa\n\n"
        "[glance]\nversion = 29.0.0\n",
        encoding="utf-8",
    )
    path = facts.write_file(str(tmp_path), "venvbuild", [
        {"section": "keystone", "option": "version", "value": "26.0.0"},
        {"section": "keystone", "option": "restart", "value": "yes"},
        {"section": "nova", "option": "version", "value": "30.0.0"},
    ])
    assert path == str(existing)
    assert read_ini(path) == {
        "keystone": {"version": "26.0.0", "spec_id": "aaaaaaaaaaaaaaaa", "restart": "yes"},
        "glance": {"version": "29.0.0"},
        "nova": {"version": "30.0.0"},
    }
    assert [p.name for p in tmp_path.iterdir()] == ["venvbuild.fact"]  # no temporary left


def test_write_file_keeps_values_literally(tmp_path):
    path = facts.write_file(str(tmp_path), "venvbuild", [
        {"section": "app", "option": "progress", "value": "100%"},
        {"section": "app", "option": "ref", "value": "%(other)s"},
        {"section": "app", "option": "empty", "value": ""},
    ])
    assert read_ini(path) == {"app": {"progress": "100%", "ref": "%(other)s", "empty": ""}}


def test_write_file_with_no_facts_keeps_an_existing_file(tmp_path):
    (tmp_path / "venvbuild.fact").write_text("[a]\nb = c\n", encoding="utf-8")
    path = facts.write_file(str(tmp_path), "venvbuild", [])
    assert read_ini(path) == {"a": {"b": "c"}}


def test_write_file_keeps_the_case_of_option_names(tmp_path):
    (tmp_path / "venvbuild.fact").write_text("[App]\nBuildHost = b1\n", encoding="utf-8")
    path = facts.write_file(str(tmp_path), "venvbuild", [
        {"section": "App", "option": "Version", "value": "1.0"}])
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert "BuildHost = b1" in text
    assert "Version = 1.0" in text


# -- facts.announce -----------------------------------------------------------------


FACTS = [
    {"section": "keystone", "option": "version", "value": "26.0.0"},
    {"section": "keystone", "option": "changed", "value": "True"},
]
EVENT_DATA = {"path": "/opt/venvs/keystone", "old": None, "new": "0123456789abcdef",
              "venv_dir": "/opt/venvs/keystone-0123456789abcdef", "changes": {}}


def salt_functions(send=True):
    return {"grains.set": mock.Mock(return_value={"result": True}),
            "event.send": mock.Mock(return_value=send)}


def test_announce_sets_grains_writes_the_file_and_sends_the_event(tmp_path):
    salt = salt_functions()
    done = facts.announce(salt, str(tmp_path), "keystone", "venvbuild", FACTS, EVENT_DATA)
    assert done == {
        "file": str(tmp_path / "venvbuild.fact"),
        "grains": ["venvbuild:keystone:changed", "venvbuild:keystone:version"],
        "event": "venvbuild/venv/keystone/changed",
    }
    assert salt["grains.set"].call_args_list == [
        mock.call("venvbuild:keystone:version", "26.0.0", force=True),
        mock.call("venvbuild:keystone:changed", "True", force=True),
    ]
    assert read_ini(done["file"]) == {"keystone": {"version": "26.0.0", "changed": "True"}}
    salt["event.send"].assert_called_once_with("venvbuild/venv/keystone/changed", EVENT_DATA)


def test_announce_without_an_event_bus_sends_nothing(tmp_path):
    salt = salt_functions()
    done = facts.announce(salt, str(tmp_path), "keystone", "venvbuild", FACTS, EVENT_DATA,
                          bus_available=False)
    assert done["event"] is None
    salt["event.send"].assert_not_called()
    # The facts are still set.
    assert salt["grains.set"].call_count == 2
    assert done["file"] == str(tmp_path / "venvbuild.fact")
    assert os.path.isfile(done["file"])


def test_announce_survives_an_event_bus_that_fails(tmp_path):
    salt = salt_functions()
    salt["event.send"].side_effect = Exception("Unable to connect to the minion event socket")
    done = facts.announce(salt, str(tmp_path), "keystone", "venvbuild", FACTS, EVENT_DATA)
    assert done["event"] is None
    salt["event.send"].assert_called_once_with("venvbuild/venv/keystone/changed", EVENT_DATA)
    assert done["grains"] == ["venvbuild:keystone:changed", "venvbuild:keystone:version"]


def test_announce_reports_no_event_when_event_send_returns_false(tmp_path):
    salt = salt_functions(send=False)
    done = facts.announce(salt, str(tmp_path), "keystone", "venvbuild", FACTS, EVENT_DATA)
    assert done["event"] is None


def test_announce_without_facts_only_sends_the_event(tmp_path):
    salt = salt_functions()
    for no_facts in ([], None):
        done = facts.announce(salt, str(tmp_path), "nova", "venvbuild", no_facts, EVENT_DATA)
        assert done == {"event": "venvbuild/venv/nova/changed"}
    salt["grains.set"].assert_not_called()
    assert list(tmp_path.iterdir()) == []
    assert salt["event.send"].call_args_list == [
        mock.call("venvbuild/venv/nova/changed", EVENT_DATA)] * 2


def test_announce_merges_facts_of_several_venvs(tmp_path):
    salt = salt_functions()
    facts.announce(salt, str(tmp_path), "keystone", "venvbuild",
                   [{"section": "keystone", "option": "version", "value": "26.0.0"}], EVENT_DATA)
    facts.announce(salt, str(tmp_path), "nova", "venvbuild",
                   [{"section": "nova", "option": "version", "value": "30.0.0"}], EVENT_DATA)
    assert read_ini(str(tmp_path / "venvbuild.fact")) == {
        "keystone": {"version": "26.0.0"}, "nova": {"version": "30.0.0"}}


def test_write_file_over_a_non_ini_file_is_a_clear_error(tmp_path):
    (tmp_path / "venvbuild.fact").write_text('{"json": "facts"}\n')
    with pytest.raises(SpecError, match="is not an INI file"):
        facts.write_file(str(tmp_path), "venvbuild", [{"section": "a", "option": "b", "value": "c"}])
