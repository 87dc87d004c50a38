"""The registry of venvs venvbuild installed on this minion (for list_venvs).

A JSON map of venv path to venv id in venvbuild's state directory, written only
when a venv is installed or removed.
"""

from __future__ import annotations

import json
import os

from . import fsutil
from .errors import VenvbuildError
from .installer import LOCK_NAME
from .layout import VenvPaths
from .manifest import lock_hashes


def _file(state_dir: str) -> str:
    return os.path.join(state_dir, "venvs.json")


def read(state_dir: str) -> dict[str, str]:
    """``{venv path: venv id}`` of the registered venvs; empty if the file is missing or unreadable."""
    try:
        data = json.loads(fsutil.read_text(_file(state_dir)) or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def register(state_dir: str, path: str, venv_id: str | None) -> None:
    """Record ``path`` as venv ``venv_id``; ``venv_id`` None forgets it."""
    data = read(state_dir)
    if venv_id is None:
        data.pop(path, None)
    else:
        data[path] = venv_id
    fsutil.atomic_write(_file(state_dir), json.dumps(data, indent=1, sort_keys=True), 0o600)


def wheels_in_use(state_dir: str) -> set[str]:
    """sha256s of the wheels of every kept venv version of every registered venv."""
    shas: set[str] = set()
    for path in read(state_dir):
        try:
            paths = VenvPaths(path)
        except VenvbuildError:
            continue  # a path recorded by an older release that is no longer accepted
        for version in paths.version_dirs(adopted=False):
            try:
                text = fsutil.read_text(os.path.join(version, LOCK_NAME))
                shas |= lock_hashes(text or "")  # format 2 locks too (installed before sizes)
            except (VenvbuildError, OSError, ValueError):
                continue  # an unreadable lock keeps nothing alive; its venv is broken anyway
    return shas
