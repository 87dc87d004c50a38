"""Deciding what an ``installed`` run does, from files alone.

Everything here is a pure function of the desired spec, the interpreter, the
installed venv's stamp and the manifest (when one is available): the same
answer serves the no-op check, the ``test=True`` prediction and the changes a
real run reports.
"""

from .manifest import diff_versions
from .stamp import python_record


def _distro(stamp_value, wanted):
    return sorted(stamp_value or []) == sorted(wanted or [])


def is_current(stamp, spec, interpreter, manifest_sha256=None, symlink_pkgs=(), install_pkgs=()):
    """True when the installed venv already is ``spec`` built by ``interpreter``,
    with the same distro packages linked in and ensured.

    ``manifest_sha256`` is compared when known (a local repo); a remote repo's
    manifest is immutable per spec id, so the spec id alone decides there.
    """
    if stamp is None:
        return False
    if not (_distro(stamp.symlink_pkgs, symlink_pkgs) and _distro(stamp.install_pkgs, install_pkgs)):
        return False
    if stamp.spec_id != spec.spec_id or stamp.venv_id != spec.venv_id:
        return False
    if stamp.python != python_record(interpreter):
        return False
    if manifest_sha256 is not None and stamp.manifest_sha256 != manifest_sha256:
        return False
    return True


def _list_diff(old, new):
    out = {}
    if set(new) - set(old):
        out["added"] = sorted(set(new) - set(old))
    if set(old) - set(new):
        out["removed"] = sorted(set(old) - set(new))
    return out


def changes(stamp, spec, interpreter, manifest=None, rebuild=False, symlink_pkgs=(),
            install_pkgs=(), existing=None, alive=True):
    """The ``changes`` dict of installing ``spec`` over ``stamp``.

    ``packages`` (installed versions) is present only when the manifest is
    known; before a first build the pins are not, and only the requested
    ``requirements`` can be compared. ``existing`` is what happens to a venv or
    directory venvbuild did not make (:func:`installer.existing_change`). A
    venv whose ``bin/python`` is gone (``alive`` False) is repaired.
    """
    out = {}
    if existing:
        out["existing"] = existing
    if stamp is not None and not alive:
        out["repaired"] = {"old": "bin/python missing", "new": spec.spec_id}
    old_reqs = set(stamp.requirements) if stamp else set()
    new_reqs = set(spec.requirements)
    if stamp is None:
        out["venv"] = {"old": None, "new": spec.spec_id}
    elif stamp.spec_id != spec.spec_id:
        out["spec_id"] = {"old": stamp.spec_id, "new": spec.spec_id}
    if old_reqs != new_reqs:
        out["requirements"] = _list_diff(old_reqs, new_reqs)
    for key, wanted in (("symlink_pkgs", symlink_pkgs), ("install_pkgs", install_pkgs)):
        diff = _list_diff(getattr(stamp, key, None) or [], wanted or [])
        if diff:
            out[key] = diff
    new_python = python_record(interpreter)
    if stamp is not None and stamp.python != new_python:
        out["python"] = {"old": stamp.python, "new": new_python}
    if manifest is not None:
        pkg_diff = diff_versions(stamp.versions if stamp else {}, manifest.versions())
        if pkg_diff:
            out["packages"] = pkg_diff
        if stamp is not None and stamp.spec_id == spec.spec_id and stamp.manifest_sha256 != manifest.sha256:
            out["manifest"] = {"old": stamp.manifest_sha256, "new": manifest.sha256}
    if rebuild:
        out["rebuilt"] = True
    return out
