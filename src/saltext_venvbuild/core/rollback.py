"""Switching a venv back to a version it kept: no download, no install, one rename.

Every install keeps the venv it replaced (``keep_versions``, default 2: the
live one and one before it). Going back is therefore a matter of pointing the
venv's symlink at a kept directory, once that directory is verified to be
complete (its Python is there and its lock file is the manifest its stamp
names: :func:`installer.healthy`). Two ways lead here:

- :func:`rollback` (``venvbuild.rollback``): back to the newest kept version,
  whatever the pillar says; a second rollback returns to where the first one
  left (the version left behind is now the newest kept one);
- an ``installed`` run whose spec a kept version already holds (the pillar
  was reverted): :meth:`workflow.Workflow.install` switches the same way.

The change is reported as a change (``venv_dir``, ``spec_id``, ``packages``),
so ``watch``/``onchanges`` restart the service, and ``test=True`` reports the
same changes without switching.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable

from . import installer
from .errors import InstallError
from .manifest import diff_versions
from .stamp import read_stamp

if TYPE_CHECKING:
    from .layout import VenvPaths
    from .stamp import Stamp


def switch_changes(old: Stamp | None, live: str | None, new: Stamp, venv_dir: str) -> dict[str, Any]:
    """The ``changes`` of switching from the live venv (``old``, at ``live``) to the
    kept ``venv_dir`` (``new``)."""
    changes: dict[str, Any] = {"venv_dir": {"old": live, "new": venv_dir}}
    if old is None or old.spec_id != new.spec_id:
        changes["spec_id"] = {"old": old.spec_id if old else None, "new": new.spec_id}
    if old is None or old.manifest_sha256 != new.manifest_sha256:
        changes["manifest_sha256"] = {"old": old.manifest_sha256 if old else None,
                                      "new": new.manifest_sha256}
    packages = diff_versions(old.versions if old else {}, new.versions)
    if packages:
        changes["packages"] = packages
    if old is not None and old.python != new.python:
        changes["python"] = {"old": old.python.get("version"), "new": new.python.get("version")}
    return changes


def rollback(paths: VenvPaths, state_dir: str, test: bool,
             after: Callable[[Stamp, dict[str, Any]], Any] = lambda stamp, changes: None,
             ) -> dict[str, Any]:
    """Switch the venv at ``paths`` to its newest kept version; the result dict of
    ``venvbuild.rollback``. ``after(new_stamp, changes)`` runs after a real switch
    (the mine update and the change event)."""
    started = time.monotonic()
    if paths.kind() != "managed":
        raise InstallError(f"venv {paths.path}: no venv installed by venvbuild is there; "
                           "nothing to roll back")
    live = paths.live_dir()
    old = read_stamp(live) if live else None
    kept = installer.kept_versions(paths)
    if not kept:
        raise InstallError(
            f"venv {paths.path}: no kept version to roll back to (none in {paths.versions_dir} "
            "is complete, or keep_versions is 1); install the wanted spec instead")
    venv_dir, new = kept[0]
    changes = switch_changes(old, live, new, venv_dir)
    base = {"name": paths.path, "venv_id": new.venv_id, "spec_id": new.spec_id}
    if test:
        return dict(base, changed=True, changes=changes, comment=(
            f"venv {paths.path} would be switched back to spec {new.spec_id} ({venv_dir}, "
            f"installed {new.created}): no download, no install"))
    installer.switch_to(paths, state_dir, venv_dir, live)
    seconds = time.monotonic() - started
    announced = after(new, changes)
    return dict(base, changed=True, changes=changes, seconds=round(seconds, 3),
                announced=announced,
                comment=(f"venv {paths.path} switched back to spec {new.spec_id} ({venv_dir}) in "
                         f"{seconds * 1000:.0f} ms; the version it left is kept, a second "
                         "rollback returns to it"))
