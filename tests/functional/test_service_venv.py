"""A real OpenStack service venv from the package index, as OpenStack-Ansible builds one.

Keystone 29.0.2 (a release of the 2026.1 series), PyMySQL and uWSGI (compiled
from its sdist: gcc and the Python headers), resolved against the real
upper-constraints.txt of OpenStack 2026.1 (tests/data/upper-constraints-2026.1.txt,
stable/2026.1 of openstack/requirements), served over HTTP and given as the
role's users write it: ``--constraint <url>`` in ``global_constraints``, its
content pinned with ``#sha256=``. Built and installed with pip and with uv; then
the service's console scripts run and every installed version the constraints
name is the one they pin.

It needs the package index, so it is marked ``network`` and skipped unless
``VENVBUILD_NETWORK_TESTS=1`` (scripts/test sets it for its Salt 3008 run).
venvbuild runs pip and uv with an environment and caches of its own
(``<cachedir>/venvbuild/cache``, here under pytest's temporary directory), so
the offline index variables of tests/conftest.py do not reach them; pip's
configuration files do. The second tool's build of uWSGI reuses the wheel
pip's cache kept from the first (the same sdist URL), so the compile is paid once.
"""

import hashlib
import os
import pathlib
import subprocess
import time

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import servers
from saltext_venvbuild.core.stamp import installed_versions

pytestmark = pytest.mark.network

DATA = pathlib.Path(__file__).parent.parent / "data"
CONSTRAINTS = "upper-constraints-2026.1.txt"
KEYSTONE = "29.0.2"
UWSGI = "2.0.31"


def pins(path, python):
    """``{canonical name: Requirement}`` of the constraints file's lines that apply to
    the interpreter ``python`` (a venv's bin/python), by their environment markers."""
    env = default_environment()
    env.update(python_version=subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True).stdout.strip())
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate(env):
                out[canonicalize_name(req.name)] = req
    return out


def run(venv, script, *args):
    return subprocess.run([os.path.join(venv, "bin", script), *args], capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.parametrize("install_tool", ["pip", "uv"])
def test_a_keystone_venv_against_the_releases_upper_constraints(states, minion_opts, tmp_path,
                                                                 tmp_path_factory, install_tool):
    sha = hashlib.sha256((DATA / CONSTRAINTS).read_bytes()).hexdigest()
    venv = str(tmp_path / "venvs" / "keystone")
    with servers.serve(DATA) as (url, server):
        args = {
            "repo_path": str(tmp_path / "repo"),
            "install_tool": install_tool,
            "packages": [f"keystone=={KEYSTONE}", "PyMySQL", f"uWSGI=={UWSGI}"],
            "global_constraints": [f"--constraint {url}/{CONSTRAINTS}#sha256={sha}"],
            "build_timeout": 900,
        }
        started = time.monotonic()
        ret = states.venvbuild.installed(name=venv, venv_id="keystone", **args)
        took = time.monotonic() - started
        assert ret.result is True, ret.comment
        assert server.hits.get(f"/{CONSTRAINTS}") == 1  # read once, by the build
        print(f"{install_tool}: keystone venv built and installed in {took:.0f} s")

        # A second run is a no-op that fetches nothing.
        again = states.venvbuild.installed(name=venv, venv_id="keystone", **args)
        assert again.result is True and again.changes == {}, again.comment
        assert server.hits.get(f"/{CONSTRAINTS}") == 1

    # pip's and uv's caches are venvbuild's own, in the minion's cachedir: under pytest's tmp.
    cache = os.path.join(minion_opts["cachedir"], "venvbuild", "cache")
    assert os.path.isdir(os.path.join(cache, install_tool))
    assert os.path.commonpath([cache, str(tmp_path_factory.getbasetemp())]) == str(
        tmp_path_factory.getbasetemp())

    installed = installed_versions(venv)
    assert installed["keystone"] == KEYSTONE
    assert installed["uwsgi"] == UWSGI
    # Every distribution the constraints name is at the version they pin: the
    # constraints reached the resolver (PyMySQL is 1.1.2 there; 1.2.0 exists).
    constrained = pins(DATA / CONSTRAINTS, os.path.join(venv, "bin", "python"))
    assert installed["pymysql"] == "1.1.2" == str(next(iter(constrained["pymysql"].specifier)).version)
    wrong = {name: (version, str(constrained[name].specifier))
             for name, version in installed.items()
             if name in constrained and not constrained[name].specifier.contains(version, prereleases=True)}
    assert wrong == {}
    assert len([name for name in installed if name in constrained]) > 50  # a real service's tree

    # The service's console scripts run from the venv.
    manage = run(venv, "keystone-manage", "--version")
    assert manage.returncode == 0, manage.stderr[-2000:]
    assert (manage.stdout + manage.stderr).strip() == KEYSTONE
    uwsgi = run(venv, "uwsgi", "--version")
    assert uwsgi.returncode == 0 and uwsgi.stdout.strip() == UWSGI, uwsgi.stderr[-2000:]
