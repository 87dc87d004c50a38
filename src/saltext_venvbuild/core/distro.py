"""Distro packages: the role's base lists, and the Python modules of ``symlink_pkgs``.

The base lists are what the role installs on every host besides a venv's own
lists (its ``vars/<os family>.yml``): :func:`base_packages` adds them to
``build_pkgs`` and ``install_pkgs`` unless ``base_pkgs`` is false.

Some libraries (apt's ``apt_pkg``, libvirt, rados) are tied to C libraries of
the distribution and are used from its packages rather than from wheels. The
role links them into the venv; so do we, from the package's file list (Salt's
``pkg.file_list``), linking only the top-level entries of the distribution's
site-/dist-packages directories, and only when they fit the venv's Python.
"""

from __future__ import annotations

import os
import re
from typing import Iterable

from .errors import SpecError

# The role's _venv_build_base_distro_package_list and _venv_install_base_distro_package_list
# (vars/debian.yml, vars/redhat.yml), by Salt's os_family grain. Another family has none.
BASE_PACKAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "Debian": {
        "build": ("cmake", "g++", "python3-dev", "python3-packaging", "python3-pkgconfig",
                  "python3-setuptools", "python3-venv"),
        "install": ("python3-packaging", "python3-setuptools", "python3-venv"),
    },
    "RedHat": {
        "build": ("autoconf", "cmake", "gcc", "gcc-c++", "python3-devel", "python3-packaging"),
        "install": ("python3-packaging",),
    },
}


def base_packages(os_family: str | None, kind: str) -> tuple[str, ...]:
    """The role's base packages of ``kind`` (``build`` or ``install``) for the
    ``os_family`` grain (``Debian`` covers Ubuntu, ``RedHat`` Rocky, Alma and
    Fedora); none for another family."""
    return BASE_PACKAGES.get(os_family or "", {}).get(kind, ())

# Directories distro packages put Python 3 modules in; {v} is "3" or "3.X".
_ROOTS = re.compile(
    r"^(?P<root>/usr(?:/local)?/lib(?:64)?/python(?P<ver>3(?:\.\d+)?)/(?:dist|site)-packages)/(?P<rest>.+)$"
)
_EXT_TAG = re.compile(r"\.cpython-(\d)(\d+)[a-z]*-")
_ABI3 = re.compile(r"\.abi3\.so$")


def python_entries(package: str, files: Iterable[str], major: int, minor: int) -> list[str]:
    """The top-level entries of ``package``'s Python modules to link into a venv.

    ``files`` is the package's file list; ``major``/``minor`` the venv's Python.
    Raises SpecError when the package ships no Python 3 module, or ships one
    for another Python version (a ``python3.X`` directory or a ``cpython-3X``
    extension module that is not the venv's): linking it would break at import.
    """
    entries: dict[str, str] = {}
    # top-level entry -> CPython versions its extension modules are built for
    builds: dict[str, dict[tuple[int, int], str]] = {}
    for path in files:
        match = _ROOTS.match(path)
        if not match:
            continue
        top = match.group("rest").split("/", 1)[0]
        if top == "__pycache__" or top.endswith(".pth"):
            continue
        ver = match.group("ver")
        if ver not in ("3", f"{major}.{minor}"):
            raise SpecError(
                f"symlink_pkgs: {package} installs {path} for Python {ver}, but the venv "
                f"runs Python {major}.{minor}; use a venv python matching the distro's "
                f"or the package built for Python {major}.{minor}"
            )
        entries[top] = os.path.join(match.group("root"), top)
        tag = _EXT_TAG.search(os.path.basename(path))
        if tag and not _ABI3.search(path):
            builds.setdefault(top, {})[(int(tag.group(1)), int(tag.group(2)))] = path
    # Packages built during a Python transition ship one extension per version:
    # an entry fits when one of its builds is the venv's.
    for _top, versions in sorted(builds.items()):
        if (major, minor) not in versions:
            other, path = sorted(versions.items())[0]
            raise SpecError(
                f"symlink_pkgs: {package} ships {path}, an extension module for CPython "
                f"{other[0]}.{other[1]}, but the venv runs Python {major}.{minor}; "
                "it would not import there"
            )
    if not entries:
        raise SpecError(
            f"symlink_pkgs: {package} installs no Python 3 module under "
            "/usr/lib/python3*/dist-packages or site-packages; is it the right package?"
        )
    return sorted(entries.values())
