"""Talking to repos over HTTP(S): manifests, wheels and constraints files.

A builder serves the root of its repo as static files (any web server; nginx
``autoindex`` in ``states/venvbuild/repo.sls``), so URLs mirror the layout::

    <repo url>[/<release>]/<platform>/manifests/<venv>-<spec id>.txt
    <repo url>[/<release>]/<platform>/wheels/<sha256>/<wheel file>

Everything read here is untrusted input. Manifests are parsed strictly and
must name the spec asked for; whether one may be used is decided by
:mod:`trust`. Wheels are streamed to a local cache under their sha256 and
kept only if the bytes hash to it, so neither pip nor uv ever talks to the
repo (a plain ``http://`` repo needs no ``--trusted-host``) and a wheel
already cached for any venv is not downloaded again.

The network may fail: each request is retried with exponential backoff while
the caller's deadline allows, and at most ``ATTEMPTS`` times; what never
succeeds is an error naming the URL and the last failure.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import time
import urllib.parse
from typing import TYPE_CHECKING
from typing import Any
from typing import BinaryIO
from typing import Callable
from typing import Collection
from typing import ContextManager
from typing import Iterable
from typing import Iterator
from typing import Literal
from typing import overload

from . import fsutil
from .errors import RepoError
from .errors import TrustError
from .errors import UnreachableError
from .manifest import MAX_BYTES
from .manifest import Manifest
from .manifest import manifest_filename
from .repo import location

if TYPE_CHECKING:
    import requests
from .text import redact

if TYPE_CHECKING:
    from typing import Protocol

    from .manifest import ManifestId
    from .manifest import Pin
    from .spec import VenvSpec

    class _Clock(Protocol):
        def monotonic(self) -> float: ...

        def sleep(self, seconds: float, /) -> None: ...

log = logging.getLogger(__name__)

ATTEMPTS = 5  # per request, as the role's retries
BACKOFF = 1.0  # seconds before the second attempt; doubled after each failure
ATTEMPT_TIMEOUT = 30.0  # seconds to connect or between bytes of one response
_RETRY_STATUS = frozenset([408, 425, 429, 500, 502, 503, 504])


def check_repo_url(url: object, what: str = "repo_url") -> str:
    """An ``http(s)://host[:port][/path]`` URL, without query or fragment."""
    if not isinstance(url, str):
        raise RepoError(f"{what} {url!r}: must be a URL string such as http://build01:8181")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise RepoError(f"{what} {redact(url)!r}: must be an http:// or https:// URL with a host")
    if parsed.query or parsed.fragment:
        raise RepoError(f"{what} {redact(url)!r}: must not have a query or fragment")
    try:
        _port = parsed.port  # parsing the port is the check
    except ValueError:
        raise RepoError(f"{what} {redact(url)!r}: invalid port") from None
    return url


def _base(repo_url: str) -> str:
    return repo_url.rstrip("/")


def manifest_url(repo_url: str, platform: str, venv_id: str, spec_id: str,
                 release: str | None = None) -> str:
    """The URL of a spec's manifest in the repo served at ``repo_url``."""
    return (f"{_base(repo_url)}/{location(platform, release)}/manifests/"
            f"{manifest_filename(venv_id, spec_id)}")


def wheels_url(repo_url: str, platform: str, release: str | None = None) -> str:
    """The URL of a platform's ``wheels/`` directory, ending in ``/`` (a :attr:`Pin.path` follows)."""
    return f"{_base(repo_url)}/{location(platform, release)}/wheels/"


