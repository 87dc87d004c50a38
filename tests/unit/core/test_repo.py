"""Unit tests of saltext_venvbuild.core.repo: layout, trusted directories,
content-addressed wheels, manifests, listing."""

import hashlib
import os
import stat

import pytest

from saltext_venvbuild.core.errors import RepoError
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import UnsafePathError
from saltext_venvbuild.core.manifest import MAX_BYTES
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin
from saltext_venvbuild.core.repo import RepoLayout
from saltext_venvbuild.core.repo import list_locations
from saltext_venvbuild.core.repo import list_platforms
from saltext_venvbuild.core.repo import location
from saltext_venvbuild.core.repo import published_manifests

PLATFORM = "debian-12-x86_64-cp311"
OTHER_PLATFORM = "ubuntu-24.04-x86_64-cp312"
SPEC_ID = "0123456789abcdef"
OTHER_SPEC = "fedcba9876543210"
OTHER_UID = 12345
OTHER_GID = 12345


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


# -- RepoLayout ---------------------------------------------------------------------


def test_layout_paths(tmp_path):
    root = str(tmp_path / "repo")
    repo = RepoLayout(root + "/", PLATFORM)
    assert repo.root == root
    assert repo.platform == PLATFORM
    assert repo.release is None
    assert repo.group is None
    assert repo.platform_dir == f"{root}/{PLATFORM}"
    assert repo.wheels_dir == f"{root}/{PLATFORM}/wheels"
    assert repo.manifests_dir == f"{root}/{PLATFORM}/manifests"
    assert repo.locks_dir == f"{root}/{PLATFORM}/.locks"
    assert repo.staging_dir == f"{root}/{PLATFORM}/.staging"
    assert repo.manifest_path("keystone", SPEC_ID) == f"{root}/{PLATFORM}/manifests/keystone-{SPEC_ID}.txt"


def test_wheel_path_is_by_content(tmp_path):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    pin = Pin("foo", "1.0", "foo-1.0-py3-none-any.whl", "a" * 64)
    assert repo.wheel_path(pin) == os.path.join(repo.wheels_dir, "a" * 64, "foo-1.0-py3-none-any.whl")
    assert repo.wheel_path(pin) == os.path.join(repo.wheels_dir, pin.path)


def test_release_level_paths(tmp_path):
    layout = RepoLayout(str(tmp_path / "repo"), PLATFORM, release="2025.2")
    assert layout.platform_dir == str(tmp_path / "repo" / "2025.2" / PLATFORM)
    assert layout.wheels_dir == str(tmp_path / "repo" / "2025.2" / PLATFORM / "wheels")
    assert location(PLATFORM) == PLATFORM
    assert location(PLATFORM, "2025.2") == f"2025.2/{PLATFORM}"


def test_modes_without_and_with_a_group(tmp_path):
    plain = RepoLayout(str(tmp_path / "r"), PLATFORM)
    assert (plain.dir_mode, plain.file_mode) == (0o755, 0o644)
    grouped = RepoLayout(str(tmp_path / "r"), PLATFORM, group=OTHER_GID)
    assert (grouped.dir_mode, grouped.file_mode) == (0o750, 0o640)


def test_layout_no_longer_takes_an_owner(tmp_path):
    # Changed on purpose: only root writes in the repo; ``owner`` is gone, ``group`` reads.
    with pytest.raises(TypeError):
        RepoLayout(str(tmp_path / "repo"), PLATFORM, owner=(0, 0))  # pylint: disable=unexpected-keyword-arg


@pytest.mark.parametrize("root", ["/", "/srv", "srv/venvbuild", "/srv/../etc", "", "/srv/x\ny"])
def test_layout_refuses_unsafe_roots(root):
    with pytest.raises(SpecError, match="^repo_path"):
        RepoLayout(root, PLATFORM)


@pytest.mark.parametrize("platform", ["", "debian-12", "../x-y-z-w", "Debian-12-x86_64-cp311", None])
def test_layout_refuses_a_bad_platform_key(tmp_path, platform):
    with pytest.raises(SpecError, match="not a platform key"):
        RepoLayout(str(tmp_path / "repo"), platform)


def test_ensure_dirs_refuses_a_system_tree():
    repo = RepoLayout("/etc/venvbuild/repo", PLATFORM)
    with pytest.raises(SpecError, match="refusing a path inside /etc"):
        repo.ensure_dirs()
    assert not os.path.exists("/etc/venvbuild/repo")


