"""Running pip, uv and Python: argument lists, never a shell; bounded in time; logged.

Every command runs with a working directory, an environment and a umask
(``022``) venvbuild chose (:func:`inherited_environ`: never the caller's working directory, none
of the caller's variables that pick sources, targets, caches or code).
Every command runs in its own session (process group). When it outlives its
timeout, the whole group is stopped (SIGTERM, then SIGKILL), so a build that
hangs in a compiler or a ``setup.py`` leaves no process behind. Its output
goes to a log readable by root only, with credentials in URLs hidden; the tail
goes into the error message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import pwd
import signal
import subprocess
import time
from typing import Mapping
from typing import Sequence

from . import certs
from . import fsutil
from .errors import VenvbuildError
from .text import redact
from .text import redact_args

log = logging.getLogger(__name__)

_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
UMASK = 0o022  # of every process venvbuild starts

# What a tool inherits from the caller's environment (salt-minion's, or the
# shell of whoever ran salt-call): nothing that picks sources, targets, caches,
# configuration files or code to load (PIP_*, UV_*, PYTHON*, XDG_*, LD_*,
# TMPDIR, HOME...). PATH is kept with its untrusted directories removed, and the
# system's CA trust (SSL_CERT_FILE, SSL_CERT_DIR, which uv reads) only where it
# names files and directories only root can change.
INHERITED = frozenset(["PATH", "LANG", "LANGUAGE", "TZ", "http_proxy", "https_proxy", "no_proxy",
                       "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"])
INHERITED_PREFIXES = ("LC_",)


def inherited_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a process venvbuild starts begins with: the part of ``environ``
    (default ``os.environ``) in :data:`INHERITED`, PATH's trusted directories, a
    trusted ``SSL_CERT_FILE``/``SSL_CERT_DIR``, and ``HOME`` set to the effective
    user's home."""
    environ = os.environ if environ is None else environ
    env = {key: value for key, value in environ.items()
           if key in INHERITED or key.startswith(INHERITED_PREFIXES)}
    env["PATH"] = trusted_path(environ.get("PATH"))
    env["HOME"] = user_home()
    cert_file, cert_dirs = certs.trusted_cert_file(environ), certs.trusted_cert_dirs(environ)
    if cert_file:
        env["SSL_CERT_FILE"] = cert_file
    if cert_dirs:
        env["SSL_CERT_DIR"] = os.pathsep.join(cert_dirs)
    return env


def trusted_path(path: str | None) -> str:
    """``path`` (a PATH value) with every entry removed that is relative or a
    directory someone other than root could write to (or that leads through
    one): root must not run a ``uv``, ``python3`` or ``gcc`` another user put first."""
    kept = []
    for entry in (path if path is not None else os.defpath).split(os.pathsep):
        if entry and os.path.isabs(entry) and entry not in kept and fsutil.is_trusted_dir(entry):
            kept.append(entry)
    return os.pathsep.join(kept)


def user_home() -> str:
    """The effective user's home directory, from the password database (not ``$HOME``)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_dir or "/"
    except KeyError:
        return "/"


def tail(text: str, lines: int = 25, chars: int = 3000) -> str:
    """The last lines of ``text``, credentials hidden (before cutting, so a cut
    can never split a URL's userinfo from its scheme)."""
    kept = "\n".join(redact(text).rstrip().splitlines()[-lines:])
    return kept[-chars:]


def _stop_group(proc: subprocess.Popen[str]) -> None:
    """Stop ``proc`` and everything it started (its session)."""
    for sig, wait in ((signal.SIGTERM, _GRACE), (signal.SIGKILL, _GRACE)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            # The leader is gone; stragglers of its group still get the signal.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclasses.dataclass(frozen=True)
class Command:
    """A command to run: its arguments (a list, never a shell line), environment,
    working directory, and how long it may take (``timeout`` seconds, set by the
    option ``timeout_option``, which an error names)."""

    argv: Sequence[object]  # each is passed as str(arg)
    env: dict[str, str] | None = None
    cwd: str | None = None  # None: "/" (never the caller's working directory)
    timeout: float | None = None
    timeout_option: str = ""


def run(command: Command, error: type[Exception], what: str, log_path: str | None = None) -> str:
    """Run ``command``; on failure raise ``error`` with ``what`` and the output's tail.

    The whole output goes to ``log_path`` (appended) when given, so the comment
    of a failed state can stay short and point there. Returns the output.
    """
    argv = [str(arg) for arg in command.argv]
    env, cwd, timeout = command.env, command.cwd or "/", command.timeout
    shown = " ".join(redact_args(argv))
    log.debug("venvbuild: running %s", shown)
    started = time.monotonic()
    if not os.path.isdir(cwd):
        raise error(f"{what}: working directory {cwd} does not exist")
    try:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            env=env,
            cwd=cwd,
            start_new_session=True,
            # What the tools create (venvs, wheels, caches) is writable by root
            # alone, whatever umask the caller had: venvbuild takes a venv
            # directory others can write for none of its own (layout.live_dir).
            umask=UMASK,
        )
    except FileNotFoundError:
        raise error(f"{what}: {redact(argv[0])} not found") from None
    except OSError as exc:
        raise error(f"{what}: cannot run {redact(argv[0])}: {exc.strerror}") from None
    timed_out = False
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop_group(proc)
        output, _ = proc.communicate()
    except BaseException:
        _stop_group(proc)
        raise
    seconds = time.monotonic() - started
    log.debug("venvbuild: %s exited %s after %.2f s", os.path.basename(argv[0]), proc.returncode,
              seconds)
    if log_path:
        with fsutil.append_log(log_path) as handle:
            handle.write(f"$ {shown}\n{redact(output)}\n# exit {proc.returncode} after {seconds:.1f} s\n")
    where = f" (full log: {log_path})" if log_path else ""
    if timed_out:
        raise error(
            f"{what}: still running after {timeout:.0f} s; stopped it and every process it "
            f"started{where}"
            f"{'; raise ' + command.timeout_option + ' if it needs longer' if command.timeout_option else ''}"
        )
    if proc.returncode != 0:
        failure = error(
            f"{what}: {os.path.basename(argv[0])} exited {proc.returncode}{where}; "
            f"last output:\n{tail(output)}"
        )
        if isinstance(failure, VenvbuildError):
            failure.output = redact(output)  # for core/retry.py, which reads all of it
        raise failure
    return output
