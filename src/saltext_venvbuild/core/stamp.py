"""What an installed venv records about itself, and what is really in it.

The stamp (``venvbuild.json`` at the venv's root) is written last, after a
successful install, in the new venv directory before the switch: a venv that
has a stamp is complete. Reading it is the whole of a no-op check.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import email.parser
import glob
import hashlib
import json
import os
from typing import TYPE_CHECKING
from typing import Any

from . import fsutil

if TYPE_CHECKING:
    from .interpreter import Interpreter

STAMP_NAME = "venvbuild.json"


@dataclasses.dataclass
class Stamp:
    """What an installed venv records about itself; every field is plain JSON data."""

    venv_id: str
    spec_id: str
    manifest_sha256: str
    python: dict[str, str]  # executable, version, tag
    requirements: list[str]
    versions: dict[str, str]  # {name: version} from the manifest
    seeded: dict[str, str]  # {name: version} the venv tool put in before the install
    install_tool: str
    source: str  # where the wheels came from
    created: str
    symlink_pkgs: list[str] = dataclasses.field(default_factory=list)  # distro packages linked in
    linked: dict[str, str] = dataclasses.field(default_factory=dict)  # {name: version} they brought
    install_pkgs: list[str] = dataclasses.field(default_factory=list)  # distro packages ensured
    trust: str = ""  # how the manifest was authenticated

    def as_dict(self) -> dict[str, Any]:
        """The stamp as the JSON object written to ``venvbuild.json``."""
        return dataclasses.asdict(self)


def python_record(interpreter: Interpreter) -> dict[str, str]:
    """What a stamp records of the venv's interpreter; the no-op check compares it."""
    return {"executable": interpreter.executable, "version": interpreter.version,
            "tag": interpreter.tag}


def read_stamp(venv_dir: str) -> Stamp | None:
    """The stamp of the venv at ``venv_dir``, or None if it has none (or it is unreadable)."""
    try:
        with open(os.path.join(venv_dir, STAMP_NAME), encoding="utf-8") as handle:
            data = json.load(handle)
        return Stamp(**{f.name: data[f.name] for f in dataclasses.fields(Stamp) if f.name in data})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_stamp(venv_dir: str, stamp: Stamp) -> None:
    """Write ``stamp`` as the venv's ``venvbuild.json``, atomically."""
    fsutil.atomic_write(
        os.path.join(venv_dir, STAMP_NAME), json.dumps(stamp.as_dict(), indent=1, sort_keys=True)
    )


def site_packages(venv_dir: str) -> list[str]:
    """The venv's ``lib/python*/site-packages`` directories, sorted (normally one)."""
    return sorted(glob.glob(os.path.join(venv_dir, "lib", "python*", "site-packages")))


def _canonical(name: str) -> str:
    # Imported here: the no-op path reads the stamp and never a dist-info.
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    return canonicalize_name(name)


def installed_distributions(venv_dir: str) -> dict[str, tuple[str, str]]:
    """``{name: (version, dist_info_dir)}`` read from the venv's dist-info metadata."""
    parser = email.parser.HeaderParser()
    found: dict[str, tuple[str, str]] = {}
    for site in site_packages(venv_dir):
        for dist_info in sorted(glob.glob(os.path.join(site, "*.dist-info"))):
            try:
                with open(os.path.join(dist_info, "METADATA"), encoding="utf-8", errors="replace") as fh:
                    headers = parser.parse(fh)
            except OSError:
                continue
            if headers.get("Name") and headers.get("Version"):
                found[_canonical(headers["Name"])] = (headers["Version"], dist_info)
    return found


def installed_versions(venv_dir: str) -> dict[str, str]:
    """``{name: version}`` of the distributions installed in the venv (from their metadata)."""
    return {name: version for name, (version, _path) in installed_distributions(venv_dir).items()}


def record_problems(dist_info: str, site: str) -> list[str]:
    """Files of one distribution whose sha256 differs from its RECORD."""
    problems = []
    try:
        with open(os.path.join(dist_info, "RECORD"), encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        return [f"{os.path.basename(dist_info)}: RECORD unreadable: {exc}"]
    for row in rows:
        if len(row) < 2 or not row[1].startswith("sha256="):
            continue
        path = os.path.normpath(os.path.join(site, row[0]))
        try:
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).digest()
        except OSError:
            problems.append(f"{row[0]}: missing")
            continue
        actual = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if actual != row[1][len("sha256="):]:
            problems.append(f"{row[0]}: content differs from its RECORD")
    return problems