def test_ensure_dirs_refuses_a_root_through_a_link_into_a_system_tree(tmp_path):
    (tmp_path / "etc-link").symlink_to("/etc")
    repo = RepoLayout(str(tmp_path / "etc-link" / "venvbuild-test-repo"), PLATFORM)
    with pytest.raises(SpecError, match="resolves to /etc/venvbuild-test-repo"):
        repo.ensure_dirs()
    assert not os.path.exists("/etc/venvbuild-test-repo")


# -- ensure_dirs: creation, modes, groups -------------------------------------------


def test_ensure_dirs_and_staging(tmp_path):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    staging = repo.staging("build-keystone")
    for path in (repo.wheels_dir, repo.manifests_dir, repo.locks_dir, repo.staging_dir):
        assert os.path.isdir(path)
    assert os.path.dirname(staging) == repo.staging_dir
    assert os.path.basename(staging).startswith("build-keystone-")
    assert os.path.isdir(staging)
    assert _mode(staging) == 0o700
    repo.remove_staging(staging)
    assert not os.path.exists(staging)


def test_ensure_dirs_modes(tmp_path):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    repo.ensure_dirs()
    for path in (repo.root, repo.platform_dir, repo.wheels_dir, repo.manifests_dir):
        assert _mode(path) == 0o755, path
        assert os.lstat(path).st_uid == 0
    for path in (repo.locks_dir, repo.staging_dir):
        assert _mode(path) == 0o700, path


def test_ensure_dirs_is_idempotent_and_resets_modes(tmp_path):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    repo.ensure_dirs()
    os.chmod(repo.wheels_dir, 0o700)
    os.chmod(repo.staging_dir, 0o755)
    repo.ensure_dirs()
    assert _mode(repo.wheels_dir) == 0o755
    assert _mode(repo.staging_dir) == 0o700


def test_ensure_dirs_with_a_group(tmp_path):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM, release="2025.2", group=OTHER_GID)
    repo.ensure_dirs()
    release_dir = os.path.dirname(repo.platform_dir)
    for path in (repo.root, release_dir, repo.platform_dir, repo.wheels_dir, repo.manifests_dir):
        st = os.lstat(path)
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o750, 0, OTHER_GID), path
    for path in (repo.locks_dir, repo.staging_dir):
        st = os.lstat(path)
        assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o700, 0), path


def test_ensure_dirs_gives_existing_dirs_the_group(tmp_path):
    RepoLayout(str(tmp_path / "repo"), PLATFORM).ensure_dirs()
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM, group=OTHER_GID)
    repo.ensure_dirs()
    assert os.lstat(repo.wheels_dir).st_gid == OTHER_GID
    assert _mode(repo.wheels_dir) == 0o750


def test_release_level_is_created(tmp_path):
    layout = RepoLayout(str(tmp_path / "repo"), PLATFORM, release="2025.2")
    layout.ensure_dirs()
    assert os.path.isdir(layout.manifests_dir)
    assert os.stat(layout.manifests_dir).st_uid == 0


def test_ensure_dirs_below_a_sticky_world_writable_dir(tmp_path):
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    repo = RepoLayout(str(sticky / "repo"), PLATFORM)
    repo.ensure_dirs()
    assert os.path.isdir(repo.manifests_dir)


# -- ensure_dirs: untrusted directories are refused ---------------------------------


