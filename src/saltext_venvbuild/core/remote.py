"""Talking to repos over HTTP(S): manifests, wheels and constraints files.

A builder serves the root of its repo as static files (any web server; nginx
``autoindex`` in ``states/venvbuild/repo.sls``), so URLs mirror the layout::

    <repo url>[/<release>]/<platform>/manifests/<venv>-<spec id>.txt
    <repo url>[/<release>]/<platform>/wheels/<sha256>/<wheel file>

Everything read here is untrusted input. A manifest's bytes are checked
against the sha256 that vouches for it *before* they are parsed; it is then
parsed strictly and must name the spec asked for (whether one may be used is
decided by :mod:`trust`). Wheels are streamed to a local cache under their
sha256 and kept only if the bytes hash to it, so neither pip nor uv ever talks
to the repo (a plain ``http://`` repo needs no ``--trusted-host``) and a wheel
already cached for any venv is not downloaded again.

The network may fail: each request is retried with exponential backoff while
the fetch's deadline allows, and at most ``ATTEMPTS`` times; what never
succeeds is an error naming the URL and the last failure.

The network may also be hostile, so every fetch is bounded in time and size:

- **Time.** requests' ``timeout`` bounds each socket operation, not a
  response: a server that sends a byte a second never trips it. So every
  request runs under a watchdog (:class:`_Cutter`) that shuts the socket of
  the session's connections down when the fetch's deadline passes, which ends
  a blocked connect, header or body read at once. A manifest's or constraints
  file's fetch ends at the caller's deadline (``wait_timeout``), or after
  ``TEXT_SECONDS`` without one; a wheel's download, all attempts together,
  within ``wheel_seconds`` plus one second per ``wheel_rate`` bytes of its
  recorded size.
- **Size.** A manifest is read up to ``manifest.MAX_BYTES``, a constraints file
  up to its cap, a wheel up to the size its manifest records: a download stops
  before writing a byte past it, and the partial file is removed.
- **Encoding.** Bodies are asked for and read as they are (``Accept-Encoding:
  identity``, never decompressed), so the caps count what is stored and a
  compressed bomb is just bytes that do not hash right.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import socket
import tempfile
import threading
import time
import urllib.parse
import weakref
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

from . import certs
from . import fsutil
from .errors import RepoError
from .errors import TrustError
from .errors import UnreachableError
from .manifest import MAX_BYTES
from .manifest import MAX_WHEEL_SIZE
from .manifest import Manifest
from .manifest import manifest_filename
from .repo import location
from .text import redact_query

if TYPE_CHECKING:
    from typing import Protocol

    import requests

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
FETCH_FLOOR = 1.0  # seconds a fetch always gets, even past the deadline (wait_timeout 0)
MAX_REDIRECTS = 5  # redirects followed per fetch (each closed unread)
_FINAL_ADDRESS = "give the address the server finally serves it from instead"
TEXT_SECONDS = 300.0  # a manifest's or constraints file's fetch without a caller's deadline
WHEEL_SECONDS = 120.0  # a wheel's download may take this...
WHEEL_RATE = 100 * 1024  # ...plus one second per this many bytes of its recorded size
BLOCK = 1 << 16  # bytes read at a time
_RETRY_STATUS = frozenset([408, 425, 429, 500, 502, 503, 504])
def check_repo_url(url: object, what: str = "repo_url") -> str:
    """An ``http(s)://host[:port][/path]`` URL, without query or fragment."""
    if not isinstance(url, str):
        raise RepoError(f"{what} {url!r}: must be a URL string such as http://build01:8181")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise RepoError(f"{what} {redact_query(url)!r}: must be an http:// or https:// URL with a host")
    if parsed.query or parsed.fragment:
        raise RepoError(f"{what} {redact_query(url)!r}: must not have a query or fragment")
    try:
        _port = parsed.port  # parsing the port is the check
    except ValueError:
        raise RepoError(f"{what} {redact_query(url)!r}: invalid port") from None
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


@dataclasses.dataclass(frozen=True)
class Limit:
    """When a fetch must be over (a ``clock.monotonic()`` value), the limit in words
    and what raises it: the end of an error message."""

    at: float
    text: str
    fix: str = ""