class Http:
    """GETs with retries against one deadline; ``ca_bundle`` verifies HTTPS."""

    def __init__(self, ca_bundle: str | None = None, deadline: float | None = None, clock: _Clock = time,
                 session: requests.Session | None = None) -> None:
        self.verify: str | bool = ca_bundle if ca_bundle else True
        self.clock = clock
        self.deadline = deadline  # clock.monotonic() value, or None: ATTEMPTS only
        self.session = session or _requests().Session()
        self.bytes_downloaded = 0

    def close(self) -> None:
        """Close the session and its connections."""
        self.session.close()

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def remaining(self) -> float | None:
        """Seconds left until the deadline (negative once past it); None without a deadline."""
        return None if self.deadline is None else self.deadline - self.clock.monotonic()

    def _attempts(self, url: str, what: str) -> Iterator[int]:
        """Yield attempt numbers, sleeping with backoff between them; the caller
        ``break``s on success. Raises UnreachableError when attempts or time run out."""
        delay = BACKOFF
        for attempt in range(1, ATTEMPTS + 1):
            yield attempt
            left = self.remaining()
            if attempt == ATTEMPTS or (left is not None and left < delay):
                break
            log.info("venvbuild: %s: retrying %s in %.1f s", what, redact(url), delay)
            self.clock.sleep(delay)
            delay *= 2

    def _timeout(self) -> float:
        left = self.remaining()
        if left is None:
            return ATTEMPT_TIMEOUT
        return max(1.0, min(ATTEMPT_TIMEOUT, left))

    def _get(self, url: str, stream: bool = False) -> requests.Response:
        try:
            return self.session.get(url, timeout=self._timeout(), verify=self.verify,
                                    stream=stream)
        except _requests().exceptions.SSLError as exc:
            raise RepoError(
                f"{redact(url)}: TLS verification failed ({redact(str(exc))}); set ca_bundle to "
                "the CA that signed the repo's certificate (Python 3.13 also needs keyUsage "
                "in that CA)"
            ) from None

    @overload
    def get_text(self, url: str, what: str, missing_ok: Literal[False], limit: int = ...) -> str: ...

    @overload
    def get_text(self, url: str, what: str, missing_ok: bool = ..., limit: int = ...) -> str | None: ...

    def get_text(self, url: str, what: str, missing_ok: bool = True, limit: int = MAX_BYTES) -> str | None:
        """The body of ``url`` as text; None on 404 if ``missing_ok``."""
        last = "no attempt"
        for _attempt in self._attempts(url, what):
            try:
                resp = self._get(url, stream=True)
                with resp:
                    if resp.status_code == 404 and missing_ok:
                        return None
                    if resp.status_code in _RETRY_STATUS:
                        last = f"HTTP {resp.status_code}"
                        continue
                    if resp.status_code != 200:
                        raise RepoError(f"{what} {redact(url)}: HTTP {resp.status_code} from the repo")
                    body = _read_limited(resp, limit, f"{what} {redact(url)}")
                    self.bytes_downloaded += len(body)
                    try:
                        return body.decode("utf-8")
                    except UnicodeDecodeError:
                        raise RepoError(f"{what} {redact(url)}: not UTF-8 text") from None
            except _transient() as exc:
                last = _describe(exc)
        raise UnreachableError(f"{what} {redact(url)}: repo unreachable ({last}) after "
                               f"{ATTEMPTS} attempts or the time allowed")

    def download(self, url: str, directory: str, filename: str, sha256: str, what: str) -> str:
        """Stream ``url`` into ``directory/filename`` if its bytes hash to ``sha256``.

        Returns the path. Truncated or failed transfers are retried; bytes that
        hash to anything else are never kept (TrustError after the last attempt).
        """
        final = os.path.join(directory, filename)
        last = "no attempt"
        mismatch = None
        for _attempt in self._attempts(url, what):
            fd, tmp = tempfile.mkstemp(prefix=".part-", dir=directory)
            try:
                with os.fdopen(fd, "wb") as out:
                    digest, size, expected = self._stream(url, out, what)
                    out.flush()
                    os.fchmod(out.fileno(), 0o644)
                    os.fsync(out.fileno())
                if expected is not None and size != expected:
                    last = f"truncated: {size} of {expected} bytes"
                    continue
                if digest != sha256:
                    mismatch = last = f"sha256 {digest}, not {sha256}"
                    continue
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, final)  # else another install stored the same bytes first
                return final
            except _transient() as exc:
                last = _describe(exc)
            except _Status as exc:
                last = str(exc)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        if mismatch:
            raise TrustError(
                f"{what} {redact(url)}: the repo served bytes that do not match the manifest "
                f"({mismatch}); refused. Someone altered the wheel on the way or in the repo; "
                "check the repo's files, then run again"
            )
        raise UnreachableError(f"{what} {redact(url)}: download failed ({last}) after "
                               f"{ATTEMPTS} attempts or the time allowed")

    def _stream(self, url: str, out: BinaryIO, what: str) -> tuple[str, int, int | None]:
        resp = self._get(url, stream=True)
        with resp:
            if resp.status_code in _RETRY_STATUS or resp.status_code == 404:
                # 404 may be a repo being synced or a wheel not yet stored: retried.
                raise _Status(f"HTTP {resp.status_code}")
            if resp.status_code != 200:
                raise RepoError(f"{what} {redact(url)}: HTTP {resp.status_code} from the repo")
            length = resp.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            digest = hashlib.sha256()
            size = 0
            for block in resp.iter_content(1 << 16):
                digest.update(block)
                out.write(block)
                size += len(block)
            self.bytes_downloaded += size
            return digest.hexdigest(), size, expected


class _Status(Exception):
    """A status worth retrying."""


def _requests() -> Any:
    """requests, imported when a fetch happens: importing it costs about 80 ms,
    which a no-op run (which never fetches) must not pay."""
    import requests  # noqa: PLC0415

    return requests