def test_ensure_dirs_refuses_a_root_owned_by_another_user(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    os.chown(root, OTHER_UID, -1)
    repo = RepoLayout(str(root), PLATFORM)
    with pytest.raises(UnsafePathError, match=rf"{root} is owned by uid {OTHER_UID}"):
        repo.ensure_dirs()
    assert not os.path.exists(repo.platform_dir)


def test_ensure_dirs_refuses_a_parent_owned_by_another_user(tmp_path):
    parent = tmp_path / "srv"
    parent.mkdir()
    os.chown(parent, OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match="owned by uid 12345"):
        RepoLayout(str(parent / "repo"), PLATFORM).ensure_dirs()
    assert not os.path.exists(parent / "repo")


@pytest.mark.parametrize("mode, message", [(0o775, "writable by its group"), (0o777, "writable by group and others")])
def test_ensure_dirs_refuses_a_writable_parent(tmp_path, mode, message):
    parent = tmp_path / "srv"
    parent.mkdir()
    os.chmod(parent, mode)
    with pytest.raises(UnsafePathError, match=message):
        RepoLayout(str(parent / "repo"), PLATFORM).ensure_dirs()


@pytest.mark.parametrize("inner", ["wheels_dir", "manifests_dir", "platform_dir", "locks_dir"])
def test_ensure_dirs_refuses_an_inner_dir_of_another_user(tmp_path, inner):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    repo.ensure_dirs()
    os.chown(getattr(repo, inner), OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match="owned by uid 12345"):
        repo.ensure_dirs()


def test_ensure_dirs_refuses_a_group_writable_inner_dir(tmp_path):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    repo.ensure_dirs()
    os.chmod(repo.manifests_dir, 0o775)
    with pytest.raises(UnsafePathError, match="writable by its group"):
        repo.ensure_dirs()


@pytest.mark.parametrize("owner", [0, OTHER_UID], ids=["root", "other"])
@pytest.mark.parametrize("inner", ["wheels_dir", "manifests_dir", "platform_dir", "staging_dir"])
def test_ensure_dirs_refuses_a_planted_symlink_inside_the_repo(tmp_path, inner, owner):
    # Any link below the repo root is refused, whoever made it.
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    repo.ensure_dirs()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.rename(getattr(repo, inner), str(tmp_path / "moved"))
    os.symlink(str(elsewhere), getattr(repo, inner))
    os.lchown(getattr(repo, inner), owner, -1)
    with pytest.raises(UnsafePathError, match=rf"{getattr(repo, inner)} is a symlink inside venvbuild's own directory"):
        repo.ensure_dirs()
    assert os.listdir(elsewhere) == []


def test_ensure_dirs_refuses_a_symlinked_release_level(tmp_path):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM, release="2025.2")
    os.makedirs(repo.root)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(str(tmp_path / "elsewhere"), os.path.join(repo.root, "2025.2"))
    with pytest.raises(UnsafePathError, match="is a symlink inside venvbuild's own directory"):
        repo.ensure_dirs()


def test_ensure_dirs_follows_a_root_owned_link_at_the_root(tmp_path):
    real = tmp_path / "data" / "venvbuild"
    real.mkdir(parents=True)
    (tmp_path / "repo").symlink_to(real)
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    repo.ensure_dirs()
    assert os.path.isdir(real / PLATFORM / "manifests")
    assert os.path.islink(repo.root)


def test_ensure_dirs_refuses_a_root_link_of_another_user(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "repo").symlink_to(real)
    os.lchown(tmp_path / "repo", OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match="is a symlink owned by uid 12345"):
        RepoLayout(str(tmp_path / "repo"), PLATFORM).ensure_dirs()
    assert os.listdir(real) == []


