"""Filesystem safety: which paths venvbuild may manage, and how it writes there.

venvbuild runs as root and writes into the repo, its state directory and the
parents of venvs. Two rules keep another local user (a web server's user, an
application's user) from steering those writes:

1. **Only trusted users can write on the way.** Every directory from ``/`` to
   a directory venvbuild writes in is owned by root or by venvbuild's own user
   and is writable by no one else, except sticky directories such as ``/tmp``
   whose entries venvbuild walks through are again trusted. A symlink on the
   way is followed only if it sits in such a directory and is trusted-owned.
   Anything else is an UnsafePathError naming the directory and the fix.
2. **No write follows a link or reuses a name.** New files get unpredictable
   names (``mkstemp``: ``O_EXCL``), existing ones are opened with
   ``O_NOFOLLOW``, modes and owners are set on file descriptors (never
   ``chmod``/``chown`` through a path), and trees are removed without
   following links.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import grp
import hashlib
import os
import posixpath
import pwd
import shutil
import stat
import tempfile
from typing import Iterator
from typing import TextIO

from .errors import SpecError
from .errors import UnsafePathError

_MAX_LINKS = 40  # as the kernel's ELOOP limit


def trusted_uids() -> set[int]:
    """The uids trusted to own what venvbuild writes through: root and venvbuild's own."""
    return {0, os.geteuid()}


