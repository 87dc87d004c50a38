"""Python modules that distro packages install, for ``symlink_pkgs``.

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