def test_ensure_dirs_refuses_a_root_link_into_a_dir_of_another_user(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chown(elsewhere, OTHER_UID, -1)
    (tmp_path / "repo").symlink_to(elsewhere)  # root's link, but into another user's dir
    with pytest.raises(UnsafePathError, match=rf"{elsewhere} is owned by uid 12345"):
        RepoLayout(str(tmp_path / "repo"), PLATFORM).ensure_dirs()
    assert os.listdir(elsewhere) == []


def test_ensure_dirs_refuses_an_inner_symlink_below_a_symlinked_root(tmp_path):
    real = tmp_path / "data" / "venvbuild"
    real.mkdir(parents=True)
    (tmp_path / "repo").symlink_to(real)
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    repo.ensure_dirs()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.rmdir(real / PLATFORM / "wheels")
    os.symlink(str(elsewhere), str(real / PLATFORM / "wheels"))
    with pytest.raises(UnsafePathError, match="is a symlink inside venvbuild's own directory"):
        repo.ensure_dirs()


def test_ensure_dirs_refuses_a_file_where_a_dir_belongs(tmp_path):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    os.makedirs(repo.root)
    with open(repo.platform_dir, "w", encoding="utf-8") as handle:
        handle.write("x")
    with pytest.raises(UnsafePathError, match="is not a directory"):
        repo.ensure_dirs()


def test_lock_file_lives_in_the_locks_dir(tmp_path):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    repo.ensure_dirs()  # callers (the builder) create the directories first
    with repo.lock("keystone") as locked:
        assert locked is True
        assert os.listdir(repo.locks_dir) == ["keystone.lock"]
    assert _mode(os.path.join(repo.locks_dir, "keystone.lock")) == 0o600


# -- publish_wheels -----------------------------------------------------------------

FOO = "Foo_Bar-1.0-py3-none-any.whl"
ZED = "zed-2.0-cp311-cp311-linux_x86_64.whl"
WHEELS = {FOO: b"foo-bar wheel bytes", ZED: b"zed wheel bytes"}


def _built(path, wheels=None):
    path.mkdir()
    for name, data in (wheels or WHEELS).items():
        (path / name).write_bytes(data)
        os.chmod(path / name, 0o600)
    return path


@pytest.fixture
def built_dir(tmp_path):
    path = _built(tmp_path / "built")
    (path / "build.log").write_text("not a wheel")
    return path


@pytest.fixture
def repo(tmp_path):
    return RepoLayout(str(tmp_path / "repo"), PLATFORM)


def test_publish_wheels_returns_pins_of_the_published_bytes(repo, built_dir):
    pins, new = repo.publish_wheels(str(built_dir))
    # Each pin records the wheel's size: the manifest carries it, a target's
    # download stops there.
    assert pins == [
        Pin("foo-bar", "1.0", FOO, _sha(WHEELS[FOO]), len(WHEELS[FOO])),
        Pin("zed", "2.0", ZED, _sha(WHEELS[ZED]), len(WHEELS[ZED])),
    ]
    assert new == [FOO, ZED]
    assert sorted(os.listdir(repo.wheels_dir)) == sorted(_sha(data) for data in WHEELS.values())
    for pin in pins:
        published = repo.wheel_path(pin)
        assert os.listdir(os.path.dirname(published)) == [pin.filename]
        with open(published, "rb") as handle:
            assert handle.read() == WHEELS[pin.filename]
        assert _mode(published) == 0o644
        assert _mode(os.path.dirname(published)) == 0o755
        assert not os.path.islink(published)


def test_publish_wheels_twice_is_stable_and_stores_once(repo, built_dir):
    pins, new = repo.publish_wheels(str(built_dir))
    again, new_again = repo.publish_wheels(str(built_dir))
    assert again == pins
    assert new == [FOO, ZED]
    assert new_again == []
    assert len(os.listdir(repo.wheels_dir)) == 2


def test_publish_wheels_does_not_rewrite_a_stored_wheel(repo, built_dir):
    pins, _new = repo.publish_wheels(str(built_dir))
    before = os.stat(repo.wheel_path(pins[0]))
    repo.publish_wheels(str(built_dir))
    after = os.stat(repo.wheel_path(pins[0]))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_two_builds_of_one_name_coexist(repo, tmp_path):
    # Changed on purpose: no "first published wins"; a rebuild or a fork of the
    # same name and version is stored next to the earlier one, by content.
    one = _built(tmp_path / "one", {FOO: b"published by an earlier build"})
    two = _built(tmp_path / "two", {FOO: b"a rebuild from another commit"})
    pins_one, new_one = repo.publish_wheels(str(one))
    pins_two, new_two = repo.publish_wheels(str(two))
    assert new_one == new_two == [FOO]
    assert pins_one[0].sha256 == _sha(b"published by an earlier build")
    assert pins_two[0].sha256 == _sha(b"a rebuild from another commit")
    assert sorted(os.listdir(repo.wheels_dir)) == sorted([pins_one[0].sha256, pins_two[0].sha256])
    with open(repo.wheel_path(pins_one[0]), "rb") as handle:
        assert handle.read() == b"published by an earlier build"
    with open(repo.wheel_path(pins_two[0]), "rb") as handle:
        assert handle.read() == b"a rebuild from another commit"


def test_publish_wheels_replaces_a_damaged_stored_wheel(repo, built_dir):
    repo.ensure_dirs()
    sha = _sha(WHEELS[FOO])
    os.mkdir(os.path.join(repo.wheels_dir, sha), 0o755)
    damaged = os.path.join(repo.wheels_dir, sha, FOO)
    with open(damaged, "wb") as handle:
        handle.write(b"truncated")
    pins, new = repo.publish_wheels(str(built_dir))
    assert FOO in new
    with open(damaged, "rb") as handle:
        assert handle.read() == WHEELS[FOO]
    assert _mode(damaged) == 0o644
    assert repo.missing_wheels(Manifest.create("keystone", SPEC_ID, PLATFORM, [], pins)) == []
    assert os.listdir(os.path.dirname(damaged)) == [FOO]  # no temporary file left behind


def test_publish_wheels_replaces_a_planted_symlink_without_following_it(repo, built_dir, tmp_path):
    repo.ensure_dirs()
    victim = tmp_path / "victim"
    victim.write_bytes(b"do not overwrite")
    sha = _sha(WHEELS[FOO])
    os.mkdir(os.path.join(repo.wheels_dir, sha), 0o755)
    planted = os.path.join(repo.wheels_dir, sha, FOO)
    os.symlink(str(victim), planted)
    repo.publish_wheels(str(built_dir))
    assert victim.read_bytes() == b"do not overwrite"
    assert not os.path.islink(planted)
    with open(planted, "rb") as handle:
        assert handle.read() == WHEELS[FOO]


def test_publish_wheels_refuses_a_symlinked_sha_dir(repo, built_dir, tmp_path):
    repo.ensure_dirs()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(str(elsewhere), os.path.join(repo.wheels_dir, _sha(WHEELS[FOO])))
    with pytest.raises(UnsafePathError, match="is a symlink inside venvbuild's own directory"):
        repo.publish_wheels(str(built_dir))
    assert os.listdir(elsewhere) == []


def test_publish_wheels_refuses_a_sha_dir_of_another_user(repo, built_dir):
    repo.ensure_dirs()
    sha_dir = os.path.join(repo.wheels_dir, _sha(WHEELS[FOO]))
    os.mkdir(sha_dir, 0o755)
    os.chown(sha_dir, OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match="owned by uid 12345"):
        repo.publish_wheels(str(built_dir))
    assert os.listdir(sha_dir) == []


def test_publish_wheels_with_a_group(tmp_path, built_dir):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM, group=OTHER_GID)
    pins, _new = repo.publish_wheels(str(built_dir))
    for pin in pins:
        path = repo.wheel_path(pin)
        st = os.lstat(path)
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 0, OTHER_GID)
        st = os.lstat(os.path.dirname(path))
        assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o750, OTHER_GID)