def _user(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


# -- trusted directories ------------------------------------------------------------


def _check_dir_stat(path: str, st: os.stat_result, what: str) -> None:
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError(f"{what}: {path} is not a directory")
    if st.st_uid not in trusted_uids():
        raise UnsafePathError(
            f"{what}: {path} is owned by {_user(st.st_uid)}, so that user could replace "
            f"what venvbuild writes there; make it owned by root (chown root {path}) or "
            "choose another path"
        )
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        raise UnsafePathError(
            f"{what}: {path} is writable by {'group and others' if st.st_mode & 0o002 else 'its group'} "
            f"(mode {stat.S_IMODE(st.st_mode):04o}), so they could replace what venvbuild "
            f"writes there; chmod go-w {path}"
        )


def resolve_trusted(path: str, what: str, no_links_below: str | None = None,
                    _links: list[int] | None = None) -> str:
    """Walk ``path`` from ``/`` and return it with links resolved, if every step is trusted.

    Components that do not exist yet end the walk (the caller creates them,
    see :func:`ensure_dir`). Raises UnsafePathError for a directory another
    user can write to or owns, a link in such a directory or owned by another
    user, and any link strictly below ``no_links_below`` (venvbuild's own
    trees hold no links, whoever made them).
    """
    links = _links if _links is not None else [0]
    current = "/"
    _check_dir_stat(current, os.lstat(current), what)
    parts = [p for p in posixpath.normpath(path).split("/") if p]
    for index, part in enumerate(parts):
        candidate = posixpath.join(current, part)
        try:
            st = os.lstat(candidate)
        except FileNotFoundError:
            return posixpath.join(candidate, *parts[index + 1:])
        except NotADirectoryError:
            raise UnsafePathError(f"{what}: {current} is not a directory") from None
        if stat.S_ISLNK(st.st_mode):
            if no_links_below and candidate.startswith(no_links_below.rstrip("/") + "/"):
                raise UnsafePathError(
                    f"{what}: {candidate} is a symlink inside venvbuild's own directory "
                    f"{no_links_below}; venvbuild never writes through links there (someone "
                    "planted it?): remove it"
                )
            if st.st_uid not in trusted_uids():
                raise UnsafePathError(
                    f"{what}: {candidate} is a symlink owned by {_user(st.st_uid)}; venvbuild "
                    "follows only links root created; remove it or choose another path"
                )
            links[0] += 1
            if links[0] > _MAX_LINKS:
                raise UnsafePathError(f"{what}: {path}: too many levels of symbolic links")
            target = posixpath.join(current, os.readlink(candidate))
            current = resolve_trusted(target, what, no_links_below, links)
            if not os.path.isdir(current):
                return posixpath.join(current, *parts[index + 1:])
            continue
        _check_dir_stat(candidate, st, what)
        current = candidate
    return current


def is_trusted_dir(path: str) -> bool:
    """True if ``path`` is an existing directory that only root (or venvbuild's
    user) can change, reached through trusted directories and links only."""
    try:
        return os.path.isdir(resolve_trusted(path, "directory"))
    except (UnsafePathError, OSError):
        return False


def root_only(st: os.stat_result) -> bool:
    """True if what ``st`` describes is owned by root (or venvbuild's user) and
    writable by no one else."""
    return st.st_uid in trusted_uids() and not st.st_mode & 0o022


def is_trusted_file(path: str) -> bool:
    """True if ``path`` is a regular file only root (or venvbuild's user) can change,
    in a trusted directory, reached (if a link) through a link of theirs."""
    try:
        if not is_trusted_dir(os.path.dirname(os.path.abspath(path))):
            return False
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            if st.st_uid not in trusted_uids():
                return False
            real = os.path.realpath(path)
            if not is_trusted_dir(os.path.dirname(real)):
                return False
            st = os.stat(real)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and root_only(st)


def ensure_dir(path: str, what: str, mode: int = 0o755, group: int | None = None, enforce: bool = True,
               no_links_below: str | None = None) -> str:
    """Make sure ``path`` is a trusted directory; create what is missing.

    Created directories get ``mode``. With ``enforce``, ``path`` itself gets
    ``mode`` and, if ``group`` (a gid) is given, that group even if it
    existed, set through a file descriptor opened without following links.
    Returns the resolved path.
    """
    real = resolve_trusted(path, what, no_links_below)
    current = "/"
    for part in [p for p in real.split("/") if p]:
        candidate = posixpath.join(current, part)
        try:
            os.mkdir(candidate, 0o700)
            created = True
        except FileExistsError:
            created = False
        except OSError as exc:
            raise UnsafePathError(f"{what}: cannot create {candidate}: {exc.strerror}") from None
        st = os.lstat(candidate)
        _check_dir_stat(candidate, st, what)
        if created or (enforce and candidate == real):
            _set_mode(candidate, mode, group if candidate == real else None, what)
        current = candidate
    return real


def _set_mode(path: str, mode: int, group: int | None, what: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise UnsafePathError(f"{what}: cannot open directory {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            return  # a trusted directory of root's while we are not root: leave it as it is
        if group is not None and st.st_gid != group:
            os.fchown(fd, -1, group)
        if stat.S_IMODE(st.st_mode) != mode:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)


def group_id(name: str | int, what: str) -> int:
    """The gid of group ``name`` (a name or a number)."""
    try:
        return grp.getgrnam(str(name)).gr_gid
    except KeyError:
        if str(name).isdigit():
            return int(name)
        raise SpecError(f"{what} {name!r}: no such group; create it or fix the name") from None


# -- files ----------------------------------------------------------------------------


def open_nofollow(path: str, flags: int, mode: int = 0o600, regular: bool = True) -> int:
    """``os.open`` that refuses a symlink at ``path`` (and, with ``regular``, anything
    but a regular file, checked before a FIFO could block) with an UnsafePathError."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError(
                f"{path} is a symlink where venvbuild expects its own file; someone planted "
                "it: remove it and check who can write to that directory"
            ) from None
        if exc.errno in (errno.ENXIO, errno.EISDIR):
            raise UnsafePathError(f"{path} is not a regular file; remove it") from None
        raise
    if regular and not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafePathError(f"{path} is not a regular file; remove it")
    os.set_blocking(fd, True)
    return fd


def open_log(path: str) -> TextIO:
    """A log file opened for writing, truncated, readable by its owner only."""
    fd = open_nofollow(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.ftruncate(fd, 0)
    if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
        os.fchmod(fd, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", errors="replace")


def append_log(path: str) -> TextIO:
    """A log file opened for appending (created readable by its owner only if missing)."""
    fd = open_nofollow(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8", errors="replace")


def read_text(path: str, limit: int | None = None) -> str | None:
    """The text of the regular file at ``path`` (not a link); None if it does not exist."""
    try:
        fd = open_nofollow(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read() if limit is None else handle.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise SpecError(f"{path}: larger than {limit} bytes")
    return data.decode("utf-8")


def sha256_file(path: str, bufsize: int = 1 << 20) -> str:
    """The sha256 of the regular file at ``path``; a symlink there is refused."""
    digest = hashlib.sha256()
    fd = open_nofollow(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(bufsize), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: str, data: str | bytes, mode: int = 0o644, group: int | None = None) -> None:
    """Write ``data`` (str or bytes) to ``path`` so that readers see all or nothing.

    The directory must exist (see :func:`ensure_dir`). The data goes to a new
    file with an unpredictable name, gets its mode (and group) on the file
    descriptor, is synced, and is renamed over ``path``: a symlink planted at
    ``path`` is replaced, never followed.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if group is not None:
                os.fchown(handle.fileno(), -1, group)
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _synced_copy(src: str, dest_dir: str, mode: int, group: int | None) -> str:
    """Copy ``src`` (not followed if a link) into a new, unpredictably named file
    in ``dest_dir`` with ``mode`` and ``group``, synced; return its path."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest_dir)
    try:
        with os.fdopen(fd, "wb") as out, open(open_nofollow(src, os.O_RDONLY), "rb") as fin:
            shutil.copyfileobj(fin, out, 1 << 20)
            out.flush()
            if group is not None:
                os.fchown(out.fileno(), -1, group)
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def copy_new(src: str, dest_dir: str, name: str, mode: int = 0o644, group: int | None = None) -> bool:
    """Copy ``src`` to a new file ``dest_dir/name``; False if that name exists already.

    The copy is made under an unpredictable name, synced, and then hard-linked
    to ``name`` (which fails if the name exists, even as a link): the result
    is a complete file or nothing.
    """
    tmp = _synced_copy(src, dest_dir, mode, group)
    try:
        try:
            os.link(tmp, os.path.join(dest_dir, name))
            return True
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def replace_file(src: str, dest_dir: str, name: str, mode: int = 0o644,
                 group: int | None = None) -> None:
    """Copy ``src`` over ``dest_dir/name`` atomically (for a damaged file)."""
    tmp = _synced_copy(src, dest_dir, mode, group)
    try:
        os.replace(tmp, os.path.join(dest_dir, name))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_tree(path: str) -> None:
    """Remove a directory tree without following any link in it (or a link itself)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)  # uses the fd-based, link-safe walk on Linux
    else:
        os.unlink(path)


@contextlib.contextmanager
def file_lock(path: str, shared: bool = False, wait: bool = True) -> Iterator[bool]:
    """Hold a ``flock`` on ``path`` (created, owner-only) for the block.

    Exclusive unless ``shared``. With ``wait`` False the block gets False
    (and no lock) when another process holds a conflicting lock.
    """
    fd = open_nofollow(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        flags = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, flags if wait else flags | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
