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
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import UnsafePathError
from saltext_venvbuild.core.installer import LOCK_NAME
from saltext_venvbuild.core.installer import VenvPaths
from saltext_venvbuild.core.installer import existing_change
from saltext_venvbuild.core.installer import removal
from saltext_venvbuild.core.installer import remove
from saltext_venvbuild.core.installer import verify
from saltext_venvbuild.core.interpreter import Interpreter
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


@pytest.mark.parametrize("entry", [f"{ENTRY_A}-1", "preexisting-20240101T000000Z", "preexisting-20240101T000000Z-2"])
def test_kind_managed_entry_names(parent, entry):
    version = _managed(parent, entry=entry)
    paths = _paths(parent)
    assert paths.kind() == "managed"
    assert paths.link_target() == entry
    assert paths.live_dir() == str(version)


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
    assert _paths(parent, "venv").live_dir() == str(parent / "venv")
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
    assert removal(_paths(parent)) == []


def test_removal_of_a_managed_venv(parent):
    _managed(parent)
    assert removal(_paths(parent)) == [str(parent / "keystone"), str(parent / ".keystone.versions")]
    assert os.path.islink(parent / "keystone")  # only a prediction


def test_removal_of_leftover_versions(parent):
    (parent / ".keystone.versions" / ENTRY_A).mkdir(parents=True)
    assert removal(_paths(parent)) == [str(parent / ".keystone.versions")]


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
    assert remove(paths, str(state_dir)) == [str(parent / "keystone"), str(parent / ".keystone.versions")]
    assert not os.path.lexists(parent / "keystone")
    assert not os.path.lexists(parent / ".keystone.versions")
    assert (distro / "module.py").read_text() == "keep"
    assert other.is_dir()
    assert os.path.exists(paths.lock_file)
    assert os.stat(os.path.dirname(paths.lock_file)).st_mode & 0o777 == 0o700


def test_remove_of_nothing(parent, state_dir):
    assert remove(_paths(parent, state_dir=state_dir), str(state_dir)) == []


def test_remove_of_leftover_versions(parent, state_dir):
    (parent / ".keystone.versions" / ENTRY_A).mkdir(parents=True)
    assert remove(_paths(parent, state_dir=state_dir), str(state_dir)) == [str(parent / ".keystone.versions")]
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
    assert "no readable" in verify(_paths(parent, "other"))[0]


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