def test_publish_wheels_refuses_an_invalid_wheel_name(repo, tmp_path):
    built = tmp_path / "bad"
    built.mkdir()
    (built / "notawheel.whl").write_bytes(b"x")
    with pytest.raises(RepoError, match="not a valid wheel file name"):
        repo.publish_wheels(str(built))


def test_publish_wheels_refuses_a_symlinked_wheel(repo, tmp_path):
    built = tmp_path / "built-link"
    built.mkdir()
    secret = tmp_path / "secret"
    secret.write_bytes(b"secret")
    (built / FOO).symlink_to(secret)
    with pytest.raises(UnsafePathError, match="is a symlink"):
        repo.publish_wheels(str(built))


def test_publish_wheels_of_an_empty_dir(repo, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert repo.publish_wheels(str(empty)) == ([], [])


# -- manifests in the repo ----------------------------------------------------------


def _manifest_for(pins, venv_id="keystone", spec_id=SPEC_ID, platform=PLATFORM):
    return Manifest.create(venv_id, spec_id, platform, ["foo-bar", "zed"], pins)


def test_missing_wheels(repo, built_dir):
    pins, _new = repo.publish_wheels(str(built_dir))
    absent = Pin("gone", "1.0", "gone-1.0-py3-none-any.whl", "0" * 64)
    manifest = _manifest_for(pins + [absent])
    assert repo.missing_wheels(manifest) == ["gone-1.0-py3-none-any.whl"]
    assert repo.missing_wheels(_manifest_for(pins)) == []


def test_missing_wheels_counts_a_damaged_wheel(repo, built_dir):
    pins, _new = repo.publish_wheels(str(built_dir))
    with open(repo.wheel_path(pins[1]), "wb") as handle:
        handle.write(b"bit rot")
    assert repo.missing_wheels(_manifest_for(pins)) == [ZED]


def test_missing_wheels_counts_a_symlinked_wheel(repo, built_dir, tmp_path):
    pins, _new = repo.publish_wheels(str(built_dir))
    copy = tmp_path / "copy"
    copy.write_bytes(WHEELS[FOO])
    os.unlink(repo.wheel_path(pins[0]))
    os.symlink(str(copy), repo.wheel_path(pins[0]))
    assert repo.missing_wheels(_manifest_for(pins)) == [FOO]


def test_publish_and_read_manifest(repo, built_dir):
    assert repo.read_manifest("keystone", SPEC_ID) is None
    manifest = _manifest_for(repo.publish_wheels(str(built_dir))[0])
    repo.publish_manifest(manifest)
    assert repo.read_manifest("keystone", SPEC_ID) == manifest
    assert os.listdir(repo.manifests_dir) == [f"keystone-{SPEC_ID}.txt"]
    path = repo.manifest_path("keystone", SPEC_ID)
    assert _mode(path) == 0o644
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == manifest.render()


def test_publish_manifest_with_a_group(tmp_path, built_dir):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM, group=OTHER_GID)
    repo.publish_manifest(_manifest_for(repo.publish_wheels(str(built_dir))[0]))
    st = os.lstat(repo.manifest_path("keystone", SPEC_ID))
    assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o640, OTHER_GID)


