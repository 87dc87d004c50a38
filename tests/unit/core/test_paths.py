"""Unit tests of saltext_venvbuild.core.paths: which paths venvbuild may manage."""

import os
import pwd

import pytest

from saltext_venvbuild.core import paths
from saltext_venvbuild.core.errors import SpecError


@pytest.fixture
def fake_passwd(monkeypatch):
    """Add users to the passwd database as check_managed_path reads it."""
    extra = []
    real = pwd.getpwall

    def getpwall():
        return real() + extra

    monkeypatch.setattr(paths.pwd, "getpwall", getpwall)

    def add(name, home):
        extra.append(pwd.struct_passwd((name, "x", 4242, 4242, "", home, "/bin/sh")))

    return add


# -- normalize_path (lexical) --------------------------------------------------------


@pytest.mark.parametrize(
    "path, norm",
    [
        ("/opt/venvs/x/", "/opt/venvs/x"),
        ("//opt/venvs/x", "/opt/venvs/x"),
        ("/opt//venvs/./x", "/opt/venvs/x"),
        ("/opt/..x", "/opt/..x"),
        ("/x", "/x"),  # lexical only: the top-level rule is check_managed_path's
        ("/etc/venvbuild", "/etc/venvbuild"),
    ],
)
def test_normalize_path_normalizes(path, norm):
    assert paths.normalize_path(path) == norm


@pytest.mark.parametrize("path", ["/", "/usr", "/opt/", "//srv", "/root", "/var/lib/", "/tmp"])
def test_normalize_path_refuses_system_directories(path):
    with pytest.raises(SpecError, match="refusing a system directory"):
        paths.normalize_path(path)


@pytest.mark.parametrize(
    "path, message",
    [
        ("", "non-empty absolute path string"),
        (None, "non-empty absolute path string"),
        (b"/opt/x", "non-empty absolute path string"),
        ("opt/x", "must be absolute"),
        ("/opt/../x", "must not contain '..'"),
        ("/opt/x\n", "contains the control or line-separator character"),
        ("/opt/x\u2028y", "contains the control or line-separator character"),
    ],
)
def test_normalize_path_refusals(path, message):
    with pytest.raises(SpecError, match=message):
        paths.normalize_path(path, "repo_path")


def test_normalize_path_does_no_io(tmp_path):
    link = tmp_path / "link"
    link.symlink_to("/etc")
    # Lexical only: the link into /etc is check_managed_path's business.
    assert paths.normalize_path(str(link / "x")) == str(link / "x")
    with pytest.raises(SpecError, match="inside /etc"):
        paths.check_managed_path(str(link / "x"))


# -- check_managed_path -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/usr", "/opt", "/srv/", "/usr/local/", "/var/lib", "/etc", "/home", "//opt", "///usr",
     "/usr/./", "/opt//", "/root", "/var/log", "/usr/lib", "/var/www", "/nix"],
)
def test_system_directories_are_refused(path):
    with pytest.raises(SpecError, match="refusing a system directory"):
        paths.check_managed_path(path)


@pytest.mark.parametrize(
    "path, tree",
    [
        ("/etc/venvs/x", "/etc"),
        ("/etc/x", "/etc"),
        ("/usr/lib/venvs", "/usr/lib"),
        ("/usr/lib/python3/dist-packages", "/usr/lib"),
        ("/var/log/venvbuild", "/var/log"),
        ("/proc/self", "/proc"),
        ("/sys/kernel/x", "/sys"),
        ("/dev/shm/x", "/dev"),
        ("/run/venvbuild", "/run"),
        ("/boot/x", "/boot"),
        ("/usr/share/x/y", "/usr/share"),
        ("/var/spool/cron", "/var/spool"),
    ],
)
def test_paths_inside_system_trees_are_refused(path, tree):
    with pytest.raises(SpecError, match=f"refusing a path inside {tree}, which belongs to the system"):
        paths.check_managed_path(path)


@pytest.mark.parametrize("path", ["/x", "/venvs", "/data/"])
def test_top_level_paths_are_refused(path):
    with pytest.raises(SpecError, match="refusing a top-level directory"):
        paths.check_managed_path(path)


@pytest.mark.parametrize("path", ["/home/alice", "/home/someone-else/", "/home/x"])
def test_direct_children_of_home_are_refused(path):
    with pytest.raises(SpecError, match="refusing the home directory of a user"):
        paths.check_managed_path(path)


def test_a_home_directory_from_the_passwd_database_is_refused(fake_passwd):
    fake_passwd("alice", "/srv/people/alice/")
    with pytest.raises(SpecError, match="refusing the home directory of user alice"):
        paths.check_managed_path("/srv/people/alice")
    # Below it or beside it is fine.
    assert paths.check_managed_path("/srv/people/alice/venvs") == "/srv/people/alice/venvs"
    assert paths.check_managed_path("/srv/people/bob") == "/srv/people/bob"


