"""Correct in a real fleet, through the real state module: the inputs OpenStack
operators use (git forks, constraints files by URL, build helpers), the role's
tools inside venvs, platform keys a fleet shares, a flaky network and a full disk.

Each test reproduces a failure of an earlier release and asserts what must
happen instead. Cross-minion parts (the network address, pip and uv targets,
the mine) are in tests/integration/.
"""

import contextlib
import os
import shutil
import subprocess
import time

import pytest

import sdists
import servers
from saltext_venvbuild.core import remote
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.stamp import installed_versions

# venvbuild's own logic and what pip and uv do with its options: the same on every
# Salt (the Salt interfaces it goes through are tested on every Salt elsewhere).
pytestmark = pytest.mark.newest_salt

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}


def venv(tmp_path, name="app"):
    return str(tmp_path / "venvs" / name)


def py(path, code):
    return subprocess.run([os.path.join(path, "bin", "python"), "-c", code],
                          capture_output=True, text=True, check=True).stdout.strip()


def greeting(path):
    return py(path, "import vbdep; print(vbdep.greet('x'))")


def manifests(repo):
    out = {}
    for root, _dirs, files in os.walk(repo):
        if root.endswith("manifests"):
            for name in files:
                with open(os.path.join(root, name), encoding="utf-8") as handle:
                    out[name] = Manifest.parse(handle.read())
    return out


def wheels_named(repo, filename):
    return sorted(os.path.join(root, name) for root, _dirs, files in os.walk(repo)
                  for name in files if name == filename)


@pytest.fixture
def base(tmp_path, build_args):
    return {"repo_path": str(tmp_path / "repo"), "build_args": build_args, "install_tool": "uv"}


# -- 1. a wheel's identity is its source ---------------------------------------------


class Fork:
    """A git repository of vbdep at version 1.0, whose greeting says which commit it is."""

    def __init__(self, path):
        self.path = path
        shutil.copytree(sdists.PACKAGES / "vbdep", path)
        (path / "VBVERSION").write_text("1.0\n")
        self.git("init", "-q", "-b", "main")

    def git(self, *args):
        return subprocess.run(["git", *args], cwd=self.path, env=dict(os.environ, **GIT_ENV),
                              check=True, capture_output=True, text=True).stdout.strip()

    def commit(self, words):
        (self.path / "vbdep" / "__init__.py").write_text(
            f"def greet(name):\n    return f\"hello {{name}} from {words}\"\n")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", words)
        return self.git("rev-parse", "HEAD")

    def constraint(self, ref):
        return f"vbdep @ git+file://{self.path}@{ref}"


@pytest.fixture
def fork(tmp_path):
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    return Fork(tmp_path / "vbdep-fork")


def test_a_fork_and_a_new_commit_at_the_same_version_get_their_own_bytes(states, tmp_path, base,
                                                                         fork):
    one = fork.commit("the fork")
    plain = states.venvbuild.installed(name=venv(tmp_path, "plain"), packages=["vbdep==1.0"], **base)
    forked = states.venvbuild.installed(name=venv(tmp_path, "forked"), packages=["vbdep==1.0"],
                                        constraints=[fork.constraint(one)], **base)
    assert plain.result is True and forked.result is True, (plain.comment, forked.comment)
    assert greeting(venv(tmp_path, "plain")) == "hello x from vbdep"
    assert greeting(venv(tmp_path, "forked")) == "hello x from the fork"
    assert len(wheels_named(base["repo_path"], "vbdep-1.0-py3-none-any.whl")) == 2

    two = fork.commit("the fork's second commit")
    newer = states.venvbuild.installed(name=venv(tmp_path, "forked"), packages=["vbdep==1.0"],
                                       constraints=[fork.constraint(two)], **base)
    assert newer.result is True, newer.comment
    assert greeting(venv(tmp_path, "forked")) == "hello x from the fork's second commit"
    assert len(wheels_named(base["repo_path"], "vbdep-1.0-py3-none-any.whl")) == 3
    # The first commit's manifest still installs exactly its bytes.
    older = states.venvbuild.installed(name=venv(tmp_path, "older"), packages=["vbdep==1.0"],
                                       constraints=[fork.constraint(one)], **base)
    assert older.result is True and greeting(venv(tmp_path, "older")) == "hello x from the fork"
    assert greeting(venv(tmp_path, "plain")) == "hello x from vbdep"


