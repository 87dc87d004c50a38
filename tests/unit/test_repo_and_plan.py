"""Unit tests of saltext_venvbuild.core.repo (layout, publication) and core.plan."""

import hashlib
import os
import stat

import pytest

from saltext_venvbuild.core import plan
from saltext_venvbuild.core.errors import RepoError
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.interpreter import Interpreter
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin
from saltext_venvbuild.core.repo import RepoLayout
from saltext_venvbuild.core.repo import list_platforms
from saltext_venvbuild.core.spec import VenvSpec
from saltext_venvbuild.core.stamp import Stamp

PLATFORM = "debian-12-x86_64-cp311"


def _sha(data):
    return hashlib.sha256(data).hexdigest()


# -- RepoLayout ---------------------------------------------------------------------


def test_layout_paths(tmp_path):
    root = str(tmp_path / "repo")
    repo = RepoLayout(root + "/", PLATFORM)
    assert repo.root == root
    assert repo.platform == PLATFORM
    assert repo.platform_dir == f"{root}/{PLATFORM}"
    assert repo.wheels_dir == f"{root}/{PLATFORM}/wheels"
    assert repo.manifests_dir == f"{root}/{PLATFORM}/manifests"
    assert repo.locks_dir == f"{root}/{PLATFORM}/.locks"
    assert repo.staging_dir == f"{root}/{PLATFORM}/.staging"
    assert repo.manifest_path("keystone", "0123456789abcdef") == (
        f"{root}/{PLATFORM}/manifests/keystone-0123456789abcdef.txt"
    )


@pytest.mark.parametrize("root", ["/", "/srv", "srv/venvbuild", "/srv/../etc"])
def test_layout_refuses_unsafe_roots(root):
    with pytest.raises(SpecError, match="^repo_path"):
        RepoLayout(root, PLATFORM)


def test_ensure_dirs_and_staging(tmp_path):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    staging = repo.staging("build-keystone")
    for path in (repo.wheels_dir, repo.manifests_dir, repo.locks_dir, repo.staging_dir):
        assert os.path.isdir(path)
    assert os.path.dirname(staging) == repo.staging_dir
    assert os.path.basename(staging).startswith("build-keystone-")
    assert os.path.isdir(staging)
    repo.remove_staging(staging)
    assert not os.path.exists(staging)


def test_lock_file_lives_in_the_locks_dir(tmp_path):
    repo = RepoLayout(str(tmp_path / "repo"), PLATFORM)
    with repo.lock("keystone"):
        assert os.listdir(repo.locks_dir) == ["keystone.lock"]


# -- publish_wheels -----------------------------------------------------------------

WHEELS = {
    "Foo_Bar-1.0-py3-none-any.whl": b"foo-bar wheel bytes",
    "zed-2.0-cp311-cp311-linux_x86_64.whl": b"zed wheel bytes",
}


@pytest.fixture
def built_dir(tmp_path):
    path = tmp_path / "built"
    path.mkdir()
    for name, data in WHEELS.items():
        (path / name).write_bytes(data)
    (path / "build.log").write_text("not a wheel")
    return path


@pytest.fixture
def repo(tmp_path):
    return RepoLayout(str(tmp_path / "repo"), PLATFORM)


def test_publish_wheels_returns_pins_of_the_published_bytes(repo, built_dir):
    pins, _replaced = repo.publish_wheels(str(built_dir))
    assert pins == [
        Pin("foo-bar", "1.0", "Foo_Bar-1.0-py3-none-any.whl", _sha(WHEELS["Foo_Bar-1.0-py3-none-any.whl"])),
        Pin("zed", "2.0", "zed-2.0-cp311-cp311-linux_x86_64.whl",
            _sha(WHEELS["zed-2.0-cp311-cp311-linux_x86_64.whl"])),
    ]
    assert sorted(os.listdir(repo.wheels_dir)) == sorted(WHEELS)
    for name, data in WHEELS.items():
        published = os.path.join(repo.wheels_dir, name)
        with open(published, "rb") as handle:
            assert handle.read() == data
        assert stat.S_IMODE(os.stat(published).st_mode) == 0o644


def test_publish_wheels_keeps_an_already_published_wheel(repo, built_dir):
    name = "Foo_Bar-1.0-py3-none-any.whl"
    repo.ensure_dirs()
    existing = os.path.join(repo.wheels_dir, name)
    with open(existing, "wb") as handle:
        handle.write(b"bytes published by an earlier build")
    pins = {pin.filename: pin for pin in repo.publish_wheels(str(built_dir))[0]}
    assert pins[name].sha256 == _sha(b"bytes published by an earlier build")
    assert pins[name].sha256 != _sha(WHEELS[name])
    with open(existing, "rb") as handle:
        assert handle.read() == b"bytes published by an earlier build"
    # The other wheel is published as usual.
    other = "zed-2.0-cp311-cp311-linux_x86_64.whl"
    assert pins[other].sha256 == _sha(WHEELS[other])


def test_publish_wheels_twice_is_stable(repo, built_dir):
    assert repo.publish_wheels(str(built_dir)) == repo.publish_wheels(str(built_dir))