def test_publish_manifest_replaces_atomically(repo, built_dir):
    pins, _new = repo.publish_wheels(str(built_dir))
    repo.publish_manifest(_manifest_for(pins[:1]))
    repo.publish_manifest(_manifest_for(pins))
    assert repo.read_manifest("keystone", SPEC_ID) == _manifest_for(pins)
    assert os.listdir(repo.manifests_dir) == [f"keystone-{SPEC_ID}.txt"]


def test_publish_manifest_replaces_a_planted_symlink(repo, built_dir, tmp_path):
    repo.ensure_dirs()
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    os.symlink(str(victim), repo.manifest_path("keystone", SPEC_ID))
    repo.publish_manifest(_manifest_for(repo.publish_wheels(str(built_dir))[0]))
    assert victim.read_text() == "keep me"
    assert not os.path.islink(repo.manifest_path("keystone", SPEC_ID))


def test_publish_manifest_refuses_one_that_does_not_read_back(repo):
    # Built by hand, not by create(): a requirement that is not canonical.
    pin = Pin("foo", "1.0", "foo-1.0-py3-none-any.whl", "a" * 64, 10)
    manifest = Manifest("keystone", SPEC_ID, PLATFORM, ("Foo>=1",), (pin,))
    with pytest.raises(RepoError, match="requirement not canonical"):
        repo.publish_manifest(manifest)
    assert not os.path.exists(repo.manifest_path("keystone", SPEC_ID))


def test_publish_manifest_refuses_unsorted_pins(repo):
    pins = (Pin("zed", "1.0", "zed-1.0-py3-none-any.whl", "a" * 64, 10),
            Pin("foo", "1.0", "foo-1.0-py3-none-any.whl", "b" * 64, 10))
    with pytest.raises(RepoError, match="canonical form"):
        repo.publish_manifest(Manifest("keystone", SPEC_ID, PLATFORM, (), pins))
    assert not os.path.exists(repo.manifest_path("keystone", SPEC_ID))


def test_publish_manifest_refuses_pins_without_a_size(repo):
    # Every published manifest records each wheel's size (targets stop downloads there).
    pins = (Pin("foo", "1.0", "foo-1.0-py3-none-any.whl", "b" * 64),)
    with pytest.raises(RepoError, match="malformed wheel line"):
        repo.publish_manifest(Manifest("keystone", SPEC_ID, PLATFORM, (), pins))
    assert not os.path.exists(repo.manifest_path("keystone", SPEC_ID))


# -- read_manifest (moved here from core.manifest) ----------------------------------


def _write_manifest(repo, text, venv_id="keystone", spec_id=SPEC_ID):
    repo.ensure_dirs()
    path = repo.manifest_path(venv_id, spec_id)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def test_read_manifest_missing_file_is_none(repo):
    assert repo.read_manifest("keystone", SPEC_ID) is None  # not even the directories exist
    repo.ensure_dirs()
    assert repo.read_manifest("keystone", SPEC_ID) is None


def test_read_manifest_reads_a_rendered_manifest(repo):
    manifest = _manifest_for([Pin("foo-bar", "1.0", FOO, "a" * 64, 10)])
    _write_manifest(repo, manifest.render())
    assert repo.read_manifest("keystone", SPEC_ID) == manifest


def test_read_manifest_malformed_file_names_the_path_and_the_fix(repo):
    path = _write_manifest(repo, "hello\n")
    with pytest.raises(RepoError, match=f"^{path}: not a venvbuild manifest.*wheels_rebuild: true"):
        repo.read_manifest("keystone", SPEC_ID)
    assert repo.read_manifest("keystone", SPEC_ID, ignore_unreadable=True) is None