def test_wheels_rebuild_replaces_what_it_rebuilds_and_keeps_what_others_use(states, tmp_path, base,
                                                                            fork):
    first = fork.commit("main, first")
    branch = dict(base, packages=["vbdep==1.0"], constraints=[fork.constraint("main")])
    assert states.venvbuild.installed(name=venv(tmp_path, "branch"), **branch).result
    pinned = dict(base, packages=["vbdep==1.0"], constraints=[fork.constraint(first)])
    assert states.venvbuild.installed(name=venv(tmp_path, "pinned"), **pinned).result
    fork.commit("main, second")

    # Present: the spec (the branch name) is built; a new commit is not looked for.
    same = states.venvbuild.installed(name=venv(tmp_path, "branch"), **branch)
    assert same.result is True and same.changes == {}
    rebuilt = states.venvbuild.installed(name=venv(tmp_path, "branch"), wheels_rebuild=True,
                                         rebuild=True, **branch)
    assert rebuilt.result is True, rebuilt.comment
    assert "manifest" in rebuilt.changes
    assert greeting(venv(tmp_path, "branch")) == "hello x from main, second"
    # The pinned spec's manifest names the first build's bytes, still in the repo.
    fresh = states.venvbuild.installed(name=venv(tmp_path, "pinned2"), venv_id="pinned", **pinned)
    assert fresh.result is True, fresh.comment
    assert greeting(venv(tmp_path, "pinned2")) == "hello x from main, first"


# -- 4. constraints files by URL and path --------------------------------------------


def upper_constraints(vbdep="1.0", count=550):
    lines = ["# OpenStack-style upper constraints"]
    lines += [f"oslo.vbtest{index:03d}===9.{index % 5}.0" for index in range(count)]
    lines += [f"vbtest-only-on-old-python===1.{index};python_version=='3.{index}'"
              for index in range(6, 9)]
    lines.append(f"vbdep==={vbdep}")
    return "\n".join(lines) + "\n"


def test_constraints_files_by_url_as_role_users_write_them(states, modules, tmp_path, base):
    served = tmp_path / "served"
    served.mkdir()
    (served / "upper-constraints.txt").write_text(upper_constraints("1.0"))
    with servers.serve(served) as (url, server):
        args = dict(base, packages=["vbapp"],
                    global_constraints=[f"--constraint {url}/upper-constraints.txt"])
        ret = states.venvbuild.installed(name=venv(tmp_path), **args)
        assert ret.result is True, ret.comment
        assert installed_versions(os.path.realpath(venv(tmp_path)))["vbdep"] == "1.0"  # 1.1 exists
        (manifest,) = manifests(base["repo_path"]).values()
        (cfile,) = manifest.constraint_files
        assert cfile.ref == f"{url}/upper-constraints.txt"

        # A new content of the same URL is not a new spec: present keeps the build...
        (served / "upper-constraints.txt").write_text(upper_constraints("1.1"))
        kept = states.venvbuild.installed(name=venv(tmp_path), **args)
        assert kept.result is True and kept.changes == {}
        assert server.hits.get("/upper-constraints.txt") == 1, "a no-op fetched the file"
        # ...and latest resolves against it again.
        latest = states.venvbuild.installed(name=venv(tmp_path), package_state="latest", **args)
        assert latest.result is True, latest.comment
        assert latest.changes["packages"] == {"changed": {"vbdep": {"old": "1.0", "new": "1.1"}}}

    # The -c form with a local path, in constraints.
    local = tmp_path / "upper.txt"
    local.write_text(upper_constraints("1.0"))
    by_path = states.venvbuild.installed(name=venv(tmp_path, "path"), packages=["vbapp"],
                                         constraints=[f"-c {local}"], **base)
    assert by_path.result is True, by_path.comment
    assert installed_versions(os.path.realpath(venv(tmp_path, "path")))["vbdep"] == "1.0"


def test_an_unreachable_or_bad_constraints_file_is_a_clear_error(states, tmp_path, base,
                                                                 monkeypatch):
    monkeypatch.setattr(remote, "BACKOFF", 0.05)
    gone = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"],
                                      constraints=["--constraint http://127.0.0.1:9/upper.txt"],
                                      **base)
    assert gone.result is False
    assert "constraints file http://127.0.0.1:9/upper.txt: repo unreachable" in gone.comment
    bad = tmp_path / "bad.txt"
    bad.write_text("vbdep===1.0\n--index-url http://evil.invalid/simple\n")
    refused = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"],
                                         constraints=[f"-c {bad}"], **base)
    assert refused.result is False
    assert "line 2" in refused.comment and "pip option" in refused.comment
    assert not os.path.lexists(venv(tmp_path))


def test_a_constraints_file_over_https_with_ca_bundle(states, tmp_path, base):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    served = tmp_path / "served"
    served.mkdir()
    (served / "upper.txt").write_text(upper_constraints("1.0"))
    tls = tmp_path / "tls"
    tls.mkdir()
    with servers.serve_https(served, tls) as (url, ca):
        args = dict(base, packages=["vbapp"], constraints=[f"-c {url}/upper.txt"])
        untrusted = states.venvbuild.installed(name=venv(tmp_path), **args)
        assert untrusted.result is False and "ca_bundle" in untrusted.comment
        ret = states.venvbuild.installed(name=venv(tmp_path), ca_bundle=ca, **args)
        assert ret.result is True, ret.comment


