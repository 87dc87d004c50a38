"""Unit tests of saltext_venvbuild.core.fsutil: path checks, atomic files, locks."""

import hashlib
import os
import stat
import threading

import pytest

from saltext_venvbuild.core import fsutil
from saltext_venvbuild.core.errors import SpecError

# -- check_managed_path -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/usr", "/opt", "/srv/", "/usr/local/", "/var/lib", "/etc", "/home", "//opt", "///usr",
     "/usr/./", "/opt//"],
)
def test_system_directories_are_refused(path):
    with pytest.raises(SpecError, match="refusing a system directory"):
        fsutil.check_managed_path(path)


@pytest.mark.parametrize("path", ["opt/venvs/x", "./x", "venv", "~/venvs/x"])
def test_relative_paths_are_refused(path):
    with pytest.raises(SpecError, match="must be absolute"):
        fsutil.check_managed_path(path)


@pytest.mark.parametrize("path", ["/opt/venvs/../x", "/opt/venvs/x/..", "/../opt/venvs/x"])
def test_dotdot_components_are_refused(path):
    with pytest.raises(SpecError, match="must not contain '..'"):
        fsutil.check_managed_path(path)


@pytest.mark.parametrize("path", ["/opt/venvs/x\0", "/opt/venvs/x\ny"])
def test_nul_and_newline_are_refused(path):
    with pytest.raises(SpecError, match="NUL or newline"):
        fsutil.check_managed_path(path)


@pytest.mark.parametrize("path", ["", None, 5, b"/opt/venvs/x"])
def test_non_strings_and_empty_are_refused(path):
    with pytest.raises(SpecError, match="non-empty absolute path string"):
        fsutil.check_managed_path(path)


@pytest.mark.parametrize(
    "path, norm",
    [
        ("/opt/venvs/x/", "/opt/venvs/x"),
        ("/opt/venvs/x", "/opt/venvs/x"),
        ("/opt//venvs/./x", "/opt/venvs/x"),
        ("//srv/venvbuild", "/srv/venvbuild"),
        ("/opt/..x", "/opt/..x"),
    ],
)
def test_dedicated_directories_are_accepted_and_normalized(path, norm):
    assert fsutil.check_managed_path(path) == norm


def test_refusal_names_what_was_checked():
    with pytest.raises(SpecError, match=r"^repo_path 'srv'"):
        fsutil.check_managed_path("srv", "repo_path")


# -- atomic_write -------------------------------------------------------------------


def test_atomic_write_text_and_bytes(tmp_path):
    path = tmp_path / "f.txt"
    fsutil.atomic_write(str(path), "héllo\n")
    assert path.read_bytes() == "héllo\n".encode("utf-8")
    fsutil.atomic_write(str(path), b"\x00\x01bytes")
    assert path.read_bytes() == b"\x00\x01bytes"
    assert os.listdir(tmp_path) == ["f.txt"]


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o755])
def test_atomic_write_sets_mode(tmp_path, mode):
    path = tmp_path / "f"
    fsutil.atomic_write(str(path), "x", mode=mode)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode


def test_atomic_write_creates_the_directory(tmp_path):
    path = tmp_path / "a" / "b" / "f"
    fsutil.atomic_write(str(path), "x")
    assert path.read_text() == "x"
    assert os.listdir(path.parent) == ["f"]


def test_atomic_write_failure_leaves_no_temp_file(tmp_path):
    target = tmp_path / "dir"
    target.mkdir()
    (target / "keep").write_text("k")
    with pytest.raises(OSError):
        fsutil.atomic_write(str(target), "x")  # cannot replace a non-empty directory
    assert sorted(os.listdir(tmp_path)) == ["dir"]
    assert os.listdir(target) == ["keep"]


# -- publish_no_clobber -------------------------------------------------------------


def test_publish_no_clobber(tmp_path):
    first = tmp_path / "first"
    first.write_bytes(b"original")
    second = tmp_path / "second"
    second.write_bytes(b"other bytes")
    dest = tmp_path / "published"

    assert fsutil.publish_no_clobber(str(first), str(dest)) is True
    assert dest.read_bytes() == b"original"

    assert fsutil.publish_no_clobber(str(second), str(dest)) is False
    assert dest.read_bytes() == b"original"
    assert sorted(os.listdir(tmp_path)) == ["first", "published", "second"]


# -- file_lock ----------------------------------------------------------------------


def test_file_lock_creates_the_lock_file(tmp_path):
    lock = tmp_path / "locks" / "x.lock"
    with fsutil.file_lock(str(lock)):
        assert lock.is_file()


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


def test_file_lock_is_released_after_an_exception(tmp_path):
    lock = str(tmp_path / "x.lock")
    with pytest.raises(RuntimeError):
        with fsutil.file_lock(lock):
            raise RuntimeError("boom")
    acquired = []

    def take():
        with fsutil.file_lock(lock):
            acquired.append(True)

    thread = threading.Thread(target=take)
    thread.start()
    thread.join(5)
    assert acquired == [True]


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