@pytest.mark.parametrize("older", ["venvbuild-manifest 1", "venvbuild-manifest 2"])
def test_read_manifest_of_an_older_format_is_none(repo, older):
    # Format 2 had no wheel sizes: its spec is built again, published as format 3.
    manifest = _manifest_for([Pin("foo-bar", "1.0", FOO, "a" * 64, 10)])
    text = manifest.render().replace("venvbuild-manifest 3", older).replace(" size=10", "")
    _write_manifest(repo, text)
    assert repo.read_manifest("keystone", SPEC_ID) is None


def test_read_manifest_refuses_one_naming_another_spec(repo):
    other = _manifest_for([Pin("foo-bar", "1.0", FOO, "a" * 64, 10)], spec_id=OTHER_SPEC)
    path = _write_manifest(repo, other.render(), spec_id=SPEC_ID)
    with pytest.raises(RepoError, match=f"^{path}: names venv 'keystone', spec '{OTHER_SPEC}'"):
        repo.read_manifest("keystone", SPEC_ID)
    assert repo.read_manifest("keystone", SPEC_ID, ignore_unreadable=True) is None


def test_read_manifest_refuses_one_naming_another_venv_or_platform(repo):
    pins = [Pin("foo-bar", "1.0", FOO, "a" * 64, 10)]
    _write_manifest(repo, _manifest_for(pins, venv_id="nova").render())
    with pytest.raises(RepoError, match="names venv 'nova'"):
        repo.read_manifest("keystone", SPEC_ID)
    _write_manifest(repo, _manifest_for(pins, platform=OTHER_PLATFORM).render())
    with pytest.raises(RepoError, match=f"platform '{OTHER_PLATFORM}'"):
        repo.read_manifest("keystone", SPEC_ID)


def test_read_manifest_unreadable_is_repo_error(repo):
    repo.ensure_dirs()
    os.mkdir(repo.manifest_path("keystone", SPEC_ID))  # a directory
    with pytest.raises(RepoError, match="cannot read it"):
        repo.read_manifest("keystone", SPEC_ID)
    # Not venvbuild's own file: an error even for a rebuild, which would write over it.
    with pytest.raises(RepoError, match="not a regular file"):
        repo.read_manifest("keystone", SPEC_ID, ignore_unreadable=True)


def test_read_manifest_binary_file_is_repo_error(repo):
    repo.ensure_dirs()
    with open(repo.manifest_path("keystone", SPEC_ID), "wb") as handle:
        handle.write(b"\xff\xfe\x00garbage")
    with pytest.raises(RepoError, match="cannot read it"):
        repo.read_manifest("keystone", SPEC_ID)
    assert repo.read_manifest("keystone", SPEC_ID, ignore_unreadable=True) is None


def test_read_manifest_refuses_a_symlink(repo, tmp_path):
    manifest = _manifest_for([Pin("foo-bar", "1.0", FOO, "a" * 64, 10)])
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text(manifest.render())
    repo.ensure_dirs()
    os.symlink(str(elsewhere), repo.manifest_path("keystone", SPEC_ID))
    with pytest.raises(RepoError, match="cannot read it.*symlink"):
        repo.read_manifest("keystone", SPEC_ID)
    # A planted link is an error even for a rebuild (docs/security.md).
    with pytest.raises(RepoError, match="symlink"):
        repo.read_manifest("keystone", SPEC_ID, ignore_unreadable=True)


def _huge_manifest(repo):
    repo.ensure_dirs()
    with open(repo.manifest_path("keystone", SPEC_ID), "wb") as handle:
        handle.write(b"# venvbuild-manifest 2\n" + b"#" * MAX_BYTES)


def test_read_manifest_of_a_huge_file_is_repo_error(repo):
    _huge_manifest(repo)
    with pytest.raises(RepoError, match="wheels_rebuild|cannot read it|larger than"):
        repo.read_manifest("keystone", SPEC_ID)


def test_read_manifest_of_a_huge_file_is_ignored_on_request(repo):
    _huge_manifest(repo)
    assert repo.read_manifest("keystone", SPEC_ID, ignore_unreadable=True) is None


def test_manifest_hashes_skip_a_huge_file(repo):
    _huge_manifest(repo)
    assert repo.manifest_hashes() == {}


# -- manifest_hashes / published_manifests ------------------------------------------