# -- 5. build requirements and isolation ---------------------------------------------


def test_build_requirements_for_builds_without_isolation(states, loaders, tmp_path, base):
    args = dict(base, packages=["vbhelped"], default_build_args=["--no-build-isolation"])
    missing = states.venvbuild.installed(name=venv(tmp_path), **args)
    assert missing.result is False
    assert "No module named 'vbhelper'" in missing.comment
    ret = states.venvbuild.installed(name=venv(tmp_path), build_requirements_extra=["vbhelper"],
                                     **args)
    assert ret.result is True, ret.comment
    assert py(venv(tmp_path), "import vbhelped; print(vbhelped.TEXT)") == "made by vbhelper"

    builders = os.path.join(loaders.opts["cachedir"], "venvbuild", "builders")
    readies = [os.path.join(root, "venvbuild-builder.json") for root, _d, files in os.walk(builders)
               if "venvbuild-builder.json" in files and "vbhelper" in
               open(os.path.join(root, "venvbuild-builder.json"), encoding="utf-8").read()]
    (ready,) = readies
    # A marker survives only as long as the environment does (an inode number can be reused)
    marker = os.path.join(os.path.dirname(ready), "kept-marker")
    with open(marker, "w", encoding="utf-8") as handle:
        handle.write("x")
    kept = states.venvbuild.wheels_built(name="app", packages=["vbhelped"], wheels_rebuild=True,
                                         build_requirements_extra=["vbhelper"],
                                         default_build_args=["--no-build-isolation"],
                                         repo_path=base["repo_path"], build_args=base["build_args"],
                                         install_tool="uv")
    assert kept.result is True, kept.comment
    assert os.path.exists(marker), "wheels_rebuild alone recreated the builder environment"
    recreated = states.venvbuild.wheels_built(name="app", packages=["vbhelped"], wheels_rebuild=True,
                                              rebuild=True, build_requirements_extra=["vbhelper"],
                                              default_build_args=["--no-build-isolation"],
                                              repo_path=base["repo_path"],
                                              build_args=base["build_args"], install_tool="uv")
    assert recreated.result is True, recreated.comment
    assert not os.path.exists(marker), "wheels_rebuild with rebuild kept the environment"
    assert os.path.exists(ready)


# -- 6. the role's tools inside venvs -----------------------------------------------


@pytest.mark.parametrize("tool", ["uv", "pip"])
def test_seed_tools_puts_the_role_tools_in_from_the_manifest(states, tmp_path, base, tool):
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"], seed_tools=True,
                                     **dict(base, install_tool=tool))
    assert ret.result is True, ret.comment
    (manifest,) = manifests(base["repo_path"]).values()
    expected = {"pip", "setuptools", "wheel", "pbr", "vbdep"} | ({"uv"} if tool == "uv" else set())
    assert expected <= set(manifest.versions())
    landed = installed_versions(os.path.realpath(venv(tmp_path)))
    assert {name: landed[name] for name in manifest.versions()} == manifest.versions()
    version = subprocess.run([os.path.join(venv(tmp_path), "bin", "pip"), "--version"],
                             capture_output=True, text=True, check=True).stdout
    assert f"pip {manifest.versions()['pip']}" in version


# -- 9. a flaky network and a full disk ----------------------------------------------


@pytest.fixture(scope="module")
def served_repo(loaders, tmp_path_factory, build_args):
    """A built repo (vbapp, vbdep) to serve, and the arguments of its spec."""
    repo = str(tmp_path_factory.mktemp("flaky") / "repo")
    args = {"packages": ["vbapp", "vbdep==1.0"], "build_args": build_args, "install_tool": "uv"}
    assert loaders.states.venvbuild.wheels_built(name="app", repo_path=repo, **args).result
    (manifest,) = manifests(repo).values()
    return {"repo": repo, "args": args, "manifest": manifest}


@pytest.fixture
def fresh_cache(loaders, served_repo):
    """No wheel of the served repo in the target's cache, so every one is downloaded."""
    cache = os.path.join(loaders.opts["cachedir"], "venvbuild", "wheels")
    for pin in served_repo["manifest"].pins:
        shutil.rmtree(os.path.join(cache, pin.sha256), ignore_errors=True)
    return cache


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(remote, "BACKOFF", 0.05)
    monkeypatch.setattr(remote, "ATTEMPT_TIMEOUT", 1.5)


