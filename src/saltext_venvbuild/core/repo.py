"""The wheel repo on disk: one directory per platform key, plain static files.

    <root>[/<release>]/<platform>/wheels/<sha256>/<wheel file>
    <root>[/<release>]/<platform>/manifests/<venv>-<spec id>.txt
    <root>[/<release>]/<platform>/.locks/, .staging/   (private; not served)

Wheels are stored by content: two builds of one name and version from
different sources (a git fork, a new commit, a rebuild) are two files, and a
manifest names the exact bytes its spec was built with. A stored wheel never
changes; a manifest is replaced only atomically.

Only venvbuild's user (root) writes in the repo. ``group`` (``repo_group``)
gives a web server read access: directories ``0750`` and files ``0640`` of
that group, instead of ``0755``/``0644``. Every directory on the way is
checked (:mod:`fsutil`), so a user who can write in the repo is an error, not
a way in.
"""

from __future__ import annotations

import os
import tempfile
from typing import ContextManager

from . import fsutil
from . import names
from . import paths
from . import platform as platform_mod
from .errors import RepoError
from .errors import UnsafePathError
from .errors import VenvbuildError
from .manifest import MAX_BYTES
from .manifest import Manifest
from .manifest import ManifestFormatError
from .manifest import Pin
from .manifest import manifest_filename
from .spec import check_venv_id

# The lock every build and local install of a platform holds shared while it stores or
# uses wheels; a prune (core/prune.py) removes wheels only holding it exclusively, so it
# never removes a wheel a build has just found stored and is about to name in a manifest.
WHEELS_LOCK = "wheels"


def location(platform: str, release: str | None = None) -> str:
    """The repo-relative directory of a platform: ``[<release>/]<platform>``."""
    return f"{release}/{platform}" if release else platform


