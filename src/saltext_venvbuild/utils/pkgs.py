"""Distro packages through Salt's ``pkg`` module: build_pkgs, install_pkgs,
symlink_pkgs (the role's venv_*_distro_package_list and venv_packages_to_symlink).

When they are checked and what is remembered between runs is the workflow's
(core/workflow.py, core/pkgdb.py); here are the calls into Salt."""

import contextlib
import functools
import logging
import os

from salt.exceptions import CommandExecutionError

from saltext_venvbuild.core import distro
from saltext_venvbuild.core import retry
from saltext_venvbuild.core import runner
from saltext_venvbuild.core.errors import SpecError

log = logging.getLogger(__name__)


@contextlib.contextmanager
def clean_environ():
    """Run Salt's ``pkg`` functions in the environment venvbuild gives its own tools.

    Salt's ``cmd.run`` hands the package manager a copy of the calling process's
    environment and runs it in ``$HOME``: under ``sudo -E salt-call`` that is the
    caller's ``APT_CONFIG`` (whose ``DPkg::Pre-Invoke`` runs commands as root),
    ``PATH``, ``DNF_VAR_*``, ``ZYPP_CONF`` and home directory. ``pkg.install``
    passes no ``env``/``clean_env`` through, so for the call ``os.environ`` is
    replaced by :func:`runner.inherited_environ` (``PATH`` of root's directories,
    the locale, proxies, ``HOME`` from the password database) and restored after."""
    saved = dict(os.environ)
    clean = runner.inherited_environ(saved)
    os.environ.clear()
    os.environ.update(clean)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _in_clean_environ(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with clean_environ():
            return func(*args, **kwargs)
    return wrapper


def _as_dict(value, names):
    """pkg.version / pkg.latest_version return a string for one name, a dict for more."""
    if isinstance(value, dict):
        return value
    return {names[0]: value or ""}


def refresh(salt, grains, cache_valid_time):
    """Refresh the package database, at most every ``cache_valid_time`` seconds (apt);
    called by :func:`ensure`, in its clean environment.

    apt's refresh honours the interval (the role's venv_distro_cache_valid_time);
    dnf/zypper keep their own metadata expiry, so they are left to it.
    """
    if grains.get("os_family") == "Debian":
        salt["pkg.refresh_db"](cache_valid_time=int(cache_valid_time))


@_in_clean_environ
def installed_names(salt):
    """The names of the installed packages (``pkg.list_pkgs``)."""
    try:
        return set(salt["pkg.list_pkgs"]() or {})
    except CommandExecutionError as exc:
        raise CommandExecutionError(
            f"distro packages: cannot list the installed packages: {exc}") from None


def ensure(salt, grains, names, state, cache_valid_time, what, *, policy=None):
    """Install missing ``names`` (and, with ``latest``, upgrade them); return pkg's changes.

    A failure with a passing cause (the package manager's lock, an unreachable
    mirror: core/retry.py) is retried as ``policy`` (a retry.Policy) says, each
    failed attempt logged; any other failure at once."""
    if not names:
        return {}
    return retry.call(lambda: _ensure(salt, grains, names, state, cache_valid_time, what),
                      policy or retry.Policy(), retry.package_cause,
                      f"{what}: installing distro packages", (CommandExecutionError,))


@_in_clean_environ
def _ensure(salt, grains, names, state, cache_valid_time, what):
    try:
        refresh(salt, grains, cache_valid_time)
        installed = _as_dict(salt["pkg.version"](*names), names)
        wanted = [{name: None} for name in names if not installed.get(name)]
        if state == "latest":
            newer = _as_dict(salt["pkg.latest_version"](*names, refresh=False), names)
            wanted += [{name: newer[name]} for name in names
                       if installed.get(name) and newer.get(name)]
        if not wanted:
            return {}
        # A dict without a version installs the candidate version.
        pkgs = [name if version is None else {name: version}
                for item in wanted for name, version in item.items()]
        log.info("venvbuild: %s: installing %s", what, pkgs)
        return salt["pkg.install"](pkgs=pkgs, refresh=False) or {}
    except CommandExecutionError as exc:
        raise CommandExecutionError(
            f"{what}: distro packages {', '.join(names)} could not be installed: {exc}"
        ) from None


@_in_clean_environ
def symlink_sources(salt, names, interpreter):
    """The top-level Python entries of each package of ``names``, for the venv's Python."""
    sources = []
    for name in names:
        listing = salt["pkg.file_list"](name)
        files = listing.get("files", []) if isinstance(listing, dict) else []
        if isinstance(listing, dict) and listing.get("errors") and not files:
            raise SpecError(
                f"symlink_pkgs: cannot list the files of {name}: {'; '.join(listing['errors'])}"
            )
        sources += distro.python_entries(name, files, interpreter.major, interpreter.minor)
    return sources
