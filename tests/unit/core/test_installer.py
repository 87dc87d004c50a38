"""Unit tests of saltext_venvbuild.core.installer: the parts that need no pip or uv.

The managed layouts here are built by hand as the installer leaves them::

    <parent>/<name> -> .<name>.versions/<spec id>-<time>        (a relative symlink)
    <parent>/.<name>.versions/<spec id>-<time>/venvbuild.json  (the stamp)
"""

import hashlib
import os
import sys

import pytest

from saltext_venvbuild.core import installer
from saltext_venvbuild.core.errors import InstallError
from saltext_venvbuild.core.errors import UnsafePathError
from saltext_venvbuild.core.installer import LOCK_NAME
from saltext_venvbuild.core.installer import remove
from saltext_venvbuild.core.installer import verify
from saltext_venvbuild.core.interpreter import Interpreter
from saltext_venvbuild.core.layout import VenvPaths
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin
from saltext_venvbuild.core.stamp import STAMP_NAME
from saltext_venvbuild.core.stamp import Stamp
from saltext_venvbuild.core.stamp import python_record
from saltext_venvbuild.core.stamp import write_stamp

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


# -- remove -------------------------------------------------------------------------


def test_remove_a_managed_venv(parent, state_dir, tmp_path):
    version = _managed(parent)
    (parent / ".keystone.versions" / ENTRY_B).mkdir()  # a kept older version
    # A link inside a version (symlink_pkgs) must not lead the removal elsewhere.
    distro = tmp_path / "distro"
    distro.mkdir()
    (distro / "module.py").write_text("keep")
    os.symlink(str(distro), version / "linked")
    other = parent / "nova"
    other.mkdir()  # a neighbour is not touched
    paths = _paths(parent, state_dir=state_dir)
    versions = parent / ".keystone.versions"
    assert remove(paths, str(state_dir)) == (
        [str(parent / "keystone"), str(versions / ENTRY_A), str(versions / ENTRY_B), str(versions)], [])
    assert not os.path.lexists(parent / "keystone")
    assert not os.path.lexists(parent / ".keystone.versions")
    assert (distro / "module.py").read_text() == "keep"
    assert other.is_dir()
    assert os.path.exists(paths.lock_file)
    assert os.stat(os.path.dirname(paths.lock_file)).st_mode & 0o777 == 0o700


def test_remove_keeps_adopted_content_and_the_versions_dir_holding_it(parent, state_dir):
    _managed(parent)
    versions = parent / ".keystone.versions"
    adopted = versions / "preexisting-20260101T000000Z"
    adopted.mkdir()
    (adopted / "notes.txt").write_text("precious")
    plan = remove(_paths(parent, state_dir=state_dir), str(state_dir))
    assert plan == ([str(parent / "keystone"), str(versions / ENTRY_A)], [str(adopted)])
    assert os.listdir(versions) == [adopted.name]
    assert (adopted / "notes.txt").read_text() == "precious"


def test_remove_of_nothing(parent, state_dir):
    assert remove(_paths(parent, state_dir=state_dir), str(state_dir)) == ([], [])


def test_remove_of_leftover_versions(parent, state_dir):
    (parent / ".keystone.versions" / ENTRY_A).mkdir(parents=True)
    assert remove(_paths(parent, state_dir=state_dir), str(state_dir)) == (
        [str(parent / ".keystone.versions" / ENTRY_A), str(parent / ".keystone.versions")], [])
    assert not os.path.lexists(parent / ".keystone.versions")


def test_remove_refuses_a_venv_made_by_other_means(parent, state_dir):
    (parent / "keystone").mkdir()
    (parent / "keystone" / "pyvenv.cfg").write_text("")
    (parent / ".keystone.versions" / ENTRY_A).mkdir(parents=True)
    with pytest.raises(InstallError, match="refusing to remove it"):
        remove(_paths(parent, state_dir=state_dir), str(state_dir))
    assert (parent / "keystone" / "pyvenv.cfg").exists()
    assert (parent / ".keystone.versions" / ENTRY_A).is_dir()


def test_remove_refuses_a_foreign_link_and_leaves_its_target(parent, state_dir, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "data").write_text("keep")
    os.symlink(str(target), parent / "keystone")
    with pytest.raises(InstallError):
        remove(_paths(parent, state_dir=state_dir), str(state_dir))
    assert os.path.islink(parent / "keystone")
    assert (target / "data").read_text() == "keep"


def test_remove_refuses_a_symlinked_versions_dir(parent, state_dir, tmp_path):
    target = tmp_path / "elsewhere"
    (target / ENTRY_A).mkdir(parents=True)
    os.symlink(str(target), parent / ".keystone.versions")
    os.symlink(f".keystone.versions/{ENTRY_A}", parent / "keystone")
    with pytest.raises(UnsafePathError, match="is a symlink"):
        remove(_paths(parent, state_dir=state_dir), str(state_dir))
    assert (target / ENTRY_A).is_dir()
    assert os.path.islink(parent / "keystone")


