"""The wheel repo on disk: one directory per platform key, plain static files.

    <root>/<platform>/wheels/<wheel files>
    <root>/<platform>/manifests/<venv>-<spec id>.txt
    <root>/<platform>/.locks/, .staging/   (private; not part of the served repo)

Wheels are published with no-clobber hard links, manifests with atomic renames,
so a reader (a target, a web server) never sees a half-written file, and a wheel
a manifest points at never changes its bytes.
"""

import os
import re
import shutil
import tempfile

from . import fsutil
from .errors import RepoError
from .manifest import Pin
from .manifest import manifest_filename
from .manifest import read_manifest

_KEY = re.compile(r"^[a-z0-9._]+-[a-z0-9._]+-[a-z0-9._]+-[a-z0-9._]+$")


class RepoLayout:
    def __init__(self, root, platform):
        self.root = fsutil.check_managed_path(root, "repo_path")
        self.platform = platform
        self.platform_dir = os.path.join(self.root, platform)
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

    def publish_wheels(self, built_dir):
        """Publish every wheel in ``built_dir``; return their pins.

        A wheel file that is already published is kept as it is (same name means
        same project, version and tags): the pin then records the published
        file's hash, so every manifest describes bytes that really are served.
        """
        self.ensure_dirs()
        pins = []
        for filename in sorted(os.listdir(built_dir)):
            if not filename.endswith(".whl"):
                continue
            src = os.path.join(built_dir, filename)
            dest = os.path.join(self.wheels_dir, filename)
            if fsutil.publish_no_clobber(src, dest):
                os.chmod(dest, 0o644)
            pins.append(Pin.from_wheel(filename, fsutil.sha256_file(dest)))
        return pins

    def publish_manifest(self, manifest):
        self.ensure_dirs()
        fsutil.atomic_write(self.manifest_path(manifest.venv_id, manifest.spec_id), manifest.render())

    def remove_staging(self, path):
        shutil.rmtree(path, ignore_errors=True)


def list_platforms(root):
    """Platform keys that have a manifests directory under ``root``."""
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise RepoError(f"repo {root}: cannot list it: {exc}") from None
    return [
        name
        for name in names
        if _KEY.match(name) and os.path.isdir(os.path.join(root, name, "manifests"))
    ]