class Http:
    """GETs with retries, each fetch under a deadline and a size cap; ``ca_bundle``
    verifies HTTPS.

    ``deadline`` (a ``clock.monotonic()`` value, from ``wait_timeout``) ends the
    retries and polls of manifests and constraints files; without one a fetch
    may take ``TEXT_SECONDS``. A wheel's download, all attempts together, may
    take ``wheel_seconds`` plus one second per ``wheel_rate`` bytes of its size.
    """

    def __init__(self, ca_bundle: str | None = None, deadline: float | None = None, clock: _Clock = time,
                 session: requests.Session | None = None, wheel_seconds: float = WHEEL_SECONDS,
                 wheel_rate: float = WHEEL_RATE) -> None:
        # ca_bundle, else the system's CA store (as pip and uv use), else requests'
        # default (certifi's bundle). A path also keeps requests from taking
        # REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE from the caller's environment.
        self.ca_bundle = ca_bundle
        self.verify: str | bool = ca_bundle or certs.system_ca() or True
        self.clock = clock
        self.deadline = deadline  # clock.monotonic() value, or None: TEXT_SECONDS per fetch
        self.wait_seconds = None if deadline is None else max(0.0, deadline - clock.monotonic())
        self.wheel_seconds = wheel_seconds
        self.wheel_rate = wheel_rate
        if session is None:
            session = _requests().Session()
            # Nothing of the caller's environment but its proxies (as for the tools,
            # core/runner.py): no ~/.netrc or $NETRC credentials chosen by whoever
            # ran salt-call, no REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE.
            session.trust_env = False
        # requests reads a redirect's whole body (decompressed) even with
        # allow_redirects=False, to offer the next request: redirects are _get's.
        session.resolve_redirects = _no_redirects  # type: ignore[method-assign]
        self.session = session
        self.bytes_downloaded = 0
        self._cutter = _Cutter()
        _track_connections(self.session, self._cutter)

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

    # -- limits ----------------------------------------------------------------------

    def text_limit(self) -> Limit:
        """When a manifest's or constraints file's fetch, begun now, must be over."""
        now = self.clock.monotonic()
        if self.deadline is None:
            return Limit(now + TEXT_SECONDS, f"the {TEXT_SECONDS:.0f} s a fetch may take")
        return Limit(max(self.deadline, now + FETCH_FLOOR),
                     f"wait_timeout ({round(self.wait_seconds or 0.0, 1):g} s)",
                     "a larger wait_timeout allows more")

    def wheel_limit(self, size: int | None) -> Limit:
        """When the download of a wheel of ``size`` bytes, begun now, must be over."""
        size = MAX_WHEEL_SIZE if size is None else size
        seconds = self.wheel_seconds + size / self.wheel_rate
        return Limit(self.clock.monotonic() + seconds,
                     f"its limit of {seconds:.0f} s ({self.wheel_seconds:g} s plus 1 s per "
                     f"{self.wheel_rate / 1024:g} KiB of its {size} bytes)",
                     f"the repo sends slower than that; a wait_timeout above "
                     f"{self.wheel_seconds:g} s allows more")

    def _attempts(self, url: str, what: str, until: float) -> Iterator[int]:
        """Yield attempt numbers, sleeping with backoff between them; the caller
        ``break``s on success. Stops when attempts run out or the next one could
        not begin before ``until`` (a clock value); the caller then raises."""
        delay = BACKOFF
        for attempt in range(1, ATTEMPTS + 1):
            yield attempt
            left = until - self.clock.monotonic()
            if attempt == ATTEMPTS or left < delay:
                break
            log.info("venvbuild: %s: retrying %s in %.1f s", what, redact_query(url), delay)
            self.clock.sleep(delay)
            delay *= 2

    def _timeout(self, limit: Limit) -> float:
        """requests' timeout: to connect, and between two bytes."""
        return max(1.0, min(ATTEMPT_TIMEOUT, limit.at - self.clock.monotonic()))

    @contextlib.contextmanager
    def _cut_at(self, limit: Limit) -> Iterator[None]:
        """Run the body under a watchdog: when ``limit`` passes, every connection of
        the session is shut down (a blocked read returns at once) and the body's
        outcome, whatever it was, becomes :class:`_Cut`."""
        fired = threading.Event()

        def fire() -> None:
            fired.set()
            self._cutter.cut()

        timer = threading.Timer(max(0.0, limit.at - self.clock.monotonic()), fire)
        timer.daemon = True
        timer.start()
        try:
            yield
        except Exception:
            if fired.is_set():
                raise _Cut() from None
            raise
        finally:
            timer.cancel()
        if fired.is_set():
            raise _Cut()

    def _get(self, url: str, limit: Limit) -> requests.Response:
        """The response to GET ``url``, its body not read, redirects followed here.

        requests would follow redirects itself, reading each redirect's whole body
        into memory (and decompressing it, whatever Accept-Encoding asked): a
        server could send gigabytes there, past every size cap. So each redirect
        is closed unread, at most :data:`MAX_REDIRECTS` of them, to http or https
        only and never from https down to http; all within the caller's deadline."""
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            resp = self._get_one(current, limit)
            if not resp.is_redirect:
                return resp
            location = resp.headers["Location"]
            resp.close()  # unread: the connection is dropped, not drained
            try:
                target = urllib.parse.urljoin(current, location)
                scheme = urllib.parse.urlsplit(target).scheme.lower()
            except ValueError:
                raise RepoError(f"{redact_query(url)}: redirected to a malformed address; "
                                f"{_FINAL_ADDRESS}") from None
            if scheme not in ("http", "https"):
                raise RepoError(f"{redact_query(url)}: redirected to a {scheme or 'relative'}: address; "
                                f"only http and https are followed; {_FINAL_ADDRESS}")
            if urllib.parse.urlsplit(current).scheme.lower() == "https" and scheme == "http":
                raise RepoError(f"{redact_query(url)}: redirected from https to plain http "
                                f"({redact_query(target)}); refusing the downgrade; fix the "
                                "server, or give the plain http address itself")
            current = target
        raise RepoError(f"{redact_query(url)}: more than {MAX_REDIRECTS} redirects; "
                        f"{_FINAL_ADDRESS}")

    def _get_one(self, url: str, limit: Limit) -> requests.Response:
        exceptions = _requests().exceptions
        try:
            resp = self.session.get(url, timeout=self._timeout(limit), verify=self.verify,
                                    stream=True, allow_redirects=False,
                                    headers={"Accept-Encoding": "identity"},
                                    proxies=_requests().utils.get_environ_proxies(url))
        except (exceptions.InvalidURL, exceptions.InvalidSchema, exceptions.MissingSchema,
                exceptions.InvalidHeader, exceptions.URLRequired, ValueError) as exc:
            # Their text repeats the URL whole, credentials included: name the kind only.
            raise RepoError(f"{redact_query(url)}: not a URL that can be fetched "
                            f"({type(exc).__name__}); check its host, port and "
                            "percent-encoding") from None
        except exceptions.SSLError as exc:
            against = (f"ca_bundle {self.ca_bundle}" if self.ca_bundle else
                       f"the system's CA store {self.verify}" if isinstance(self.verify, str) else
                       "certifi's CA bundle (this system has no CA store only root can change)")
            raise RepoError(
                f"{redact_query(url)}: TLS verification failed ({redact_query(str(exc))}) against "
                f"{against}; add the CA that signed the repo's certificate to the "
                "system's CA store or set ca_bundle to it (Python 3.13 also needs keyUsage "
                "in that CA)"
            ) from None
        # Through a SOCKS proxy the connection was not made by the tracked pools.
        connection = getattr(resp.raw, "_connection", None)
        if connection is not None:
            self._cutter.add(connection)
        return resp

    # -- manifests and constraints files ---------------------------------------------

    @overload
    def get_bytes(self, url: str, what: str, missing_ok: Literal[False], limit: int = ...) -> bytes: ...

    @overload
    def get_bytes(self, url: str, what: str, missing_ok: bool = ..., limit: int = ...) -> bytes | None: ...

    def get_bytes(self, url: str, what: str, missing_ok: bool = True, limit: int = MAX_BYTES) -> bytes | None:
        """The body of ``url``, at most ``limit`` bytes, received before :meth:`text_limit`;
        None on 404 if ``missing_ok``."""
        until = self.text_limit()
        last = "no attempt"
        for _attempt in self._attempts(url, what, until.at):
            try:
                with self._cut_at(until):
                    resp = self._get(url, until)
                    with resp:
                        if resp.status_code == 404 and missing_ok:
                            return None
                        if resp.status_code in _RETRY_STATUS:
                            last = f"HTTP {resp.status_code}"
                            continue
                        if resp.status_code != 200:
                            raise RepoError(f"{what} {redact_query(url)}: HTTP {resp.status_code} from the repo")
                        body = _read_limited(resp, limit, f"{what} {redact_query(url)}")
                self.bytes_downloaded += len(body)
                return body
            except _Cut:
                raise _late(what, url, until) from None
            except _retried() as exc:
                last = _describe(exc)
        raise UnreachableError(f"{what} {redact_query(url)}: repo unreachable ({last}) after "
                               f"{ATTEMPTS} attempts or the time allowed")

    @overload
    def get_text(self, url: str, what: str, missing_ok: Literal[False], limit: int = ...) -> str: ...

    @overload
    def get_text(self, url: str, what: str, missing_ok: bool = ..., limit: int = ...) -> str | None: ...

    def get_text(self, url: str, what: str, missing_ok: bool = True, limit: int = MAX_BYTES) -> str | None:
        """The body of ``url`` as text (:meth:`get_bytes`, decoded as UTF-8)."""
        body = self.get_bytes(url, what, missing_ok, limit)
        if body is None:
            return None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise RepoError(f"{what} {redact_query(url)}: not UTF-8 text") from None

    # -- wheels ----------------------------------------------------------------------

    def download(self, url: str, directory: str, filename: str, sha256: str, what: str,
                 size: int | None = None) -> str:
        """Stream ``url`` into ``directory/filename`` if its bytes hash to ``sha256``.

        Returns the path. ``size`` is the size the manifest records: a transfer
        stops before writing a byte past it (without it, ``MAX_WHEEL_SIZE``).
        The download, all attempts together, ends at :meth:`wheel_limit`.
        Truncated or failed transfers are retried while the caller's deadline
        allows (a first attempt is always made); bytes that hash to anything
        else, or are more than ``size``, are never kept (TrustError after the
        last attempt); the partial file is always removed.
        """
        final = os.path.join(directory, filename)
        cap = MAX_WHEEL_SIZE if size is None else size
        until = self.wheel_limit(size)
        retry_until = until.at if self.deadline is None else min(until.at, self.deadline)
        last = "no attempt"
        mismatch = None
        for _attempt in self._attempts(url, what, retry_until):
            fd, tmp = tempfile.mkstemp(prefix=".part-", dir=directory)
            try:
                with os.fdopen(fd, "wb") as out:
                    with self._cut_at(until):
                        digest, got, expected = self._stream(url, out, what, cap, until)
                    out.flush()
                    os.fchmod(out.fileno(), 0o644)
                    os.fsync(out.fileno())
                if expected is not None and got != expected:
                    last = f"truncated: {got} of {expected} bytes"
                    continue
                if digest != sha256 and expected is None and size is not None and got < size:
                    # No Content-Length: a connection closed early looks like this.
                    last = f"truncated: {got} of the {size} bytes the manifest records"
                    continue
                if digest != sha256:
                    mismatch = last = f"sha256 {digest}, not {sha256}"
                    continue
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, final)  # else another install stored the same bytes first
                return final
            except _Cut:
                raise _late(what, url, until) from None
            except _TooLarge as exc:
                mismatch = last = str(exc)
            except _retried() as exc:
                last = _describe(exc)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        if mismatch:
            raise TrustError(
                f"{what} {redact_query(url)}: the repo served bytes that do not match the manifest "
                f"({mismatch}); refused. Someone altered the wheel on the way or in the repo; "
                "check the repo's files, then run again"
            )
        raise UnreachableError(f"{what} {redact_query(url)}: download failed ({last}) after "
                               f"{ATTEMPTS} attempts or the time allowed")

    def _stream(self, url: str, out: BinaryIO, what: str, cap: int, until: Limit,
                ) -> tuple[str, int, int | None]:
        resp = self._get(url, until)
        with resp:
            if resp.status_code in _RETRY_STATUS or resp.status_code == 404:
                # 404 may be a repo being synced or a wheel not yet stored: retried.
                raise _Status(f"HTTP {resp.status_code}")
            if resp.status_code != 200:
                raise RepoError(f"{what} {redact_query(url)}: HTTP {resp.status_code} from the repo")
            expected = _content_length(resp)
            if expected is not None and expected > cap:
                raise _TooLarge(f"the repo announced {expected} bytes, the manifest records {cap}")
            digest = hashlib.sha256()
            size = 0
            for block in resp.raw.stream(BLOCK, decode_content=False):
                if size + len(block) > cap:
                    raise _TooLarge(f"the repo sent more than the {cap} bytes the manifest "
                                    "records; the transfer was stopped there")
                digest.update(block)
                out.write(block)
                size += len(block)
            self.bytes_downloaded += size
            return digest.hexdigest(), size, expected


