"""Distro packages found installed, remembered against the package database.

``venvbuild.installed`` ensures its distro packages on every run, so a runtime
package someone removed is put back. Asking the package manager costs a process
(dpkg-query, rpm) and a no-op run must start none. So venvbuild remembers the
packages it last found installed together with the identity (device, inode,
size, modification time) of the package database's files at that moment, in
``<state dir>/pkgs.json``. Installing, upgrading or removing any package
rewrites those files: while their identity is unchanged, the packages are still
there and nothing is asked. When it changed, Salt's ``pkg.list_pkgs`` is asked
once and what is missing is installed.

On a system with none of :data:`DATABASES` there is no identity to compare, and
the package manager is asked on every run that has packages to ensure.
"""

from __future__ import annotations

import json
import os
from typing import Any
from typing import Callable
from typing import Collection
from typing import Iterable

from . import fsutil
from .errors import VenvbuildError

RECORD = "pkgs.json"

# The files each package manager rewrites on every change (a -wal file exists
# while an rpm transaction has not been checkpointed).
DATABASES = (
    "/var/lib/dpkg/status",  # dpkg: Debian, Ubuntu
    "/var/lib/rpm/rpmdb.sqlite",  # rpm 4.16 and later: RHEL 9, Rocky, Alma
    "/var/lib/rpm/rpmdb.sqlite-wal",
    "/var/lib/rpm/Packages",  # rpm's Berkeley DB: RHEL 8
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",  # Fedora 36 and later, openSUSE
    "/usr/lib/sysimage/rpm/rpmdb.sqlite-wal",
    "/usr/lib/sysimage/rpm/Packages.db",  # rpm's ndb: older openSUSE
    "/var/lib/pacman/local",  # pacman: a directory entry per package
    "/lib/apk/db/installed",  # apk: Alpine
)


def database_identity(paths: Iterable[str] = DATABASES) -> list[list[Any]] | None:
    """``[[path, device, inode, size, mtime_ns], ...]`` of the package database files
    that exist; None when none does."""
    found = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        found.append([path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns])
    return found or None


def missing(names: Iterable[str], installed: Collection[str]) -> list[str]:
    """The names of ``names`` that ``installed`` (pkg.list_pkgs' names) lacks; a name
    with an architecture (``libssl3:amd64``) also counts as its plain name, the way
    the native architecture's packages are listed."""
    return sorted(name for name in set(names)
                  if name not in installed and name.split(":", 1)[0] not in installed)


class Record:
    """``<state dir>/pkgs.json``: the packages found installed at one identity of the
    package database. ``prepare()`` creates the state directory before a write."""

    def __init__(self, state_dir: str, prepare: Callable[[], object] | None = None,
                 databases: Iterable[str] = DATABASES) -> None:
        self.path = os.path.join(state_dir, RECORD)
        self.prepare = prepare
        self.databases = tuple(databases)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(fsutil.read_text(self.path, limit=1 << 20) or "{}")
        except (OSError, ValueError, VenvbuildError):
            return {}
        return data if isinstance(data, dict) else {}

    def identity(self) -> list[list[Any]] | None:
        """The package database's identity now (:func:`database_identity`)."""
        return database_identity(self.databases)

    def covers(self, names: Iterable[str]) -> bool:
        """True when every one of ``names`` was found installed and the package
        database has not changed since: files only, no process."""
        identity = self.identity()
        if identity is None:
            return False
        data = self._read()
        present = data.get("present")
        return (data.get("database") == identity and isinstance(present, list)
                and set(names) <= set(present))

    def remember(self, identity: list[list[Any]] | None, names: Iterable[str]) -> None:
        """Record ``names`` as installed at ``identity`` (read *before* they were
        listed, so a change in between shows next time), beside what was recorded at
        the same identity. A record that cannot be written only costs a look next time."""
        if identity is None:
            return
        data = self._read()
        present = set(names)
        if data.get("database") == identity and isinstance(data.get("present"), list):
            present |= {name for name in data["present"] if isinstance(name, str)}
        try:
            if self.prepare is not None:
                self.prepare()
            fsutil.atomic_write(self.path, json.dumps(
                {"database": identity, "present": sorted(present)}, indent=1), 0o600)
        except (OSError, VenvbuildError):
            pass
