"""The registry of venvs venvbuild installed on this minion (for list_venvs).

A JSON map of venv path to venv id under the minion's cachedir, written only
when a venv is installed or removed.
"""

import json
import os

from saltext_venvbuild.core import fsutil


def _file(state_dir):
    return os.path.join(state_dir, "venvs.json")


def read(state_dir):
    try:
        with open(_file(state_dir), encoding="utf-8") as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def register(state_dir, path, venv_id):
    """Record ``path`` as venv ``venv_id``; ``venv_id`` None forgets it."""
    data = read(state_dir)
    if venv_id is None:
        data.pop(path, None)
    else:
        data[path] = venv_id
    fsutil.atomic_write(_file(state_dir), json.dumps(data, indent=1, sort_keys=True))