@pytest.mark.parametrize("faults", [
    {"/app-": ["500", "500"]},
    {"/app-": ["reset"], "vbdep-1.0-py3-none-any.whl": ["reset", "500"]},
    {"vbapp-1.0-py3-none-any.whl": ["truncate", "truncate"]},
    {"/app-": ["slow"], "vbdep-1.0-py3-none-any.whl": ["slow"]},
])
def test_a_flaky_repo_is_retried_and_the_install_converges(states, tmp_path, served_repo,
                                                           fresh_cache, quick_retries, faults):
    with servers.serve(served_repo["repo"], misbehave=faults, slow_seconds=3) as (url, server):
        ret = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", repo_url=url,
                                         wait_timeout=60, **served_repo["args"])
        assert ret.result is True, ret.comment
        assert all(not left for left in server.misbehave.values()), "a fault was not met"
    assert installed_versions(os.path.realpath(venv(tmp_path))) == served_repo["manifest"].versions()


def test_wrong_bytes_are_refused_and_the_next_run_converges(states, tmp_path, served_repo,
                                                            fresh_cache, quick_retries):
    faults = {"vbdep-1.0-py3-none-any.whl": ["wrong"] * 10}
    with servers.serve(served_repo["repo"], misbehave=faults) as (url, _server):
        ret = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", repo_url=url,
                                         wait_timeout=30, **served_repo["args"])
    assert ret.result is False
    assert "do not match the manifest" in ret.comment and "refused" in ret.comment
    assert not os.path.lexists(venv(tmp_path))
    assert not os.path.exists(os.path.join(tmp_path, "venvs", ".app.versions")) or \
        not os.listdir(os.path.join(tmp_path, "venvs", ".app.versions"))
    for _root, _dirs, files in os.walk(fresh_cache):
        assert not [f for f in files if f.startswith(".part-")]
    with servers.serve(served_repo["repo"]) as (url, _server):
        again = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", repo_url=url,
                                           **served_repo["args"])
    assert again.result is True, again.comment


def test_a_dead_repo_is_a_clear_error_within_the_wait(states, tmp_path, served_repo, quick_retries):
    started = time.monotonic()
    ret = states.venvbuild.installed(name=venv(tmp_path), venv_id="app",
                                     repo_url="http://127.0.0.1:9", wait_timeout=5,
                                     **served_repo["args"])
    assert time.monotonic() - started < 30
    assert ret.result is False
    assert "repo unreachable" in ret.comment and "127.0.0.1:9" in ret.comment


@contextlib.contextmanager
def small_filesystem(path, size="4m"):
    """A tmpfs of ``size`` mounted at ``path`` (root only)."""
    path.mkdir(parents=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                           str(path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path, leave_bytes):
    """Fill the filesystem of ``path`` until about ``leave_bytes`` are free."""
    stats = os.statvfs(path)
    free = stats.f_bavail * stats.f_frsize
    with open(os.path.join(path, "filler"), "wb") as handle:
        handle.write(b"\0" * max(0, free - leave_bytes))


def test_a_full_repo_filesystem_is_a_clear_error_and_leaves_nothing_half_written(states, tmp_path,
                                                                                  base):
    with small_filesystem(tmp_path / "small") as small:
        repo = str(small / "repo")
        fill(small, 8 * 1024)
        ret = states.venvbuild.wheels_built(name="app", packages=["vbapp", "vbcext", "vbdep==1.0"],
                                            repo_path=repo, build_args=base["build_args"],
                                            install_tool="uv")
        assert ret.result is False
        # The build's own output says why (pip's traceback included); venvbuild's
        # message says what failed and where the log is.
        assert ret.comment.startswith("venv app: building wheels for spec ")
        assert "No space left on device" in ret.comment and "full log:" in ret.comment
        assert manifests(repo) == {}
        leftovers = [f for _r, _d, fs in os.walk(repo) for f in fs if f.startswith((".tmp-", ".part-"))]
        assert leftovers == []
        os.unlink(small / "filler")
        again = states.venvbuild.wheels_built(name="app", packages=["vbapp", "vbcext", "vbdep==1.0"],
                                              repo_path=repo, build_args=base["build_args"],
                                              install_tool="uv")
        assert again.result is True, again.comment


def test_a_full_venv_filesystem_keeps_the_live_venv(states, tmp_path, base):
    with small_filesystem(tmp_path / "small", size="64m") as small:
        path = str(small / "venvs" / "app")
        first = states.venvbuild.installed(name=path, packages=["vbdep==1.0"], **base)
        assert first.result is True, first.comment
        live = os.path.realpath(path)
        fill(small, 16 * 1024)
        ret = states.venvbuild.installed(name=path, packages=["vbapp", "vbdep==1.0"], **base)
        assert ret.result is False
        assert "No space left on device" in ret.comment or "ENOSPC" in ret.comment, ret.comment
        assert os.path.realpath(path) == live
        assert greeting(path) == "hello x from vbdep"
        versions = os.listdir(small / "venvs" / ".app.versions")
        assert versions == [os.path.basename(live)], "a half-made venv was left behind"