class _Status(Exception):
    """A status worth retrying."""


class _Cut(Exception):
    """A fetch's deadline passed and its connection was shut down."""


class _TooLarge(Exception):
    """A wheel's transfer went past the size its manifest records."""


def _late(what: str, url: str, until: Limit) -> UnreachableError:
    fix = f"; {until.fix}" if until.fix else ""
    return UnreachableError(
        f"{what} {redact_query(url)}: not received completely within {until.text}: the repo "
        f"answers too slowly or without end; stopped, nothing of it kept{fix}"
    )


class _Cutter:
    """The connections of one session, to shut down when a fetch's deadline passes.

    Shutting a socket down (not closing it: its file descriptor stays the
    connection's) makes a read blocked on it in another thread return at once,
    whatever urllib3 and http.client are in the middle of.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()

    def add(self, connection: Any) -> None:
        """Watch ``connection`` (a urllib3 connection) for as long as it lives."""
        with self._lock:
            self._connections.add(connection)

    def cut(self) -> None:
        """Shut down the socket of every watched connection."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            # ``sock`` while connecting (set before TLS); the socket it ended with,
            # which a response that closes the connection still reads from after
            # http.client dropped ``sock``.
            for held in (getattr(connection, "sock", None),
                         getattr(connection, "venvbuild_socket", None)):
                sock = getattr(held, "socket", held)  # urllib3's SSLTransport (TLS in TLS) wraps one
                if isinstance(sock, socket.socket):
                    with contextlib.suppress(OSError):
                        # The plain socket's shutdown, also for an SSLSocket: its own
                        # shutdown() would drop the TLS object under the reading thread.
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _track_connections(session: Any, cutter: _Cutter) -> None:
    """Mount on ``session`` an adapter whose connections ``cutter`` watches from the
    moment they connect, before any byte is read (a header that drips counts too).

    urllib3 (1.26 and 2.x) makes connections of its pools' ``ConnectionCls``, pools of
    its pool manager's ``pool_classes_by_scheme``; requests' adapter builds the pool
    managers in ``init_poolmanager`` and ``proxy_manager_for``.
    """
    mount = getattr(session, "mount", None)
    if mount is None:
        return
    adapters = _requests().adapters
    from urllib3 import connectionpool  # noqa: PLC0415  (with requests, only when fetching)

    def tracked(base: Any) -> Any:
        class Tracked(base):  # type: ignore[misc,valid-type]
            def connect(self) -> None:
                cutter.add(self)
                super().connect()
                self.venvbuild_socket = self.sock

        return Tracked

    class TrackedHTTPPool(connectionpool.HTTPConnectionPool):
        ConnectionCls = tracked(connectionpool.HTTPConnectionPool.ConnectionCls)

    class TrackedHTTPSPool(connectionpool.HTTPSConnectionPool):
        ConnectionCls = tracked(connectionpool.HTTPSConnectionPool.ConnectionCls)

    pools = {"http": TrackedHTTPPool, "https": TrackedHTTPSPool}

    class Adapter(adapters.HTTPAdapter):  # type: ignore[misc,name-defined]
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if not proxy.lower().startswith("socks"):  # SOCKS pools are its own
                manager.pool_classes_by_scheme = pools
            return manager

    adapter = Adapter()
    mount("http://", adapter)
    mount("https://", adapter)


