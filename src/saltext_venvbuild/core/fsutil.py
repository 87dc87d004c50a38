"""Small filesystem helpers: atomic writes, locks, path safety."""

import contextlib
import fcntl
import hashlib
import os
import posixpath
import tempfile

from .errors import SpecError

# Paths a venv may never be, nor be installed into directly. A venv path must be
# a dedicated directory below one of these, never one of them.
_SYSTEM_DIRS = frozenset(
    [
        "/",
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/home",
        "/lib",
        "/lib32",
        "/lib64",
        "/media",
        "/mnt",
        "/opt",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/srv",
        "/sys",
        "/tmp",
        "/usr",
        "/usr/bin",
        "/usr/lib",
        "/usr/local",
        "/usr/local/bin",
        "/usr/local/lib",
        "/usr/sbin",
        "/usr/share",
        "/var",
        "/var/lib",
        "/var/tmp",
    ]
)


def check_managed_path(path, what="venv path"):
    """Return ``path`` normalized, or raise SpecError if it is unsafe to manage.

    A managed path must be absolute, free of ``..`` and not a system directory:
    the installer replaces and deletes what lives there.
    """
    if not isinstance(path, str) or not path:
        raise SpecError(f"{what} {path!r}: must be a non-empty absolute path string")
    if "\0" in path or "\n" in path:
        raise SpecError(f"{what} {path!r}: contains a NUL or newline character")
    if not posixpath.isabs(path):
        raise SpecError(f"{what} {path!r}: must be absolute, e.g. /opt/venvs/keystone")
    if ".." in path.split("/"):
        raise SpecError(f"{what} {path!r}: must not contain '..'")
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    if norm in _SYSTEM_DIRS:
        raise SpecError(
            f"{what} {path!r}: refusing a system directory; use a dedicated "
            f"directory such as {norm.rstrip('/')}/venvs/<name>"
        )
    return norm


def sha256_file(path, bufsize=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(bufsize), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path, data, mode=0o644):
    """Write ``data`` (str or bytes) to ``path`` so that readers see all or nothing."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def publish_no_clobber(src, dest):
    """Put ``src`` at ``dest`` unless ``dest`` exists; return True if published.

    A hard link is atomic and fails if ``dest`` exists, so two builders racing on
    the same wheel never replace bytes a manifest already points at.
    """
    try:
        os.link(src, dest)
        return True
    except FileExistsError:
        return False
    except OSError:
        # Cross-device or no hard links: copy beside dest, then link that in.
        tmp = dest + f".tmp-{os.getpid()}"
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            for block in iter(lambda: fin.read(1 << 20), b""):
                fout.write(block)
            fout.flush()
            os.fsync(fout.fileno())
        try:
            os.link(tmp, dest)
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)


@contextlib.contextmanager
def file_lock(path):
    """Hold an exclusive ``flock`` on ``path`` (created if needed) for the block."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