def test_real_passwd_homes_are_refused():
    checked = 0
    for entry in pwd.getpwall():
        home = os.path.normpath(entry.pw_dir or "/")
        if home in ("/", "/nonexistent") or home.count("/") < 2:
            continue
        with pytest.raises(SpecError):
            paths.check_managed_path(home)
        checked += 1
    with pytest.raises(SpecError, match="refusing a system directory"):
        paths.check_managed_path("/root")  # root's home is a system directory
    if not checked:
        pytest.skip("no user with a home below the top level in this passwd database")


@pytest.mark.parametrize("home", ["/", "/nonexistent"])
def test_placeholder_homes_do_not_refuse_anything(fake_passwd, home):
    fake_passwd("svc", home)
    assert paths.check_managed_path("/opt/venvs/x") == "/opt/venvs/x"


def test_home_children_are_not_home_directories():
    assert paths.check_managed_path("/home/alice/venvs") == "/home/alice/venvs"


@pytest.mark.parametrize("path", ["opt/venvs/x", "./x", "venv", "~/venvs/x"])
def test_relative_paths_are_refused(path):
    with pytest.raises(SpecError, match="must be absolute"):
        paths.check_managed_path(path)


@pytest.mark.parametrize("path", ["/opt/venvs/../x", "/opt/venvs/x/..", "/../opt/venvs/x"])
def test_dotdot_components_are_refused(path):
    with pytest.raises(SpecError, match="must not contain '..'"):
        paths.check_managed_path(path)


@pytest.mark.parametrize(
    "path",
    ["/opt/venvs/x\0", "/opt/venvs/x\ny", "/opt/venvs/x\ry", "/opt/venvs/x\fy", "/opt/venvs/x\x85",
     "/opt/venvs/x\u2029", "/opt/venvs/\u202ex", "/opt/venvs/x\ty"],
)
def test_control_and_line_separator_characters_are_refused(path):
    with pytest.raises(SpecError, match="contains the control or line-separator character"):
        paths.check_managed_path(path)


@pytest.mark.parametrize("path", ["", None, 5, b"/opt/venvs/x"])
def test_non_strings_and_empty_are_refused(path):
    with pytest.raises(SpecError, match="non-empty absolute path string"):
        paths.check_managed_path(path)


@pytest.mark.parametrize(
    "path, norm",
    [
        ("/opt/venvs/x/", "/opt/venvs/x"),
        ("/opt/venvs/x", "/opt/venvs/x"),
        ("/opt//venvs/./x", "/opt/venvs/x"),
        ("//srv/venvbuild", "/srv/venvbuild"),
        ("/opt/..x", "/opt/..x"),
        ("/var/lib/venvbuild", "/var/lib/venvbuild"),
        ("/usr/local/venvs", "/usr/local/venvs"),
        ("/root/venvs", "/root/venvs"),
    ],
)
def test_dedicated_directories_are_accepted_and_normalized(path, norm):
    assert paths.check_managed_path(path) == norm


def test_refusal_names_what_was_checked():
    with pytest.raises(SpecError, match=r"^repo_path 'srv'"):
        paths.check_managed_path("srv", "repo_path")


def test_a_path_through_a_link_into_etc_is_refused(tmp_path):
    (tmp_path / "venvs").symlink_to("/etc")
    path = str(tmp_path / "venvs" / "keystone")
    with pytest.raises(SpecError) as info:
        paths.check_managed_path(path)
    assert "refusing a path inside /etc" in str(info.value)
    assert "(it resolves to /etc/keystone)" in str(info.value)


@pytest.mark.parametrize(
    "target, rest, message",
    [
        ("/", "x", "refusing a top-level directory (it resolves to /x)"),
        ("/", "usr", "refusing a system directory (it resolves to /usr)"),
        ("/home", "alice", "refusing the home directory of a user (it resolves to /home/alice)"),
        ("/usr/lib", "python3", "refusing a path inside /usr/lib (it resolves to /usr/lib/python3)"),
    ],
)
def test_paths_through_links_are_checked_where_they_lead(tmp_path, target, rest, message):
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(SpecError) as info:
        paths.check_managed_path(str(tmp_path / "link" / rest))
    assert message in str(info.value)


def test_a_path_through_a_chain_of_links_is_refused(tmp_path):
    (tmp_path / "one").symlink_to(tmp_path / "two")
    (tmp_path / "two").symlink_to("/var/log")
    with pytest.raises(SpecError, match="inside /var/log"):
        paths.check_managed_path(str(tmp_path / "one" / "venv"))


def test_a_path_through_a_harmless_link_is_returned_as_given(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    path = str(tmp_path / "link" / "venv")
    assert paths.check_managed_path(path) == path


def test_a_path_through_a_link_to_a_passwd_home_is_refused(tmp_path, fake_passwd):
    fake_passwd("carol", str(tmp_path / "carol"))
    (tmp_path / "people").symlink_to(tmp_path)
    with pytest.raises(SpecError, match="home directory of user carol"):
        paths.check_managed_path(str(tmp_path / "people" / "carol"))