def _requests() -> Any:
    """requests, imported when a fetch happens: importing it costs about 80 ms,
    which a no-op run (which never fetches) must not pay."""
    import requests  # noqa: PLC0415

    return requests


def _transient() -> tuple[type[BaseException], ...]:
    """The failures worth retrying: requests' while connecting, urllib3's while
    reading a body (read as it is, not through requests)."""
    exceptions = _requests().exceptions
    from urllib3 import exceptions as urllib3_exceptions  # noqa: PLC0415

    return (exceptions.ConnectionError, exceptions.Timeout, exceptions.ChunkedEncodingError,
            exceptions.ContentDecodingError, urllib3_exceptions.HTTPError)


def _no_redirects(*_args: object, **_kwargs: object) -> Iterator[Any]:
    """Session.resolve_redirects that follows (and reads) nothing: see Http._get."""
    return iter(())


def _retried() -> tuple[type[BaseException], ...]:
    """What an attempt may end with and be retried: a status worth retrying, a transient failure."""
    return (_Status, *_transient())


def _describe(exc: BaseException) -> str:
    text = str(exc)
    exceptions = _requests().exceptions
    from urllib3 import exceptions as urllib3_exceptions  # noqa: PLC0415

    for cls in (exceptions.ConnectTimeout, exceptions.ReadTimeout,
                exceptions.ChunkedEncodingError, exceptions.ConnectionError,
                urllib3_exceptions.ReadTimeoutError, urllib3_exceptions.ProtocolError):
        if isinstance(exc, cls):
            return f"{cls.__name__}: {redact_query(text)[:300]}"
    return redact_query(text)[:300]


