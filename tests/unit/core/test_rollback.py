"""core/rollback.py and the installer's kept versions: switching back with one rename."""

import hashlib
import os
import sys
import time

import pytest

from saltext_venvbuild.core import installer
from saltext_venvbuild.core import rollback
from saltext_venvbuild.core.errors import InstallError
from saltext_venvbuild.core.installer import LOCK_NAME
from saltext_venvbuild.core.layout import VenvPaths
from saltext_venvbuild.core.stamp import Stamp
from saltext_venvbuild.core.stamp import read_stamp
from saltext_venvbuild.core.stamp import write_stamp

SPEC_A = "0123456789abcdef"
SPEC_B = "fedcba9876543210"
PY = {"executable": sys.executable, "version": "3.11.2", "tag": "cp311"}


@pytest.fixture
def state_dir(tmp_path):
    path = tmp_path / "state"
    path.mkdir(mode=0o700)
    return str(path)


def version(parent, spec, stamp_time, versions_of=None, lock=b"manifest", healthy=True):
    """A complete venv directory venvbuild made: bin/python, the lock file, the stamp."""
    directory = parent / ".keystone.versions" / f"{spec}-{stamp_time}"
    (directory / "bin").mkdir(parents=True)
    (directory / "bin" / "python").write_text("")
    (directory / LOCK_NAME).write_bytes(lock)
    sha = hashlib.sha256(lock).hexdigest() if healthy else "0" * 64
    write_stamp(str(directory), Stamp(
        venv_id="keystone", spec_id=spec, manifest_sha256=sha, python=PY,
        requirements=["vbdep"], versions=versions_of or {"vbdep": "1.0"}, seeded={},
        install_tool="uv", source="local repo", created=stamp_time))
    return directory


@pytest.fixture
def two(tmp_path):
    """Live spec B (vbdep 1.1), kept spec A (vbdep 1.0), older by mtime."""
    parent = tmp_path / "venvs"
    a = version(parent, SPEC_A, "20240101T000000Z", lock=b"a")
    b = version(parent, SPEC_B, "20240102T000000Z", {"vbdep": "1.1"}, lock=b"b")
    past = time.time() - 100
    os.utime(a, (past, past))
    os.symlink(f".keystone.versions/{b.name}", parent / "keystone")
    return parent, a, b


def test_kept_versions_are_the_healthy_non_live_ones_newest_first(two, tmp_path):
    parent, a, _b = two
    paths = VenvPaths(str(parent / "keystone"))
    assert [d for d, _s in installer.kept_versions(paths)] == [str(a)]
    broken = version(parent, "1111111111111111", "20240103T000000Z", healthy=False)
    no_python = version(parent, "2222222222222222", "20240104T000000Z")
    os.unlink(no_python / "bin" / "python")
    assert [d for d, _s in installer.kept_versions(paths)] == [str(a)]
    assert broken.is_dir() and no_python.is_dir()


def test_rollback_test_mode_switches_nothing(two, state_dir):
    parent, a, b = two
    paths = VenvPaths(str(parent / "keystone"), state_dir)
    ret = rollback.rollback(paths, state_dir, test=True)
    assert ret["changes"] == {
        "venv_dir": {"old": str(b), "new": str(a)},
        "spec_id": {"old": SPEC_B, "new": SPEC_A},
        "manifest_sha256": {"old": hashlib.sha256(b"b").hexdigest(),
                            "new": hashlib.sha256(b"a").hexdigest()},
        "packages": {"changed": {"vbdep": {"old": "1.1", "new": "1.0"}}},
    }
    assert "would be switched back to spec" in ret["comment"]
    assert os.readlink(parent / "keystone") == f".keystone.versions/{b.name}"


def test_rollback_switches_and_a_second_returns(two, state_dir):
    parent, a, b = two
    paths = VenvPaths(str(parent / "keystone"), state_dir)
    seen = []
    ret = rollback.rollback(paths, state_dir, test=False,
                            after=lambda stamp, changes: seen.append(stamp.spec_id) or "sent")
    assert ret["changed"] is True and ret["announced"] == "sent" and seen == [SPEC_A]
    assert os.readlink(parent / "keystone") == f".keystone.versions/{a.name}"
    assert read_stamp(str(parent / "keystone")).spec_id == SPEC_A
    again = rollback.rollback(paths, state_dir, test=False)
    assert again["changes"]["venv_dir"] == {"old": str(a), "new": str(b)}
    assert os.readlink(parent / "keystone") == f".keystone.versions/{b.name}"
    assert sorted(os.listdir(parent / ".keystone.versions")) == sorted([a.name, b.name])


def test_rollback_without_a_kept_version_is_a_clear_error(tmp_path, state_dir):
    parent = tmp_path / "venvs"
    only = version(parent, SPEC_A, "20240101T000000Z")
    os.symlink(f".keystone.versions/{only.name}", parent / "keystone")
    with pytest.raises(InstallError, match="no kept version to roll back to"):
        rollback.rollback(VenvPaths(str(parent / "keystone"), state_dir), state_dir, test=False)


def test_rollback_of_what_venvbuild_did_not_install_is_refused(tmp_path, state_dir):
    (tmp_path / "venvs" / "keystone").mkdir(parents=True)
    with pytest.raises(InstallError, match="no venv installed by venvbuild"):
        rollback.rollback(VenvPaths(str(tmp_path / "venvs" / "keystone"), state_dir), state_dir,
                          test=True)


def test_switch_to_refuses_when_the_live_venv_changed_meanwhile(two, state_dir):
    parent, a, _b = two
    paths = VenvPaths(str(parent / "keystone"), state_dir)
    with pytest.raises(InstallError, match="changed while switching"):
        installer.switch_to(paths, state_dir, str(a), live="/somewhere/else")
    damaged = paths.live_dir()
    (a / LOCK_NAME).write_bytes(b"tampered")
    with pytest.raises(InstallError, match="no longer a complete venv"):
        installer.switch_to(paths, state_dir, str(a), live=damaged)
    assert paths.live_dir() == damaged