def test_remove_refuses_a_versions_dir_of_another_user(parent, state_dir):
    version = _managed(parent)
    os.chown(version.parent, OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match="owned by uid 12345"):
        remove(_paths(parent, state_dir=state_dir), str(state_dir))
    assert version.is_dir()


def test_remove_refuses_a_parent_of_another_user(parent, state_dir):
    version = _managed(parent)
    os.chown(parent, OTHER_UID, -1)
    with pytest.raises(UnsafePathError, match="owned by uid 12345"):
        remove(_paths(parent, state_dir=state_dir), str(state_dir))
    assert version.is_dir()
    assert os.path.islink(parent / "keystone")


def test_remove_refuses_an_untrusted_state_dir(parent, tmp_path):
    _managed(parent)
    state = tmp_path / "state"
    state.mkdir()
    os.chmod(state, 0o777)
    with pytest.raises(UnsafePathError, match="writable by group and others"):
        remove(_paths(parent, state_dir=state), str(state))
    assert os.path.islink(parent / "keystone")


# -- verify on a hand-made venv -----------------------------------------------------


def _dist(site, name, version):
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    module = site / name.replace("-", "_")
    module.mkdir()
    data = f"__version__ = '{version}'\n".encode()
    (module / "__init__.py").write_bytes(data)
    import base64  # pylint: disable=import-outside-toplevel

    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    (dist_info / "RECORD").write_text(
        f"{module.name}/__init__.py,sha256={digest},{len(data)}\n{dist_info.name}/RECORD,,\n"
    )
    return dist_info


@pytest.fixture
def venv(parent):
    """A complete managed venv as the installer leaves it (without running pip)."""
    live = _managed(parent, stamp=False)
    (live / "pyvenv.cfg").write_text(f"home = {os.path.dirname(sys.executable)}\n")
    (live / "bin").mkdir()
    os.symlink(sys.executable, live / "bin" / "python")
    site = live / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    _dist(site, "pip", "24.0")
    _dist(site, "foo-bar", "1.0")
    _dist(site, "zed", "2.0")
    pins = [Pin("foo-bar", "1.0", "foo_bar-1.0-py3-none-any.whl", "a" * 64),
            Pin("zed", "2.0", "zed-2.0-py3-none-any.whl", "b" * 64)]
    manifest = Manifest.create("keystone", SPEC_A, PLATFORM, ["foo-bar", "zed"], pins)
    (live / LOCK_NAME).write_text(manifest.render())
    stamp = Stamp(venv_id="keystone", spec_id=SPEC_A, manifest_sha256=manifest.sha256,
                  python=python_record(PY), requirements=["foo-bar", "zed"],
                  versions=manifest.versions(), seeded={"pip": "24.0"}, install_tool="pip",
                  source="/srv/venvbuild", created="20240101T000000Z")
    write_stamp(str(live), stamp)
    return live, site, stamp


def test_verify_a_healthy_venv(parent, venv):
    assert verify(_paths(parent)) == []
    assert verify(_paths(parent), deep=True) == []


def test_verify_of_nothing(parent):
    assert verify(_paths(parent)) == [f"{parent}/keystone: no venv there"]
    (parent / "dir").mkdir()
    assert verify(_paths(parent, "dir")) == [f"{parent}/dir: no venv there"]


def test_verify_of_a_venv_without_a_stamp(parent):
    _managed(parent, stamp=False)
    assert verify(_paths(parent)) == [
        f"{parent}/keystone: no readable {STAMP_NAME}; not installed by venvbuild or damaged"
    ]
    (parent / "other").mkdir()
    (parent / "other" / "pyvenv.cfg").write_text("")
    # A venv made by other means is not venvbuild's, whatever it holds.
    assert "a venv venvbuild did not install" in verify(_paths(parent, "other"))[0]


def test_verify_a_tampered_lock_file(parent, venv):
    live, _site, _stamp = venv
    with open(live / LOCK_NAME, "a", encoding="utf-8") as handle:
        handle.write("evil==6.6.6 --hash=sha256:" + "c" * 64 + "\n")
    assert verify(_paths(parent)) == [
        f"{live}/{LOCK_NAME}: missing or not the manifest the stamp names ({_stamp.manifest_sha256[:12]})"
    ]
    os.unlink(live / LOCK_NAME)
    assert len(verify(_paths(parent))) == 1


def test_verify_a_symlinked_lock_file(parent, venv, tmp_path):
    live, _site, _stamp = venv
    copy = tmp_path / "copy.txt"
    copy.write_bytes((live / LOCK_NAME).read_bytes())
    os.unlink(live / LOCK_NAME)
    os.symlink(str(copy), live / LOCK_NAME)
    assert "missing or not the manifest" in verify(_paths(parent))[0]


