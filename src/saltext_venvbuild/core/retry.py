"""Retrying what failed for a passing reason: builds and distro package installs.

The role retries its wheel builds, package installs and venv installs 5 times,
2 s apart, whatever failed (``retries: 5``, ``delay: 2``). venvbuild retries a
build (``pip wheel``, and the builder environment's set-up with pip or uv) and
a distro package install up to ``retries`` times, waiting ``retry_delay``
seconds doubled after each failure, and only when the failure shows a passing
cause: the network (a refused, reset or dropped connection, a timeout, a name
that did not resolve, an HTTP 5xx, a git clone that could not reach its
server) or, for packages, the package manager's lock. A compile error, a
package that does not exist, a certificate that does not verify fail at once:
retrying them only delays the same answer. (Installs into a venv need no
retry: they read local files only; downloads retry in :mod:`.remote`.)

The markers live here and only here; tests/unit/core/test_retry.py holds the
real pip, uv, git, apt and dnf texts they were taken from.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from typing import Callable
from typing import TypeVar

from .text import redact

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_WAIT = 300.0  # seconds: the longest wait between two attempts, however many retries

# A passing failure of the network, as pip (and the requests and urllib3 it
# vendors), uv and git print it. Matched case-insensitively, line by line.
NETWORK = tuple(re.compile(pattern, re.IGNORECASE) for pattern in (
    # pip: urllib3's warning before each of pip's own retries of a connection
    r"retrying \(retry\(.*\)\) after connection broken by",
    # pip >= 25: its diagnostics for a connection that failed or timed out
    r"\berror: connection-(failed|timeout)\b",
    r"\berror: incomplete-download\b",
    # requests and urllib3, in pip's tracebacks and messages
    r"too many 5\d\d error responses",
    r"\b5\d\d server error\b",
    r"\bhttp error 5\d\d\b",
    r"connection aborted",
    r"remote ?end closed connection",
    r"connection reset by peer",
    r"connection refused",
    r"newconnectionerror",
    r"(connect|read)timeouterror",
    r"read timed out",
    r"incompleteread",
    r"nameresolutionerror",
    r"temporary failure in name resolution",
    r"name or service not known",
    r"network is unreachable",
    r"no route to host",
    # uv
    r"http status server error",
    r"error sending request for url",
    r"tcp connect error",
    r"connection closed before message completed",
    r"operation timed out",
    r"\bdns error\b",
    # git (pip clones VCS requirements with it)
    r"could not resolve host",
    r"failed to connect to .* port \d+",
    r"the requested url returned error: 5\d\d",
    r"\brpc failed\b",
    r"early eof",
    r"the remote end hung up unexpectedly",
    r"gnutls_handshake\(\) failed",
    r"connection timed out",
))

# A passing failure of the package manager: its lock held by another run, or
# its mirrors unreachable (apt, dnf/yum, zypper, as Salt's pkg.install reports).
PACKAGES = tuple(re.compile(pattern, re.IGNORECASE) for pattern in (
    r"could not get lock",
    r"unable to acquire the dpkg frontend lock",
    r"unable to lock the administration directory",
    r"temporary failure resolving",
    r"failed to fetch .*(connection|timed out|resolving|unreachable|50\d)",
    r"unable to connect to",
    r"could not connect to",
    r"hash sum mismatch",  # a mirror in the middle of a sync
    r"curl error \(\d+\)",
    r"cannot download",
    r"failed to download metadata",
    r"errors during downloading metadata",
    r"no more mirrors to try",
    r"download \(curl\) error",
    r"system management is locked",  # zypper
    r"connection timed out",
    r"temporary failure in name resolution",
    r"network is unreachable",
))

# What a build prints when the code it builds failed, or a certificate did not
# verify: never retried, whatever else its output holds (a flaky index pip got
# past earlier in the same run).
COMPILE = tuple(re.compile(pattern, re.IGNORECASE) for pattern in (
    r"failed building wheel for",  # pip
    r"failed to build installable wheels",  # pip
    r"^\s*error: command '",  # setuptools/distutils: the compiler failed
    r"\bfatal error:",  # gcc, clang: a missing header
    r"compilation terminated",  # gcc
    r"the build backend returned an error",  # uv
    # A certificate that does not verify is the same on the next attempt (uv prints
    # it below "error sending request for url", pip beside its connection retries).
    r"invalid peer certificate",  # uv (rustls)
    r"certificate verify failed",  # pip, requests, git (OpenSSL)
    r"server certificate verification failed",  # git (GnuTLS)
))


def transient_cause(output: str, markers: tuple[re.Pattern[str], ...] = NETWORK) -> str | None:
    """The first line of ``output`` that shows a passing cause (``markers``), shortened
    and with credentials hidden; None when there is none, or when the output shows a
    compile error (:data:`COMPILE`), which no retry mends."""
    lines = output.splitlines()
    if any(pattern.search(line) for line in lines for pattern in COMPILE):
        return None
    for line in lines:
        if any(pattern.search(line) for pattern in markers):
            return redact(line.strip())[:300]
    return None


@dataclasses.dataclass(frozen=True)
class Policy:
    """How often and how patiently to retry: ``retries`` more attempts after the
    first, the first wait ``delay`` seconds, doubled after each failure (at most
    :data:`MAX_WAIT`)."""

    retries: int = 5
    delay: float = 2.0

    def wait(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1 is the first)."""
        return min(self.delay * 2 ** (attempt - 1), MAX_WAIT)


def call(func: Callable[[], T], policy: Policy, cause: Callable[[BaseException], str | None],
         what: str, errors: tuple[type[BaseException], ...],
         sleep: Callable[[float], object] | None = None) -> T:
    """``func()``, attempted again while it raises one of ``errors`` for which
    ``cause(error)`` names a passing cause, at most ``policy.retries`` times. Each
    failed attempt is logged (a warning, with the cause); the last failure is raised
    as it is, or, after retries, as the same type with the attempts counted."""
    attempts = policy.retries + 1
    attempt = 1
    while True:
        try:
            return func()
        except errors as exc:
            reason = cause(exc)
            if reason is None:
                raise
            if attempt >= attempts:
                if attempt == 1:
                    raise
                raise type(exc)(f"{exc}\n(failed {attempt} times with a passing cause, the last: "
                                f"{reason}; raise retries or retry_delay if it needs longer)"
                                ) from None
            wait = policy.wait(attempt)
            log.warning("venvbuild: %s: attempt %d of %d failed (%s); retrying in %.1f s",
                        what, attempt, attempts, reason, wait)
            (sleep or time.sleep)(wait)
            attempt += 1


def output_cause(exc: BaseException) -> str | None:
    """The passing cause of a failed pip, uv or git run: from the whole output the
    error carries (:func:`runner.run` attaches it), else its message."""
    return transient_cause(getattr(exc, "output", None) or str(exc))


def package_cause(exc: BaseException) -> str | None:
    """The passing cause of a failed distro package install (Salt's pkg error)."""
    return transient_cause(str(exc), PACKAGES)
