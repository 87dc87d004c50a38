"""Installing a venv from a manifest: build a complete new venv, then switch.

Layout for a venv at ``/opt/venvs/keystone``::

    /opt/venvs/keystone -> .keystone.versions/<spec id>-<time>   (a symlink)
    /opt/venvs/.keystone.versions/<spec id>-<time>/               (complete venvs)
    /opt/venvs/.keystone.versions/.lock

Every install creates a fresh venv directory, installs the manifest's pins into
it with hashes required and no index, checks what landed, writes the stamp, and
only then replaces the symlink with an atomic rename. Until that rename the live
venv is untouched; a failure removes the new directory and nothing else. The
previous venv is kept for rollback; older ones are pruned.
"""

import dataclasses
import datetime
import os
import shutil
import time

from . import fsutil
from . import runner
from .errors import InstallError
from .stamp import STAMP_NAME
from .stamp import Stamp
from .stamp import installed_distributions
from .stamp import installed_versions
from .stamp import read_stamp
from .stamp import record_problems
from .stamp import site_packages
from .stamp import write_stamp

KEEP_VERSIONS = 2  # the live venv and one to roll back to


class VenvPaths:
    def __init__(self, path):
        self.path = fsutil.check_managed_path(path)
        parent, base = os.path.split(self.path)
        self.versions_dir = os.path.join(parent, f".{base}.versions")
        self.lock_file = os.path.join(self.versions_dir, ".lock")

    def live_dir(self):
        """The real directory the path points at, or None."""
        if os.path.islink(self.path):
            target = os.path.realpath(self.path)
            return target if os.path.isdir(target) else None
        return self.path if os.path.isdir(self.path) else None

    def version_dirs(self):
        try:
            names = os.listdir(self.versions_dir)
        except FileNotFoundError:
            return []
        dirs = [os.path.join(self.versions_dir, n) for n in names if not n.startswith(".")]
        return sorted((d for d in dirs if os.path.isdir(d)), key=lambda d: (os.stat(d).st_mtime, d))


@dataclasses.dataclass
class InstallResult:
    old: object  # Stamp or None
    new: Stamp
    venv_dir: str
    seconds: float


def _timestamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _switch(paths, new_dir):
    """Point ``paths.path`` at ``new_dir`` with one atomic rename."""
    if os.path.lexists(paths.path) and not os.path.islink(paths.path):
        if not os.path.isdir(paths.path):
            raise InstallError(f"venv {paths.path}: exists and is not a directory; remove it first")
        # A venv made by other means: keep it beside ours for rollback.
        os.rename(paths.path, os.path.join(paths.versions_dir, f"preexisting-{_timestamp()}"))
    tmp_link = os.path.join(os.path.dirname(paths.path), f".{os.path.basename(paths.path)}.link-{os.getpid()}")
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(os.path.relpath(new_dir, os.path.dirname(paths.path)), tmp_link)
    os.replace(tmp_link, paths.path)


def _prune(paths, keep):
    live = paths.live_dir()
    dirs = paths.version_dirs()
    for old in dirs[: max(0, len(dirs) - keep)]:
        if live and os.path.realpath(old) == os.path.realpath(live):
            continue
        shutil.rmtree(old, ignore_errors=True)


def _create_venv(tool, interpreter, venv_dir, env, log_path, uv_bin):
    what = f"venv {venv_dir}: creating it"
    if tool == "uv":
        uv = runner.find_uv(uv_bin)
        runner.run([uv, "venv", "--python", interpreter.executable, venv_dir],
                   InstallError, what, env=env, log_path=log_path)
    else:
        runner.run([interpreter.executable, "-m", "venv", venv_dir],
                   InstallError, what, env=env, log_path=log_path)


def _install_cmd(tool, venv_dir, find_links, lock_file, install_args, uv_bin, ca_bundle):
    python = os.path.join(venv_dir, "bin", "python")
    if tool == "uv":
        cmd = [runner.find_uv(uv_bin), "pip", "install", "--python", python]
    else:
        cmd = [python, "-m", "pip", "install"]
    return cmd + ["--no-index", "--find-links", find_links, "--require-hashes",
                  "-r", lock_file] + runner.cert_args(tool, ca_bundle) + list(install_args)


def _link(venv_dir, links):
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