def test_publish_wheels_refuses_an_invalid_wheel_name(repo, tmp_path):
    built = tmp_path / "bad"
    built.mkdir()
    (built / "notawheel.whl").write_bytes(b"x")
    with pytest.raises(RepoError, match="not a valid wheel file name"):
        repo.publish_wheels(str(built))


# -- manifests in the repo ----------------------------------------------------------


def _manifest_for(pins, venv_id="keystone", spec_id="0123456789abcdef"):
    return Manifest.create(venv_id, spec_id, PLATFORM, ["foo-bar", "zed"], pins)


def test_missing_wheels(repo, built_dir):
    pins, _replaced = repo.publish_wheels(str(built_dir))
    absent = Pin("gone", "1.0", "gone-1.0-py3-none-any.whl", "0" * 64)
    manifest = _manifest_for(pins + [absent])
    assert repo.missing_wheels(manifest) == ["gone-1.0-py3-none-any.whl"]
    assert repo.missing_wheels(_manifest_for(pins)) == []


def test_publish_and_read_manifest(repo, built_dir):
    assert repo.read_manifest("keystone", "0123456789abcdef") is None
    manifest = _manifest_for(repo.publish_wheels(str(built_dir))[0])
    repo.publish_manifest(manifest)
    assert repo.read_manifest("keystone", "0123456789abcdef") == manifest
    assert os.listdir(repo.manifests_dir) == ["keystone-0123456789abcdef.txt"]


# -- list_platforms -----------------------------------------------------------------


def test_list_platforms_of_a_missing_root(tmp_path):
    assert list_platforms(str(tmp_path / "nothing")) == []


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


# -- plan ---------------------------------------------------------------------------

PY311 = Interpreter("python3", "/usr/bin/python3.11", "cpython", "3.11.2", 3, 11, False, "x86_64")
PY312 = Interpreter("python3", "/usr/bin/python3.12", "cpython", "3.12.1", 3, 12, False, "x86_64")


def _spec(packages=("foo-bar", "zed")):
    return VenvSpec.create("keystone", packages=list(packages), platform=PLATFORM)


def _plan_manifest(spec, versions, sha="a"):
    pins = [Pin(name, version, f"{name.replace('-', '_')}-{version}-py3-none-any.whl", sha * 64)
            for name, version in versions.items()]
    return Manifest.create(spec.venv_id, spec.spec_id, spec.platform, spec.requirements, pins)


def _stamp(spec, manifest, interp=PY311, **changes):
    fields = {
        "venv_id": spec.venv_id,
        "spec_id": spec.spec_id,
        "manifest_sha256": manifest.sha256,
        "python": plan.python_record(interp),
        "requirements": list(spec.requirements),
        "versions": manifest.versions(),
        "seeded": {"pip": "24.0"},
        "install_tool": "pip",
        "source": "/srv/venvbuild/wheels",
        "created": "20240101T000000Z",
    }
    fields.update(changes)
    return Stamp(**fields)


VERSIONS = {"foo-bar": "1.0", "zed": "2.0"}


def test_python_record():
    assert plan.python_record(PY311) == {"executable": "/usr/bin/python3.11", "version": "3.11.2", "tag": "cp311"}


def test_is_current_without_a_stamp():
    assert plan.is_current(None, _spec(), PY311) is False
    assert plan.is_current(None, _spec(), PY311, "a" * 64) is False


def test_is_current_for_the_installed_spec():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest)
    assert plan.is_current(stamp, spec, PY311) is True
    assert plan.is_current(stamp, spec, PY311, manifest.sha256) is True


def test_is_current_compares_the_manifest_hash_when_known():
    spec = _spec()
    stamp = _stamp(spec, _plan_manifest(spec, VERSIONS))
    rebuilt = _plan_manifest(spec, VERSIONS, sha="b")
    assert plan.is_current(stamp, spec, PY311, rebuilt.sha256) is False


@pytest.mark.parametrize(
    "stamp_changes",
    [{"spec_id": "ffffffffffffffff"}, {"venv_id": "nova"}, {"python": plan.python_record(PY312)}],
)
def test_is_current_is_false_when_the_stamp_differs(stamp_changes):
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest, **stamp_changes)
    assert plan.is_current(stamp, spec, PY311, manifest.sha256) is False


def test_is_current_is_false_for_another_interpreter():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    assert plan.is_current(_stamp(spec, manifest), spec, PY312, manifest.sha256) is False


def test_changes_of_a_fresh_install_before_the_build():
    spec = _spec()
    assert plan.changes(None, spec, PY311) == {
        "venv": {"old": None, "new": spec.spec_id},
        "requirements": {"added": ["foo-bar", "zed"]},
    }


def test_changes_of_a_fresh_install_with_a_manifest():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    assert plan.changes(None, spec, PY311, manifest) == {
        "venv": {"old": None, "new": spec.spec_id},
        "requirements": {"added": ["foo-bar", "zed"]},
        "packages": {"added": {"foo-bar": "1.0", "zed": "2.0"}},
    }


def test_changes_of_the_installed_spec_are_empty():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest)
    assert plan.changes(stamp, spec, PY311) == {}
    assert plan.changes(stamp, spec, PY311, manifest) == {}


