"""Which paths venvbuild may manage: a venv's path, a repo's root.

Lexical checks first (:func:`normalize_path`, cheap enough for the no-op
path), then, before anything is written, the checks that read the filesystem
and the passwd database (:func:`check_managed_path`): venvbuild never manages a
system directory, anything inside a system tree, a top-level directory or a
home directory, and judges a path by where its parent's symlinks lead.
"""

from __future__ import annotations

import os
import posixpath
import pwd

from .errors import SpecError
from .text import check_text

# Paths that are never a venv or a repo themselves.
_SYSTEM_DIRS = frozenset(
    ["/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/nix", "/opt", "/proc", "/root", "/run", "/sbin", "/snap", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/include", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec", "/usr/local", "/usr/local/bin", "/usr/local/etc", "/usr/local/include", "/usr/local/lib", "/usr/local/sbin", "/usr/local/share", "/usr/local/src", "/usr/sbin", "/usr/share", "/usr/src", "/var", "/var/backups", "/var/cache", "/var/lib", "/var/local", "/var/log", "/var/mail", "/var/opt", "/var/spool", "/var/tmp", "/var/www"]
)
# Trees that belong to the system or the package manager: nothing below them either.
_SYSTEM_TREES = tuple(
    ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin", "/sys", "/usr/bin", "/usr/include", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec", "/usr/sbin", "/usr/share", "/usr/src", "/var/log", "/var/mail", "/var/spool"]
)
def _under(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree + "/")


def _home_owner(path: str) -> str | None:
    """The user whose home directory is ``path``, or None (reads the passwd database)."""
    try:
        entries = pwd.getpwall()
    except OSError:
        return None
    for entry in entries:
        home = posixpath.normpath(entry.pw_dir or "/")
        if home not in ("/", "/nonexistent") and home == path:
            return f"user {entry.pw_name}"
    return None


def normalize_path(path: object, what: str = "venv path") -> str:
    """``path`` normalized, if it is an absolute path string with no ``..`` and no
    control character and not a system directory itself; else SpecError.

    Lexical only (no I/O): cheap enough for the no-op path. Before writing,
    :func:`check_managed_path` checks the rest.
    """
    if not isinstance(path, str) or not path:
        raise SpecError(f"{what} {path!r}: must be a non-empty absolute path string")
    check_text(path, what)
    if not posixpath.isabs(path):
        raise SpecError(f"{what} {path!r}: must be absolute, e.g. /opt/venvs/keystone")
    if ".." in path.split("/"):
        raise SpecError(f"{what} {path!r}: must not contain '..'")
    norm = "/" + posixpath.normpath(path).lstrip("/")
    if norm in _SYSTEM_DIRS:
        raise SpecError(
            f"{what} {path!r}: refusing a system directory; use a dedicated directory such "
            "as /opt/venvs/<name>"
        )
    return norm


def check_managed_path(path: object, what: str = "venv path") -> str:
    """Return ``path`` normalized, or raise SpecError if it is unsafe to manage.

    A managed path must be absolute, free of ``..``, at least two levels deep,
    and neither a system directory, nor inside a system tree (``/etc``,
    ``/usr/lib``, ``/var/log``...), nor a home directory (``/home/<name>`` or
    a user's home in the passwd database). The checks apply to the path with
    its parent's symlinks resolved too, so a path through a link into ``/etc``
    is refused like ``/etc`` itself.
    """
    norm = normalize_path(path, what)
    parent, base = posixpath.split(norm)
    real = posixpath.join(os.path.realpath(parent), base)
    for candidate in sorted({norm, real}):
        if candidate in _SYSTEM_DIRS:
            raise SpecError(
                f"{what} {path!r}: refusing a system directory{_via(candidate, norm)}; use a "
                f"dedicated directory such as /opt/venvs/<name>"
            )
        for tree in _SYSTEM_TREES:
            if _under(candidate, tree):
                raise SpecError(
                    f"{what} {path!r}: refusing a path inside {tree}{_via(candidate, norm)}, "
                    "which belongs to the system; use a dedicated directory such as "
                    "/opt/venvs/<name>"
                )
        if candidate.count("/") < 2:
            raise SpecError(
                f"{what} {path!r}: refusing a top-level directory{_via(candidate, norm)}; "
                "use a dedicated directory such as /opt/venvs/<name>"
            )
        owner = "a user" if posixpath.dirname(candidate) == "/home" else _home_owner(candidate)
        if owner:
            raise SpecError(
                f"{what} {path!r}: refusing the home directory of {owner}"
                f"{_via(candidate, norm)}; use a dedicated directory such as /opt/venvs/<name>"
            )
    return norm


def _via(candidate: str, norm: str) -> str:
    return "" if candidate == norm else f" (it resolves to {candidate})"