def install(manifest, manifest_sha256, find_links, interpreter, tool, path,
            install_args=(), install_env=None, state_dir=None, uv_bin=None,
            keep=KEEP_VERSIONS, pip_noconf=False, links=(), symlink_pkgs=(), install_pkgs=(),
            ca_bundle=None):
    """Install ``manifest`` into a new venv for ``path`` and switch to it.

    ``links`` are distro module paths to link into its site-packages (from
    ``symlink_pkgs``, recorded in the stamp with ``install_pkgs``).
    """
    started = time.monotonic()
    paths = VenvPaths(path)
    env = runner.tool_env(install_env, ca_bundle)
    if pip_noconf:
        env["PIP_CONFIG_FILE"] = os.devnull
    os.makedirs(paths.versions_dir, mode=0o755, exist_ok=True)
    log_path = None
    if state_dir:
        log_path = os.path.join(state_dir, "logs", f"install-{manifest.venv_id}-{manifest.spec_id}.log")
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        with open(log_path, "w", encoding="utf-8") as log:
            log.write(f"# venvbuild install of {path} spec {manifest.spec_id}\n")
    with fsutil.file_lock(paths.lock_file):
        old = read_stamp(paths.path)
        new_dir = os.path.join(paths.versions_dir, f"{manifest.spec_id}-{_timestamp()}")
        suffix = 0
        while os.path.lexists(new_dir):
            suffix += 1
            new_dir = os.path.join(paths.versions_dir, f"{manifest.spec_id}-{_timestamp()}-{suffix}")
        try:
            _create_venv(tool, interpreter, new_dir, env, log_path, uv_bin)
            seeded = installed_versions(new_dir)
            lock_file = os.path.join(new_dir, "venvbuild-lock.txt")
            fsutil.atomic_write(lock_file, manifest.render())
            runner.run(
                _install_cmd(tool, new_dir, find_links, lock_file, install_args, uv_bin, ca_bundle),
                InstallError,
                f"venv {path}: installing {len(manifest.pins)} wheels of manifest "
                f"{manifest.filename} from {find_links}",
                env=env, log_path=log_path,
            )
            expected = dict(seeded)
            expected.update(manifest.versions())
            landed = installed_versions(new_dir)
            if landed != expected:
                raise InstallError(
                    f"venv {path}: installed packages differ from manifest {manifest.filename}: "
                    f"expected {expected}, found {landed}; the live venv was not changed"
                )
            linked = _link(new_dir, links)
            stamp = Stamp(
                venv_id=manifest.venv_id,
                spec_id=manifest.spec_id,
                manifest_sha256=manifest_sha256,
                python={"executable": interpreter.executable, "version": interpreter.version,
                        "tag": interpreter.tag},
                requirements=list(manifest.requirements),
                versions=manifest.versions(),
                seeded=seeded,
                install_tool=tool,
                source=find_links,
                created=_timestamp(),
                symlink_pkgs=sorted(symlink_pkgs),
                linked=linked,
                install_pkgs=sorted(install_pkgs),
            )
            write_stamp(new_dir, stamp)
            _switch(paths, new_dir)
        except BaseException:
            shutil.rmtree(new_dir, ignore_errors=True)
            raise
        _prune(paths, keep)
    return InstallResult(old, stamp, new_dir, time.monotonic() - started)


def remove(path):
    """Remove the venv at ``path`` and every kept version; return what was removed."""
    paths = VenvPaths(path)
    removed = []
    if os.path.lexists(paths.path):
        if os.path.islink(paths.path):
            os.unlink(paths.path)
        elif os.path.isdir(paths.path):
            if not os.path.exists(os.path.join(paths.path, "pyvenv.cfg")):
                raise InstallError(
                    f"venv {path}: is a directory but not a venv (no pyvenv.cfg); "
                    "refusing to delete it"
                )
            shutil.rmtree(paths.path)
        else:
            raise InstallError(f"venv {path}: is not a venv or a symlink to one; refusing to delete it")
        removed.append(paths.path)
    if os.path.isdir(paths.versions_dir):
        shutil.rmtree(paths.versions_dir)
        removed.append(paths.versions_dir)
    return removed


def verify(path, deep=False):
    """Problems found in the venv at ``path`` (an empty list means healthy)."""
    paths = VenvPaths(path)
    live = paths.live_dir()
    if not live:
        return [f"{path}: no venv there"]
    stamp = read_stamp(live)
    if stamp is None:
        return [f"{path}: no readable {STAMP_NAME}; not installed by venvbuild or damaged"]
    problems = []
    if not os.path.exists(os.path.join(live, "bin", "python")):
        problems.append(f"{path}/bin/python: missing or its base interpreter "
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