class RepoLayout:
    """Paths of one platform of a repo; ``group`` is the gid that may read it."""

    def __init__(self, root: str, platform: str, release: str | None = None, group: int | None = None) -> None:
        self.root = paths.normalize_path(root, "repo_path")
        self.platform = platform_mod.check_key(platform)
        self.release = None if release is None else check_venv_id(release, "release")
        self.group = group
        self.platform_dir = os.path.join(self.root, location(platform, release))
        self.wheels_dir = os.path.join(self.platform_dir, "wheels")
        self.manifests_dir = os.path.join(self.platform_dir, "manifests")
        self.locks_dir = os.path.join(self.platform_dir, ".locks")
        self.staging_dir = os.path.join(self.platform_dir, ".staging")

    @property
    def dir_mode(self) -> int:
        """The mode of the repo's public directories: ``0755``, ``0750`` with a group."""
        return 0o755 if self.group is None else 0o750

    @property
    def file_mode(self) -> int:
        """The mode of published files: ``0644``, ``0640`` with a group."""
        return 0o644 if self.group is None else 0o640

    def manifest_path(self, venv_id: str, spec_id: str) -> str:
        """Where the manifest of a spec is published on this platform."""
        return os.path.join(self.manifests_dir, manifest_filename(venv_id, spec_id))

    def wheel_path(self, pin: Pin) -> str:
        """Where ``pin``'s wheel is stored: ``wheels/<sha256>/<file>``."""
        return os.path.join(self.wheels_dir, pin.sha256, pin.filename)

    def lock(self, name: str, shared: bool = False, wait: bool = True) -> ContextManager[bool]:
        """A lock of this platform called ``name`` (a context manager): exclusive unless
        ``shared``, waited for unless ``wait`` is False (then the block gets False
        when another process holds it)."""
        return fsutil.file_lock(os.path.join(self.locks_dir, f"{name}.lock"), shared=shared,
                                wait=wait)

    def ensure_dirs(self) -> None:
        """Create (or check) the repo's directories; only root may write in any of them."""
        what = f"repo {self.root}"
        paths.check_managed_path(self.root, "repo_path")
        try:
            # The root may be a link root made (/srv/venvbuild -> /data/venvbuild);
            # nothing below it may be one.
            inside = fsutil.ensure_dir(self.root, what, self.dir_mode, self.group)
            if self.release:
                fsutil.ensure_dir(os.path.dirname(self.platform_dir), what, self.dir_mode,
                                  self.group, no_links_below=inside)
            for path in (self.platform_dir, self.wheels_dir, self.manifests_dir):
                fsutil.ensure_dir(path, what, self.dir_mode, self.group, no_links_below=inside)
            for path in (self.locks_dir, self.staging_dir):
                fsutil.ensure_dir(path, what, 0o700, no_links_below=inside)
        except OSError as exc:
            raise RepoError(f"{what}: cannot create {exc.filename or 'its directories'}: "
                            f"{exc.strerror}; check repo_path") from None

    def staging(self, prefix: str) -> str:
        """A private directory on the repo's filesystem, for building before publishing."""
        self.ensure_dirs()
        return tempfile.mkdtemp(prefix=f"{prefix}-", dir=self.staging_dir)

    def manifest_sha256(self, venv_id: str, spec_id: str) -> str | None:
        """The sha256 of the published manifest file of a spec (it is the manifest's
        :attr:`~Manifest.sha256`: the file is exactly what ``render()`` wrote), or None
        if there is none or it cannot be read. Reads bytes only: the no-op check."""
        try:
            return fsutil.sha256_file(self.manifest_path(venv_id, spec_id))
        except (OSError, VenvbuildError):
            return None

    def read_manifest(self, venv_id: str, spec_id: str, ignore_unreadable: bool = False) -> Manifest | None:
        """The published manifest of a spec, or None if there is none.

        A manifest of an older format is treated as absent (the spec is built
        again). With ``ignore_unreadable`` a damaged one is too (``wheels_rebuild``
        replaces it); otherwise it is a RepoError naming the fix.
        """
        path = self.manifest_path(venv_id, spec_id)
        try:
            text = fsutil.read_text(path, limit=MAX_BYTES)
        except (OSError, UnicodeDecodeError, VenvbuildError) as exc:
            if ignore_unreadable and not isinstance(exc, UnsafePathError):
                return None
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise RepoError(f"manifest {path}: cannot read it ({reason}); check repo_path, or "
                            "run the build with wheels_rebuild: true to replace it") from None
        if text is None:
            return None
        try:
            return Manifest.parse(text, source=path).check_is(venv_id, spec_id, self.platform,
                                                              source=path)
        except ManifestFormatError:
            return None
        except RepoError as exc:
            if ignore_unreadable:
                return None
            raise RepoError(f"{exc}; run the build with wheels_rebuild: true to replace it") from None

    def missing_wheels(self, manifest: Manifest) -> list[str]:
        """File names of the manifest's wheels that are not stored (or not as hashed)."""
        return [pin.filename for pin in manifest.pins if not self._stored(pin)]

    def _stored(self, pin: Pin) -> bool:
        try:
            return fsutil.sha256_file(self.wheel_path(pin)) == pin.sha256
        except (OSError, UnsafePathError):
            return False

    def publish_wheels(self, built_dir: str) -> tuple[list[Pin], list[str]]:
        """Store every wheel of ``built_dir`` by its content; return ``(pins, new)``,
        each pin with the wheel's sha256 and size.

        A wheel whose bytes are already stored is not copied again. A stored
        file whose content does not match its name (damaged) is replaced.
        ``new`` lists the file names of wheels that were not stored before.
        """
        self.ensure_dirs()
        pins: list[Pin] = []
        new: list[str] = []
        for filename in sorted(os.listdir(built_dir)):
            if not filename.endswith(".whl"):
                continue
            src = os.path.join(built_dir, filename)
            # The size goes into the manifest: a target's download stops there. The
            # staging directory is root's alone, so the file does not change between.
            size = os.lstat(src).st_size
            pin = Pin.from_wheel(filename, fsutil.sha256_file(src), size)
            pins.append(pin)
            if self._stored(pin):
                continue
            directory = os.path.join(self.wheels_dir, pin.sha256)
            fsutil.ensure_dir(directory, f"repo {self.root}", self.dir_mode, self.group,
                              no_links_below=os.path.realpath(self.root))
            if not fsutil.copy_new(src, directory, filename, self.file_mode, self.group):
                # A damaged file under this content's name: replace it atomically.
                fsutil.replace_file(src, directory, filename, self.file_mode, self.group)
            new.append(filename)
        return pins, new

    def publish_manifest(self, manifest: Manifest) -> None:
        """Publish ``manifest`` atomically, after checking it reads back as itself."""
        text = manifest.render()
        if Manifest.parse(text, source=f"manifest {manifest.filename}") != manifest:
            raise RepoError(f"manifest {manifest.filename}: does not read back as written; "
                            "nothing was published")
        self.ensure_dirs()
        fsutil.atomic_write(self.manifest_path(manifest.venv_id, manifest.spec_id), text,
                            self.file_mode, self.group)

    def remove_staging(self, path: str) -> None:
        """Remove a directory :meth:`staging` made, with everything in it."""
        fsutil.remove_tree(path)

    def manifest_hashes(self) -> dict[str, str]:
        """``{"<venv>-<spec>": sha256}`` of every readable manifest of this platform."""
        out: dict[str, str] = {}
        try:
            entries = os.listdir(self.manifests_dir)
        except OSError:
            return out
        for name in sorted(entries):
            match = names.MANIFEST_FILE.fullmatch(name)
            if not match:
                continue
            try:
                manifest = self.read_manifest(match.group("venv"), match.group("spec"))
            except RepoError:
                continue
            if manifest is not None:
                out[f"{match.group('venv')}-{match.group('spec')}"] = manifest.sha256
        return out


def _keys_in(base: str) -> set[str]:
    try:
        entries = os.listdir(base)
    except OSError:
        return set()
    return {n for n in entries
            if names.PLATFORM_KEY.fullmatch(n) and os.path.isdir(os.path.join(base, n, "manifests"))}


def list_locations(root: str) -> dict[str, str]:
    """``{location: platform}`` of every platform directory under ``root``
    (``<platform>`` or ``<release>/<platform>``)."""
    if not os.path.lexists(root):
        return {}
    try:
        entries = os.listdir(root)
    except OSError as exc:
        raise RepoError(f"repo {root}: cannot list it: {exc.strerror}") from None
    found = {key: key for key in _keys_in(root)}
    for name in entries:
        if name not in found and not name.startswith(".") and os.path.isdir(os.path.join(root, name)):
            for key in _keys_in(os.path.join(root, name)):
                found[f"{name}/{key}"] = key
    return dict(sorted(found.items()))


def published_manifests(root: str) -> dict[str, str]:
    """``{"<location>/<venv>-<spec>": sha256}`` of every manifest in the repo at ``root``:
    what a builder publishes in the mine so targets can authenticate what they fetch."""
    out: dict[str, str] = {}
    for loc, key in list_locations(root).items():
        release = loc.rsplit("/", 1)[0] if "/" in loc else None
        try:
            layout = RepoLayout(root, key, release=release)
        except VenvbuildError:
            continue  # a directory that is no release of ours
        for name, sha in layout.manifest_hashes().items():
            out[f"{loc}/{name}"] = sha
    return out


def list_platforms(root: str) -> list[str]:
    """Platform keys with a manifests directory under ``root`` or a release level below it."""
    return sorted(set(list_locations(root).values()))