def _content_length(resp: requests.Response) -> int | None:
    length = resp.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def _read_limited(resp: requests.Response, limit: int, what: str) -> bytes:
    """The whole body, as sent; RepoError past ``limit`` bytes, _Status if short."""
    expected = _content_length(resp)
    if expected is not None and expected > limit:
        raise RepoError(f"{what}: larger than {limit} bytes ({expected} announced); "
                        "not what was asked for")
    chunks: list[bytes] = []
    size = 0
    for block in resp.raw.stream(BLOCK, decode_content=False):
        size += len(block)
        if size > limit:
            raise RepoError(f"{what}: larger than {limit} bytes; not what was asked for")
        chunks.append(block)
    if expected is not None and size != expected:
        raise _Status(f"truncated: {size} of {expected} bytes")
    return b"".join(chunks)


def fetch_manifest(http: Http, url: str, want: ManifestId | VenvSpec,
                   vouch: Callable[[str], bool] | None = None) -> Manifest | None:
    """The manifest ``want`` names (its ``venv_id``, ``spec_id`` and ``platform``: a
    VenvSpec or a ManifestId) at ``url``; None if the repo answers 404 (not built
    yet) or ``vouch`` does not vouch for it yet.

    ``vouch(sha256)`` is asked about the sha256 of the bytes as fetched, before
    anything of them is parsed: True to use them, False if nothing vouches for
    them yet; it raises TrustError if a trusted anchor names another hash.
    Without ``vouch`` the manifest is not authenticated. Any other failure
    (refused, timeout, TLS, 5xx after retries, a malformed manifest, one naming
    another spec) is a RepoError naming the URL: a target never installs from
    what it could not read completely.
    """
    found = _fetch_manifest(http, url, want, vouch)
    return found if isinstance(found, Manifest) else None


