"""core/remote.py: repo URLs, HTTP with retries, manifests and the wheel cache.

Everything talks to a real HTTP(S) server on 127.0.0.1 that can misbehave the
ways a network and a web server do: server errors, connection resets,
truncated bodies, slow answers, wrong bytes. Backoff sleeps go to a fake
clock, so retries cost no time; only the slow-answer tests wait (a fraction of
a second per attempt, with ``ATTEMPT_TIMEOUT`` made small).
"""

import collections
import hashlib
import http.server as http_server
import os
import socket
import ssl
import stat
import struct
import subprocess
import threading
import time

import pytest

from saltext_venvbuild.core import fsutil
from saltext_venvbuild.core import remote
from saltext_venvbuild.core import trust
from saltext_venvbuild.core.errors import RepoError
from saltext_venvbuild.core.errors import TrustError
from saltext_venvbuild.core.errors import UnreachableError
from saltext_venvbuild.core.manifest import MAX_BYTES
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import ManifestError
from saltext_venvbuild.core.manifest import ManifestId
from saltext_venvbuild.core.manifest import Pin

PLATFORM = "debian-12-x86_64-cp311"
SPEC = "0123456789abcdef"
WANT = ManifestId("app", SPEC, PLATFORM)
OTHER_SPEC = "fedcba9876543210"

WHEEL = b"PK\x03\x04 not really a zip, but bytes with a known hash " * 50
WHEEL_SHA = hashlib.sha256(WHEEL).hexdigest()
WHEEL_NAME = "vbapp-1.0-py3-none-any.whl"
WRONG = b"PK\x03\x04 someone else's bytes " * 50


def make_manifest(venv_id="app", spec_id=SPEC, platform=PLATFORM, pins=None):
    pins = pins or [Pin.from_wheel(WHEEL_NAME, WHEEL_SHA, len(WHEEL))]
    return Manifest.create(venv_id, spec_id, platform, ["vbapp"], pins)


MANIFEST = make_manifest()


class FakeClock:
    """``time`` for Http: monotonic() and sleep() without waiting."""

    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


# -- a misbehaving repo ------------------------------------------------------------------


def ok(body):
    return ("status", 200, body)


def status(code, body=b"error"):
    return ("status", code, body)


RESET = ("reset",)  # RST before any answer


def truncated(body, keep):
    """The full Content-Length, ``keep`` bytes, then a clean close."""
    return ("truncate", body, keep)


def reset_mid(body, keep):
    """The full Content-Length, ``keep`` bytes, then a connection reset."""
    return ("reset_mid", body, keep)


def slow(seconds, body):
    """Answer only after ``seconds``."""
    return ("slow", seconds, body)


def stall(seconds, body):
    """Headers and half the body, then nothing for ``seconds``."""
    return ("stall", seconds, body)


def drip(body, interval=1.0):
    """The headers with the full Content-Length, then one byte every ``interval`` s:
    no socket operation ever waits long, so requests' timeout never trips."""
    return ("drip", body, interval)


def drip_head(interval=1.0):
    """A status line and a header that never end, one byte every ``interval`` s."""
    return ("drip_head", interval)


def endless(block=b"x" * 65536, length=None):
    """A body without end, as fast as it goes; ``length``: a Content-Length to announce."""
    return ("endless", block, length)


