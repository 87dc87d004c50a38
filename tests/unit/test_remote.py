"""core/remote.py: builder choice, manifest URLs, fetching from a real HTTP server."""

import collections
import http.server
import threading

import pytest

from saltext_venvbuild.core import remote
from saltext_venvbuild.core.errors import RepoError
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin

PLATFORM = "debian-12-x86_64-cp311"


def info(url="http://b:8181", platforms=(PLATFORM,)):
    return {"url": url, "platforms": list(platforms)}


def test_urls_follow_the_repo_layout():
    assert remote.manifest_url("http://b:8181/", PLATFORM, "app", "0123456789abcdef") == (
        f"http://b:8181/{PLATFORM}/manifests/app-0123456789abcdef.txt"
    )
    assert remote.wheels_url("http://b:8181", PLATFORM) == f"http://b:8181/{PLATFORM}/wheels/"


def test_choose_builder_only_among_those_serving_the_platform():
    builders = {
        "b1": info(platforms=["debian-11-x86_64-cp39"]),
        "b2": info(url=""),  # no URL published: cannot serve
        "b3": info(url="http://b3"),
        "b4": "not a dict",
    }
    assert remote.choose_builder("t1", builders, PLATFORM) == ("b3", builders["b3"])
    assert remote.choose_builder("t1", {}, PLATFORM) is None
    assert remote.choose_builder("t1", None, PLATFORM) is None


def test_choose_builder_is_deterministic_and_spreads_load():
    builders = {f"b{i}": info(url=f"http://b{i}") for i in range(4)}
    picks = [remote.choose_builder(f"target-{n}", builders, PLATFORM)[0] for n in range(400)]
    again = [remote.choose_builder(f"target-{n}", dict(reversed(builders.items())), PLATFORM)[0]
             for n in range(400)]
    assert picks == again
    counts = collections.Counter(picks)
    assert set(counts) == set(builders)
    assert min(counts.values()) > 60  # 100 each on average


def test_adding_a_builder_moves_only_targets_that_prefer_it():
    builders = {f"b{i}": info(url=f"http://b{i}") for i in range(3)}
    before = {n: remote.choose_builder(f"t{n}", builders, PLATFORM)[0] for n in range(300)}
    builders["b3"] = info(url="http://b3")
    after = {n: remote.choose_builder(f"t{n}", builders, PLATFORM)[0] for n in range(300)}
    moved = [n for n in before if before[n] != after[n]]
    assert moved and all(after[n] == "b3" for n in moved)


MANIFEST = Manifest.create("app", "0123456789abcdef", PLATFORM, ["vbapp"],
                           [Pin.from_wheel("vbapp-1.0-py3-none-any.whl", "a" * 64)])


@pytest.fixture
def server():
    """A real HTTP server on loopback; ``routes`` maps paths to (status, body)."""
    routes = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            status, body = routes.get(self.path, (404, b"not found"))
            if callable(body):
                status, body = body()
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetch_manifest_reads_it(server):
    base, routes = server
    routes["/m.txt"] = (200, MANIFEST.render().encode())
    assert remote.fetch_manifest(f"{base}/m.txt") == MANIFEST


def test_fetch_manifest_404_means_not_built_yet(server):
    base, _routes = server
    assert remote.fetch_manifest(f"{base}/missing.txt") is None


@pytest.mark.parametrize("status, body, message", [
    (500, b"boom", "HTTP 500"),
    (200, b"<html>not a manifest</html>", "not a venvbuild manifest"),
])
def test_fetch_manifest_errors_name_the_url(server, status, body, message):
    base, routes = server
    routes["/m.txt"] = (status, body)
    with pytest.raises(RepoError, match=message) as info_:
        remote.fetch_manifest(f"{base}/m.txt")
    assert f"{base}/m.txt" in str(info_.value)


def test_fetch_manifest_unreachable_repo():
    with pytest.raises(RepoError, match="repo unreachable"):
        remote.fetch_manifest("http://127.0.0.1:9/m.txt", timeout=2)


def test_wait_for_manifest_polls_until_it_appears(server):
    base, routes = server
    calls = []

    def later():
        calls.append(1)
        return (200, MANIFEST.render().encode()) if len(calls) >= 3 else (404, b"")

    routes["/m.txt"] = (None, later)
    got = remote.wait_for_manifest(f"{base}/m.txt", wait_timeout=30, interval=0.01)
    assert got == MANIFEST
    assert len(calls) == 3


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_wait_for_manifest_gives_up_with_the_hint(server):
    base, _routes = server
    clock = FakeClock()
    with pytest.raises(RepoError) as info_:
        remote.wait_for_manifest(f"{base}/m.txt", wait_timeout=12, interval=5, clock=clock,
                                 hint="(salt b1 state.apply venvbuild.builder)")
    message = str(info_.value)
    assert f"manifest {base}/m.txt not found after 12 s" in message
    assert "(salt b1 state.apply venvbuild.builder)" in message
    assert clock.slept == [5, 5, 2]
