"""Migrating from the python_venv_build role without surprises (issue #16, items 3 and 4).

Distro packages: the role's base lists join a venv's own, and they are ensured on
every run, so a runtime package someone removed comes back, while a no-op run
still starts no process (real apt through Salt's ``pkg``). Retries: a build
against a flaky find-links server succeeds after retries, each failed attempt
logged; a package that fails to build fails at once (real pip, no index).
"""

import fcntl
import json
import logging
import os
import shutil
import socket
import subprocess
import time

import pytest

import servers
from saltext_venvbuild.core import distro
from saltext_venvbuild.core.manifest import Manifest

APT_PACKAGE = "figlet"  # small, in Debian main, and nothing here depends on it


def venv(tmp_path, name="app"):
    return str(tmp_path / "venvs" / name)


def dpkg_installed(name):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name],
                         capture_output=True, text=True, check=False)
    return out.stdout.endswith("installed") and "not-installed" not in out.stdout


def apt_remove(name):
    subprocess.run(["apt-get", "remove", "-y", "-qq", name], capture_output=True, check=False,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


@pytest.fixture
def apt_package():
    """APT_PACKAGE, removed before and after; one apt test at a time (the lock
    test_venvbuild_role_features.py takes too), so no other test changes the
    package database while this one watches it."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("installing Debian packages needs root and apt")
    with open("/tmp/venvbuild-tests-apt.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        policy = subprocess.run(["apt-cache", "policy", APT_PACKAGE], capture_output=True,
                                text=True, check=False).stdout
        if "Candidate:" not in policy or "Candidate: (none)" in policy:
            pytest.skip(f"{APT_PACKAGE} is not available from apt here")
        apt_remove(APT_PACKAGE)
        assert not dpkg_installed(APT_PACKAGE)
        yield APT_PACKAGE
        apt_remove(APT_PACKAGE)


@pytest.fixture
def no_process_or_network(monkeypatch):
    """Within ``with no_process_or_network():``, any subprocess or connection fails
    the test (as tests/functional/states/test_venvbuild_lifecycle.py's no-op test)."""
    import contextlib  # pylint: disable=import-outside-toplevel

    @contextlib.contextmanager
    def forbid():
        def no_popen(self, *args, **kwargs):
            raise AssertionError(f"a no-op spawned a process: {args[:1]}")

        def no_connect(self, address):
            raise AssertionError(f"a no-op opened a connection to {address}")

        with monkeypatch.context() as patch:
            patch.setattr(subprocess.Popen, "__init__", no_popen)
            patch.setattr(socket.socket, "connect", no_connect)
            yield

    return forbid


def _record(loaders):
    with open(os.path.join(loaders.opts["cachedir"], "venvbuild", "pkgs.json"),
              encoding="utf-8") as handle:
        return json.load(handle)


# -- item 3: distro packages ---------------------------------------------------------


def test_distro_packages_join_the_base_lists_and_come_back_when_removed(
        states, loaders, tmp_path, build_args, apt_package, no_process_or_network):
    """venv_build_base_distro_package_list, venv_install_base_distro_package_list ->
    base_pkgs (the union, by default); venv_install_distro_package_list -> install_pkgs,
    ensured on every run"""
    args = {"name": venv(tmp_path), "packages": ["vbdep==1.0"], "install_pkgs": [apt_package],
            "repo_path": str(tmp_path / "repo"), "build_args": build_args,
            "pkgs_cache_valid_time": 3600}
    first = states.venvbuild.installed(**args)
    assert first.result is True, first.comment
    assert dpkg_installed(apt_package)
    assert apt_package in first.changes["distro_packages"]
    # The union: the role's base lists of this OS family (this minion builds for itself:
    # the build's and the venv's) and the venv's own, all found installed.
    family = loaders.grains["os_family"]
    assert family == "Debian"
    wanted = {apt_package, *distro.base_packages(family, "build"),
              *distro.base_packages(family, "install")}
    assert wanted <= set(_record(loaders)["present"])

    with no_process_or_network():  # the package database is as it was: files only
        again = states.venvbuild.installed(**args)
    assert again.result is True and again.changes == {}, again.comment

    apt_remove(apt_package)  # someone removes a runtime package: dpkg rewrites its database
    assert not dpkg_installed(apt_package)
    predicted = states.venvbuild.installed(test=True, **args)
    assert predicted.result is None
    assert predicted.changes == {
        "distro_packages": {apt_package: {"old": "", "new": "(would be installed)"}}}
    assert f"would install distro packages {apt_package}" in predicted.comment
    assert not dpkg_installed(apt_package), "test mode installed a package"

    back = states.venvbuild.installed(**args)
    assert back.result is True, back.comment
    assert dpkg_installed(apt_package)
    assert list(back.changes) == ["distro_packages"]
    assert list(back.changes["distro_packages"]) == [apt_package]  # only what was missing
    assert "is current" in back.comment  # the venv itself was not touched

    with no_process_or_network():
        assert states.venvbuild.installed(**args).changes == {}


def test_base_pkgs_false_ensures_only_the_venvs_own_packages(states, loaders, tmp_path,
                                                              build_args):
    """base_pkgs: false (the role's base lists set to [])"""
    record = os.path.join(loaders.opts["cachedir"], "venvbuild", "pkgs.json")
    if os.path.exists(record):
        os.unlink(record)
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"],
                                     repo_path=str(tmp_path / "repo"), build_args=build_args,
                                     base_pkgs=False)
    assert ret.result is True, ret.comment
    assert "distro_packages" not in ret.changes
    assert not os.path.exists(record)  # no package to ensure: pkg was not even asked


# -- item 4: retries -----------------------------------------------------------------


def _staging_empty(repo_path):
    leftovers = []
    for root, dirs, _files in os.walk(repo_path):
        if os.path.basename(root) == ".staging":
            leftovers += dirs
    return leftovers == []


def test_a_build_retries_a_flaky_index_and_logs_each_failed_attempt(
        states, tmp_path, sdist_dir, caplog):
    """the role's retries: 5 and delay: 2 on its wheel build -> retries, retry_delay"""
    caplog.set_level(logging.WARNING, logger="saltext_venvbuild.core.retry")
    repo_path = str(tmp_path / "repo")
    # The sdist's first download answers 503, the second drops the connection; pip
    # itself does not retry (--retries 0), so each fails a pip run.
    with servers.serve(sdist_dir, misbehave={"vbdep-1.0.tar.gz": ["503", "reset"]}) as (url, srv):
        ret = states.venvbuild.installed(
            name=venv(tmp_path), packages=["vbdep==1.0"], repo_path=repo_path, install_tool="pip",
            build_args=["--no-build-isolation", "--no-index", "--find-links", f"{url}/",
                        "--retries", "0"],
            retries=3, retry_delay=0.1)
    assert ret.result is True, ret.comment
    assert srv.hits["/vbdep-1.0.tar.gz"] == 3
    failed = [r.getMessage() for r in caplog.records if "failed (" in r.getMessage()]
    assert len(failed) == 2, failed
    assert "building wheels for spec" in failed[0] and "attempt 1 of 4 failed" in failed[0]
    assert "503" in failed[0]
    assert "attempt 2 of 4 failed" in failed[1] and "connection" in failed[1].lower()
    # Nothing of the failed attempts is left or published: the staging area is empty and
    # the repo holds exactly the manifest's wheel.
    assert _staging_empty(repo_path)
    manifests, wheels = [], []
    for root, _dirs, files in os.walk(repo_path):
        manifests += [os.path.join(root, f) for f in files if root.endswith("manifests")]
        wheels += [f for f in files if f.endswith(".whl")]
    assert len(manifests) == 1
    with open(manifests[0], encoding="utf-8") as handle:
        manifest = Manifest.parse(handle.read())
    assert sorted(pin.filename for pin in manifest.pins) == sorted(wheels) == [
        "vbdep-1.0-py3-none-any.whl"]


def test_a_build_gives_up_after_the_retries(states, tmp_path, sdist_dir, caplog):
    caplog.set_level(logging.WARNING, logger="saltext_venvbuild.core.retry")
    with servers.serve(sdist_dir, misbehave={"vbdep-1.0.tar.gz": ["503"] * 10}) as (url, srv):
        ret = states.venvbuild.installed(
            name=venv(tmp_path), packages=["vbdep==1.0"], repo_path=str(tmp_path / "repo"),
            install_tool="pip",
            build_args=["--no-build-isolation", "--no-index", "--find-links", f"{url}/",
                        "--retries", "0"],
            retries=1, retry_delay=0)
    assert ret.result is False
    assert srv.hits["/vbdep-1.0.tar.gz"] == 2
    assert "failed 2 times with a passing cause" in ret.comment
    assert "raise retries or retry_delay" in ret.comment
    assert len([r for r in caplog.records if "attempt 1 of 2 failed" in r.getMessage()]) == 1
    assert not os.path.lexists(venv(tmp_path))


def test_a_package_that_fails_to_build_fails_at_once(states, tmp_path, build_args, caplog):
    """no retry of a build failure (the role retries any failure)"""
    caplog.set_level(logging.WARNING, logger="saltext_venvbuild.core.retry")
    repo_path = str(tmp_path / "repo")
    started = time.monotonic()
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0", "vbbroken"],
                                     repo_path=repo_path, build_args=build_args, retries=5,
                                     retry_delay=60)
    assert ret.result is False
    assert "vbbroken: this package fails to build on purpose" in ret.comment
    assert "passing cause" not in ret.comment
    assert time.monotonic() - started < 60, "a build failure was retried"
    assert [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()] == []
    assert _staging_empty(repo_path)
    assert not os.path.lexists(venv(tmp_path))