class Repo:
    """A real HTTP server on loopback. ``serve(path, *actions)``: the n-th request
    for ``path`` gets the n-th action, the last one repeats; other paths are 404."""

    def __init__(self, tls_context=None):
        self.routes = {}
        self.hits = collections.Counter()
        self.stop = threading.Event()
        self._lock = threading.Lock()
        repo = self

        class Handler(http_server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                with repo._lock:  # pylint: disable=protected-access
                    actions = repo.routes.get(self.path)
                    count = repo.hits[self.path]
                    repo.hits[self.path] += 1
                if not actions:
                    return self._answer(404, b"not found")
                action = actions[min(count, len(actions) - 1)]
                kind = action[0]
                if kind == "status":
                    return self._answer(action[1], action[2])
                if kind == "reset":
                    return self._reset()
                if kind in ("truncate", "reset_mid"):
                    _kind, body, keep = action
                    self._head(200, len(body))
                    self.wfile.write(body[:keep])
                    self.wfile.flush()
                    if kind == "reset_mid":
                        return self._reset()
                    self.close_connection = True
                    return None
                if kind == "slow":
                    repo.stop.wait(action[1])
                    return self._answer(200, action[2])
                if kind == "drip":
                    _kind, body, interval = action
                    self._head(200, len(body))
                    self.wfile.flush()
                    for index in range(len(body)):
                        if repo.stop.wait(interval):
                            return None
                        self.wfile.write(body[index:index + 1])
                        self.wfile.flush()
                    return None
                if kind == "drip_head":
                    self.close_connection = True
                    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100000:
                        if repo.stop.wait(action[1]):
                            return None
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return None
                if kind == "redirect":  # (kind, location, body: None | bytes | "endless")
                    _kind, target, body = action
                    self.close_connection = True
                    self.send_response(302)
                    self.send_header("Location", target)
                    if body is None:
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                    if body == "endless":  # no length, no end: only a reader of it waits
                        self.send_header("Content-Type", "text/plain")
                        self.end_headers()
                        while not repo.stop.is_set():
                            self.wfile.write(b"x" * 65536)
                        return None
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return None
                if kind == "endless":
                    _kind, block, length = action
                    self.close_connection = True
                    self.send_response(200)
                    if length is not None:
                        self.send_header("Content-Length", str(length))
                    self.end_headers()
                    while not repo.stop.is_set():
                        self.wfile.write(block)
                    return None
                if kind == "stall":
                    _kind, seconds, body = action
                    self._head(200, len(body))
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    repo.stop.wait(seconds)
                    self.wfile.write(body[len(body) // 2:])
                    return None
                raise AssertionError(action)

            def _head(self, code, length):
                self.send_response(code)
                self.send_header("Content-Length", str(length))
                self.end_headers()

            def _answer(self, code, body):
                self._head(code, len(body))
                self.wfile.write(body)

            def _reset(self):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True

            def log_message(self, *args):
                pass

        class Server(http_server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # clients that gave up, sockets we reset on purpose

        self.httpd = Server(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls_context is not None:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    def serve(self, path, *actions):
        self.routes[path] = list(actions)
        return f"{self.url}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def repo():
    with Repo() as server:
        yield server


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def http(clock):
    with remote.Http(clock=clock) as client:
        yield client


@pytest.fixture
def quick(monkeypatch):
    """Small per-attempt timeout and backoff for tests that really wait."""
    monkeypatch.setattr(remote, "ATTEMPT_TIMEOUT", 0.3)
    monkeypatch.setattr(remote, "BACKOFF", 0.01)


def leftovers(directory):
    return sorted(name for name in os.listdir(directory) if name.startswith(".part-"))


# -- URLs ------------------------------------------------------------------------------


def test_urls_follow_the_repo_layout():
    assert remote.manifest_url("http://b:8181/", PLATFORM, "app", SPEC) == (
        f"http://b:8181/{PLATFORM}/manifests/app-{SPEC}.txt"
    )
    assert remote.wheels_url("http://b:8181", PLATFORM) == f"http://b:8181/{PLATFORM}/wheels/"


def test_urls_with_a_release_level():
    assert remote.manifest_url("https://b/repo/", PLATFORM, "app", SPEC, release="2024.1") == (
        f"https://b/repo/2024.1/{PLATFORM}/manifests/app-{SPEC}.txt"
    )
    assert remote.wheels_url("https://b/repo", PLATFORM, "2024.1") == (
        f"https://b/repo/2024.1/{PLATFORM}/wheels/"
    )


def test_wheel_url_is_by_content():
    pin = Pin.from_wheel(WHEEL_NAME, WHEEL_SHA)
    assert remote.wheels_url("http://b", PLATFORM) + pin.path == (
        f"http://b/{PLATFORM}/wheels/{WHEEL_SHA}/{WHEEL_NAME}"
    )


@pytest.mark.parametrize("url", [
    "http://build01:8181",
    "https://build01.example.org/repo/",
    "http://127.0.0.1:8181/a/b",
    "https://[::1]:8443",
])
def test_check_repo_url_accepts_http_urls(url):
    assert remote.check_repo_url(url) == url


@pytest.mark.parametrize("url, message", [
    (["http://b"], "must be a URL string"),
    (None, "must be a URL string"),
    ("ftp://build01/repo", "must be an http:// or https:// URL with a host"),
    ("file:///srv/venvbuild", "must be an http:// or https:// URL with a host"),
    ("build01:8181", "must be an http:// or https:// URL with a host"),
    ("http://", "must be an http:// or https:// URL with a host"),
    ("http://b/repo?x=1", "must not have a query or fragment"),
    ("http://b/repo#top", "must not have a query or fragment"),
    ("http://b:99999/", "invalid port"),
    ("http://b:port/", "invalid port"),
])
def test_check_repo_url_refuses(url, message):
    with pytest.raises(RepoError, match=message) as info:
        remote.check_repo_url(url, "repo_url")
    assert str(info.value).startswith("repo_url ")


def test_check_repo_url_hides_credentials():
    with pytest.raises(RepoError) as info:
        remote.check_repo_url("http://user:secret@b/repo?x=1")
    assert "secret" not in str(info.value)
    assert "http://****@b/repo?****" in str(info.value)


# -- get_text --------------------------------------------------------------------------


def test_get_text_reads_the_body(repo, http):
    url = repo.serve("/t.txt", ok("héllo\n".encode()))
    assert http.get_text(url, "thing") == "héllo\n"
    assert http.bytes_downloaded == len("héllo\n".encode())


def test_the_callers_netrc_and_ca_variables_are_not_read(tmp_path, monkeypatch):
    """Whoever runs salt-call chooses HOME, NETRC and REQUESTS_CA_BUNDLE: requests
    would send that user's ~/.netrc credentials to the repo and take their CA
    bundle. venvbuild's fetches read neither (proxies still apply, as for pip and uv)."""
    seen = []

    class Handler(http_server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"ok\n")

        def log_message(self, *args):
            pass

    httpd = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        netrc = tmp_path / ".netrc"
        netrc.write_text("machine 127.0.0.1 login attacker password chosen\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("NETRC", str(netrc))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "evil-ca.pem"))
        monkeypatch.setenv("CURL_CA_BUNDLE", str(tmp_path / "evil-ca.pem"))
        with remote.Http() as client:
            assert client.session.trust_env is False
            assert client.get_text(f"http://127.0.0.1:{httpd.server_address[1]}/x", "thing") == "ok\n"
            assert client.verify != str(tmp_path / "evil-ca.pem")
        assert seen == [None]
        # The proxy variables still apply: a name only the proxy (this server) answers for.
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{httpd.server_address[1]}")
        with remote.Http() as client:
            assert client.get_text("http://repo.venvbuild.invalid/y", "thing") == "ok\n"
        assert seen == [None, None]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_redirect_is_followed_without_reading_its_body(repo):
    # A redirect's body is never read: one without end, or a gzip bomb that requests
    # would decompress in memory, costs nothing.
    import gzip  # noqa: PLC0415

    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    repo.serve("/ok.txt", ok(b"pins\n"))
    endless = repo.serve("/endless", ("redirect", "/ok.txt", "endless"))
    bombed = repo.serve("/bomb", ("redirect", f"{repo.url}/ok.txt", bomb))
    with remote.Http(deadline=time.monotonic() + 10) as client:
        started = time.monotonic()
        assert client.get_text(endless, "constraints file") == "pins\n"
        assert client.get_text(bombed, "constraints file") == "pins\n"
        assert time.monotonic() - started < 5
        assert client.bytes_downloaded == 10


def test_redirects_are_bounded_and_never_downgrade(repo, tmp_path):
    chain = repo.serve("/r0", ("redirect", "/r1", None))
    for hop in range(1, 7):
        repo.serve(f"/r{hop}", ("redirect", f"/r{hop + 1}", None))
    repo.serve("/r7", ok(b"far\n"))
    with remote.Http(deadline=time.monotonic() + 10) as client:
        with pytest.raises(RepoError, match="more than 5 redirects"):
            client.get_text(chain, "manifest")
        assert client.get_text(f"{repo.url}/r2", "manifest") == "far\n"  # five hops
        for path, target, message in (("/to-file", f"file://{tmp_path}/x", "redirected to a file: address"),
                                      ("/to-ftp", "ftp://host/x", "redirected to a ftp: address")):
            url = repo.serve(path, ("redirect", target, None))
            with pytest.raises(RepoError, match=message):
                client.get_text(url, "manifest")


def test_a_redirect_from_https_to_http_is_refused(tls_repo, tls_files):
    url = tls_repo.serve("/down", ("redirect", "http://127.0.0.1:9/x", None))
    with remote.Http(ca_bundle=tls_files[1], deadline=time.monotonic() + 10) as client:
        with pytest.raises(RepoError, match="from https to plain http"):
            client.get_text(url, "manifest")


def test_a_url_requests_cannot_parse_is_an_error_that_shows_no_credentials():
    with remote.Http(deadline=time.monotonic() + 5) as client:
        with pytest.raises(RepoError) as info:
            client.get_text("https://ci:S3CRETtok@127.0.0.1:99999/uc.txt", "constraints file")
    assert "S3CRETtok" not in str(info.value) and "not a URL that can be fetched" in str(info.value)


def test_get_text_404_is_none_when_missing_is_ok(repo, http):
    assert http.get_text(f"{repo.url}/missing", "thing") is None
    assert repo.hits["/missing"] == 1  # a 404 is an answer, not retried


def test_get_text_404_is_an_error_when_not_missing_ok(repo, http):
    with pytest.raises(RepoError, match="HTTP 404") as info:
        http.get_text(f"{repo.url}/missing", "thing", missing_ok=False)
    assert not isinstance(info.value, UnreachableError)


@pytest.mark.parametrize("code", [400, 401, 403, 410])
def test_get_text_other_client_errors_are_not_retried(repo, http, clock, code):
    url = repo.serve("/t.txt", status(code))
    with pytest.raises(RepoError, match=f"thing {url}: HTTP {code} from the repo") as info:
        http.get_text(url, "thing")
    assert not isinstance(info.value, UnreachableError)
    assert repo.hits["/t.txt"] == 1
    assert clock.slept == []


def test_get_text_retries_500_twice_then_succeeds(repo, http, clock):
    url = repo.serve("/t.txt", status(500), status(500), ok(b"fine"))
    assert http.get_text(url, "thing") == "fine"
    assert repo.hits["/t.txt"] == 3
    assert clock.slept == [remote.BACKOFF, remote.BACKOFF * 2]  # exponential backoff


@pytest.mark.parametrize("code", [408, 425, 429, 500, 502, 503, 504])
def test_get_text_retries_transient_statuses(repo, http, code):
    url = repo.serve("/t.txt", status(code), ok(b"fine"))
    assert http.get_text(url, "thing") == "fine"
    assert repo.hits["/t.txt"] == 2


def test_get_text_gives_up_after_the_attempts(repo, http, clock):
    url = repo.serve("/t.txt", status(503))
    with pytest.raises(UnreachableError, match=r"repo unreachable \(HTTP 503\)") as info:
        http.get_text(url, "thing")
    assert url in str(info.value)
    assert repo.hits["/t.txt"] == remote.ATTEMPTS == 5
    assert clock.slept == [1.0, 2.0, 4.0, 8.0]


def test_get_text_stops_retrying_when_the_deadline_would_pass(repo, clock):
    url = repo.serve("/t.txt", status(503))
    with remote.Http(clock=clock, deadline=clock.monotonic() + 3) as http:
        assert http.remaining() == 3
        with pytest.raises(UnreachableError):
            http.get_text(url, "thing")
    # attempt 1, sleep 1, attempt 2, sleep 2, attempt 3; 4 s more would pass the deadline
    assert repo.hits["/t.txt"] == 3
    assert clock.slept == [1.0, 2.0]


def test_get_text_retries_a_connection_reset(repo, http):
    url = repo.serve("/t.txt", RESET, ok(b"fine"))
    assert http.get_text(url, "thing") == "fine"
    assert repo.hits["/t.txt"] == 2


def test_get_text_retries_a_truncated_body(repo, http):
    url = repo.serve("/t.txt", truncated(b"0123456789" * 100, 10), ok(b"fine"))
    assert http.get_text(url, "thing") == "fine"
    assert repo.hits["/t.txt"] == 2


def test_get_text_never_returns_a_truncated_body(repo, http):
    url = repo.serve("/t.txt", truncated(b"0123456789" * 100, 10))
    with pytest.raises(UnreachableError, match="repo unreachable"):
        http.get_text(url, "thing")
    assert repo.hits["/t.txt"] == 5


def test_get_text_unreachable_repo(clock):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with remote.Http(clock=clock) as http:
        with pytest.raises(UnreachableError, match="repo unreachable") as info:
            http.get_text(f"http://127.0.0.1:{port}/m.txt", "manifest")
    assert f"manifest http://127.0.0.1:{port}/m.txt" in str(info.value)
    assert len(clock.slept) == 4


def test_get_text_slow_answer_times_out_and_is_retried(repo, quick):
    url = repo.serve("/t.txt", slow(10, b"late"), ok(b"fine"))
    started = time.monotonic()
    with remote.Http() as http:
        assert http.get_text(url, "thing") == "fine"
    assert time.monotonic() - started < 20
    assert repo.hits["/t.txt"] == 2


def test_get_text_a_repo_that_never_answers_in_time_is_unreachable(repo, quick):
    url = repo.serve("/t.txt", slow(30, b"late"))
    started = time.monotonic()
    with remote.Http() as http:
        with pytest.raises(UnreachableError, match="Timeout"):
            http.get_text(url, "thing")
    assert time.monotonic() - started < 20
    assert repo.hits["/t.txt"] == 5


def test_get_text_a_body_that_stalls_times_out(repo, quick):
    url = repo.serve("/t.txt", stall(30, b"x" * 1000), ok(b"fine"))
    started = time.monotonic()
    with remote.Http() as http:
        assert http.get_text(url, "thing") == "fine"
    assert time.monotonic() - started < 20


def test_get_text_refuses_a_body_over_the_limit(repo, http):
    url = repo.serve("/t.txt", ok(b"x" * 2000))
    with pytest.raises(RepoError, match="larger than 1000 bytes"):
        http.get_text(url, "thing", limit=1000)
    assert repo.hits["/t.txt"] == 1
    assert http.get_text(url, "thing", limit=2000) == "x" * 2000


def test_get_text_refuses_what_is_not_utf8(repo, http):
    url = repo.serve("/t.txt", ok(b"\xff\xfe\x00"))
    with pytest.raises(RepoError, match="not UTF-8 text"):
        http.get_text(url, "thing")


def test_messages_hide_url_credentials(repo, http):
    url = repo.serve("/t.txt", status(403))
    secret_url = url.replace("http://", "http://user:secret@")
    with pytest.raises(RepoError) as info:
        http.get_text(secret_url, "thing")
    assert "secret" not in str(info.value)
    assert "http://****@127.0.0.1" in str(info.value)


# -- TLS -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed CA certificate for 127.0.0.1 (made with the openssl tool)."""
    directory = tmp_path_factory.mktemp("tls")
    key, cert = directory / "key.pem", directory / "cert.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
             "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,digitalSignature"],
            check=True, capture_output=True, timeout=60,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot make a test certificate with openssl: {exc}")
    return str(key), str(cert)


@pytest.fixture
def tls_repo(tls_files):
    key, cert = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with Repo(tls_context=context) as server:
        yield server


def test_tls_failure_names_ca_bundle_and_is_not_retried(tls_repo, clock):
    url = tls_repo.serve("/t.txt", ok(b"fine"))
    with remote.Http(clock=clock) as http:
        with pytest.raises(RepoError, match="TLS verification failed") as info:
            http.get_text(url, "thing")
    assert "set ca_bundle" in str(info.value)
    assert not isinstance(info.value, UnreachableError)
    assert clock.slept == []


def test_tls_with_the_ca_in_the_system_store_works(tls_repo, tls_files, clock, monkeypatch):
    """Without ca_bundle the system's store verifies (here an SSL_CERT_FILE only
    root can change, as OpenSSL reads it); REQUESTS_CA_BUNDLE does not steer it."""
    url = tls_repo.serve("/t.txt", ok(b"fine"))
    monkeypatch.setenv("SSL_CERT_FILE", tls_files[1])
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    with remote.Http(clock=clock) as http:
        assert http.verify == tls_files[1]
        assert http.get_text(url, "thing") == "fine"


def test_tls_failure_names_the_system_store_it_used(tls_repo, tls_files, clock, monkeypatch,
                                                    tmp_path):
    url = tls_repo.serve("/t.txt", ok(b"fine"))
    writable = tmp_path / "ca.pem"  # the right CA, but others could change it: not the store
    with open(tls_files[1], "rb") as handle:
        writable.write_bytes(handle.read())
    writable.chmod(0o666)
    monkeypatch.setenv("SSL_CERT_FILE", str(writable))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_files[1])  # the caller's: not taken either
    with remote.Http(clock=clock) as http:
        assert http.verify != str(writable)
        with pytest.raises(RepoError, match="TLS verification failed") as info:
            http.get_text(url, "thing")
    assert "against the system's CA store" in str(info.value) or "certifi" in str(info.value)
    assert "set ca_bundle" in str(info.value)


def test_tls_with_the_ca_bundle_works(tls_repo, tls_files, clock):
    url = tls_repo.serve("/t.txt", ok(b"fine"))
    with remote.Http(ca_bundle=tls_files[1], clock=clock) as http:
        assert http.get_text(url, "thing") == "fine"


def test_tls_failure_of_a_download_names_ca_bundle(tls_repo, clock, tmp_path):
    url = tls_repo.serve("/w.whl", ok(WHEEL))
    with remote.Http(clock=clock) as http:
        with pytest.raises(RepoError, match="ca_bundle"):
            http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert os.listdir(tmp_path) == []


# -- download --------------------------------------------------------------------------


def test_download_keeps_bytes_that_match(repo, http, tmp_path):
    url = repo.serve("/w.whl", ok(WHEEL))
    path = http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert path == str(tmp_path / WHEEL_NAME)
    assert (tmp_path / WHEEL_NAME).read_bytes() == WHEEL
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(tmp_path) == [WHEEL_NAME]
    assert http.bytes_downloaded == len(WHEEL)


def test_download_retries_500_twice_then_succeeds(repo, http, clock, tmp_path):
    url = repo.serve("/w.whl", status(500), status(500), ok(WHEEL))
    http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert (tmp_path / WHEEL_NAME).read_bytes() == WHEEL
    assert repo.hits["/w.whl"] == 3
    assert clock.slept == [1.0, 2.0]
    assert leftovers(tmp_path) == []


def test_download_retries_404_of_a_repo_being_synced(repo, http, tmp_path):
    url = repo.serve("/w.whl", status(404), ok(WHEEL))
    http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert repo.hits["/w.whl"] == 2


def test_download_retries_a_connection_reset(repo, http, tmp_path):
    url = repo.serve("/w.whl", RESET, ok(WHEEL))
    http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert (tmp_path / WHEEL_NAME).read_bytes() == WHEEL
    assert repo.hits["/w.whl"] == 2
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failure", [truncated(WHEEL, 100), reset_mid(WHEEL, 100)],
                         ids=["truncated", "reset-mid-body"])
def test_download_retries_an_incomplete_transfer(repo, http, tmp_path, failure):
    url = repo.serve("/w.whl", failure, ok(WHEEL))
    http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert (tmp_path / WHEEL_NAME).read_bytes() == WHEEL
    assert repo.hits["/w.whl"] == 2
    assert os.listdir(tmp_path) == [WHEEL_NAME]


@pytest.mark.parametrize("failure", [truncated(WHEEL, 100), reset_mid(WHEEL, 100), RESET,
                                     status(502)],
                         ids=["truncated", "reset-mid-body", "reset", "502"])
def test_download_that_never_completes_keeps_nothing(repo, http, tmp_path, failure):
    url = repo.serve("/w.whl", failure)
    with pytest.raises(UnreachableError, match="download failed") as info:
        http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert url in str(info.value)
    assert repo.hits["/w.whl"] == 5
    assert os.listdir(tmp_path) == []


def test_download_slow_answer_times_out_and_is_retried(repo, quick, tmp_path):
    url = repo.serve("/w.whl", slow(10, WHEEL), stall(10, WHEEL), ok(WHEEL))
    started = time.monotonic()
    with remote.Http() as http:
        http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert time.monotonic() - started < 20
    assert repo.hits["/w.whl"] == 3
    assert os.listdir(tmp_path) == [WHEEL_NAME]


def test_download_from_a_repo_too_slow_every_time(repo, quick, tmp_path):
    url = repo.serve("/w.whl", stall(30, WHEEL))
    started = time.monotonic()
    with remote.Http() as http:
        with pytest.raises(UnreachableError, match="download failed"):
            http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert time.monotonic() - started < 20
    assert os.listdir(tmp_path) == []


def test_download_wrong_bytes_are_a_trust_error_and_never_kept(repo, http, tmp_path):
    url = repo.serve("/w.whl", ok(WRONG))
    with pytest.raises(TrustError, match="do not match the manifest") as info:
        http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel vbapp")
    message = str(info.value)
    assert f"sha256 {hashlib.sha256(WRONG).hexdigest()}, not {WHEEL_SHA}" in message
    assert url in message
    assert repo.hits["/w.whl"] == 5
    assert os.listdir(tmp_path) == []


def test_download_wrong_bytes_then_right_ones(repo, http, tmp_path):
    url = repo.serve("/w.whl", ok(WRONG), ok(WHEEL))
    http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert (tmp_path / WHEEL_NAME).read_bytes() == WHEEL
    assert os.listdir(tmp_path) == [WHEEL_NAME]


def test_download_wrong_bytes_then_failures_is_still_a_trust_error(repo, http, tmp_path):
    # Transient failures after a mismatch must not turn the tampering alarm into
    # "unreachable": the repo did serve wrong bytes.
    url = repo.serve("/w.whl", ok(WRONG), status(503))
    with pytest.raises(TrustError):
        http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert os.listdir(tmp_path) == []


def test_download_trust_error_names_the_mismatch_even_if_later_attempts_failed(
        repo, http, tmp_path):
    url = repo.serve("/w.whl", ok(WRONG), status(503))
    with pytest.raises(TrustError) as info:
        http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert f"sha256 {hashlib.sha256(WRONG).hexdigest()}" in str(info.value)


def test_download_client_error_is_not_retried(repo, http, tmp_path):
    url = repo.serve("/w.whl", status(403))
    with pytest.raises(RepoError, match="HTTP 403 from the repo") as info:
        http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert not isinstance(info.value, UnreachableError)
    assert repo.hits["/w.whl"] == 1
    assert os.listdir(tmp_path) == []


def test_download_keeps_a_file_another_install_stored_first(repo, http, tmp_path):
    (tmp_path / WHEEL_NAME).write_bytes(WHEEL)
    url = repo.serve("/w.whl", ok(WHEEL))
    assert http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel") == str(
        tmp_path / WHEEL_NAME)
    assert os.listdir(tmp_path) == [WHEEL_NAME]


def test_bytes_downloaded_adds_up(repo, http, tmp_path):
    url = repo.serve("/w.whl", ok(WHEEL))
    text_url = repo.serve("/t.txt", ok(b"12345"))
    http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    http.get_text(text_url, "thing")
    assert http.bytes_downloaded == len(WHEEL) + 5


# -- manifests -------------------------------------------------------------------------


def test_fetch_manifest_reads_it(repo, http):
    url = repo.serve("/m.txt", ok(MANIFEST.render().encode()))
    assert remote.fetch_manifest(http, url, WANT) == MANIFEST


def test_fetch_manifest_404_means_not_built_yet(repo, http):
    assert remote.fetch_manifest(http, f"{repo.url}/missing.txt", WANT) is None


@pytest.mark.parametrize("answers, message", [
    ([status(500)], "HTTP 500"),
    ([status(403)], "HTTP 403"),
    ([ok(b"<html>not a manifest</html>")], "not a venvbuild manifest"),
    ([ok(MANIFEST.render().replace("\n", "\r\n").encode())], "not a venvbuild manifest"),
    ([ok(MANIFEST.render().encode() + b"# extra: header\n")], "unknown header"),
])
def test_fetch_manifest_errors_name_the_url(repo, http, answers, message):
    url = repo.serve("/m.txt", *answers)
    with pytest.raises(RepoError, match=message) as info:
        remote.fetch_manifest(http, url, WANT)
    assert url in str(info.value)


@pytest.mark.parametrize("other", [
    make_manifest(spec_id=OTHER_SPEC),
    make_manifest(venv_id="other"),
    make_manifest(platform="debian-11-x86_64-cp39"),
], ids=["spec", "venv", "platform"])
def test_fetch_manifest_refuses_the_manifest_of_another_spec(repo, http, other):
    url = repo.serve("/m.txt", ok(other.render().encode()))
    with pytest.raises(ManifestError, match="was asked for; refusing it") as info:
        remote.fetch_manifest(http, url, WANT)
    assert url in str(info.value)


def test_fetch_manifest_retries_then_reads_it(repo, http):
    url = repo.serve("/m.txt", status(502), RESET, truncated(MANIFEST.render().encode(), 20),
                     ok(MANIFEST.render().encode()))
    assert remote.fetch_manifest(http, url, WANT) == MANIFEST
    assert repo.hits["/m.txt"] == 4


def test_fetch_manifest_unreachable_repo(clock):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with remote.Http(clock=clock) as http:
        with pytest.raises(RepoError, match="repo unreachable"):
            remote.fetch_manifest(http, f"http://127.0.0.1:{port}/m.txt", WANT)


def test_wait_for_manifest_polls_until_it_appears(repo, clock):
    url = repo.serve("/m.txt", status(404), status(404), ok(MANIFEST.render().encode()))
    polls = []
    with remote.Http(clock=clock, deadline=clock.monotonic() + 30) as http:
        got = remote.wait_for_manifest(http, url, WANT, interval=5,
                                       vouch=lambda sha: polls.append(sha) or True)
    assert got == MANIFEST
    assert repo.hits["/m.txt"] == 3
    assert clock.slept == [5, 5]
    assert polls == [MANIFEST.sha256]  # asked only about bytes that exist


def test_wait_for_manifest_without_vouch(repo, clock):
    url = repo.serve("/m.txt", status(404), ok(MANIFEST.render().encode()))
    with remote.Http(clock=clock, deadline=clock.monotonic() + 30) as http:
        assert remote.wait_for_manifest(http, url, WANT) == MANIFEST
    assert clock.slept == [5.0]


def test_wait_for_manifest_gives_up_with_the_hint(repo, clock):
    url = f"{repo.url}/m.txt"
    with remote.Http(clock=clock, deadline=clock.monotonic() + 12) as http:
        with pytest.raises(RepoError) as info:
            remote.wait_for_manifest(http, url, WANT, interval=5,
                                     hint="(salt b1 state.apply venvbuild.builder)")
    message = str(info.value)
    assert f"manifest {url} not found within the wait" in message
    assert "(salt b1 state.apply venvbuild.builder)" in message
    assert clock.slept == [5, 5, 2]
    assert repo.hits["/m.txt"] == 4


def test_wait_for_manifest_waits_for_it_to_be_authenticated(repo, clock):
    url = repo.serve("/m.txt", ok(MANIFEST.render().encode()))
    answers = iter([False, False, True])
    with remote.Http(clock=clock, deadline=clock.monotonic() + 60) as http:
        got = remote.wait_for_manifest(http, url, WANT, interval=5,
                                       vouch=lambda sha: next(answers))
    assert got == MANIFEST
    assert repo.hits["/m.txt"] == 3


def test_wait_for_manifest_found_but_never_authenticated(repo, clock):
    url = repo.serve("/m.txt", ok(MANIFEST.render().encode()))
    with remote.Http(clock=clock, deadline=clock.monotonic() + 12) as http:
        with pytest.raises(RepoError, match="found but not authenticated within the wait"):
            remote.wait_for_manifest(http, url, WANT, interval=5,
                                     vouch=lambda sha: False)


def test_wait_for_manifest_stops_at_a_trust_error(repo, clock):
    url = repo.serve("/m.txt", ok(MANIFEST.render().encode()))

    def vouch(sha):
        raise TrustError("wrong hash")

    with remote.Http(clock=clock, deadline=clock.monotonic() + 60) as http:
        with pytest.raises(TrustError, match="wrong hash"):
            remote.wait_for_manifest(http, url, WANT, vouch=vouch)
    assert repo.hits["/m.txt"] == 1


def test_wait_for_manifest_without_a_deadline_polls_once(repo, clock):
    url = f"{repo.url}/m.txt"
    with remote.Http(clock=clock) as http:
        with pytest.raises(RepoError, match="not found within the wait"):
            remote.wait_for_manifest(http, url, WANT)
    assert repo.hits["/m.txt"] == 1


def test_wait_for_manifest_refuses_another_spec_at_once(repo, clock):
    url = repo.serve("/m.txt", ok(make_manifest(spec_id=OTHER_SPEC).render().encode()))
    with remote.Http(clock=clock, deadline=clock.monotonic() + 60) as http:
        with pytest.raises(ManifestError):
            remote.wait_for_manifest(http, url, WANT)
    assert repo.hits["/m.txt"] == 1


# -- the wheel cache -------------------------------------------------------------------

OTHER_WHEEL = b"another wheel's bytes" * 10
OTHER_SHA = hashlib.sha256(OTHER_WHEEL).hexdigest()
PINS = [Pin.from_wheel(WHEEL_NAME, WHEEL_SHA, len(WHEEL)),
        Pin.from_wheel("vbdep-1.1-py3-none-any.whl", OTHER_SHA, len(OTHER_WHEEL))]


@pytest.fixture
def wheel_repo(repo):
    for pin, body in zip(PINS, (WHEEL, OTHER_WHEEL)):
        repo.serve(f"/{PLATFORM}/wheels/{pin.path}", ok(body))
    return repo


def test_wheel_cache_fetches_once(wheel_repo, clock, tmp_path):
    cache = remote.WheelCache(str(tmp_path / "wheels"))
    base = remote.wheels_url(wheel_repo.url, PLATFORM)
    with remote.Http(clock=clock) as http, cache.using():
        got = cache.fetch(http, base, PINS)
    assert got == {pin.sha256: str(tmp_path / "wheels" / pin.sha256 / pin.filename)
                   for pin in PINS}
    assert open(got[WHEEL_SHA], "rb").read() == WHEEL
    assert stat.S_IMODE(os.stat(tmp_path / "wheels").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "wheels" / WHEEL_SHA).st_mode) == 0o700
    # A second install (any venv) finds them in the cache: nothing downloaded.
    with remote.Http(clock=clock) as http:
        assert cache.fetch(http, base, PINS) == got
        assert http.bytes_downloaded == 0
    assert sum(wheel_repo.hits.values()) == 2
    assert cache.lookup(PINS[0]) == got[WHEEL_SHA]


def test_wheel_cache_lookup_of_a_missing_wheel(tmp_path):
    assert remote.WheelCache(str(tmp_path / "wheels")).lookup(PINS[0]) is None


def test_wheel_cache_replaces_a_damaged_wheel(wheel_repo, clock, tmp_path):
    cache = remote.WheelCache(str(tmp_path / "wheels"))
    base = remote.wheels_url(wheel_repo.url, PLATFORM)
    with remote.Http(clock=clock) as http:
        path = cache.fetch(http, base, PINS[:1])[WHEEL_SHA]
    with open(path, "ab") as handle:
        handle.write(b"bit rot")
    assert cache.lookup(PINS[0]) is None
    assert not os.path.exists(path)  # the damaged file is gone
    with remote.Http(clock=clock) as http:
        assert cache.fetch(http, base, PINS[:1])[WHEEL_SHA] == path
    assert open(path, "rb").read() == WHEEL


def test_wheel_cache_keeps_nothing_of_wrong_bytes(repo, clock, tmp_path):
    repo.serve(f"/{PLATFORM}/wheels/{PINS[0].path}", ok(WRONG))
    cache = remote.WheelCache(str(tmp_path / "wheels"))
    with remote.Http(clock=clock) as http, cache.using():
        with pytest.raises(TrustError):
            cache.fetch(http, remote.wheels_url(repo.url, PLATFORM), PINS[:1])
    assert os.listdir(tmp_path / "wheels" / WHEEL_SHA) == []
    assert cache.lookup(PINS[0]) is None


def _fill(cache, tmp_path, *bodies):
    fsutil.ensure_dir(cache.directory, "test", 0o700)
    for body in bodies:
        sha = hashlib.sha256(body).hexdigest()
        os.mkdir(tmp_path / "wheels" / sha, 0o700)
        (tmp_path / "wheels" / sha / "x-1.0-py3-none-any.whl").write_bytes(body)


def test_wheel_cache_prune_removes_what_no_venv_uses(tmp_path):
    cache = remote.WheelCache(str(tmp_path / "wheels"))
    _fill(cache, tmp_path, WHEEL, OTHER_WHEEL)
    (tmp_path / "wheels" / "not-a-hash").mkdir()
    assert cache.prune(lambda: {WHEEL_SHA}) == 1
    assert sorted(os.listdir(tmp_path / "wheels")) == sorted([".lock", WHEEL_SHA, "not-a-hash"])


def test_wheel_cache_prune_waits_for_no_install(tmp_path):
    cache = remote.WheelCache(str(tmp_path / "wheels"))
    _fill(cache, tmp_path, WHEEL, OTHER_WHEEL)
    asked = []
    with cache.using():
        assert cache.prune(lambda: asked.append(1) or set()) is None
        with cache.using():  # installs share the lock
            pass
    assert asked == []  # the set in use is not even computed while an install runs
    assert sorted(os.listdir(tmp_path / "wheels")) == sorted([".lock", WHEEL_SHA, OTHER_SHA])
    assert cache.prune(set) == 2


def test_wheel_cache_prune_of_no_cache(tmp_path):
    assert remote.WheelCache(str(tmp_path / "none")).prune(set) == 0


# -- a hostile repo: every fetch bounded in time and size -------------------------------
#
# These are the attacks themselves: a real server on the loopback drips bytes,
# streams without end or sends more than the manifest records, with the real
# clock; each test checks the error names the URL and the limit, that it came
# within the limit, and that nothing of the transfer is left on disk.

DRIP_MANIFEST = MANIFEST.render().encode()


def _parts(directory):
    return [name for name in os.listdir(directory) if name.startswith(".part-")]


class _Sizes:
    """Watches a directory while a download runs: the largest file ever seen in it."""

    def __init__(self, directory):
        self.directory = directory
        self.largest = 0
        self.seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.is_set():
            for name in os.listdir(self.directory):
                try:
                    size = os.stat(os.path.join(self.directory, name)).st_size
                except OSError:
                    continue
                self.seen += 1
                self.largest = max(self.largest, size)
            time.sleep(0.001)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def test_a_manifest_dripped_a_byte_a_second_ends_at_wait_timeout(repo):
    url = repo.serve("/m.txt", drip(DRIP_MANIFEST))
    started = time.monotonic()
    with remote.Http(deadline=time.monotonic() + 3) as http:
        with pytest.raises(UnreachableError) as info:
            remote.fetch_manifest(http, url, WANT)
    elapsed = time.monotonic() - started
    assert 2.5 < elapsed < 5, elapsed
    message = str(info.value)
    assert message.startswith(f"manifest {url}: not received completely within wait_timeout (3 s)")
    assert "a larger wait_timeout allows more" in message
    assert repo.hits["/m.txt"] == 1  # no time left for another attempt


def test_waiting_for_a_dripped_manifest_ends_at_wait_timeout(repo):
    url = repo.serve("/m.txt", status(404), drip(DRIP_MANIFEST))
    started = time.monotonic()
    with remote.Http(deadline=time.monotonic() + 3) as http:
        with pytest.raises(UnreachableError, match="within wait_timeout"):
            remote.wait_for_manifest(http, url, WANT, interval=0.2)
    assert time.monotonic() - started < 5


def test_a_status_line_dripped_a_byte_a_second_ends_at_the_deadline(repo):
    # No response object exists yet: the watchdog must reach the connection itself.
    url = repo.serve("/m.txt", drip_head(0.5))
    started = time.monotonic()
    with remote.Http(deadline=time.monotonic() + 2) as http:
        with pytest.raises(UnreachableError, match="not received completely within wait_timeout"):
            http.get_bytes(url, "manifest")
    assert time.monotonic() - started < 4


def test_a_dripped_manifest_over_tls_ends_at_the_deadline(tls_repo, tls_files):
    url = tls_repo.serve("/m.txt", drip(DRIP_MANIFEST))
    started = time.monotonic()
    with remote.Http(ca_bundle=tls_files[1], deadline=time.monotonic() + 2) as http:
        with pytest.raises(UnreachableError, match="not received completely within wait_timeout"):
            remote.fetch_manifest(http, url, WANT)
    assert time.monotonic() - started < 4


def test_a_dripped_constraints_file_without_a_deadline_ends_at_text_seconds(repo, monkeypatch):
    monkeypatch.setattr(remote, "TEXT_SECONDS", 2.0)
    url = repo.serve("/uc.txt", drip(b"foo===1.0\n" * 10))
    started = time.monotonic()
    with remote.Http() as http:
        with pytest.raises(UnreachableError, match=r"within the 2 s a fetch may take"):
            http.get_bytes(url, "constraints file", missing_ok=False, limit=1 << 20)
    assert time.monotonic() - started < 4


def test_a_manifest_without_end_stops_at_the_cap(repo, http):
    url = repo.serve("/m.txt", endless())
    started = time.monotonic()
    with pytest.raises(RepoError, match=r"larger than 1000000 bytes") as info:
        http.get_bytes(url, "manifest", limit=1_000_000)
    assert url in str(info.value)
    assert time.monotonic() - started < 5
    assert repo.hits["/m.txt"] == 1  # too large is not a failure worth retrying


def test_a_manifest_announced_larger_than_the_cap_is_not_read(repo, http):
    url = repo.serve("/m.txt", endless(length=MAX_BYTES + 1))
    with pytest.raises(RepoError, match=rf"larger than {MAX_BYTES} bytes \({MAX_BYTES + 1} announced\)"):
        http.get_bytes(url, "manifest")


def test_a_dripped_wheel_stops_at_its_limit_and_leaves_nothing(repo, tmp_path):
    url = repo.serve("/w.whl", drip(WHEEL, interval=0.5))
    started = time.monotonic()
    with remote.Http(wheel_seconds=2, wheel_rate=1 << 30) as http:
        with pytest.raises(UnreachableError) as info:
            http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel vbapp", size=len(WHEEL))
    elapsed = time.monotonic() - started
    assert 1.5 < elapsed < 4, elapsed
    message = str(info.value)
    assert message.startswith(f"wheel vbapp {url}: not received completely within its limit of 2 s")
    assert f"of its {len(WHEEL)} bytes" in message
    assert message.endswith("the repo sends slower than that; a wait_timeout above 2 s allows more")
    assert os.listdir(tmp_path) == []  # the partial file is gone


def test_the_wheel_limit_grows_with_the_size():
    with remote.Http(wheel_seconds=120, wheel_rate=100 * 1024, clock=FakeClock()) as http:
        limit = http.wheel_limit(50 * 1024 * 1024)
    assert limit.at == 1000.0 + 120 + 512
    assert limit.text == "its limit of 632 s (120 s plus 1 s per 100 KiB of its 52428800 bytes)"


def test_a_wheel_streamed_without_end_stops_at_its_recorded_size(repo, clock, tmp_path):
    size = 1 << 20  # what the manifest records
    url = repo.serve("/w.whl", endless())
    started = time.monotonic()
    with _Sizes(str(tmp_path)) as sizes, remote.Http(clock=clock) as http:
        with pytest.raises(TrustError) as info:
            http.download(url, str(tmp_path), WHEEL_NAME, "a" * 64, "wheel vbapp", size=size)
    assert time.monotonic() - started < 8
    message = str(info.value)
    assert f"the repo sent more than the {size} bytes the manifest records" in message
    assert url in message and "refused" in message
    assert sizes.seen > 0  # the watcher did see the partial file
    assert sizes.largest <= size, "more bytes were written than the manifest records"
    assert os.listdir(tmp_path) == []


def test_a_wheel_larger_than_its_recorded_size_is_never_kept(repo, clock, tmp_path):
    # The recorded size of WHEEL, one byte short: even the right bytes are refused.
    url = repo.serve("/w.whl", ok(WHEEL))
    with remote.Http(clock=clock) as http:
        with pytest.raises(TrustError, match=rf"the repo announced {len(WHEEL)} bytes, the "
                                             rf"manifest records {len(WHEEL) - 1}"):
            http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel", size=len(WHEEL) - 1)
    assert os.listdir(tmp_path) == []


def test_a_wheel_announced_larger_than_its_size_is_not_read(repo, clock, tmp_path):
    url = repo.serve("/w.whl", endless(length=10 << 30))
    started = time.monotonic()
    with remote.Http(clock=clock) as http:
        with pytest.raises(TrustError, match="the repo announced 10737418240 bytes"):
            http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel", size=len(WHEEL))
    assert time.monotonic() - started < 5
    assert os.listdir(tmp_path) == []


def test_the_wheel_cache_passes_the_recorded_size(repo, clock, tmp_path):
    pin = Pin.from_wheel(WHEEL_NAME, WHEEL_SHA, 100)  # a manifest recording less than served
    repo.serve(f"/{PLATFORM}/wheels/{pin.path}", ok(WHEEL))
    cache = remote.WheelCache(str(tmp_path / "wheels"))
    with remote.Http(clock=clock) as http, cache.using():
        with pytest.raises(TrustError, match="the manifest records 100"):
            cache.fetch(http, remote.wheels_url(repo.url, PLATFORM), [pin])
    assert os.listdir(tmp_path / "wheels" / WHEEL_SHA) == []


def test_a_gzip_encoded_body_is_read_as_it_is(repo, http, tmp_path):
    # A server that compresses although asked not to: the bytes are not the wheel's
    # (never decompressed, so no bomb can expand), and are refused.
    import gzip  # pylint: disable=import-outside-toplevel

    body = gzip.compress(WHEEL)
    repo.serve("/w.whl", ok(body))
    # the handler sends no Content-Encoding; what matters is the request and the raw read
    requested = []
    real_get = http.session.get

    def get(url, **kwargs):
        requested.append(kwargs.get("headers"))
        return real_get(url, **kwargs)

    http.session.get = get
    with pytest.raises(TrustError):
        http.download(f"{repo.url}/w.whl", str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel")
    assert requested[0] == {"Accept-Encoding": "identity"}


def test_a_manifest_that_does_not_hash_right_is_refused_before_it_is_parsed(repo, http):
    # These bytes would make the parser raise its own, distinctive error
    # ("venvbuild-manifest 9, written by another venvbuild release"): the hash
    # check comes first, so the error is the mismatch.
    bogus = DRIP_MANIFEST.replace(b"venvbuild-manifest 3", b"venvbuild-manifest 9")
    url = repo.serve("/m.txt", ok(bogus))
    with pytest.raises(ManifestError, match="venvbuild-manifest 9, written by another"):
        remote.fetch_manifest(http, url, WANT)  # what parsing them does
    asked = []

    def vouch(sha):
        asked.append(sha)
        return trust.check_manifest(sha, MANIFEST.sha256, url, "the test's anchor") == sha

    with pytest.raises(TrustError) as info:
        remote.fetch_manifest(http, url, WANT, vouch=vouch)
    assert asked == [hashlib.sha256(bogus).hexdigest()]
    message = str(info.value)
    assert f"has sha256 {asked[0][:16]}..., but the test's anchor says {MANIFEST.sha256[:16]}" in message
    assert "not even parsed" in message


def test_a_vouched_manifest_is_parsed(repo, http):
    url = repo.serve("/m.txt", ok(DRIP_MANIFEST))
    assert remote.fetch_manifest(http, url, WANT, vouch=lambda sha: sha == MANIFEST.sha256) == MANIFEST
    assert remote.fetch_manifest(http, url, WANT, vouch=lambda sha: False) is None


def test_wheel_retries_stop_at_the_callers_deadline_its_transfer_at_its_own(repo, clock, tmp_path):
    # A new attempt begins only within wait_timeout (as every retry); the transfer
    # itself, a first attempt included, is bounded by the wheel's limit.
    url = repo.serve("/w.whl", status(500))
    with remote.Http(clock=clock, deadline=clock.monotonic() + 3) as http:
        with pytest.raises(UnreachableError, match="download failed"):
            http.download(url, str(tmp_path), WHEEL_NAME, WHEEL_SHA, "wheel", size=len(WHEEL))
        assert http.wheel_limit(len(WHEEL)).at > clock.monotonic() + 100
    assert clock.slept == [1.0, 2.0]
    assert repo.hits["/w.whl"] == 3
