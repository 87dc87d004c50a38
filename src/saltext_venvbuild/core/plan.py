"""Deciding what an ``installed`` run does, from files alone.

Everything here is a pure function of what is :class:`Found` at the venv's
path (the installed venv's stamp and whether it still runs), what the run
:class:`Wants` (the spec, the interpreter, the distro packages) and the
manifest when one is available: the same answer serves the no-op check, the
``test=True`` prediction and the changes a real run reports.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING
from typing import Any
from typing import Collection
from typing import Iterable
from typing import Mapping

from .manifest import diff_versions
from .stamp import python_record
from .text import redact

if TYPE_CHECKING:
    from .interpreter import Interpreter
    from .manifest import Manifest
    from .spec import VenvSpec
    from .stamp import Stamp


@dataclasses.dataclass(frozen=True)
class Found:
    """What is at the venv's path now."""

    stamp: Stamp | None = None  # the live venv's
    alive: bool = True  # its bin/python still exists
    # a venv or directory venvbuild did not make (layout.existing_change)
    existing: dict[str, str] | None = None


@dataclasses.dataclass(frozen=True)
class Wants:
    """What the run asks for."""

    spec: VenvSpec
    interpreter: Interpreter
    symlink_pkgs: tuple[str, ...] = ()
    install_pkgs: tuple[str, ...] = ()  # symlinked packages are ensured too
    rebuild: bool = False


# A predicted manifest's sha256: known once the build has published it.
NEW_MANIFEST = "a new manifest (its sha256 is known once built)"


@dataclasses.dataclass(frozen=True)
class Resolved:
    """What a resolution predicts a build publishes (``test=True`` with ``package_state:
    latest``): the versions it pins; stands for the manifest in :func:`changes`."""

    pins: Mapping[str, str]
    sha256: str = NEW_MANIFEST

    def versions(self) -> dict[str, str]:
        """``{name: version}`` the build would pin."""
        return dict(self.pins)


def _same(stamp_value: Iterable[str] | None, wanted: Iterable[str] | None) -> bool:
    return sorted(stamp_value or []) == sorted(wanted or [])


def is_current(found: Found, wants: Wants, manifest_sha256: str | None = None) -> bool:
    """True when the installed venv already is ``wants.spec`` built by its
    interpreter, with the same distro packages linked in and ensured.

    ``manifest_sha256`` is compared when known (a local repo, or a hash the
    pillar pins); a builder's manifest is immutable per spec id, so the spec id
    alone decides there.
    """
    stamp, spec = found.stamp, wants.spec
    if stamp is None:
        return False
    if not (_same(stamp.symlink_pkgs, wants.symlink_pkgs)
            and _same(stamp.install_pkgs, wants.install_pkgs)):
        return False
    if stamp.spec_id != spec.spec_id or stamp.venv_id != spec.venv_id:
        return False
    if stamp.python != python_record(wants.interpreter):
        return False
    return manifest_sha256 is None or stamp.manifest_sha256 == manifest_sha256


def _list_diff(old: Collection[str], new: Collection[str]) -> dict[str, list[str]]:
    out = {}
    if set(new) - set(old):
        out["added"] = sorted(set(new) - set(old))
    if set(old) - set(new):
        out["removed"] = sorted(set(old) - set(new))
    return out


def changes(found: Found, wants: Wants, manifest: Manifest | Resolved | None = None) -> dict[str, Any]:
    """The ``changes`` dict of installing ``wants`` over what was ``found``.

    ``packages`` (installed versions) is present only when the manifest is
    known (or a resolution predicts it, :class:`Resolved`); before a first build
    the pins are not, and only the requested ``requirements`` can be compared. A venv whose ``bin/python`` is gone is
    repaired; one venvbuild did not make is moved aside (``existing``).
    """
    stamp, spec = found.stamp, wants.spec
    out: dict[str, Any] = {}
    if found.existing:
        out["existing"] = found.existing
    if stamp is not None and not found.alive:
        out["repaired"] = {"old": "bin/python missing", "new": spec.spec_id}
    # Compared and shown with URL credentials hidden: the stamp and the manifest
    # record requirements that way, and changes reach the job return and events.
    old_reqs = {redact(req) for req in stamp.requirements} if stamp else set()
    new_reqs = {redact(req) for req in spec.requirements}
    if stamp is None:
        out["venv"] = {"old": None, "new": spec.spec_id}
    elif stamp.spec_id != spec.spec_id:
        out["spec_id"] = {"old": stamp.spec_id, "new": spec.spec_id}
    if old_reqs != new_reqs:
        out["requirements"] = _list_diff(old_reqs, new_reqs)
    for key in ("symlink_pkgs", "install_pkgs"):
        diff = _list_diff(getattr(stamp, key, None) or [], getattr(wants, key) or [])
        if diff:
            out[key] = diff
    new_python = python_record(wants.interpreter)
    if stamp is not None and stamp.python != new_python:
        out["python"] = {"old": stamp.python, "new": new_python}
    if manifest is not None:
        pkg_diff = diff_versions(stamp.versions if stamp else {}, manifest.versions())
        if pkg_diff:
            out["packages"] = pkg_diff
        if (stamp is not None and stamp.spec_id == spec.spec_id
                and stamp.manifest_sha256 != manifest.sha256):
            out["manifest"] = {"old": stamp.manifest_sha256, "new": manifest.sha256}
    if wants.rebuild:
        out["rebuilt"] = True
    return out
