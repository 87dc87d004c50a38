"""Unit tests of saltext_venvbuild.core.fsutil: trusted directories, link-safe files
and locks.

The tests run as root: "another user" is simulated by chowning real files and
directories to an unused uid.
"""

import errno
import grp
import hashlib
import os
import stat
import threading

import pytest

from saltext_venvbuild.core import fsutil
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import UnsafePathError

OTHER_UID = 12345  # no such user: "another local user"
OTHER_GID = 12345

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown to another user")


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def umask_077():
    """A strict umask: modes venvbuild asks for must not depend on it."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


# -- resolve_trusted -----------------------------------------------------------------


def test_resolve_trusted_of_trusted_directories(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert fsutil.resolve_trusted(str(tmp_path / "a" / "b"), "test") == str(tmp_path / "a" / "b")
    assert fsutil.resolve_trusted("/", "test") == "/"


def test_missing_components_end_the_walk(tmp_path):
    path = str(tmp_path / "missing" / "x" / "y")
    assert fsutil.resolve_trusted(path, "test") == path
    assert not (tmp_path / "missing").exists()


def test_a_directory_owned_by_another_user_is_refused(tmp_path):
    evil = tmp_path / "evil"
    evil.mkdir(mode=0o755)
    os.chown(evil, OTHER_UID, OTHER_GID)
    with pytest.raises(UnsafePathError) as info:
        fsutil.resolve_trusted(str(evil / "venvs" / "x"), "venv /x")
    message = str(info.value)
    assert message.startswith(f"venv /x: {evil} is owned by uid {OTHER_UID}")
    assert f"chown root {evil}" in message


def test_the_final_directory_is_checked_too(tmp_path):
    evil = tmp_path / "evil"
    evil.mkdir()
    os.chown(evil, OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match="is owned by"):
        fsutil.resolve_trusted(str(evil), "test")


@pytest.mark.parametrize(
    "mode, who",
    [(0o775, "its group"), (0o757, "group and others"), (0o777, "group and others"),
     (0o2775, "its group"), (0o1770 | 0o002, None)],
)
def test_writable_directories_are_refused_unless_sticky(tmp_path, mode, who):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, mode)
    if who is None:  # sticky: others cannot replace root's entries
        assert fsutil.resolve_trusted(str(shared / "x"), "test") == str(shared / "x")
        return
    with pytest.raises(UnsafePathError) as info:
        fsutil.resolve_trusted(str(shared / "x"), "test")
    assert f"{shared} is writable by {who} (mode {mode:04o})" in str(info.value)
    assert f"chmod go-w {shared}" in str(info.value)


def test_a_sticky_directory_like_tmp_is_walked_through(tmp_path):
    sticky = tmp_path / "tmp"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    (sticky / "mine").mkdir()
    assert fsutil.resolve_trusted(str(sticky / "mine" / "x"), "t") == str(sticky / "mine" / "x")


def test_a_directory_of_another_user_in_a_sticky_directory_is_refused(tmp_path):
    sticky = tmp_path / "tmp"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    (sticky / "theirs").mkdir()
    os.chown(sticky / "theirs", OTHER_UID, OTHER_GID)
    with pytest.raises(UnsafePathError, match=f"owned by uid {OTHER_UID}"):
        fsutil.resolve_trusted(str(sticky / "theirs" / "x"), "t")


def test_a_sticky_directory_owned_by_another_user_is_refused(tmp_path):
    sticky = tmp_path / "tmp"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    os.chown(sticky, OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match="is owned by"):
        fsutil.resolve_trusted(str(sticky / "x"), "t")


def test_a_trusted_link_is_followed(tmp_path):
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "abs").symlink_to(tmp_path / "real")
    (tmp_path / "rel").symlink_to("real/sub")
    assert fsutil.resolve_trusted(str(tmp_path / "abs" / "sub"), "t") == str(tmp_path / "real" / "sub")
    assert fsutil.resolve_trusted(str(tmp_path / "rel" / "new"), "t") == str(tmp_path / "real" / "sub" / "new")


def test_a_link_whose_target_is_missing_resolves_to_the_target(tmp_path):
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert fsutil.resolve_trusted(str(tmp_path / "dangling" / "x"), "t") == str(tmp_path / "nowhere" / "x")


def test_a_link_owned_by_another_user_is_refused(tmp_path):
    sticky = tmp_path / "tmp"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    (tmp_path / "real").mkdir()
    link = sticky / "venvs"
    link.symlink_to(tmp_path / "real")
    os.lchown(link, OTHER_UID, OTHER_GID)
    with pytest.raises(UnsafePathError) as info:
        fsutil.resolve_trusted(str(link / "x"), "venv path")
    assert f"{link} is a symlink owned by uid {OTHER_UID}" in str(info.value)


def test_a_link_owned_by_another_user_is_refused_even_in_a_root_directory(tmp_path):
    link = tmp_path / "link"
    link.symlink_to("/opt")
    os.lchown(link, OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match="is a symlink owned by"):
        fsutil.resolve_trusted(str(link), "t")


def test_the_target_of_a_trusted_link_is_walked_too(tmp_path):
    evil = tmp_path / "evil"
    evil.mkdir()
    os.chown(evil, OTHER_UID, -1)
    (tmp_path / "link").symlink_to(evil)
    with pytest.raises(UnsafePathError, match=f"{evil} is owned by"):
        fsutil.resolve_trusted(str(tmp_path / "link" / "x"), "t")


def test_a_chain_of_trusted_links_is_followed(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "two").symlink_to(tmp_path / "real")
    (tmp_path / "one").symlink_to("two")
    assert fsutil.resolve_trusted(str(tmp_path / "one" / "x"), "t") == str(tmp_path / "real" / "x")


def test_a_link_loop_is_refused(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(UnsafePathError, match="too many levels of symbolic links"):
        fsutil.resolve_trusted(str(tmp_path / "a" / "x"), "t")


def test_a_file_on_the_way_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UnsafePathError, match="is not a directory"):
        fsutil.resolve_trusted(str(tmp_path / "file" / "x"), "t")


def test_links_strictly_below_no_links_below_are_refused(tmp_path):
    own = tmp_path / "state"
    (own / "real").mkdir(parents=True)
    (own / "link").symlink_to(own / "real")
    with pytest.raises(UnsafePathError) as info:
        fsutil.resolve_trusted(str(own / "link" / "x"), "t", no_links_below=str(own))
    assert f"{own / 'link'} is a symlink inside venvbuild's own directory {own}" in str(info.value)
    # Without the restriction the same trusted link is followed.
    assert fsutil.resolve_trusted(str(own / "link" / "x"), "t") == str(own / "real" / "x")


def test_links_above_or_at_no_links_below_are_followed(tmp_path):
    (tmp_path / "real" / "state").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "state-link").symlink_to(tmp_path / "real" / "state")
    path = str(tmp_path / "link" / "state" / "x")
    assert fsutil.resolve_trusted(path, "t", no_links_below=str(tmp_path / "link" / "state")) == str(
        tmp_path / "real" / "state" / "x"
    )
    # The directory itself may be a link: only links strictly below it are refused.
    assert fsutil.resolve_trusted(
        str(tmp_path / "state-link"), "t", no_links_below=str(tmp_path / "state-link") + "/"
    ) == str(tmp_path / "real" / "state")


def test_no_links_below_also_holds_inside_a_followed_link(tmp_path):
    own = tmp_path / "state"
    (own / "real" / "deeper").mkdir(parents=True)
    (own / "inner").symlink_to(own / "real")
    # A link outside ``own`` whose target runs through a link inside it.
    (tmp_path / "alias").symlink_to(own / "inner" / "deeper")
    with pytest.raises(UnsafePathError, match="inside venvbuild's own directory"):
        fsutil.resolve_trusted(str(tmp_path / "alias" / "x"), "t", no_links_below=str(own))


def test_ensure_dir_refuses_links_below_no_links_below(tmp_path):
    own = tmp_path / "state"
    (own / "real").mkdir(parents=True)
    (own / "logs").symlink_to(own / "real")
    with pytest.raises(UnsafePathError, match="inside venvbuild's own directory"):
        fsutil.ensure_dir(str(own / "logs" / "x"), "t", 0o700, no_links_below=str(own))
    assert os.listdir(own / "real") == []


def test_our_own_uid_is_trusted(tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    os.chown(mine, OTHER_UID, -1)
    monkeypatch.setattr(fsutil.os, "geteuid", lambda: OTHER_UID)
    assert fsutil.trusted_uids() == {0, OTHER_UID}
    assert fsutil.resolve_trusted(str(mine / "x"), "t") == str(mine / "x")


# -- ensure_dir ----------------------------------------------------------------------


def test_ensure_dir_creates_missing_directories_with_mode_despite_umask(tmp_path, umask_077):
    path = tmp_path / "a" / "b" / "c"
    assert fsutil.ensure_dir(str(path), "t", mode=0o755) == str(path)
    for created in (tmp_path / "a", tmp_path / "a" / "b", path):
        assert created.is_dir()
        assert _mode(created) == 0o755


def test_ensure_dir_sets_the_group_on_the_final_directory_only(tmp_path):
    path = tmp_path / "a" / "repo"
    fsutil.ensure_dir(str(path), "t", mode=0o750, group=OTHER_GID)
    assert os.stat(path).st_gid == OTHER_GID
    assert _mode(path) == 0o750
    assert os.stat(tmp_path / "a").st_gid != OTHER_GID
    assert _mode(tmp_path / "a") == 0o750


@pytest.mark.parametrize("enforce, expected", [(True, 0o700), (False, 0o755)])
def test_ensure_dir_enforces_mode_and_group_of_an_existing_directory(tmp_path, enforce, expected):
    path = tmp_path / "existing"
    path.mkdir()
    os.chmod(path, 0o755)
    fsutil.ensure_dir(str(path), "t", mode=0o700, group=OTHER_GID, enforce=enforce)
    assert _mode(path) == expected
    assert (os.stat(path).st_gid == OTHER_GID) is enforce


def test_ensure_dir_leaves_existing_parents_alone(tmp_path):
    parent = tmp_path / "parent"
    parent.mkdir()
    os.chmod(parent, 0o711)
    fsutil.ensure_dir(str(parent / "child"), "t", mode=0o700)
    assert _mode(parent) == 0o711
    assert _mode(parent / "child") == 0o700


def test_ensure_dir_is_idempotent(tmp_path):
    path = str(tmp_path / "x")
    assert fsutil.ensure_dir(path, "t", 0o750) == fsutil.ensure_dir(path, "t", 0o750) == path
    assert _mode(path) == 0o750


def test_ensure_dir_refuses_an_untrusted_chain_and_creates_nothing(tmp_path):
    evil = tmp_path / "evil"
    evil.mkdir()
    os.chown(evil, OTHER_UID, OTHER_GID)
    with pytest.raises(UnsafePathError, match="is owned by uid"):
        fsutil.ensure_dir(str(evil / "venvs" / "x"), "venv /x")
    assert os.listdir(evil) == []


def test_ensure_dir_refuses_a_writable_existing_directory_and_does_not_touch_it(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(UnsafePathError, match="writable by group and others"):
        fsutil.ensure_dir(str(shared), "t", 0o755)
    assert _mode(shared) == 0o777


def test_ensure_dir_follows_a_trusted_link_and_returns_the_resolved_path(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    result = fsutil.ensure_dir(str(tmp_path / "link" / "sub"), "t", 0o700)
    assert result == str(tmp_path / "real" / "sub")
    assert (tmp_path / "real" / "sub").is_dir()
    assert _mode(tmp_path / "real" / "sub") == 0o700


def test_ensure_dir_refuses_a_link_of_another_user(tmp_path):
    (tmp_path / "real").mkdir()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real")
    os.lchown(link, OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match="symlink owned by"):
        fsutil.ensure_dir(str(link / "sub"), "t")
    assert not (tmp_path / "real" / "sub").exists()


def test_ensure_dir_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UnsafePathError, match="is not a directory"):
        fsutil.ensure_dir(str(tmp_path / "file"), "t")


# -- group_id ------------------------------------------------------------------------


def test_group_id_of_a_name():
    name = grp.getgrgid(0).gr_name
    assert fsutil.group_id(name, "repo_group") == 0


@pytest.mark.parametrize("number", ["54321", 54321])
def test_group_id_of_an_unnamed_number(number):
    assert fsutil.group_id(number, "repo_group") == 54321


def test_group_id_of_an_unknown_name():
    with pytest.raises(SpecError, match=r"^repo_group 'no-such-group-vb': no such group"):
        fsutil.group_id("no-such-group-vb", "repo_group")


# -- open_nofollow, open_log, append_log ---------------------------------------------


def test_open_nofollow_refuses_a_symlink(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(UnsafePathError, match="is a symlink where venvbuild expects its own file"):
        fsutil.open_nofollow(str(link), os.O_WRONLY | os.O_TRUNC)
    assert target.read_text() == "keep"


def test_open_nofollow_refuses_a_dangling_symlink_and_creates_nothing(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "planted")
    with pytest.raises(UnsafePathError):
        fsutil.open_nofollow(str(link), os.O_WRONLY | os.O_CREAT)
    assert not (tmp_path / "planted").exists()


def test_open_nofollow_opens_a_regular_file(tmp_path):
    path = tmp_path / "f"
    fd = fsutil.open_nofollow(str(path), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"data")
    finally:
        os.close(fd)
    assert path.read_bytes() == b"data"
    assert _mode(path) == 0o600


def test_open_nofollow_passes_other_errors_through(tmp_path):
    with pytest.raises(FileNotFoundError):
        fsutil.open_nofollow(str(tmp_path / "missing"), os.O_RDONLY)


def test_open_log_creates_an_owner_only_file(tmp_path):
    path = tmp_path / "build.log"
    with fsutil.open_log(str(path)) as log:
        log.write("héllo\n")
    assert path.read_text(encoding="utf-8") == "héllo\n"
    assert _mode(path) == 0o600


def test_open_log_truncates_and_tightens_the_mode(tmp_path):
    path = tmp_path / "build.log"
    path.write_text("old content that is long\n")
    os.chmod(path, 0o644)
    with fsutil.open_log(str(path)) as log:
        log.write("new\n")
    assert path.read_text() == "new\n"
    assert _mode(path) == 0o600


def test_open_log_refuses_a_symlink_and_leaves_its_target(tmp_path):
    target = tmp_path / "shadow"
    target.write_text("secret")
    os.chmod(target, 0o640)
    (tmp_path / "build.log").symlink_to(target)
    with pytest.raises(UnsafePathError, match="is a symlink"):
        fsutil.open_log(str(tmp_path / "build.log"))
    assert target.read_text() == "secret"
    assert _mode(target) == 0o640


def test_open_log_refuses_a_device(tmp_path):
    path = tmp_path / "build.log"
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null
    with pytest.raises(UnsafePathError, match="is not a regular file"):
        fsutil.open_log(str(path))


def test_open_log_refuses_a_directory(tmp_path):
    (tmp_path / "build.log").mkdir()
    with pytest.raises((UnsafePathError, IsADirectoryError)):
        fsutil.open_log(str(tmp_path / "build.log"))


def _fifo_call(tmp_path, func):
    """Run ``func(fifo)`` in a thread; return (finished within 2 s, its exception)."""
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    errors = []

    def run():
        try:
            func(fifo)
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(2)
    finished = not thread.is_alive()
    # Unblock a hung open by opening the other end, so no thread is left behind.
    for _ in range(100):
        if not thread.is_alive():
            break
        for flags in (os.O_RDONLY | os.O_NONBLOCK, os.O_WRONLY | os.O_NONBLOCK):
            try:
                os.close(os.open(fifo, flags))
            except OSError as exc:
                assert exc.errno == errno.ENXIO
        thread.join(0.1)
    return finished, errors


def test_open_log_refuses_a_fifo_without_hanging(tmp_path):
    finished, errors = _fifo_call(tmp_path, fsutil.open_log)
    assert finished
    assert len(errors) == 1 and isinstance(errors[0], UnsafePathError)


def test_append_log_appends_to_an_owner_only_file(tmp_path):
    path = tmp_path / "history.log"
    with fsutil.append_log(str(path)) as log:
        log.write("one\n")
    with fsutil.append_log(str(path)) as log:
        log.write("two\n")
    assert path.read_text() == "one\ntwo\n"
    assert _mode(path) == 0o600


def test_append_log_refuses_a_symlink(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep")
    (tmp_path / "history.log").symlink_to(target)
    with pytest.raises(UnsafePathError):
        fsutil.append_log(str(tmp_path / "history.log"))
    assert target.read_text() == "keep"


# -- read_text -----------------------------------------------------------------------


def test_read_text(tmp_path):
    path = tmp_path / "f"
    path.write_text("héllo\n", encoding="utf-8")
    assert fsutil.read_text(str(path)) == "héllo\n"


def test_read_text_of_a_missing_file_is_none(tmp_path):
    assert fsutil.read_text(str(tmp_path / "missing")) is None


def test_read_text_refuses_a_symlink(tmp_path):
    (tmp_path / "target").write_text("secret")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    with pytest.raises(UnsafePathError, match="is a symlink"):
        fsutil.read_text(str(tmp_path / "link"))


def test_read_text_refuses_a_directory(tmp_path):
    # os.fdopen refuses a directory before read_text's own S_ISREG check can.
    with pytest.raises((UnsafePathError, IsADirectoryError)):
        fsutil.read_text(str(tmp_path))


def test_read_text_refuses_a_device(tmp_path):
    os.mknod(tmp_path / "dev", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null
    with pytest.raises(UnsafePathError, match="is not a regular file"):
        fsutil.read_text(str(tmp_path / "dev"))


@pytest.mark.parametrize("size, ok", [(0, True), (9, True), (10, True), (11, False), (5000, False)])
def test_read_text_limit(tmp_path, size, ok):
    path = tmp_path / "f"
    path.write_bytes(b"x" * size)
    if ok:
        assert fsutil.read_text(str(path), limit=10) == "x" * size
    else:
        with pytest.raises(SpecError, match=r"larger than 10 bytes"):
            fsutil.read_text(str(path), limit=10)
    assert fsutil.read_text(str(path)) == "x" * size  # no limit


def test_read_text_refuses_a_fifo_without_hanging(tmp_path):
    finished, errors = _fifo_call(tmp_path, fsutil.read_text)
    assert finished
    assert len(errors) == 1 and isinstance(errors[0], UnsafePathError)


# -- sha256_file --------------------------------------------------------------------


def test_sha256_file_of_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert fsutil.sha256_file(str(path)) == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_sha256_file_across_several_blocks(tmp_path):
    data = os.urandom(10_000)
    path = tmp_path / "data"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert fsutil.sha256_file(str(path), bufsize=1000) == expected
    assert fsutil.sha256_file(str(path), bufsize=4096) == expected
    assert fsutil.sha256_file(str(path)) == expected


def test_sha256_file_refuses_a_symlink(tmp_path):
    (tmp_path / "target").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    with pytest.raises(UnsafePathError, match="is a symlink"):
        fsutil.sha256_file(str(tmp_path / "link"))


# -- atomic_write -------------------------------------------------------------------


def test_atomic_write_text_and_bytes(tmp_path):
    path = tmp_path / "f.txt"
    fsutil.atomic_write(str(path), "héllo\n")
    assert path.read_bytes() == "héllo\n".encode()
    fsutil.atomic_write(str(path), b"\x00\x01bytes")
    assert path.read_bytes() == b"\x00\x01bytes"
    assert os.listdir(tmp_path) == ["f.txt"]


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o755, 0o640])
def test_atomic_write_sets_mode(tmp_path, mode, umask_077):
    path = tmp_path / "f"
    fsutil.atomic_write(str(path), "x", mode=mode)
    assert _mode(path) == mode


def test_atomic_write_default_mode(tmp_path, umask_077):
    fsutil.atomic_write(str(tmp_path / "f"), "x")
    assert _mode(tmp_path / "f") == 0o644


def test_atomic_write_sets_the_group(tmp_path):
    path = tmp_path / "f"
    fsutil.atomic_write(str(path), "x", mode=0o640, group=OTHER_GID)
    assert os.stat(path).st_gid == OTHER_GID
    assert _mode(path) == 0o640


def test_atomic_write_does_not_create_the_directory(tmp_path):
    # Changed on purpose: the caller makes the directory with ensure_dir first.
    path = tmp_path / "a" / "b" / "f"
    with pytest.raises(FileNotFoundError):
        fsutil.atomic_write(str(path), "x")
    assert not (tmp_path / "a").exists()
    assert os.listdir(tmp_path) == []


def test_atomic_write_into_a_directory_made_by_ensure_dir(tmp_path):
    directory = fsutil.ensure_dir(str(tmp_path / "a" / "b"), "t", 0o755)
    fsutil.atomic_write(os.path.join(directory, "f"), "x")
    assert (tmp_path / "a" / "b" / "f").read_text() == "x"
    assert os.listdir(directory) == ["f"]


def test_atomic_write_replaces_a_planted_symlink_and_leaves_its_target(tmp_path):
    target = tmp_path / "shadow"
    target.write_text("root:secret\n")
    os.chmod(target, 0o640)
    path = tmp_path / "state.json"
    path.symlink_to(target)
    fsutil.atomic_write(str(path), "{}", mode=0o644)
    assert not path.is_symlink()
    assert path.read_text() == "{}"
    assert target.read_text() == "root:secret\n"
    assert _mode(target) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["shadow", "state.json"]


def test_atomic_write_replaces_a_dangling_symlink_without_creating_its_target(tmp_path):
    path = tmp_path / "state.json"
    path.symlink_to(tmp_path / "planted")
    fsutil.atomic_write(str(path), "x")
    assert path.read_text() == "x" and not path.is_symlink()
    assert not (tmp_path / "planted").exists()


def test_atomic_write_failure_leaves_no_temp_file(tmp_path):
    target = tmp_path / "dir"
    target.mkdir()
    (target / "keep").write_text("k")
    with pytest.raises(OSError):
        fsutil.atomic_write(str(target), "x")  # cannot replace a non-empty directory
    assert sorted(os.listdir(tmp_path)) == ["dir"]
    assert os.listdir(target) == ["keep"]


def test_atomic_write_of_a_bad_group_leaves_no_temp_file(tmp_path):
    (tmp_path / "f").write_text("old")
    with pytest.raises((OSError, OverflowError, TypeError)):
        fsutil.atomic_write(str(tmp_path / "f"), "new", group=-2)
    assert os.listdir(tmp_path) == ["f"]
    assert (tmp_path / "f").read_text() == "old"


# -- copy_new, replace_file ----------------------------------------------------------


@pytest.fixture
def sources(tmp_path):
    first = tmp_path / "first"
    first.write_bytes(b"original")
    second = tmp_path / "second"
    second.write_bytes(b"other bytes")
    dest = tmp_path / "dest"
    dest.mkdir()
    return first, second, dest


def test_copy_new(sources, umask_077):
    first, second, dest = sources
    assert fsutil.copy_new(str(first), str(dest), "published", 0o644) is True
    assert (dest / "published").read_bytes() == b"original"
    assert _mode(dest / "published") == 0o644

    assert fsutil.copy_new(str(second), str(dest), "published", 0o644) is False
    assert (dest / "published").read_bytes() == b"original"
    assert os.listdir(dest) == ["published"]
    assert first.read_bytes() == b"original"  # the source is copied, not moved


def test_copy_new_sets_mode_and_group(sources):
    first, _, dest = sources
    assert fsutil.copy_new(str(first), str(dest), "f", mode=0o640, group=OTHER_GID) is True
    assert _mode(dest / "f") == 0o640
    assert os.stat(dest / "f").st_gid == OTHER_GID
    assert os.stat(dest / "f").st_nlink == 1  # no temp name left linked to it


@pytest.mark.parametrize("dangling", [False, True])
def test_copy_new_does_not_follow_a_symlink_at_the_name(sources, dangling):
    first, second, dest = sources
    target = dest.parent / ("nowhere" if dangling else "second")
    (dest / "published").symlink_to(target)
    assert fsutil.copy_new(str(first), str(dest), "published") is False
    assert (dest / "published").is_symlink()
    if dangling:
        assert not target.exists()
    else:
        assert second.read_bytes() == b"other bytes"
    assert os.listdir(dest) == ["published"]


def test_copy_new_refuses_a_symlink_as_source(sources):
    first, _, dest = sources
    link = dest.parent / "link"
    link.symlink_to(first)
    with pytest.raises(UnsafePathError):
        fsutil.copy_new(str(link), str(dest), "f")
    assert os.listdir(dest) == []


def test_copy_new_of_a_missing_source_leaves_nothing(sources):
    _, _, dest = sources
    with pytest.raises(FileNotFoundError):
        fsutil.copy_new(str(dest.parent / "missing"), str(dest), "f")
    assert os.listdir(dest) == []


def test_copy_new_of_a_large_file(tmp_path):
    data = os.urandom(3 * (1 << 20) + 17)
    (tmp_path / "src").write_bytes(data)
    (tmp_path / "dest").mkdir()
    assert fsutil.copy_new(str(tmp_path / "src"), str(tmp_path / "dest"), "f") is True
    assert (tmp_path / "dest" / "f").read_bytes() == data


def test_replace_file(sources, umask_077):
    first, second, dest = sources
    fsutil.replace_file(str(first), str(dest), "f", 0o644)
    fsutil.replace_file(str(second), str(dest), "f", 0o640, group=OTHER_GID)
    assert (dest / "f").read_bytes() == b"other bytes"
    assert _mode(dest / "f") == 0o640
    assert os.stat(dest / "f").st_gid == OTHER_GID
    assert os.listdir(dest) == ["f"]


def test_replace_file_replaces_a_symlink_and_leaves_its_target(sources):
    first, second, dest = sources
    (dest / "f").symlink_to(second)
    fsutil.replace_file(str(first), str(dest), "f")
    assert not (dest / "f").is_symlink()
    assert (dest / "f").read_bytes() == b"original"
    assert second.read_bytes() == b"other bytes"


def test_replace_file_failure_leaves_no_temp_file(sources):
    first, _, dest = sources
    (dest / "f").mkdir()
    (dest / "f" / "keep").write_text("k")
    with pytest.raises(OSError):
        fsutil.replace_file(str(first), str(dest), "f")
    assert os.listdir(dest) == ["f"]


# -- remove_tree ---------------------------------------------------------------------


def test_remove_tree_removes_a_tree(tmp_path):
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "f").write_text("x")
    (tree / "g").write_text("y")
    fsutil.remove_tree(str(tree))
    assert not tree.exists()


def test_remove_tree_of_a_link_removes_only_the_link(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "precious").write_text("x")
    link = tmp_path / "link"
    link.symlink_to(target)
    fsutil.remove_tree(str(link))
    assert not os.path.lexists(link)
    assert (target / "precious").read_text() == "x"


def test_remove_tree_does_not_follow_links_inside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("x")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "link").symlink_to(outside)
    (tree / "file-link").symlink_to(outside / "precious")
    fsutil.remove_tree(str(tree))
    assert not tree.exists()
    assert (outside / "precious").read_text() == "x"


def test_remove_tree_of_a_file_and_of_nothing(tmp_path):
    (tmp_path / "f").write_text("x")
    fsutil.remove_tree(str(tmp_path / "f"))
    assert not (tmp_path / "f").exists()
    fsutil.remove_tree(str(tmp_path / "missing"))  # no error
    assert os.listdir(tmp_path) == []


# -- file_lock ----------------------------------------------------------------------


def test_file_lock_creates_an_owner_only_lock_file(tmp_path, umask_077):
    # The lock's directory is the caller's (ensure_dir): file_lock creates only the file.
    locks = fsutil.ensure_dir(str(tmp_path / "locks"), "t", 0o700)
    lock = os.path.join(locks, "x.lock")
    with fsutil.file_lock(lock) as locked:
        assert locked is True
        assert os.path.isfile(lock)
        assert _mode(lock) == 0o600


def test_file_lock_does_not_create_the_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        with fsutil.file_lock(str(tmp_path / "locks" / "x.lock")):
            pass  # pragma: no cover
    assert not (tmp_path / "locks").exists()


def test_file_lock_refuses_a_symlink(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep")
    os.chmod(target, 0o644)
    (tmp_path / "x.lock").symlink_to(target)
    with pytest.raises(UnsafePathError, match="is a symlink"):
        with fsutil.file_lock(str(tmp_path / "x.lock")):
            pass  # pragma: no cover
    assert target.read_text() == "keep"
    assert _mode(target) == 0o644


def test_file_lock_refuses_a_dangling_symlink_and_creates_nothing(tmp_path):
    (tmp_path / "x.lock").symlink_to(tmp_path / "planted")
    with pytest.raises(UnsafePathError):
        with fsutil.file_lock(str(tmp_path / "x.lock")):
            pass  # pragma: no cover
    assert not (tmp_path / "planted").exists()


@pytest.mark.parametrize(
    "held_shared, shared, expected",
    [(False, False, False), (False, True, False), (True, False, False), (True, True, True)],
)
def test_file_lock_without_wait(tmp_path, held_shared, shared, expected):
    lock = str(tmp_path / "x.lock")
    with fsutil.file_lock(lock, shared=held_shared) as held:
        assert held is True
        # A second open file description conflicts like another process would.
        with fsutil.file_lock(lock, shared=shared, wait=False) as got:
            assert got is expected
        # A failed attempt does not release the lock that is held.
        with fsutil.file_lock(lock, shared=False, wait=False) as again:
            assert again is False
    with fsutil.file_lock(lock, shared=shared, wait=False) as free:
        assert free is True


def test_file_lock_without_wait_in_another_thread(tmp_path):
    lock = str(tmp_path / "x.lock")
    results = []

    def attempt():
        with fsutil.file_lock(lock, wait=False) as locked:
            results.append(locked)

    with fsutil.file_lock(lock):
        thread = threading.Thread(target=attempt)
        thread.start()
        thread.join(5)
    assert results == [False]


def test_file_lock_serializes_two_threads(tmp_path):
    lock = str(tmp_path / "x.lock")
    events = []
    first_holds = threading.Event()
    errors = []

    def first():
        try:
            with fsutil.file_lock(lock):
                events.append("first: start")
                first_holds.set()
                # The second thread is trying to take the lock meanwhile.
                threading.Event().wait(0.5)
                events.append("first: end")
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)
            first_holds.set()

    def second():
        try:
            first_holds.wait(5)
            events.append("second: waiting")
            with fsutil.file_lock(lock):
                events.append("second: start")
                events.append("second: end")
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert not any(thread.is_alive() for thread in threads)
    # The second thread asked for the lock while the first held it, and got it only
    # after the first let go: no interleaving.
    assert [e for e in events if e != "second: waiting"] == [
        "first: start", "first: end", "second: start", "second: end"
    ]
    assert events.index("first: start") < events.index("second: waiting") < events.index("second: start")


def test_shared_locks_do_not_serialize(tmp_path):
    lock = str(tmp_path / "x.lock")
    both = threading.Barrier(2, timeout=5)
    results = []

    def reader():
        with fsutil.file_lock(lock, shared=True) as locked:
            both.wait()  # both hold the shared lock at the same time
            results.append(locked)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [True, True]


def test_file_lock_is_released_after_an_exception(tmp_path):
    lock = str(tmp_path / "x.lock")
    with pytest.raises(RuntimeError):
        with fsutil.file_lock(lock):
            raise RuntimeError("boom")
    acquired = []

    def take():
        with fsutil.file_lock(lock, wait=False) as locked:
            acquired.append(locked)

    thread = threading.Thread(target=take)
    thread.start()
    thread.join(5)
    assert acquired == [True]
