"""Unit tests of saltext_venvbuild.core.registry: the venvs a minion has, and the wheels they use."""

import json
import os
import stat

import pytest

from saltext_venvbuild.core import registry
from saltext_venvbuild.core.errors import UnsafePathError
from saltext_venvbuild.core.installer import LOCK_NAME
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin

PLATFORM = "debian-12-x86_64-cp311"
SPEC_A = "0123456789abcdef"
SPEC_B = "fedcba9876543210"


def _sha(char):
    return char * 64


def _manifest(venv_id, spec_id, shas):
    pins = [Pin(f"pkg{i}", "1.0", f"pkg{i}-1.0-py3-none-any.whl", sha, 10) for i, sha in enumerate(shas)]
    return Manifest.create(venv_id, spec_id, PLATFORM, [p.name for p in pins], pins)


def _version(versions_dir, entry, manifest=None, lock_text=None):
    """A venv version directory as the installer leaves it: its lock file is the manifest."""
    path = versions_dir / entry
    path.mkdir(parents=True)
    if manifest is not None:
        (path / LOCK_NAME).write_text(manifest.render())
    elif lock_text is not None:
        (path / LOCK_NAME).write_text(lock_text)
    return path


@pytest.fixture
def state_dir(tmp_path):
    path = tmp_path / "state"
    path.mkdir(mode=0o700)
    return path


# -- read / register ----------------------------------------------------------------


def test_read_of_a_missing_registry(state_dir):
    assert registry.read(str(state_dir)) == {}


def test_register_and_forget(state_dir):
    registry.register(str(state_dir), "/opt/venvs/keystone", "keystone")
    registry.register(str(state_dir), "/opt/venvs/nova", "nova")
    assert registry.read(str(state_dir)) == {"/opt/venvs/keystone": "keystone", "/opt/venvs/nova": "nova"}
    path = state_dir / "venvs.json"
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == registry.read(str(state_dir))
    registry.register(str(state_dir), "/opt/venvs/keystone", None)
    assert registry.read(str(state_dir)) == {"/opt/venvs/nova": "nova"}
    registry.register(str(state_dir), "/opt/venvs/never", None)  # forgetting an unknown path is fine
    assert registry.read(str(state_dir)) == {"/opt/venvs/nova": "nova"}


def test_register_replaces_the_venv_id_of_a_path(state_dir):
    registry.register(str(state_dir), "/opt/venvs/x", "keystone")
    registry.register(str(state_dir), "/opt/venvs/x", "glance")
    assert registry.read(str(state_dir)) == {"/opt/venvs/x": "glance"}


def test_register_keeps_the_mode_of_an_existing_file(state_dir):
    path = state_dir / "venvs.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    registry.register(str(state_dir), "/opt/venvs/x", "x")
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600


@pytest.mark.parametrize("content", ["", "not json", "[1, 2]", '"a string"', "null", "\xff"])
def test_read_of_a_damaged_registry_is_empty(state_dir, content):
    (state_dir / "venvs.json").write_text(content, encoding="latin-1")
    assert registry.read(str(state_dir)) == {}


def test_register_over_a_damaged_registry(state_dir):
    (state_dir / "venvs.json").write_text("[garbage")
    registry.register(str(state_dir), "/opt/venvs/x", "x")
    assert registry.read(str(state_dir)) == {"/opt/venvs/x": "x"}


def test_read_refuses_a_planted_symlink(state_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text('{"/opt/venvs/evil": "evil"}')
    (state_dir / "venvs.json").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match="is a symlink"):
        registry.read(str(state_dir))


