"""Unit tests of saltext_venvbuild.core.layout: a venv's layout, what is at its path,
what venvbuild may replace and remove.

The managed layouts here are built by hand as the installer leaves them::

    <parent>/<name> -> .<name>.versions/<spec id>-<time>        (a relative symlink)
    <parent>/.<name>.versions/<spec id>-<time>/venvbuild.json  (the stamp)
"""

import hashlib
import os
import sys

import pytest

from saltext_venvbuild.core.errors import InstallError
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import UnsafePathError
from saltext_venvbuild.core.interpreter import Interpreter
from saltext_venvbuild.core.layout import VenvPaths
from saltext_venvbuild.core.layout import existing_change
from saltext_venvbuild.core.layout import removal
from saltext_venvbuild.core.stamp import STAMP_NAME

PLATFORM = "debian-12-x86_64-cp311"
SPEC_A = "0123456789abcdef"
SPEC_B = "fedcba9876543210"
ENTRY_A = f"{SPEC_A}-20240101T000000Z"
ENTRY_B = f"{SPEC_B}-20240102T000000Z"
OTHER_UID = 12345
PY = Interpreter("python3", sys.executable, "cpython", "3.11.2", 3, 11, False, "x86_64")


@pytest.fixture
def parent(tmp_path):
    path = tmp_path / "venvs"
    path.mkdir()
    return path


@pytest.fixture
def state_dir(tmp_path):
    path = tmp_path / "state"
    path.mkdir(mode=0o700)
    return path


def _paths(parent, name="keystone", state_dir=None):
    return VenvPaths(str(parent / name), str(state_dir) if state_dir else None)


def _managed(parent, name="keystone", entry=ENTRY_A, stamp=True):
    """A managed venv: ``.<name>.versions/<entry>/`` and the relative link to it."""
    version = parent / f".{name}.versions" / entry
    version.mkdir(parents=True)
    if stamp:
        (version / STAMP_NAME).write_text("{}")
    os.symlink(f".{name}.versions/{entry}", parent / name)
    return version


# -- VenvPaths ----------------------------------------------------------------------


def test_paths(tmp_path):
    paths = VenvPaths("/opt/venvs/keystone/", str(tmp_path / "state"))
    assert paths.path == "/opt/venvs/keystone"
    assert paths.parent == "/opt/venvs"
    assert paths.versions_name == ".keystone.versions"
    assert paths.versions_dir == "/opt/venvs/.keystone.versions"
    key = hashlib.sha256(b"/opt/venvs/keystone").hexdigest()[:16]
    assert paths.lock_file == str(tmp_path / "state" / "locks" / f"venv-{key}.lock")
    assert VenvPaths("/opt/venvs/keystone").lock_file is None


@pytest.mark.parametrize("path", ["relative/venv", "/opt/../etc/x", "/opt", "/", "", None, "/opt/x\ny"])
def test_paths_refuse_bad_paths(path):
    with pytest.raises(SpecError):
        VenvPaths(path)


def test_kind_absent(parent):
    paths = _paths(parent)
    assert paths.kind() == "absent"
    assert paths.link_target() is None
    assert paths.live_dir() is None


def test_kind_managed(parent):
    version = _managed(parent)
    paths = _paths(parent)
    assert paths.kind() == "managed"
    assert paths.link_target() == ENTRY_A
    assert paths.live_dir() == str(version)


def test_kind_managed_entry_names(parent):
    version = _managed(parent, entry=f"{ENTRY_A}-1")
    paths = _paths(parent)
    assert paths.kind() == "managed"
    assert paths.link_target() == f"{ENTRY_A}-1"
    assert paths.live_dir() == str(version)


@pytest.mark.parametrize("entry", ["preexisting-20240101T000000Z", "preexisting-20240101T000000Z-2"])
def test_a_link_to_adopted_content_is_not_venvbuilds(parent, entry):
    # venvbuild links only to venvs it installed; adopted content is kept, never live.
    _managed(parent, entry=entry)
    paths = _paths(parent)
    assert paths.kind() == "link" and paths.link_target() is None and paths.live_dir() is None


