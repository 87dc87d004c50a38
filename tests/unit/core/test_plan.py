"""Unit tests of saltext_venvbuild.core.plan: the no-op check and the changes dict."""

import pytest

from saltext_venvbuild.core import plan
from saltext_venvbuild.core.interpreter import Interpreter
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin
from saltext_venvbuild.core.spec import VenvSpec
from saltext_venvbuild.core.stamp import Stamp
from saltext_venvbuild.core.stamp import python_record

PLATFORM = "debian-12-x86_64-cp311"
PY311 = Interpreter("python3", "/usr/bin/python3.11", "cpython", "3.11.2", 3, 11, False, "x86_64")
PY312 = Interpreter("python3", "/usr/bin/python3.12", "cpython", "3.12.1", 3, 12, False, "x86_64")
# The same version at another path (a pyenv build next to the distro's).
PY311_OPT = Interpreter("python3", "/opt/python/bin/python3.11", "cpython", "3.11.2", 3, 11, False, "x86_64")
PY311_PATCH = Interpreter("python3", "/usr/bin/python3.11", "cpython", "3.11.9", 3, 11, False, "x86_64")


def is_current(stamp, spec, interpreter, manifest_sha256=None, symlink_pkgs=(), install_pkgs=()):
    """plan.is_current with what was found and what is wanted spelled out."""
    return plan.is_current(plan.Found(stamp),
                           plan.Wants(spec, interpreter, tuple(symlink_pkgs), tuple(install_pkgs)),
                           manifest_sha256)


def changes(stamp, spec, interpreter, manifest=None, rebuild=False, symlink_pkgs=(),
            install_pkgs=(), existing=None, alive=True):
    """plan.changes with what was found and what is wanted spelled out."""
    return plan.changes(plan.Found(stamp, alive, existing),
                        plan.Wants(spec, interpreter, tuple(symlink_pkgs), tuple(install_pkgs),
                                   rebuild), manifest)


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
        "python": python_record(interp),
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


def test_python_record_moved_to_stamp():
    assert python_record(PY311) == {"executable": "/usr/bin/python3.11", "version": "3.11.2", "tag": "cp311"}
    assert plan.python_record is python_record  # plan still uses it


# -- is_current ---------------------------------------------------------------------


def test_is_current_without_a_stamp():
    assert is_current(None, _spec(), PY311) is False
    assert is_current(None, _spec(), PY311, "a" * 64) is False


def test_is_current_for_the_installed_spec():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest)
    assert is_current(stamp, spec, PY311) is True
    assert is_current(stamp, spec, PY311, manifest.sha256) is True


def test_is_current_compares_the_manifest_hash_when_known():
    spec = _spec()
    stamp = _stamp(spec, _plan_manifest(spec, VERSIONS))
    rebuilt = _plan_manifest(spec, VERSIONS, sha="b")
    assert is_current(stamp, spec, PY311, rebuilt.sha256) is False
    # Without a known hash (a remote repo) the spec id alone decides.
    assert is_current(stamp, spec, PY311) is True


@pytest.mark.parametrize(
    "stamp_changes",
    [{"spec_id": "ffffffffffffffff"}, {"venv_id": "nova"}, {"python": python_record(PY312)},
     {"python": python_record(PY311_OPT)}, {"python": python_record(PY311_PATCH)}],
)
def test_is_current_is_false_when_the_stamp_differs(stamp_changes):
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest, **stamp_changes)
    assert is_current(stamp, spec, PY311, manifest.sha256) is False


def test_is_current_is_false_for_another_interpreter():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    assert is_current(_stamp(spec, manifest), spec, PY312, manifest.sha256) is False


def test_is_current_compares_distro_packages_ignoring_order():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest, symlink_pkgs=["python3-libvirt", "python3-apt"],
                   install_pkgs=["libvirt-daemon"])
    assert is_current(stamp, spec, PY311, manifest.sha256,
                           symlink_pkgs=("python3-apt", "python3-libvirt"),
                           install_pkgs=["libvirt-daemon"]) is True
    # One more, one fewer, or a stamp without them: not current.
    assert is_current(stamp, spec, PY311, manifest.sha256,
                           symlink_pkgs=("python3-apt",), install_pkgs=["libvirt-daemon"]) is False
    assert is_current(stamp, spec, PY311, manifest.sha256,
                           symlink_pkgs=("python3-apt", "python3-libvirt"), install_pkgs=()) is False
    plain = _stamp(spec, manifest)
    assert is_current(plain, spec, PY311, manifest.sha256, symlink_pkgs=["python3-apt"]) is False
    assert is_current(plain, spec, PY311, manifest.sha256, install_pkgs=["libvirt-daemon"]) is False


def test_is_current_treats_a_missing_distro_list_as_empty():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest, symlink_pkgs=None, install_pkgs=None)  # an older stamp
    assert is_current(stamp, spec, PY311, manifest.sha256) is True


# -- changes ------------------------------------------------------------------------


def test_changes_of_a_fresh_install_before_the_build():
    spec = _spec()
    assert changes(None, spec, PY311) == {
        "venv": {"old": None, "new": spec.spec_id},
        "requirements": {"added": ["foo-bar", "zed"]},
    }