def _fetch_manifest(http: Http, url: str, want: ManifestId | VenvSpec,
                    vouch: Callable[[str], bool] | None) -> Manifest | str:
    """The manifest, or why not: "not found", "found but not authenticated"."""
    data = http.get_bytes(url, "manifest")
    if data is None:
        return "not found"
    if vouch is not None and not vouch(hashlib.sha256(data).hexdigest()):
        return "found but not authenticated"
    return Manifest.parse(data, source=redact_query(url)).check_is(
        want.venv_id, want.spec_id, want.platform, source=redact_query(url))


def wait_for_manifest(http: Http, url: str, want: ManifestId | VenvSpec, interval: float = 5.0, hint: str = "",
                      vouch: Callable[[str], bool] | None = None) -> Manifest:
    """Fetch the manifest at ``url`` (:func:`fetch_manifest`), polling until it exists
    and ``vouch`` vouches for it, or the deadline passes."""
    while True:
        found = _fetch_manifest(http, url, want, vouch)
        if isinstance(found, Manifest):
            return found
        left = http.remaining()
        if left is None or left <= 0:
            raise RepoError(
                f"manifest {redact_query(url)} {found} within the wait; is the builder's build "
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
                                     pin.sha256, f"wheel {pin.filename}", size=pin.size)
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