def test_a_link_another_user_owns_is_not_venvbuilds(parent):
    # In a sticky directory any user can make the free name a link into the versions dir.
    _managed(parent)
    paths = _paths(parent)
    os.lchown(paths.path, 65534, -1)
    assert paths.kind() == "link" and paths.live_dir() is None
    os.lchown(paths.path, 0, -1)
    assert paths.kind() == "managed"


@pytest.mark.parametrize("change", ["owner", "mode"])
def test_a_live_directory_others_can_write_is_not_venvbuilds(parent, change):
    version = _managed(parent)
    if change == "owner":
        os.chown(version, 65534, -1)
    else:
        version.chmod(0o777)
    paths = _paths(parent)
    assert paths.kind() == "managed" and paths.live_dir() is None


@pytest.mark.parametrize(
    "target",
    [
        "/elsewhere",
        "elsewhere",
        ".keystone.versions/not-ours",  # a name of another shape
        f".keystone.versions/{ENTRY_A}/",
        f".keystone.versions/{ENTRY_A}/../../../etc",
        f".nova.versions/{ENTRY_A}",  # another venv's versions
        f"./.keystone.versions/{ENTRY_A}",
        f".keystone.versions/{SPEC_A.upper()}-20240101T000000Z",
        "ABSOLUTE",  # replaced below by the absolute path of the real versions entry
    ],
)
def test_kind_foreign_link(parent, target):
    version = parent / ".keystone.versions" / ENTRY_A
    version.mkdir(parents=True)
    if target == "ABSOLUTE":
        target = str(version)  # the right directory, but not venvbuild's own (relative) link
    os.symlink(target, parent / "keystone")
    paths = _paths(parent)
    assert paths.kind() == "link"
    assert paths.link_target() is None
    assert paths.live_dir() is None