def test_verify_a_missing_interpreter(parent, venv):
    live, _site, _stamp = venv
    os.unlink(live / "bin" / "python")
    os.symlink("/nonexistent/python3.11", live / "bin" / "python")
    assert verify(_paths(parent)) == [
        f"{parent}/keystone/bin/python: missing or its base interpreter {sys.executable} is gone"
    ]


def test_verify_packages(parent, venv):
    _live, site, _stamp = venv
    import shutil  # pylint: disable=import-outside-toplevel

    shutil.rmtree(site / "zed-2.0.dist-info")
    shutil.rmtree(site / "foo_bar-1.0.dist-info")
    _dist_renamed = site / "foo_bar-1.1.dist-info"
    _dist_renamed.mkdir()
    (_dist_renamed / "METADATA").write_text("Name: foo-bar\nVersion: 1.1\n")
    extra = site / "evil-6.6.6.dist-info"
    extra.mkdir()
    (extra / "METADATA").write_text("Name: evil\nVersion: 6.6.6\n")
    assert verify(_paths(parent)) == [
        "foo-bar: 1.1 installed, 1.0 expected",
        "zed==2.0: not installed",
        "evil==6.6.6: installed but not in the manifest",
    ]


def test_verify_a_broken_distro_link(parent, venv, tmp_path):
    _live, site, _stamp = venv
    os.symlink(str(tmp_path / "gone" / "apt_pkg.so"), site / "apt_pkg.so")
    assert verify(_paths(parent)) == [
        f"{site}/apt_pkg.so: link to {tmp_path}/gone/apt_pkg.so is broken (distro package of symlink_pkgs removed?)"
    ]


def test_verify_deep_checks_records_but_not_linked_distro_packages(parent, venv, tmp_path):
    live, site, stamp = venv
    (site / "zed" / "__init__.py").write_text("tampered = True\n")
    assert verify(_paths(parent)) == []
    assert verify(_paths(parent), deep=True) == ["zed/__init__.py: content differs from its RECORD"]
    # A distro package linked in (symlink_pkgs): expected, and its files are not checked.
    distro = tmp_path / "dist-packages"
    distro.mkdir()
    apt_info = _dist(distro, "python-apt", "2.6.0")
    (distro / "python_apt" / "__init__.py").write_text("changed by the package manager\n")
    os.symlink(str(apt_info), site / apt_info.name)
    stamp.linked = {"python-apt": "2.6.0"}
    write_stamp(str(live), stamp)
    (site / "zed" / "__init__.py").write_bytes(b"__version__ = '2.0'\n")
    assert verify(_paths(parent), deep=True) == []


def test_module_constants():
    assert installer.KEEP_VERSIONS == 2
    assert LOCK_NAME == "venvbuild-lock.txt"


# -- the wheels an install offers ---------------------------------------------------


def _two_pins():
    pins = [Pin("foo-bar", "1.0", "foo_bar-1.0-py3-none-any.whl", "a" * 64),
            Pin("zed", "2.0", "zed-2.0-py3-none-any.whl", "b" * 64)]
    return pins, Manifest.create("keystone", SPEC_A, PLATFORM, ["foo-bar", "zed"], pins)


def test_content_addressed_wheels_are_offered_through_their_stable_directories(tmp_path):
    pins, manifest = _two_pins()
    wheels = {p.sha256: str(tmp_path / "cache" / p.sha256 / p.filename) for p in pins}
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    args = installer._find_links(str(tmp), manifest, wheels)
    assert args == ["--find-links", str(tmp_path / "cache" / ("a" * 64)),
                    "--find-links", str(tmp_path / "cache" / ("b" * 64))]
    assert not os.listdir(tmp)  # nothing linked: the paths are the same at every install


def test_other_wheels_are_linked_into_a_private_directory(tmp_path):
    pins, manifest = _two_pins()
    loose = tmp_path / "loose"
    wheels = {pins[0].sha256: str(tmp_path / "cache" / pins[0].sha256 / pins[0].filename),
              pins[1].sha256: str(loose / "renamed.whl")}
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    args = installer._find_links(str(tmp), manifest, wheels)
    links = tmp / "wheels"
    assert args == ["--find-links", str(tmp_path / "cache" / ("a" * 64)), "--find-links", str(links)]
    assert os.listdir(links) == [pins[1].filename]
    assert os.readlink(links / pins[1].filename) == str(loose / "renamed.whl")
    assert (os.stat(links).st_mode & 0o777) == 0o700


def test_a_wheel_missing_from_the_mapping_is_an_error(tmp_path):
    pins, manifest = _two_pins()
    with pytest.raises(InstallError, match="zed-2.0-py3-none-any.whl .* not available locally"):
        installer._find_links(str(tmp_path), manifest, {pins[0].sha256: "/x/" + "a" * 64 + "/f"})
