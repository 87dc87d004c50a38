"""Installing a venv from a manifest: build a complete new venv, then switch.

The layout and what venvbuild may replace are :mod:`layout`'s. Every install creates a fresh venv directory, installs the manifest's pins into
it with hashes required and no index, checks what landed, writes the stamp, and
only then replaces the symlink with an atomic rename. Until that rename the live
venv is untouched; a failure removes the new directory and nothing else. The
previous venv is kept for rollback; older ones venvbuild made are pruned.
Installs and removals of one path are serialized by a lock in venvbuild's
state directory.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import tempfile
import time
from typing import TYPE_CHECKING
from typing import Iterable
from typing import Iterator

from . import fsutil
from . import paths as paths_mod
from .errors import InstallError
from .errors import UnsafePathError
from .layout import Removal
from .layout import existing_change
from .layout import removal
from .stamp import STAMP_NAME
from .stamp import Stamp
from .stamp import installed_distributions
from .stamp import installed_versions
from .stamp import python_record
from .stamp import read_stamp
from .stamp import record_problems
from .stamp import site_packages
from .stamp import write_stamp
from .text import redact

if TYPE_CHECKING:
    from .interpreter import Interpreter
    from .layout import VenvPaths
    from .manifest import Manifest
    from .tools import ToolSettings

KEEP_VERSIONS = 2  # the live venv and one to roll back to
LOCK_NAME = "venvbuild-lock.txt"  # the manifest the venv was installed from


@dataclasses.dataclass(frozen=True)
class InstallRequest:
    """What to install and how: a manifest, where its wheels are, the tool settings."""

    manifest: Manifest  # already checked to be the spec's
    wheels: dict[str, str]  # {sha256: absolute path of the wheel file}
    interpreter: Interpreter
    settings: ToolSettings  # install_env, install_timeout
    install_args: tuple[str, ...] = ()
    links: tuple[str, ...] = ()  # distro module paths to link in (symlink_pkgs)
    symlink_pkgs: tuple[str, ...] = ()
    install_pkgs: tuple[str, ...] = ()
    source: str = ""  # where the wheels came from (shown with credentials hidden)
    trust: str = ""  # how the manifest was authenticated
    keep: int = KEEP_VERSIONS
    adopt: bool = False


@dataclasses.dataclass
class InstallResult:
    """What an install did: the stamps before (None: no venv) and after, the new venv
    directory, the seconds it took."""

    old: Stamp | None
    new: Stamp
    venv_dir: str
    seconds: float
    existing: dict[str, str] | None = None  # what happened to a venv or directory venvbuild did not make


def _timestamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _unused(directory: str, prefix: str) -> str:
    name = os.path.join(directory, f"{prefix}-{_timestamp()}")
    candidate, suffix = name, 0
    while os.path.lexists(candidate):
        suffix += 1
        candidate = f"{name}-{suffix}"
    return candidate


def _switch(paths: VenvPaths, new_dir: str, adopt: bool = False) -> None:
    """Point ``paths.path`` at ``new_dir`` with one atomic rename.

    What is at the path is checked again here, under the lock, as before the
    install (:func:`existing_change`): a file or a foreign link that appeared
    while the new venv was being made is refused, not replaced."""
    existing_change(paths, adopt)
    kind = paths.kind()
    if kind in ("venv", "dir"):
        os.rename(paths.path, _unused(paths.versions_dir, "preexisting"))
    target = os.path.join(paths.versions_name, os.path.basename(new_dir))
    while True:
        tmp_link = os.path.join(paths.parent,
                                f".{os.path.basename(paths.path)}.link-{os.urandom(6).hex()}")
        try:
            os.symlink(target, tmp_link)
            break
        except FileExistsError:
            continue
    try:
        os.replace(tmp_link, paths.path)
    except BaseException:
        os.unlink(tmp_link)
        raise


def _prune(paths: VenvPaths, keep: int) -> None:
    live = paths.live_dir()
    dirs = paths.version_dirs()
    for old in dirs[: max(0, len(dirs) - keep)]:
        if live and os.path.realpath(old) == os.path.realpath(live):
            continue
        fsutil.remove_tree(old)


def _link(venv_dir: str, links: Iterable[str]) -> dict[str, str]:
    """Link distro modules (``symlink_pkgs``) into the new venv; return the dists they add."""
    if not links:
        return {}
    sites = site_packages(venv_dir)
    if not sites:
        raise InstallError(f"venv {venv_dir}: no site-packages directory to link into")
    before = installed_versions(venv_dir)
    for src in links:
        dest = os.path.join(sites[0], os.path.basename(src))
        if os.path.lexists(dest):
            raise InstallError(
                f"symlink_pkgs: {os.path.basename(src)} is already installed in the venv from "
                "a wheel; drop it from packages or from symlink_pkgs"
            )
        os.symlink(src, dest)
    after = installed_versions(venv_dir)
    return {name: version for name, version in after.items() if name not in before}


def _find_links(tmp_dir: str, manifest: Manifest, wheels: dict[str, str]) -> list[str]:
    """``--find-links`` arguments that show exactly the manifest's wheels.

    A wheel stored content-addressed (``<dir>/<sha256>/<file>``: the repo and the
    target's wheel cache) is offered through its own directory, whose path is the
    same at every install: uv keys its cache on that path, so a second install of
    the same wheels unpacks nothing (a fresh directory per install cost 3x as much
    on a warm cache). Any other wheel is linked into a private directory."""
    args: list[str] = []
    links_dir = None
    for pin in manifest.pins:
        src = wheels.get(pin.sha256)
        if not src:
            raise InstallError(f"wheel {pin.filename} ({pin.sha256[:12]}): not available locally")
        parent = os.path.dirname(src)
        if os.path.basename(src) == pin.filename and os.path.basename(parent) == pin.sha256:
            args += ["--find-links", parent]
            continue
        if links_dir is None:
            links_dir = os.path.join(tmp_dir, "wheels")
            os.mkdir(links_dir, 0o700)
            args += ["--find-links", links_dir]
        os.symlink(src, os.path.join(links_dir, pin.filename))
    return args


def _lock_file(paths: VenvPaths) -> str:
    if paths.lock_file is None:
        raise InstallError(f"venv {paths.path}: no state directory for its lock (VenvPaths "
                           "made without one); installs and removals need it")
    return paths.lock_file


def prepare(paths: VenvPaths, state_dir: str) -> str:
    """Check and create what an install writes through (before taking the lock);
    return the venv's lock file."""
    paths_mod.check_managed_path(paths.path)
    lock_file = _lock_file(paths)
    what = f"venv {paths.path}"
    fsutil.ensure_dir(paths.parent, what, 0o755, enforce=False)
    fsutil.ensure_dir(os.path.dirname(lock_file), f"venvbuild state {state_dir}", 0o700,
                      no_links_below=state_dir)
    paths.check_versions_dir()
    return lock_file


def install(paths: VenvPaths, request: InstallRequest, state_dir: str) -> InstallResult:
    """Install ``request.manifest`` into a new venv for ``paths`` and switch to it."""
    started = time.monotonic()
    manifest, settings = request.manifest, request.settings
    lock_file = prepare(paths, state_dir)
    log_dir = fsutil.ensure_dir(os.path.join(state_dir, "logs"), f"venvbuild state {state_dir}",
                                0o700, no_links_below=state_dir)
    log_path = os.path.join(log_dir, f"install-{manifest.venv_id}-{manifest.spec_id}.log")
    with fsutil.open_log(log_path) as log:
        log.write(f"# venvbuild install of {paths.path} spec {manifest.spec_id}\n")
    with fsutil.file_lock(lock_file):
        existing = existing_change(paths, request.adopt)
        fsutil.ensure_dir(paths.versions_dir, f"venv {paths.path}", 0o755)
        paths.check_versions_dir()
        live = paths.live_dir()
        old = read_stamp(live) if live else None
        new_dir = _unused(paths.versions_dir, manifest.spec_id)
        tmp_dir = tempfile.mkdtemp(prefix="install-", dir=log_dir)
        try:
            python = settings.create_venv(request.interpreter, new_dir, InstallError, log_path)
            seeded = installed_versions(new_dir)
            pins_file = os.path.join(new_dir, LOCK_NAME)  # pip's "lock file": the manifest
            fsutil.atomic_write(pins_file, manifest.render())
            settings.run(
                settings.install_cmd(python)
                + ["--no-index", "--no-deps", *_find_links(tmp_dir, manifest, request.wheels),
                   "--require-hashes", "-r", pins_file, *request.install_args],
                InstallError,
                f"venv {paths.path}: installing {len(manifest.pins)} wheels of manifest "
                f"{manifest.filename} from {redact(request.source)}",
                log_path=log_path,
            )
            expected = dict(seeded)
            expected.update(manifest.versions())
            landed = installed_versions(new_dir)
            if landed != expected:
                raise InstallError(
                    f"venv {paths.path}: installed packages differ from manifest {manifest.filename}: "
                    f"expected {expected}, found {landed}; the live venv was not changed"
                )
            linked = _link(new_dir, request.links)
            stamp = Stamp(
                venv_id=manifest.venv_id,
                spec_id=manifest.spec_id,
                manifest_sha256=manifest.sha256,
                python=python_record(request.interpreter),
                requirements=list(manifest.requirements),
                versions=manifest.versions(),
                seeded=seeded,
                install_tool=settings.tool,
                source=redact(request.source),
                created=_timestamp(),
                symlink_pkgs=sorted(request.symlink_pkgs),
                linked=linked,
                install_pkgs=sorted(request.install_pkgs),
                trust=request.trust,
            )
            write_stamp(new_dir, stamp)
            _switch(paths, new_dir, request.adopt)
        except BaseException:
            fsutil.remove_tree(new_dir)
            raise
        finally:
            fsutil.remove_tree(tmp_dir)
        _prune(paths, request.keep)
    return InstallResult(old, stamp, new_dir, time.monotonic() - started, existing)


def healthy(venv_dir: str, stamp: Stamp) -> bool:
    """True if the venv at ``venv_dir`` can be switched to as it is: its Python is
    there and its lock file is the manifest its stamp names (no install needed)."""
    if not os.path.exists(os.path.join(venv_dir, "bin", "python")):
        return False
    try:
        return fsutil.sha256_file(os.path.join(venv_dir, LOCK_NAME)) == stamp.manifest_sha256
    except (OSError, UnsafePathError):
        return False


def stamped_versions(paths: VenvPaths, live: str | None) -> Iterator[tuple[str, Stamp]]:
    """The version directories at ``paths`` that carry a stamp, other than ``live``,
    with their stamps; newest first. Reads stamps only."""
    live_real = os.path.realpath(live) if live else None
    for directory in reversed(paths.version_dirs()):
        if os.path.realpath(directory) == live_real:
            continue
        stamp = read_stamp(directory)
        if stamp is not None:
            yield directory, stamp


def kept_versions(paths: VenvPaths) -> list[tuple[str, Stamp]]:
    """The venv directories venvbuild made and kept at ``paths``, other than the live
    one, that can be switched to (:func:`healthy`), with their stamps; newest first."""
    return [(directory, stamp) for directory, stamp in stamped_versions(paths, paths.live_dir())
            if healthy(directory, stamp)]


def switch_to(paths: VenvPaths, state_dir: str, venv_dir: str, live: str | None) -> None:
    """Make the kept ``venv_dir`` the live venv with one atomic rename, under the venv's
    lock, if the live venv is still ``live`` (an install may have run meanwhile) and
    ``venv_dir`` is still healthy. Nothing is downloaded or installed.

    ``venv_dir`` becomes the newest version (its time is set to now), so pruning
    keeps it and the venv it replaced is what the next rollback returns to."""
    with fsutil.file_lock(prepare(paths, state_dir)):
        if paths.kind() != "managed" or paths.live_dir() != live:
            raise InstallError(f"venv {paths.path}: changed while switching; run again")
        stamp = read_stamp(venv_dir)
        if os.path.dirname(venv_dir) != paths.versions_dir or stamp is None or not healthy(
                venv_dir, stamp):
            raise InstallError(f"venv {paths.path}: {venv_dir} is no longer a complete venv; "
                               "nothing was switched")
        _switch(paths, venv_dir)
        os.utime(venv_dir)


def remove(paths: VenvPaths, state_dir: str) -> Removal:
    """Remove the venv at ``paths`` and every version venvbuild made, under the venv's
    lock; adopted and unknown content stays (:func:`layout.removal`)."""
    with fsutil.file_lock(prepare(paths, state_dir)):
        plan = removal(paths)
        if paths.kind() == "managed":
            os.unlink(paths.path)
        for path in plan.removed:
            if path == paths.versions_dir:
                os.rmdir(path)  # empty by now; anything new in it stays
            elif os.path.dirname(path) == paths.versions_dir:
                fsutil.remove_tree(path)
    return plan


def verify(paths: VenvPaths, deep: bool = False) -> list[str]:
    """Problems found in the venv at ``paths`` (an empty list means healthy)."""
    live = paths.live_dir()
    if not live:
        if paths.kind() == "venv":
            return [f"{paths.path}: a venv venvbuild did not install (it installs behind a "
                    "link of its own); venvbuild.installed moves it aside and installs"]
        return [f"{paths.path}: no venv there"]
    stamp = read_stamp(live)
    if stamp is None:
        return [f"{paths.path}: no readable {STAMP_NAME}; not installed by venvbuild or damaged"]
    problems: list[str] = []
    try:
        lock_sha = fsutil.sha256_file(os.path.join(live, LOCK_NAME))
    except (OSError, UnsafePathError):
        lock_sha = None
    if lock_sha != stamp.manifest_sha256:
        problems.append(f"{live}/{LOCK_NAME}: missing or not the manifest the stamp names "
                        f"({stamp.manifest_sha256[:12]})")
    if not os.path.exists(os.path.join(live, "bin", "python")):
        problems.append(f"{paths.path}/bin/python: missing or its base interpreter "
                        f"{stamp.python.get('executable')} is gone")
    expected = dict(stamp.seeded)
    expected.update(stamp.versions)
    expected.update(stamp.linked)
    for site in site_packages(live):
        for entry in sorted(os.listdir(site)):
            full = os.path.join(site, entry)
            if os.path.islink(full) and not os.path.exists(full):
                problems.append(f"{full}: link to {os.readlink(full)} is broken "
                                "(distro package of symlink_pkgs removed?)")
    dists = installed_distributions(live)
    for name, version in sorted(expected.items()):
        if name not in dists:
            problems.append(f"{name}=={version}: not installed")
        elif dists[name][0] != version:
            problems.append(f"{name}: {dists[name][0]} installed, {version} expected")
    for name in sorted(set(dists) - set(expected)):
        problems.append(f"{name}=={dists[name][0]}: installed but not in the manifest")
    if deep:
        for name, (_version, dist_info) in sorted(dists.items()):
            if name not in stamp.linked:  # distro files are the package manager's to check
                problems += record_problems(dist_info, os.path.dirname(dist_info))
    return problems
