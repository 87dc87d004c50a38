"""Pruning a repo: the manifests no target uses and the wheels no manifest names.

A builder's repo grows with every spec it builds, and so does its mine entry
(``venvbuild.repo_info`` lists every manifest). :func:`prune` keeps, per venv
of each ``[<release>/]<platform>`` of the repo:

- every manifest **in use**: its key is in ``in_use`` (``salt-run
  venvbuild.prune`` collects the wanted, installed and kept spec ids of every
  target from the mine). A key without a release level,
  ``<platform>/<venv>-<spec>``, keeps that spec at every release level;
- the **newest** ``keep`` readable manifests (by modification time);
- every manifest published less than ``min_age`` seconds ago (**recent**: a
  target may be about to fetch it before its mine entry says so);
- every manifest that cannot be read as a manifest of its name
  (**unreadable**): it is never removed by guesswork (a rebuild with
  ``wheels_rebuild`` replaces it) and it keeps no wheel alive, since no target
  and no build can use it.

The other manifests are removed, then every wheel directory
(``wheels/<sha256>/``) that no remaining readable manifest of its platform
names and that is older than ``min_age``.

Concurrency: a venv's manifests are looked at and removed holding its build
lock (``build-<venv>``), taken without waiting: a venv whose build runs is
skipped and reported. Wheels are shared by the venvs of a platform, so they are
looked at and removed holding the platform's ``wheels`` lock exclusively,
again without waiting; every build and local install holds it shared, so
while any of them runs the platform's wheels are skipped, and no wheel a build
found stored (and is about to name in a new manifest) is ever removed. A
target's download over HTTP cannot be locked: the in-use keys and ``min_age``
cover it. Files are removed without following links (:func:`fsutil.remove_tree`).

With ``test`` (the default of every caller) nothing is removed or locked and
the same plan is returned, a venv or platform whose lock is held at that
moment reported as skipped.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import time
from typing import Any
from typing import Iterable

from . import fsutil
from . import names
from .errors import SpecError
from .errors import VenvbuildError
from .manifest import MAX_BYTES
from .manifest import Manifest
from .repo import WHEELS_LOCK
from .repo import RepoLayout
from .repo import list_locations

MAX_IN_USE = 100_000  # in-use keys one call accepts
DEFAULT_KEEP = 3
DEFAULT_MIN_AGE = 3600

_IN_USE_KEY = re.compile(
    r"^(?:(?P<release>[A-Za-z0-9][A-Za-z0-9._-]{0,99})/)?"
    r"(?P<platform>[a-z0-9._]+-[a-z0-9._]+-[a-z0-9._]+-[a-z0-9._]+)/"
    rf"(?P<venv>[A-Za-z0-9][A-Za-z0-9._-]{{0,99}})-(?P<spec>[0-9a-f]{{{names.SPEC_ID_LENGTH}}})$")


def check_in_use(values: object) -> frozenset[str]:
    """The in-use keys of a call: a list of ``[<release>/]<platform>/<venv>-<spec id>``
    strings (the keys ``venvbuild.repo_info`` publishes); SpecError otherwise."""
    if values is None:
        return frozenset()
    if isinstance(values, str) or not isinstance(values, (list, tuple, set, frozenset)):
        raise SpecError(f"in_use: must be a list of '[<release>/]<platform>/<venv>-<spec id>' "
                        f"keys, not {type(values).__name__}")
    if len(values) > MAX_IN_USE:
        raise SpecError(f"in_use: {len(values)} keys, more than {MAX_IN_USE}")
    for value in values:
        if not isinstance(value, str) or not _IN_USE_KEY.fullmatch(value):
            shown = value[:120] if isinstance(value, str) else type(value).__name__
            raise SpecError(f"in_use: {shown!r} is not a '[<release>/]<platform>/<venv>-<spec id>' "
                            "key (as venvbuild.repo_info publishes them)")
    return frozenset(values)


def check_keep(keep: object, min_age: object) -> tuple[int, float]:
    """``keep`` (an integer of at least 1) and ``min_age`` (seconds, at least 0), checked."""
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise SpecError(f"keep {keep!r}: must be an integer of at least 1 (the newest manifests "
                        "kept per venv besides those in use)")
    if isinstance(min_age, bool) or not isinstance(min_age, (int, float)) or not min_age >= 0:
        raise SpecError(f"min_age {min_age!r}: must be a number of seconds, at least 0")
    return keep, float(min_age)


@dataclasses.dataclass
class _Manifest:
    name: str  # <venv>-<spec>
    venv: str
    path: str
    mtime: float
    manifest: Manifest | None  # None: unreadable


@dataclasses.dataclass
class _Result:
    removed: list[str] = dataclasses.field(default_factory=list)
    wheels: int = 0
    bytes: int = 0
    kept: dict[str, str] = dataclasses.field(default_factory=dict)
    kept_wheels: int = 0
    skipped: list[dict[str, str]] = dataclasses.field(default_factory=list)

    def as_dict(self, test: bool) -> dict[str, Any]:
        return {
            "test": test,
            "removed": {"manifests": sorted(self.removed), "wheels": self.wheels,
                        "bytes": self.bytes},
            "kept": {"manifests": dict(sorted(self.kept.items())), "wheels": self.kept_wheels},
            "skipped": self.skipped,
        }


def _read(layout: RepoLayout, path: str, venv: str, spec: str) -> Manifest | None:
    try:
        text = fsutil.read_text(path, limit=MAX_BYTES)
        if text is None:
            return None
        return Manifest.parse(text, source=path).check_is(venv, spec, layout.platform, source=path)
    except (OSError, UnicodeDecodeError, VenvbuildError):
        return None


def _manifests(layout: RepoLayout, venv: str | None = None) -> list[_Manifest]:
    """The manifest files of ``layout`` (of one venv, if given), read."""
    try:
        entries = sorted(os.listdir(layout.manifests_dir))
    except OSError:
        return []
    out = []
    for name in entries:
        match = names.MANIFEST_FILE.fullmatch(name)
        if not match or (venv is not None and match.group("venv") != venv):
            continue
        path = os.path.join(layout.manifests_dir, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        manifest = _read(layout, path, match.group("venv"), match.group("spec")) \
            if stat.S_ISREG(st.st_mode) else None
        out.append(_Manifest(name[:-4], match.group("venv"), path, st.st_mtime, manifest))
    return out


def _decide(entries: list[_Manifest], loc: str, platform: str, in_use: frozenset[str],
            keep: int, oldest: float) -> dict[str, str | None]:
    """For each manifest of one venv: why it is kept, or None to remove it."""
    readable = sorted((e for e in entries if e.manifest is not None),
                      key=lambda e: (e.mtime, e.name), reverse=True)
    newest = {e.name for e in readable[:keep]}
    out: dict[str, str | None] = {}
    for entry in entries:
        if f"{loc}/{entry.name}" in in_use or f"{platform}/{entry.name}" in in_use:
            out[entry.name] = "in use"
        elif entry.manifest is None:
            out[entry.name] = "unreadable"
        elif entry.name in newest:
            out[entry.name] = "newest"
        elif entry.mtime > oldest:
            out[entry.name] = "recent"
        else:
            out[entry.name] = None
    return out


def _held(layout: RepoLayout, name: str) -> bool:
    """In a dry run: does another process hold the lock ``name`` right now (shared or
    exclusive)? A lock file that does not exist is held by no one; none is created."""
    if not os.path.exists(os.path.join(layout.locks_dir, f"{name}.lock")):
        return False
    with layout.lock(name, wait=False) as locked:
        return not locked


def _dir_stats(path: str) -> tuple[float, int]:
    """The newest mtime of a wheel directory and its entries, and their bytes."""
    st = os.lstat(path)
    newest, size = st.st_mtime, 0
    for name in os.listdir(path):
        try:
            entry = os.lstat(os.path.join(path, name))
        except OSError:
            continue
        newest = max(newest, entry.st_mtime)
        if stat.S_ISREG(entry.st_mode):
            size += entry.st_size
    return newest, size


def _prune_venv(layout: RepoLayout, loc: str, venv: str, ctx: dict[str, Any], result: _Result,
                planned: set[str]) -> None:
    entries = _manifests(layout, venv)
    decisions = _decide(entries, loc, layout.platform, ctx["in_use"], ctx["keep"], ctx["oldest"])
    for entry in entries:
        why = decisions[entry.name]
        if why is not None:
            result.kept[f"{loc}/{entry.name}"] = why
            continue
        result.removed.append(f"{loc}/{entry.name}")
        planned.add(entry.path)
        if not ctx["test"]:
            fsutil.remove_tree(entry.path)


def _prune_wheels(layout: RepoLayout, loc: str, ctx: dict[str, Any], result: _Result,
                  planned: set[str]) -> None:
    alive = {pin.sha256 for entry in _manifests(layout) if entry.path not in planned
             and entry.manifest is not None for pin in entry.manifest.pins}
    try:
        shas = sorted(os.listdir(layout.wheels_dir))
    except OSError:
        return
    for sha in shas:
        path = os.path.join(layout.wheels_dir, sha)
        if not names.SHA256.fullmatch(sha) or not os.path.isdir(path) or os.path.islink(path):
            continue  # not a wheel directory of venvbuild's: left alone
        if sha in alive:
            result.kept_wheels += 1
            continue
        try:
            newest, size = _dir_stats(path)
        except OSError:
            continue
        if newest > ctx["oldest"]:
            result.kept_wheels += 1
            continue
        result.wheels += 1
        result.bytes += size
        if not ctx["test"]:
            fsutil.remove_tree(path)


def _venvs(layout: RepoLayout) -> list[str]:
    return sorted({entry.venv for entry in _manifests(layout)})


def prune(root: str, in_use: Iterable[str] = (), keep: int = DEFAULT_KEEP,
          min_age: float = DEFAULT_MIN_AGE, *, test: bool = True, group: int | None = None,
          now: float | None = None) -> dict[str, Any]:
    """Prune the repo at ``root`` (every platform and release level), as the module's
    docstring says; return ``{"test", "removed": {"manifests": [keys], "wheels": N,
    "bytes": B}, "kept": {"manifests": {key: why}, "wheels": N}, "skipped": [...]}``.

    ``in_use`` are manifest keys as :func:`check_in_use` accepts them; ``group``
    is the repo's group (its directories are checked, and their modes kept,
    before anything is removed). With ``test`` nothing changes."""
    keep, min_age = check_keep(keep, min_age)
    ctx = {"in_use": check_in_use(list(in_use)), "keep": keep, "test": test,
           "oldest": (time.time() if now is None else now) - min_age}
    result = _Result()
    for loc, platform in list_locations(root).items():
        release = loc.rsplit("/", 1)[0] if "/" in loc else None
        try:
            layout = RepoLayout(root, platform, release=release, group=group)
        except VenvbuildError:
            continue  # a directory that is no release of ours
        if not test:
            layout.ensure_dirs()  # every directory on the way trusted, before removing
        planned: set[str] = set()
        for venv in _venvs(layout):
            name = f"build-{venv}"
            if test:
                if _held(layout, name):
                    result.skipped.append({"location": loc, "venv": venv,
                                           "reason": "a build of this venv is running"})
                else:
                    _prune_venv(layout, loc, venv, ctx, result, planned)
                continue
            with layout.lock(name, wait=False) as locked:
                if not locked:
                    result.skipped.append({"location": loc, "venv": venv,
                                           "reason": "a build of this venv is running"})
                    continue
                _prune_venv(layout, loc, venv, ctx, result, planned)
        skipped_wheels = {"location": loc, "reason": "a build or local install on this platform "
                          "is running: its wheels were not pruned"}
        if test:
            if _held(layout, WHEELS_LOCK):
                result.skipped.append(skipped_wheels)
            else:
                _prune_wheels(layout, loc, ctx, result, planned)
            continue
        with layout.lock(WHEELS_LOCK, wait=False) as locked:
            if locked:
                _prune_wheels(layout, loc, ctx, result, planned)
            else:
                result.skipped.append(skipped_wheels)
    return result.as_dict(test)
