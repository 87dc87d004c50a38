"""utils/pkgs.py: distro packages through a dict of mocked Salt ``pkg`` functions.

The names ``ensure`` receives were checked by the module's option validation
(``core.options.check_package_names``, formerly ``pkgs.check_names``); the
table is tested in depth in tests/unit/core/test_options.py, and the old
assertions about the shapes of names are kept here at the end.
"""

from unittest import mock

import pytest
from salt.exceptions import CommandExecutionError

from saltext_venvbuild.core import retry
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.interpreter import Interpreter
from saltext_venvbuild.core.options import check_package_names
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


def pkg_functions(version=None, latest=None, install=None):
    """Mocks of the Salt pkg functions ensure uses."""
    return {
        "pkg.refresh_db": mock.Mock(return_value={}),
        "pkg.version": mock.Mock(return_value=version),
        "pkg.latest_version": mock.Mock(return_value=latest),
        "pkg.install": mock.Mock(return_value=install),
    }


# -- ensure -------------------------------------------------------------------------


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


def test_ensure_present_with_no_answer_for_one_name_installs_it():
    # pkg.version may answer None (not a string) for a name it does not know.
    salt = pkg_functions(version=None, install={"gcc": {}})
    assert pkgs.ensure(salt, DEBIAN, ["gcc"], "present", 600, "build_pkgs") == {"gcc": {}}
    salt["pkg.install"].assert_called_once_with(pkgs=["gcc"], refresh=False)


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


def test_ensure_refreshes_with_a_whole_number_of_seconds():
    # The option table normalizes seconds to a float; apt wants an integer.
    salt = pkg_functions(version="1.0")
    pkgs.ensure(salt, DEBIAN, ["gcc"], "present", 600.0, "build_pkgs")
    salt["pkg.refresh_db"].assert_called_once_with(cache_valid_time=600)
    assert isinstance(salt["pkg.refresh_db"].call_args.kwargs["cache_valid_time"], int)


def test_ensure_refreshes_before_it_looks_at_versions():
    salt = pkg_functions(version="", install={"gcc": {}})
    calls = mock.Mock()
    for name, function in salt.items():
        calls.attach_mock(function, name.replace(".", "_"))
    pkgs.ensure(salt, DEBIAN, ["gcc"], "present", 600, "build_pkgs")
    assert [c[0] for c in calls.mock_calls] == ["pkg_refresh_db", "pkg_version", "pkg_install"]


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
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_ensure_names_what_failed_when_the_refresh_fails():
    salt = pkg_functions(version="")
    salt["pkg.refresh_db"].side_effect = CommandExecutionError("apt-get update failed")
    with pytest.raises(CommandExecutionError, match="^build_pkgs: .*gcc.*apt-get update failed"):
        pkgs.ensure(salt, DEBIAN, ["gcc"], "present", 600, "build_pkgs")
    salt["pkg.install"].assert_not_called()


def test_ensure_names_what_failed_when_latest_version_fails():
    salt = pkg_functions(version="1.0")
    salt["pkg.latest_version"].side_effect = CommandExecutionError("repo metadata broken")
    with pytest.raises(CommandExecutionError, match="^venv /opt/venvs/x: install_pkgs: .*gcc"):
        pkgs.ensure(salt, REDHAT, ["gcc"], "latest", 600, "venv /opt/venvs/x: install_pkgs")
    salt["pkg.install"].assert_not_called()


def test_ensure_retries_a_held_lock_with_backoff_then_installs(monkeypatch, caplog):
    waits = []
    monkeypatch.setattr(pkgs.retry.time, "sleep", waits.append)
    salt = pkg_functions(version="", install={"gcc": {"old": "", "new": "12"}})
    lock = CommandExecutionError("Problem encountered installing package(s)", info={"errors": [
        "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4321 (apt-get)"]})
    salt["pkg.install"].side_effect = [lock, lock, {"gcc": {"old": "", "new": "12"}}]
    changes = pkgs.ensure(salt, DEBIAN, ["gcc"], "present", 600, "build_pkgs",
                          policy=retry.Policy(retries=5, delay=0.5))
    assert changes == {"gcc": {"old": "", "new": "12"}}
    assert salt["pkg.install"].call_count == 3
    assert waits == [0.5, 1.0]
    failed = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
    assert len(failed) == 2 and "Could not get lock" in failed[0]