def test_changes_same_spec_rebuilt_manifest():
    spec = _spec()
    old = _plan_manifest(spec, VERSIONS)
    new = _plan_manifest(spec, VERSIONS, sha="b")
    stamp = _stamp(spec, old)
    assert plan.changes(stamp, spec, PY311, new) == {"manifest": {"old": old.sha256, "new": new.sha256}}


def test_changes_same_spec_newer_versions():
    spec = _spec()
    old = _plan_manifest(spec, VERSIONS)
    new = _plan_manifest(spec, {"foo-bar": "1.1", "zed": "2.0"})
    assert plan.changes(_stamp(spec, old), spec, PY311, new) == {
        "packages": {"changed": {"foo-bar": {"old": "1.0", "new": "1.1"}}},
        "manifest": {"old": old.sha256, "new": new.sha256},
    }


def test_changes_python_changed():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest, interp=PY311)
    assert plan.changes(stamp, spec, PY312, manifest) == {
        "python": {"old": plan.python_record(PY311), "new": plan.python_record(PY312)}
    }


def test_changes_requirement_removed():
    old_spec = _spec(("foo-bar", "zed"))
    old_manifest = _plan_manifest(old_spec, VERSIONS)
    stamp = _stamp(old_spec, old_manifest)
    new_spec = _spec(("foo-bar",))
    new_manifest = _plan_manifest(new_spec, {"foo-bar": "1.0"})
    assert plan.changes(stamp, new_spec, PY311, new_manifest) == {
        "spec_id": {"old": old_spec.spec_id, "new": new_spec.spec_id},
        "requirements": {"removed": ["zed"]},
        "packages": {"removed": {"zed": "2.0"}},
    }


def test_changes_requirement_added_before_the_build():
    old_spec = _spec(("foo-bar",))
    stamp = _stamp(old_spec, _plan_manifest(old_spec, {"foo-bar": "1.0"}))
    new_spec = _spec(("foo-bar", "zed>=2"))
    assert plan.changes(stamp, new_spec, PY311) == {
        "spec_id": {"old": old_spec.spec_id, "new": new_spec.spec_id},
        "requirements": {"added": ["zed>=2"]},
    }


def test_changes_rebuild_flag():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest)
    assert plan.changes(stamp, spec, PY311, manifest, rebuild=True) == {"rebuilt": True}
    fresh = plan.changes(None, spec, PY311, manifest, rebuild=True)
    assert fresh["rebuilt"] is True
    assert fresh["venv"] == {"old": None, "new": spec.spec_id}


def test_wheels_rebuild_replaces_only_unreadable_wheels(repo, tmp_path):
    import zipfile

    def real_wheel(path, payload):
        with zipfile.ZipFile(path, "w") as whl:
            whl.writestr("pkg/__init__.py", payload)
            whl.writestr("pkg-1.0.dist-info/RECORD", "")

    built = tmp_path / "rebuilt"
    built.mkdir()
    real_wheel(built / "good-1.0-py3-none-any.whl", "new bytes")
    real_wheel(built / "bad-1.0-py3-none-any.whl", "new bytes")
    repo.ensure_dirs()
    wheels = tmp_path / "repo" / PLATFORM / "wheels"
    real_wheel(wheels / "good-1.0-py3-none-any.whl", "published bytes")
    (wheels / "bad-1.0-py3-none-any.whl").write_bytes(b"truncated")
    good_before = (wheels / "good-1.0-py3-none-any.whl").read_bytes()

    pins, replaced = repo.publish_wheels(str(built), replace_corrupt=True)
    assert replaced == ["bad-1.0-py3-none-any.whl"]
    assert (wheels / "good-1.0-py3-none-any.whl").read_bytes() == good_before
    assert (wheels / "bad-1.0-py3-none-any.whl").read_bytes() == (
        built / "bad-1.0-py3-none-any.whl").read_bytes()
    by_name = {pin.filename: pin.sha256 for pin in pins}
    assert by_name["bad-1.0-py3-none-any.whl"] == _sha((wheels / "bad-1.0-py3-none-any.whl").read_bytes())


def test_list_platforms_finds_release_levels(tmp_path):
    (tmp_path / "debian-12-x86_64-cp311" / "manifests").mkdir(parents=True)
    (tmp_path / "2025.2" / "ubuntu-24.04-x86_64-cp312" / "manifests").mkdir(parents=True)
    (tmp_path / ".staging" / "rocky-9-x86_64-cp39" / "manifests").mkdir(parents=True)
    assert list_platforms(str(tmp_path)) == ["debian-12-x86_64-cp311", "ubuntu-24.04-x86_64-cp312"]


def test_release_level_and_owner(tmp_path):
    import os

    layout = RepoLayout(str(tmp_path / "repo"), PLATFORM, release="2025.2",
                        owner=(os.getuid(), os.getgid()))
    assert layout.wheels_dir == str(tmp_path / "repo" / "2025.2" / PLATFORM / "wheels")
    layout.ensure_dirs()
    assert os.stat(layout.manifests_dir).st_uid == os.getuid()
