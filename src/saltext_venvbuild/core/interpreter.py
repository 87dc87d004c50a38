"""What a Python executable is, learned once and then read from a cache.

Learning it means running the interpreter; a no-op state run must not spawn a
process, so the answer is cached keyed by the executable's identity (path,
mtime, size). A replaced interpreter has a new identity and is probed again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from typing import Any
from typing import Callable

from . import fsutil
from . import runner
from .errors import InterpreterError
from .errors import VenvbuildError
from .fsutil import atomic_write

_PROBE = (
    "import json, platform, sys, sysconfig; "
    "print(json.dumps({"
    "'executable': sys.executable, "
    "'implementation': sys.implementation.name, "
    "'version': platform.python_version(), "
    "'major': sys.version_info[0], 'minor': sys.version_info[1], "
    "'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), "
    "'machine': platform.machine()}))"
)
_ABBREVIATIONS = {"cpython": "cp", "pypy": "pp", "ironpython": "ip", "jython": "jy"}


@dataclasses.dataclass(frozen=True)
class Interpreter:
    """A Python executable: as ``requested``, the real one behind it, its
    implementation, version, build (``free_threaded``) and machine."""

    requested: str
    executable: str  # the real interpreter (sys.executable), not a shim
    implementation: str
    version: str
    major: int
    minor: int
    free_threaded: bool
    machine: str

    @property
    def tag(self) -> str:
        """The interpreter tag of wheel filenames: ``cp311``, ``cp313t``, ``pp310``."""
        abbr = _ABBREVIATIONS.get(self.implementation, self.implementation[:2])
        return f"{abbr}{self.major}{self.minor}{'t' if self.free_threaded else ''}"


def locate(python: str) -> str:
    """Return the absolute path of ``python`` (a name on PATH or a path)."""
    if not isinstance(python, str) or not python.strip():
        raise InterpreterError(f"python {python!r}: give an executable name or absolute path")
    if os.sep in python:
        if not (os.path.isfile(python) and os.access(python, os.X_OK)):
            raise InterpreterError(
                f"python {python!r}: no executable file there; install that Python "
                "or point 'python' at one that exists"
            )
        return os.path.abspath(python)
    # Only PATH's directories that no one but root can write: root must not run a
    # "python3" another user put first on the caller's PATH. (The usual case, a
    # trusted first hit, checks one directory: this runs on every no-op too.)
    found = shutil.which(python)
    if found and fsutil.is_trusted_dir(os.path.dirname(found)):
        return found
    search = runner.trusted_path(os.environ.get("PATH"))
    found = shutil.which(python, path=search)
    if not found:
        raise InterpreterError(
            f"python {python!r}: not found in the directories of the minion's PATH that only "
            f"root can write ({search}); install it (e.g. with build_pkgs) "
            "or set 'python' to an absolute path"
        )
    return found


def _identity(path: str) -> list[object]:
    # The path itself is part of the identity: two links to one binary may
    # behave differently (pyenv shims, alternatives), so each gets its own entry.
    st = os.stat(path)
    return [path, os.path.realpath(path), st.st_mtime_ns, st.st_size]


def probe(path: str, timeout: float = 60) -> dict[str, Any]:
    """Run the interpreter once and describe it (spawns a process)."""
    try:
        proc = subprocess.run(
            [path, "-I", "-c", _PROBE],
            # Never the caller's directory or variables: a pyenv shim reads
            # .python-version from its working directory and PYENV_VERSION.
            cwd="/",
            env=runner.inherited_environ(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except OSError as exc:
        raise InterpreterError(f"python {path}: cannot run it: {exc}") from None
    except subprocess.TimeoutExpired:
        raise InterpreterError(f"python {path}: did not answer within {timeout} s") from None
    if proc.returncode != 0:
        raise InterpreterError(
            f"python {path}: exited {proc.returncode} when asked for its version: "
            f"{proc.stderr.strip()[-500:]}"
        )
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise InterpreterError(
            f"python {path}: unexpected answer {proc.stdout[-200:]!r}; is it a Python 3?"
        ) from None


def _read_cache(cache_file: str) -> dict[str, Any]:
    try:
        with open(cache_file, encoding="utf-8") as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def resolve(python: str, cache_file: str | None = None,
            prepare: Callable[[], object] | None = None) -> Interpreter:
    """Describe ``python``; from the cache when its identity is unchanged.

    The cache entry also records the real executable's identity, so a shim
    (pyenv, alternatives) whose target was replaced is probed again.
    ``prepare()`` is called before the cache is written (it creates the
    cache's directory).
    """
    path = locate(python)
    key = json.dumps(_identity(path))
    cache = _read_cache(cache_file) if cache_file else {}
    entry = cache.get(key)
    if isinstance(entry, dict):
        try:
            if _identity(entry["executable"]) == entry["executable_identity"]:
                return _build(python, entry)
        except (OSError, KeyError, TypeError):
            pass
    info = probe(path)
    if info.get("major", 0) < 3:
        raise InterpreterError(f"python {python!r} is Python {info.get('version')}; need Python 3")
    try:
        info["executable_identity"] = _identity(info["executable"])
    except OSError as exc:
        raise InterpreterError(f"python {python!r}: its sys.executable is unusable: {exc}") from None
    if cache_file:
        # Keep only well-formed entries of other executables: a replaced binary's
        # old entry would never match again.
        cache = {k: v for k, v in cache.items() if isinstance(v, dict) and _requested(k) != path}
        cache[key] = info
        try:
            if prepare is not None:
                prepare()
            atomic_write(cache_file, json.dumps(cache, indent=1, sort_keys=True), 0o600)
        except (OSError, VenvbuildError):
            pass  # a cache we cannot write only costs a probe next time
    return _build(python, info)


def _requested(key: str) -> object:
    """The path a cache key was made for (a replaced binary's old entries share it)."""
    try:
        return json.loads(key)[0]
    except (ValueError, IndexError, TypeError):
        return None


def _build(requested: str, info: dict[str, Any]) -> Interpreter:
    return Interpreter(
        requested=requested,
        executable=info["executable"],
        implementation=info["implementation"],
        version=info["version"],
        major=int(info["major"]),
        minor=int(info["minor"]),
        free_threaded=bool(info.get("free_threaded")),
        machine=info.get("machine", ""),
    )