def _transient() -> tuple[type[BaseException], ...]:
    """The requests failures worth retrying."""
    exceptions = _requests().exceptions
    return (exceptions.ConnectionError, exceptions.Timeout, exceptions.ChunkedEncodingError,
            exceptions.ContentDecodingError)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    exceptions = _requests().exceptions
    for cls in (exceptions.ConnectTimeout, exceptions.ReadTimeout,
                exceptions.ChunkedEncodingError, exceptions.ConnectionError):
        if isinstance(exc, cls):
            return f"{cls.__name__}: {redact(text)[:300]}"
    return redact(text)[:300]


def _read_limited(resp: requests.Response, limit: int, what: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for block in resp.iter_content(1 << 16):
        size += len(block)
        if size > limit:
            raise RepoError(f"{what}: larger than {limit} bytes; not what was asked for")
        chunks.append(block)
    return b"".join(chunks)


def fetch_manifest(http: Http, url: str, want: ManifestId | VenvSpec) -> Manifest | None:
    """The manifest ``want`` names (its ``venv_id``, ``spec_id`` and ``platform``: a
    VenvSpec or a ManifestId) at ``url``; None if the repo answers 404 (not built yet).

    Any other failure (refused, timeout, TLS, 5xx after retries, a malformed
    manifest, one naming another spec) is a RepoError naming the URL: a
    target never installs from what it could not read completely.
    """
    text = http.get_text(url, "manifest")
    if text is None:
        return None
    return Manifest.parse(text, source=redact(url)).check_is(
        want.venv_id, want.spec_id, want.platform, source=redact(url))


def wait_for_manifest(http: Http, url: str, want: ManifestId | VenvSpec, interval: float = 5.0, hint: str = "",
                      on_poll: Callable[[Manifest | None], Any] | None = None) -> Manifest:
    """Fetch the manifest at ``url``, polling until it exists or the deadline passes.

    ``on_poll(manifest_or_None)`` may return False to keep waiting for a manifest
    that exists but is not yet acceptable (e.g. its hash not yet published).
    """
    while True:
        manifest = fetch_manifest(http, url, want)
        if manifest is not None and (on_poll is None or on_poll(manifest)):
            return manifest
        if manifest is None and on_poll is not None:
            on_poll(None)
        left = http.remaining()
        if left is None or left <= 0:
            state = "not found" if manifest is None else "found but not authenticated"
            raise RepoError(
                f"manifest {redact(url)} {state} within the wait; is the builder's build "
                f"done?{' ' + hint if hint else ''}"
            )
        http.clock.sleep(min(interval, max(left, 0.0)))


class WheelCache:
    """Wheels downloaded from repos, by sha256: ``<dir>/<sha256>/<file>``, root-only.

    Installs hold a shared lock while they fetch and install (:meth:`using`);
    :meth:`prune` runs only when it can take the lock exclusively, so it never
    removes a wheel an install is about to use.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def using(self) -> ContextManager[bool]:
        """The cache's shared lock, to hold while fetching and installing (a context manager)."""
        fsutil.ensure_dir(self.directory, "venvbuild wheel cache", 0o700)
        return fsutil.file_lock(os.path.join(self.directory, ".lock"), shared=True)

    def path(self, pin: Pin) -> str:
        """Where ``pin``'s wheel is cached (or would be)."""
        return os.path.join(self.directory, pin.sha256, pin.filename)

    def lookup(self, pin: Pin) -> str | None:
        """The cached file of ``pin`` if its bytes still hash right, else None."""
        path = self.path(pin)
        try:
            if fsutil.sha256_file(path) == pin.sha256:
                return path
        except OSError:
            return None
        fsutil.remove_tree(path)  # damaged: fetched again
        return None

    def fetch(self, http: Http, base_url: str, pins: Iterable[Pin]) -> dict[str, str]:
        """``{sha256: path}`` of every pin, downloading what the cache lacks."""
        fsutil.ensure_dir(self.directory, "venvbuild wheel cache", 0o700)
        out = {}
        for pin in pins:
            path = self.lookup(pin)
            if path is None:
                directory = fsutil.ensure_dir(os.path.join(self.directory, pin.sha256),
                                              "venvbuild wheel cache", 0o700,
                                              no_links_below=self.directory)
                path = http.download(f"{base_url}{pin.path}", directory, pin.filename,
                                     pin.sha256, f"wheel {pin.filename}")
            out[pin.sha256] = path
        return out

    def prune(self, keep: Callable[[], Collection[str]]) -> int | None:
        """Remove cached wheels whose sha256 is not in ``keep`` (a callable returning
        the set in use); return how many, or None when an install is busy."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return 0
        with fsutil.file_lock(os.path.join(self.directory, ".lock"), wait=False) as locked:
            if not locked:
                return None
            in_use = keep()
            removed = 0
            for name in names:
                if len(name) == 64 and name not in in_use:
                    fsutil.remove_tree(os.path.join(self.directory, name))
                    removed += 1
            return removed