def test_kind_venv_dir_file(parent):
    (parent / "venv").mkdir()
    (parent / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (parent / "dir").mkdir()
    (parent / "file").write_text("x")
    assert _paths(parent, "venv").kind() == "venv"
    assert _paths(parent, "venv").live_dir() is None  # not venvbuild's: never read as its own
    assert _paths(parent, "dir").kind() == "dir"
    assert _paths(parent, "dir").live_dir() is None
    assert _paths(parent, "file").kind() == "file"
    assert _paths(parent, "file").live_dir() is None


def test_kind_of_a_fifo_is_file(parent):
    os.mkfifo(parent / "fifo")
    assert _paths(parent, "fifo").kind() == "file"


def test_kind_below_a_file_is_absent(parent):
    (parent / "file").write_text("x")
    assert _paths(parent / "file", "venv").kind() == "absent"


def test_live_dir_of_a_managed_link_to_a_missing_entry(parent):
    (parent / ".keystone.versions").mkdir()
    os.symlink(f".keystone.versions/{ENTRY_A}", parent / "keystone")
    paths = _paths(parent)
    assert paths.kind() == "managed"
    assert paths.live_dir() is None


def test_live_dir_of_a_managed_link_to_a_planted_symlink(parent, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (parent / ".keystone.versions").mkdir()
    os.symlink(str(elsewhere), parent / ".keystone.versions" / ENTRY_A)
    os.symlink(f".keystone.versions/{ENTRY_A}", parent / "keystone")
    paths = _paths(parent)
    assert paths.kind() == "managed"
    assert paths.live_dir() is None


# -- version_dirs -------------------------------------------------------------------


def test_version_dirs(parent, tmp_path):
    versions = parent / ".keystone.versions"
    names = {
        ENTRY_B: 300,
        ENTRY_A: 100,
        f"{ENTRY_A}-1": 200,
        "preexisting-20230101T000000Z": 50,
        "preexisting-20230101T000000Z-1": 400,
    }
    for name, mtime in names.items():
        (versions / name).mkdir(parents=True)
        os.utime(versions / name, (mtime, mtime))
    # Not versions: other names, a file, a symlink to a directory.
    (versions / "random").mkdir()
    (versions / ".tmp").mkdir()
    (versions / f"{SPEC_A}-20240103T000000Z").write_text("a file")
    (tmp_path / "elsewhere").mkdir()
    os.symlink(str(tmp_path / "elsewhere"), versions / f"{SPEC_A}-20240104T000000Z")
    paths = _paths(parent)
    assert paths.version_dirs() == [str(versions / n) for n in (ENTRY_A, f"{ENTRY_A}-1", ENTRY_B)]
    assert paths.version_dirs(adopted=True) == [
        str(versions / n)
        for n in ("preexisting-20230101T000000Z", ENTRY_A, f"{ENTRY_A}-1", ENTRY_B,
                  "preexisting-20230101T000000Z-1")
    ]


def test_version_dirs_without_a_versions_dir(parent):
    assert _paths(parent).version_dirs() == []
    (parent / ".keystone.versions").write_text("a file")
    assert _paths(parent).version_dirs() == []


# -- check_versions_dir -------------------------------------------------------------


def test_check_versions_dir_missing_or_fine(parent):
    paths = _paths(parent)
    assert paths.check_versions_dir() is None
    (parent / ".keystone.versions").mkdir()
    assert paths.check_versions_dir() is None


def test_check_versions_dir_refuses_a_symlink(parent, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(str(elsewhere), parent / ".keystone.versions")
    with pytest.raises(UnsafePathError, match=r"\.keystone\.versions is a symlink"):
        _paths(parent).check_versions_dir()


def test_check_versions_dir_refuses_one_of_another_user(parent):
    (parent / ".keystone.versions").mkdir()
    os.chown(parent / ".keystone.versions", OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match="owned by uid 12345"):
        _paths(parent).check_versions_dir()


def test_check_versions_dir_refuses_a_writable_one(parent):
    (parent / ".keystone.versions").mkdir()
    os.chmod(parent / ".keystone.versions", 0o777)
    with pytest.raises(UnsafePathError, match="writable by group and others"):
        _paths(parent).check_versions_dir()


def test_check_versions_dir_refuses_an_untrusted_parent(parent):
    (parent / ".keystone.versions").mkdir()
    os.chown(parent, OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match=f"{parent} is owned by uid 12345"):
        _paths(parent).check_versions_dir()


def test_check_versions_dir_refuses_a_file(parent):
    (parent / ".keystone.versions").write_text("x")
    with pytest.raises(UnsafePathError, match="is not a directory"):
        _paths(parent).check_versions_dir()


# -- existing_change ----------------------------------------------------------------


@pytest.mark.parametrize("adopt", [False, True])
def test_existing_change_absent_or_managed_is_none(parent, adopt):
    assert existing_change(_paths(parent), adopt) is None
    _managed(parent)
    assert existing_change(_paths(parent), adopt) is None


@pytest.mark.parametrize("adopt", [False, True])
def test_existing_change_of_a_venv_made_by_other_means(parent, adopt):
    (parent / "keystone").mkdir()
    (parent / "keystone" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert existing_change(_paths(parent), adopt) == {
        "old": "a venv made by other means",
        "new": f"moved into {parent}/.keystone.versions and kept (never pruned)",
    }
    assert (parent / "keystone" / "pyvenv.cfg").exists()  # only a prediction: nothing moved


def test_existing_change_refuses_a_plain_dir_without_adopt(parent):
    (parent / "keystone").mkdir()
    (parent / "keystone" / "data").write_text("precious")
    with pytest.raises(InstallError, match="a directory that is not a venv is there.*adopt_existing: true"):
        existing_change(_paths(parent), False)
    assert (parent / "keystone" / "data").read_text() == "precious"


def test_existing_change_adopts_a_plain_dir(parent):
    (parent / "keystone").mkdir()
    (parent / "keystone" / "data").write_text("precious")
    assert existing_change(_paths(parent), True) == {
        "old": "a directory",
        "new": f"moved into {parent}/.keystone.versions and kept (never pruned)",
    }
    assert (parent / "keystone" / "data").read_text() == "precious"


def test_existing_change_of_a_foreign_link(parent, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    os.symlink(str(tmp_path / "elsewhere"), parent / "keystone")
    with pytest.raises(InstallError, match=f"is a symlink to {tmp_path}/elsewhere that venvbuild did not create"):
        existing_change(_paths(parent), False)
    assert existing_change(_paths(parent), True) == {
        "old": f"a symlink to {tmp_path}/elsewhere",
        "new": "replaced by venvbuild's link (its target is left alone)",
    }


def test_existing_change_hides_credentials_in_a_link_target(parent):
    os.symlink("https://user:s3cret@example.com/x", parent / "keystone")
    with pytest.raises(InstallError) as info:
        existing_change(_paths(parent), False)
    assert "s3cret" not in str(info.value)
    assert "https://****@example.com/x" in str(info.value)
    assert "s3cret" not in existing_change(_paths(parent), True)["old"]


@pytest.mark.parametrize("adopt", [False, True])
def test_existing_change_of_a_file_is_refused(parent, adopt):
    (parent / "keystone").write_text("x")
    with pytest.raises(InstallError, match="a file is there, not a venv"):
        existing_change(_paths(parent), adopt)


def test_existing_change_refuses_a_path_venvbuild_may_not_manage():
    with pytest.raises(SpecError, match="refusing a path inside /etc"):
        existing_change(VenvPaths("/etc/venvs/keystone"), True)


# -- removal ------------------------------------------------------------------------


def test_removal_of_nothing(parent):
    assert removal(_paths(parent)) == ([], [])


def test_removal_of_a_managed_venv(parent):
    _managed(parent)
    versions = parent / ".keystone.versions"
    assert removal(_paths(parent)) == (
        [str(parent / "keystone"), *sorted(str(versions / d) for d in os.listdir(versions)),
         str(versions)], [])
    assert os.path.islink(parent / "keystone")  # only a prediction


def test_removal_of_leftover_versions(parent):
    (parent / ".keystone.versions" / ENTRY_A).mkdir(parents=True)
    assert removal(_paths(parent)) == (
        [str(parent / ".keystone.versions" / ENTRY_A), str(parent / ".keystone.versions")], [])


def test_removal_keeps_adopted_and_unknown_content(parent):
    versions = parent / ".keystone.versions"
    (versions / ENTRY_A).mkdir(parents=True)
    (versions / "preexisting-20260101T000000Z").mkdir()
    (versions / "someones-notes").write_text("x")
    os.symlink(f".keystone.versions/{ENTRY_A}", parent / "keystone")
    assert removal(_paths(parent)) == (
        [str(parent / "keystone"), str(versions / ENTRY_A)],
        [str(versions / "preexisting-20260101T000000Z"), str(versions / "someones-notes")])


@pytest.mark.parametrize("what", ["venv", "dir", "file", "link"])
def test_removal_refuses_what_venvbuild_did_not_make(parent, tmp_path, what):
    target = parent / "keystone"
    if what == "venv":
        target.mkdir()
        (target / "pyvenv.cfg").write_text("")
    elif what == "dir":
        target.mkdir()
    elif what == "file":
        target.write_text("x")
    else:
        (tmp_path / "elsewhere").mkdir()
        os.symlink(str(tmp_path / "elsewhere"), target)
    with pytest.raises(InstallError, match=f"venvbuild did not create what is there \\({what}: .*refusing to remove it"):
        removal(_paths(parent))


def test_removal_refuses_a_symlinked_versions_dir(parent, tmp_path):
    (tmp_path / "elsewhere" / ENTRY_A).mkdir(parents=True)
    os.symlink(str(tmp_path / "elsewhere"), parent / ".keystone.versions")
    os.symlink(f".keystone.versions/{ENTRY_A}", parent / "keystone")
    with pytest.raises(UnsafePathError, match="is a symlink"):
        removal(_paths(parent))


def test_removal_refuses_a_path_venvbuild_may_not_manage():
    with pytest.raises(SpecError):
        removal(VenvPaths("/usr/lib/venvs/keystone"))