def test_changes_of_a_fresh_install_with_a_manifest():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    assert changes(None, spec, PY311, manifest) == {
        "venv": {"old": None, "new": spec.spec_id},
        "requirements": {"added": ["foo-bar", "zed"]},
        "packages": {"added": {"foo-bar": "1.0", "zed": "2.0"}},
    }


def test_changes_of_the_installed_spec_are_empty():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest)
    assert changes(stamp, spec, PY311) == {}
    assert changes(stamp, spec, PY311, manifest) == {}


def test_changes_same_spec_rebuilt_manifest():
    spec = _spec()
    old = _plan_manifest(spec, VERSIONS)
    new = _plan_manifest(spec, VERSIONS, sha="b")
    stamp = _stamp(spec, old)
    assert changes(stamp, spec, PY311, new) == {"manifest": {"old": old.sha256, "new": new.sha256}}


def test_changes_same_spec_newer_versions():
    spec = _spec()
    old = _plan_manifest(spec, VERSIONS)
    new = _plan_manifest(spec, {"foo-bar": "1.1", "zed": "2.0"})
    assert changes(_stamp(spec, old), spec, PY311, new) == {
        "packages": {"changed": {"foo-bar": {"old": "1.0", "new": "1.1"}}},
        "manifest": {"old": old.sha256, "new": new.sha256},
    }


def test_changes_python_changed():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest, interp=PY311)
    assert changes(stamp, spec, PY312, manifest) == {
        "python": {"old": python_record(PY311), "new": python_record(PY312)}
    }


def test_changes_requirement_removed():
    old_spec = _spec(("foo-bar", "zed"))
    old_manifest = _plan_manifest(old_spec, VERSIONS)
    stamp = _stamp(old_spec, old_manifest)
    new_spec = _spec(("foo-bar",))
    new_manifest = _plan_manifest(new_spec, {"foo-bar": "1.0"})
    assert changes(stamp, new_spec, PY311, new_manifest) == {
        "spec_id": {"old": old_spec.spec_id, "new": new_spec.spec_id},
        "requirements": {"removed": ["zed"]},
        "packages": {"removed": {"zed": "2.0"}},
    }


def test_changes_requirement_added_before_the_build():
    old_spec = _spec(("foo-bar",))
    stamp = _stamp(old_spec, _plan_manifest(old_spec, {"foo-bar": "1.0"}))
    new_spec = _spec(("foo-bar", "zed>=2"))
    assert changes(stamp, new_spec, PY311) == {
        "spec_id": {"old": old_spec.spec_id, "new": new_spec.spec_id},
        "requirements": {"added": ["zed>=2"]},
    }


def test_changes_of_another_spec_do_not_report_the_manifest_hash():
    old_spec = _spec(("foo-bar",))
    stamp = _stamp(old_spec, _plan_manifest(old_spec, {"foo-bar": "1.0"}))
    new_spec = _spec(("foo-bar", "zed"))
    out = changes(stamp, new_spec, PY311, _plan_manifest(new_spec, VERSIONS))
    assert "manifest" not in out
    assert out["packages"] == {"added": {"zed": "2.0"}}


def test_changes_rebuild_flag():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest)
    assert changes(stamp, spec, PY311, manifest, rebuild=True) == {"rebuilt": True}
    fresh = changes(None, spec, PY311, manifest, rebuild=True)
    assert fresh["rebuilt"] is True
    assert fresh["venv"] == {"old": None, "new": spec.spec_id}


def test_changes_distro_packages():
    spec = _spec()
    manifest = _plan_manifest(spec, VERSIONS)
    stamp = _stamp(spec, manifest, symlink_pkgs=["python3-apt"], install_pkgs=["libvirt-daemon"])
    assert changes(stamp, spec, PY311, manifest, symlink_pkgs=["python3-libvirt"],
                        install_pkgs=["libvirt-daemon", "qemu-utils"]) == {
        "symlink_pkgs": {"added": ["python3-libvirt"], "removed": ["python3-apt"]},
        "install_pkgs": {"added": ["qemu-utils"]},
    }
    assert changes(stamp, spec, PY311, manifest, symlink_pkgs=["python3-apt"],
                        install_pkgs=["libvirt-daemon"]) == {}


def test_changes_distro_packages_of_a_fresh_install():
    spec = _spec()
    out = changes(None, spec, PY311, symlink_pkgs=["python3-apt"], install_pkgs=("libvirt-daemon",))
    assert out["symlink_pkgs"] == {"added": ["python3-apt"]}
    assert out["install_pkgs"] == {"added": ["libvirt-daemon"]}


def test_changes_reports_what_happens_to_an_existing_venv():
    spec = _spec()
    existing = {"old": "a venv made by other means", "new": "moved into /opt/.x.versions and kept"}
    out = changes(None, spec, PY311, existing=existing)
    assert out["existing"] == existing
    assert out["venv"] == {"old": None, "new": spec.spec_id}
    # No "existing" key when there is nothing (or None) to report.
    assert "existing" not in changes(None, spec, PY311)
    assert "existing" not in changes(None, spec, PY311, existing=None)
    assert "existing" not in changes(None, spec, PY311, existing={})