def test_register_replaces_a_planted_symlink_without_following_it(state_dir, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    (state_dir / "venvs.json").symlink_to(victim)
    with pytest.raises(UnsafePathError):
        registry.register(str(state_dir), "/opt/venvs/x", "x")  # it reads first: refused
    assert victim.read_text() == "keep me"


# -- wheels_in_use ------------------------------------------------------------------


def test_wheels_in_use_of_an_empty_registry(state_dir):
    assert registry.wheels_in_use(str(state_dir)) == set()


def test_wheels_in_use(state_dir, tmp_path):
    parent = tmp_path / "venvs"
    keystone_versions = parent / ".keystone.versions"
    _version(keystone_versions, f"{SPEC_A}-20240101T000000Z", _manifest("keystone", SPEC_A, [_sha("a"), _sha("b")]))
    _version(keystone_versions, f"{SPEC_B}-20240102T000000Z", _manifest("keystone", SPEC_B, [_sha("b"), _sha("c")]))
    os.symlink(f".keystone.versions/{SPEC_B}-20240102T000000Z", parent / "keystone")
    nova_versions = parent / ".nova.versions"
    _version(nova_versions, f"{SPEC_A}-20240101T000000Z-1", _manifest("nova", SPEC_A, [_sha("d")]))
    os.symlink(f".nova.versions/{SPEC_A}-20240101T000000Z-1", parent / "nova")
    registry.register(str(state_dir), str(parent / "keystone"), "keystone")
    registry.register(str(state_dir), str(parent / "nova"), "nova")
    assert registry.wheels_in_use(str(state_dir)) == {_sha("a"), _sha("b"), _sha("c"), _sha("d")}


def test_wheels_in_use_ignores_what_venvbuild_did_not_make(state_dir, tmp_path):
    parent = tmp_path / "venvs"
    versions = parent / ".keystone.versions"
    _version(versions, f"{SPEC_A}-20240101T000000Z", _manifest("keystone", SPEC_A, [_sha("a")]))
    # Adopted venvs, names of other shapes and symlinks keep nothing alive.
    _version(versions, "preexisting-20240101T000000Z", _manifest("keystone", SPEC_B, [_sha("b")]))
    _version(versions, "something-else", _manifest("keystone", SPEC_B, [_sha("c")]))
    other = _version(tmp_path / "other", f"{SPEC_B}-20240101T000000Z", _manifest("keystone", SPEC_B, [_sha("d")]))
    os.symlink(str(other), versions / f"{SPEC_B}-20240103T000000Z")
    registry.register(str(state_dir), str(parent / "keystone"), "keystone")
    assert registry.wheels_in_use(str(state_dir)) == {_sha("a")}


def test_wheels_in_use_skips_unreadable_locks_and_bad_paths(state_dir, tmp_path):
    parent = tmp_path / "venvs"
    versions = parent / ".keystone.versions"
    _version(versions, f"{SPEC_A}-20240101T000000Z", _manifest("keystone", SPEC_A, [_sha("a")]))
    _version(versions, f"{SPEC_A}-20240102T000000Z")  # no lock file
    _version(versions, f"{SPEC_A}-20240103T000000Z", lock_text="garbage\n")
    not_utf8 = _version(versions, f"{SPEC_A}-20240104T000000Z")
    (not_utf8 / LOCK_NAME).write_bytes(b"\xff\xfe garbage")
    a_dir = _version(versions, f"{SPEC_A}-20240105T000000Z")
    (a_dir / LOCK_NAME).mkdir()  # a directory, not a file
    linked = _version(versions, f"{SPEC_A}-20240106T000000Z")
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text(_manifest("keystone", SPEC_A, [_sha("e")]).render())
    (linked / LOCK_NAME).symlink_to(elsewhere)  # a planted link is not read
    registry.register(str(state_dir), str(parent / "keystone"), "keystone")
    registry.register(str(state_dir), "relative/path", "old")  # refused by VenvPaths
    registry.register(str(state_dir), str(tmp_path / "gone"), "gone")  # no versions dir
    assert registry.wheels_in_use(str(state_dir)) == {_sha("a")}


def test_wheels_in_use_of_a_venv_installed_before_wheel_sizes(state_dir, tmp_path):
    # A lock file of format 2 (the release before manifests recorded wheel sizes)
    # still keeps its wheels in the cache; a damaged one keeps nothing.
    parent = tmp_path / "venvs"
    versions = parent / ".keystone.versions"
    old = _manifest("keystone", SPEC_A, [_sha("a"), _sha("b")]).render()
    old = old.replace("venvbuild-manifest 3", "venvbuild-manifest 2").replace(" size=10", "")
    _version(versions, f"{SPEC_A}-20240101T000000Z", lock_text=old)
    _version(versions, f"{SPEC_B}-20240102T000000Z",
             lock_text=old.replace(f"sha256:{_sha('b')}", "sha256:nothex"))
    registry.register(str(state_dir), str(parent / "keystone"), "keystone")
    assert registry.wheels_in_use(str(state_dir)) == {_sha("a"), _sha("b")}
