"""A venv's layout on disk, and what venvbuild may do with what is there.

For a venv at ``/opt/venvs/keystone``::

    /opt/venvs/keystone -> .keystone.versions/<spec id>-<time>   (venvbuild's link)
    /opt/venvs/.keystone.versions/<spec id>-<time>/               (complete venvs)
    /opt/venvs/.keystone.versions/preexisting-<time>/             (adopted, never pruned)

venvbuild manages only what it made: a path that is its own symlink into its
versions directory. A venv made by other means at the path (a directory with
``pyvenv.cfg``) is moved aside into the versions directory and kept; anything
else (a plain directory, a file, a foreign symlink) is refused unless the
caller opts in with ``adopt`` (then a directory is moved aside and kept, a
foreign link replaced). The versions directory must be a real directory that
only root can write to. The venv's lock lives in venvbuild's state directory.
"""

from __future__ import annotations

import hashlib
import os
import stat
import typing

from . import fsutil
from . import names
from . import paths as paths_mod
from .errors import InstallError
from .errors import UnsafePathError
from .text import redact


class VenvPaths:
    """The paths of one managed venv; ``state_dir`` holds its lock."""

    def __init__(self, path: str, state_dir: str | None = None) -> None:
        self.path = paths_mod.normalize_path(path)
        self.parent, base = os.path.split(self.path)
        self.versions_name = f".{base}.versions"
        self.versions_dir = os.path.join(self.parent, self.versions_name)
        key = hashlib.sha256(self.path.encode()).hexdigest()[:16]
        self.lock_file = os.path.join(state_dir, "locks", f"venv-{key}.lock") if state_dir else None

    def link_target(self) -> str | None:
        """The versions entry the path's symlink names if it is venvbuild's own link, else None.

        venvbuild's own link is root's (a link another user made in a sticky
        directory such as ``/tmp`` is foreign, whatever it names) and names one of
        venvbuild's own venv directories, never adopted content: venvbuild links
        only to what it installed."""
        try:
            owner = os.lstat(self.path).st_uid
            target = os.readlink(self.path)
        except OSError:
            return None
        head, _, entry = target.partition("/")
        if (owner in fsutil.trusted_uids() and head == self.versions_name
                and names.VERSION_DIR.fullmatch(entry)):
            return entry
        return None

    def kind(self) -> str:
        """What is at the path: ``absent``, ``managed``, ``link`` (foreign), ``venv``
        (a venv venvbuild did not make), ``dir`` or ``file``."""
        try:
            st = os.lstat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return "absent"
        if stat.S_ISLNK(st.st_mode):
            return "managed" if self.link_target() else "link"
        if stat.S_ISDIR(st.st_mode):
            return "venv" if os.path.isfile(os.path.join(self.path, "pyvenv.cfg")) else "dir"
        return "file"

    def live_dir(self) -> str | None:
        """The venv directory venvbuild's link points at, or None: a real directory
        only root (or venvbuild's user) can write. A venv made by other means at the
        path is not venvbuild's, whatever stamp it carries (its status is None until an
        install moves it aside)."""
        entry = self.link_target()  # read once: the link may change under us
        if entry is None:
            return None
        target = os.path.join(self.versions_dir, entry)
        try:
            st = os.lstat(target)
        except OSError:
            return None
        return target if stat.S_ISDIR(st.st_mode) and fsutil.root_only(st) else None

    def version_dirs(self, adopted: bool = False) -> list[str]:
        """venvbuild's own venv directories (and with ``adopted`` the kept ones), oldest first."""
        try:
            entries = os.listdir(self.versions_dir)
        except (FileNotFoundError, NotADirectoryError):
            return []
        dirs: list[tuple[float, str]] = []
        for name in entries:
            if names.VERSION_DIR.fullmatch(name) or (adopted and names.ADOPTED_DIR.fullmatch(name)):
                full = os.path.join(self.versions_dir, name)
                try:
                    st = os.lstat(full)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    dirs.append((st.st_mtime, full))
        return [full for _mtime, full in sorted(dirs)]

    def check_versions_dir(self) -> None:
        """Refuse a versions directory that is a symlink or not root's own."""
        try:
            st = os.lstat(self.versions_dir)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePathError(
                f"venv {self.path}: {self.versions_dir} is a symlink; venvbuild keeps its venv "
                "versions in a real directory and will not write through a link (someone "
                "planted it?); remove the link"
            )
        fsutil.resolve_trusted(self.versions_dir, f"venv {self.path}")


def existing_change(paths: VenvPaths, adopt: bool) -> dict[str, str] | None:
    """What installing at ``paths`` does to what is there now (the ``changes`` entry),
    or None; raises InstallError (or SpecError for a path venvbuild may not manage)
    if it refuses. Used by ``test=True`` and real runs alike."""
    paths_mod.check_managed_path(paths.path)
    kind = paths.kind()
    if kind in ("absent", "managed"):
        return None
    if kind == "file":
        raise InstallError(
            f"venv {paths.path}: a file is there, not a venv; remove it (venvbuild does not "
            "replace files it did not create)"
        )
    if kind == "venv" or adopt:
        if kind == "link":
            return {"old": f"a symlink to {redact(os.readlink(paths.path))}",
                    "new": "replaced by venvbuild's link (its target is left alone)"}
        what = "a venv made by other means" if kind == "venv" else "a directory"
        return {"old": what, "new": f"moved into {paths.versions_dir} and kept (never pruned)"}
    if kind == "link":
        raise InstallError(
            f"venv {paths.path}: is a symlink to {redact(os.readlink(paths.path))} that venvbuild "
            "did not create; remove it, or set adopt_existing: true to replace the link"
        )
    raise InstallError(
        f"venv {paths.path}: a directory that is not a venv is there (no pyvenv.cfg); "
        "venvbuild will not touch it. Move it away, or set adopt_existing: true to have it "
        f"moved into {paths.versions_dir} and kept"
    )


class Removal(typing.NamedTuple):
    """What removing a venv removes, and what it keeps where it is."""

    removed: list[str]  # venvbuild's link, its own venv directories, an emptied versions dir
    kept: list[str]  # adopted or pre-existing content, and anything venvbuild did not make


def removal(paths: VenvPaths) -> Removal:
    """What removing the venv at ``paths`` removes and keeps; raises InstallError if
    venvbuild does not manage what is at the path.

    venvbuild removes only what it made: its link and its own venv directories.
    What ``adopt_existing`` (or a venv made by other means) moved aside is kept
    where it is, as promised when it was moved, and so is anything else found in
    the versions directory; the versions directory goes only when nothing is left.
    """
    paths_mod.check_managed_path(paths.path)
    kind = paths.kind()
    if kind not in ("absent", "managed"):
        raise InstallError(
            f"venv {paths.path}: venvbuild did not create what is there ({kind}: "
            f"{'a symlink to ' + redact(os.readlink(paths.path)) if kind == 'link' else 'not its own link'}); "
            "refusing to remove it"
        )
    paths.check_versions_dir()
    removed = [paths.path] if kind == "managed" else []
    try:
        entries = sorted(os.listdir(paths.versions_dir))
    except (FileNotFoundError, NotADirectoryError):
        return Removal(removed, [])
    own = [os.path.join(paths.versions_dir, name) for name in entries
           if names.VERSION_DIR.fullmatch(name)]
    kept = [os.path.join(paths.versions_dir, name) for name in entries
            if not names.VERSION_DIR.fullmatch(name)]
    removed += own
    if not kept:
        removed.append(paths.versions_dir)
    return Removal(removed, kept)