def test_manifest_hashes(repo, built_dir):
    pins, _new = repo.publish_wheels(str(built_dir))
    one = _manifest_for(pins)
    two = _manifest_for(pins[:1], venv_id="nova", spec_id=OTHER_SPEC)
    repo.publish_manifest(one)
    repo.publish_manifest(two)
    # Skipped: a damaged one, an older format, names that are not manifests.
    _write_manifest(repo, "garbage\n", venv_id="glance")
    _write_manifest(repo, one.render().replace("manifest 2", "manifest 1"), venv_id="cinder",
                    spec_id="1111111111111111")
    for name in ("README", f"keystone-{SPEC_ID}.json", "keystone-XYZ.txt", f".tmp-keystone-{SPEC_ID}.txt"):
        with open(os.path.join(repo.manifests_dir, name), "w", encoding="utf-8") as handle:
            handle.write(one.render())
    assert repo.manifest_hashes() == {
        f"keystone-{SPEC_ID}": one.sha256,
        f"nova-{OTHER_SPEC}": two.sha256,
    }


def test_manifest_hashes_without_a_manifests_dir(repo):
    assert repo.manifest_hashes() == {}


def test_published_manifests(tmp_path, built_dir):
    root = str(tmp_path / "repo")
    plain = RepoLayout(root, PLATFORM)
    released = RepoLayout(root, OTHER_PLATFORM, release="2025.2")
    pins, _new = plain.publish_wheels(str(built_dir))
    one = _manifest_for(pins)
    two = _manifest_for(pins, platform=OTHER_PLATFORM)
    plain.publish_manifest(one)
    released.publish_manifest(two)
    assert published_manifests(root) == {
        f"{PLATFORM}/keystone-{SPEC_ID}": one.sha256,
        f"2025.2/{OTHER_PLATFORM}/keystone-{SPEC_ID}": two.sha256,
    }
    assert published_manifests(str(tmp_path / "nothing")) == {}


# -- list_locations / list_platforms ------------------------------------------------


def test_list_platforms_of_a_missing_root(tmp_path):
    assert list_platforms(str(tmp_path / "nothing")) == []
    assert list_locations(str(tmp_path / "nothing")) == {}


def test_list_platforms_lists_key_shaped_dirs_with_manifests(tmp_path):
    root = tmp_path / "repo"
    for name in ("debian-12-x86_64-cp311", "ubuntu-24.04-aarch64-cp312", "Debian-12-x86_64-cp311",
                 "three-part-key", "a-b-c-d-e", "a b-12-x86_64-cp311"):
        (root / name / "manifests").mkdir(parents=True)
    (root / "rocky-9-x86_64-cp39" / "wheels").mkdir(parents=True)  # no manifests/
    (root / "alpine-3.19-x86_64-cp312").mkdir()
    (root / "alpine-3.19-x86_64-cp312" / "manifests").write_text("a file, not a dir")
    (root / "debian-11-x86_64-cp39").write_text("a file")
    assert list_platforms(str(root)) == ["debian-12-x86_64-cp311", "ubuntu-24.04-aarch64-cp312"]


def test_list_platforms_of_a_file_is_repo_error(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(RepoError, match="cannot list it"):
        list_platforms(str(path))


def test_list_platforms_finds_release_levels(tmp_path):
    (tmp_path / "debian-12-x86_64-cp311" / "manifests").mkdir(parents=True)
    (tmp_path / "2025.2" / "ubuntu-24.04-x86_64-cp312" / "manifests").mkdir(parents=True)
    (tmp_path / ".staging" / "rocky-9-x86_64-cp39" / "manifests").mkdir(parents=True)
    assert list_platforms(str(tmp_path)) == ["debian-12-x86_64-cp311", "ubuntu-24.04-x86_64-cp312"]


def test_list_locations(tmp_path):
    (tmp_path / "debian-12-x86_64-cp311" / "manifests").mkdir(parents=True)
    (tmp_path / "2025.1" / "debian-12-x86_64-cp311" / "manifests").mkdir(parents=True)
    (tmp_path / "2025.2" / "ubuntu-24.04-x86_64-cp312" / "manifests").mkdir(parents=True)
    (tmp_path / ".staging" / "rocky-9-x86_64-cp39" / "manifests").mkdir(parents=True)
    (tmp_path / "2025.3").mkdir()  # a release level with no platform yet
    assert list_locations(str(tmp_path)) == {
        "2025.1/debian-12-x86_64-cp311": "debian-12-x86_64-cp311",
        "2025.2/ubuntu-24.04-x86_64-cp312": "ubuntu-24.04-x86_64-cp312",
        "debian-12-x86_64-cp311": "debian-12-x86_64-cp311",
    }
    assert list_platforms(str(tmp_path)) == ["debian-12-x86_64-cp311", "ubuntu-24.04-x86_64-cp312"]
