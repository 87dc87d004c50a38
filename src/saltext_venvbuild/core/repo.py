"""The wheel repo on disk: one directory per platform key, plain static files.

    <root>[/<release>]/<platform>/wheels/<wheel files>
    <root>[/<release>]/<platform>/manifests/<venv>-<spec id>.txt
    <root>[/<release>]/<platform>/.locks/, .staging/   (private; not served)

The optional release level (the role's ``os-releases/<release>/<platform>``)
keeps the wheels of one release apart from another's.

Wheels are published with no-clobber hard links, manifests with atomic renames,
so a reader (a target, a web server) never sees a half-written file, and a wheel
a manifest points at never changes its bytes.
"""

import os
import re
import shutil
import tempfile
import zipfile

from . import fsutil
from .errors import RepoError
from .manifest import Pin
from .manifest import manifest_filename
from .manifest import read_manifest

_KEY = re.compile(r"^[a-z0-9._]+-[a-z0-9._]+-[a-z0-9._]+-[a-z0-9._]+$")


def location(platform, release=None):
    """The repo-relative directory of a platform: ``[<release>/]<platform>``."""
    return f"{release}/{platform}" if release else platform


class RepoLayout:
    """Paths of one platform of a repo; ``owner`` is ``(uid, gid)`` for what it creates."""

    def __init__(self, root, platform, release=None, owner=None):
        self.root = fsutil.check_managed_path(root, "repo_path")
        self.platform = platform
        self.release = release
        self.owner = owner
        self.platform_dir = os.path.join(self.root, location(platform, release))
        self.wheels_dir = os.path.join(self.platform_dir, "wheels")
        self.manifests_dir = os.path.join(self.platform_dir, "manifests")
        self.locks_dir = os.path.join(self.platform_dir, ".locks")
        self.staging_dir = os.path.join(self.platform_dir, ".staging")

    def manifest_path(self, venv_id, spec_id):
        return os.path.join(self.manifests_dir, manifest_filename(venv_id, spec_id))

    def lock(self, name):
        return fsutil.file_lock(os.path.join(self.locks_dir, f"{name}.lock"))

    def ensure_dirs(self):
        for path in (self.wheels_dir, self.manifests_dir, self.locks_dir, self.staging_dir):
            os.makedirs(path, mode=0o755, exist_ok=True)
        for path in (self.root, os.path.dirname(self.platform_dir), self.platform_dir,
                     self.wheels_dir, self.manifests_dir):
            self.chown(path)

    def chown(self, path):
        """Give ``path`` to the repo's owner (``repo_user``/``repo_group``), if one is set."""
        if self.owner is not None:
            uid, gid = self.owner
            os.lchown(path, -1 if uid is None else uid, -1 if gid is None else gid)

    def staging(self, prefix):
        """A private directory on the repo's filesystem, for building before publishing."""
        self.ensure_dirs()
        return tempfile.mkdtemp(prefix=f"{prefix}-", dir=self.staging_dir)

    def read_manifest(self, venv_id, spec_id):
        return read_manifest(self.manifest_path(venv_id, spec_id))

    def missing_wheels(self, manifest):
        """Names of the manifest's wheel files that are not in the wheel directory."""
        return [
            pin.filename
            for pin in manifest.pins
            if not os.path.isfile(os.path.join(self.wheels_dir, pin.filename))
        ]

    def publish_wheels(self, built_dir, replace_corrupt=False):
        """Publish every wheel in ``built_dir``; return ``(pins, replaced)``.

        A wheel file that is already published is kept as it is (same name means
        same project, version and tags): the pin then records the published
        file's hash, so every manifest describes bytes that really are served,
        and other venvs' manifests stay true. Only with ``replace_corrupt`` (a
        wheels_rebuild) is a published file that is not a readable wheel
        replaced, atomically, by the new build; ``replaced`` names those files.
        """
        self.ensure_dirs()
        pins, replaced = [], []
        for filename in sorted(os.listdir(built_dir)):
            if not filename.endswith(".whl"):
                continue
            src = os.path.join(built_dir, filename)
            dest = os.path.join(self.wheels_dir, filename)
            if fsutil.publish_no_clobber(src, dest):
                os.chmod(dest, 0o644)
                self.chown(dest)
            elif replace_corrupt and not is_readable_wheel(dest):
                tmp = os.path.join(self.staging_dir, f".{filename}.{os.getpid()}")
                shutil.copyfile(src, tmp)
                os.chmod(tmp, 0o644)
                self.chown(tmp)
                os.replace(tmp, dest)
                replaced.append(filename)
            pins.append(Pin.from_wheel(filename, fsutil.sha256_file(dest)))
        return pins, replaced

    def publish_manifest(self, manifest):
        self.ensure_dirs()
        path = self.manifest_path(manifest.venv_id, manifest.spec_id)
        fsutil.atomic_write(path, manifest.render())
        self.chown(path)

    def remove_staging(self, path):
        shutil.rmtree(path, ignore_errors=True)


def is_readable_wheel(path):
    """True if ``path`` is a zip whose members all pass their CRC and that has a RECORD."""
    try:
        with zipfile.ZipFile(path) as wheel:
            names = wheel.namelist()
            return wheel.testzip() is None and any(n.endswith(".dist-info/RECORD") for n in names)
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def _keys_in(base):
    try:
        names = os.listdir(base)
    except OSError:
        return set()
    return {n for n in names if _KEY.fullmatch(n) and os.path.isdir(os.path.join(base, n, "manifests"))}


def list_platforms(root):
    """Platform keys with a manifests directory under ``root`` or a release level below it."""
    if not os.path.lexists(root):
        return []
    try:
        names = os.listdir(root)
    except OSError as exc:
        raise RepoError(f"repo {root}: cannot list it: {exc}") from None
    found = _keys_in(root)
    for name in names:
        if name not in found and not name.startswith(".") and os.path.isdir(os.path.join(root, name)):
            found |= _keys_in(os.path.join(root, name))
    return sorted(found)