def test_ensure_gives_up_after_the_retries_naming_them(monkeypatch):
    monkeypatch.setattr(pkgs.retry.time, "sleep", lambda seconds: None)
    salt = pkg_functions(version="")
    salt["pkg.install"].side_effect = CommandExecutionError(
        "E: Failed to fetch http://deb.debian.org/debian/pool/main/s/sl/sl_5.02-1%2bb1_amd64.deb  "
        "Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)")
    with pytest.raises(CommandExecutionError, match="failed 3 times with a passing cause"):
        pkgs.ensure(salt, DEBIAN, ["sl"], "present", 600, "install_pkgs",
                    policy=retry.Policy(retries=2, delay=0))
    assert salt["pkg.install"].call_count == 3


def test_ensure_does_not_retry_a_package_that_does_not_exist(monkeypatch):
    monkeypatch.setattr(pkgs.retry.time, "sleep", lambda seconds: pytest.fail("slept"))
    salt = pkg_functions(version="")
    salt["pkg.install"].side_effect = CommandExecutionError("E: Unable to locate package nosuch")
    with pytest.raises(CommandExecutionError, match="Unable to locate package nosuch"):
        pkgs.ensure(salt, DEBIAN, ["nosuch"], "present", 600, "install_pkgs")
    assert salt["pkg.install"].call_count == 1


def test_installed_names_are_pkg_list_pkgs_keys():
    salt = {"pkg.list_pkgs": mock.Mock(return_value={"gcc": "4:12.2.0-3", "libc6": "2.36-9"})}
    assert pkgs.installed_names(salt) == {"gcc", "libc6"}
    salt["pkg.list_pkgs"].side_effect = CommandExecutionError("dpkg-query failed")
    with pytest.raises(CommandExecutionError, match="cannot list the installed packages: dpkg"):
        pkgs.installed_names(salt)


# -- symlink_sources ----------------------------------------------------------------


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


@pytest.mark.parametrize("listing", [None, "", [], "not a dict"])
def test_symlink_sources_treats_a_listing_that_is_not_a_dict_as_no_files(listing):
    salt = {"pkg.file_list": mock.Mock(return_value=listing)}
    with pytest.raises(SpecError, match="python3-x installs no Python 3 module"):
        pkgs.symlink_sources(salt, ["python3-x"], interpreter())


# -- the names ensure receives (core.options.check_package_names, was pkgs.check_names) --


def test_check_names_sorts_and_dedupes():
    names = ["python3-yaml", "libvirt-dev", "python3-apt", "libvirt-dev"]
    assert check_package_names(names, "build_pkgs") == ["libvirt-dev", "python3-apt", "python3-yaml"]
    assert check_package_names(("gcc", "g++"), "build_pkgs") == ["g++", "gcc"]


def test_check_names_accepts_real_package_name_shapes():
    names = ["libstdc++6", "python3.11-dev", "libssl3:amd64", "gcc_12", "pkg~beta", "0ad"]
    assert check_package_names(names, "install_pkgs") == sorted(names)


def test_check_names_none_and_empty_are_no_packages():
    assert check_package_names(None, "build_pkgs") == []
    assert check_package_names([], "build_pkgs") == []


@pytest.mark.parametrize("value", ["python3-yaml", "a b", {"python3-yaml": None}, 3, {"x"}])
def test_check_names_refuses_anything_but_a_list(value):
    with pytest.raises(SpecError, match="build_pkgs must be a list of package names"):
        check_package_names(value, "build_pkgs")


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
        " gcc",
        3,
        ["nested"],
        "python3-yaml\n",
    ],
)
def test_check_names_refuses_what_is_not_a_package_name(name):
    with pytest.raises(SpecError) as exc:
        check_package_names(["python3-yaml", name], "install_pkgs")
    assert str(exc.value) == f"install_pkgs: {name!r} is not a distro package name"


@pytest.mark.parametrize("blank", ["", " ", None])
def test_check_names_drops_empty_entries_as_the_role_selects_them(blank):
    """OSA's templates write '' into package lists through ternary."""
    assert check_package_names([blank, "python3-yaml", blank], "install_pkgs") == ["python3-yaml"]
