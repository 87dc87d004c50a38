"""Shared fixtures: offline package index, salt-factories settings.

No test reaches a package index: the index variables of pip and uv point at a
closed loopback port, and builds use ``--no-index --find-links <sdists>``. The exception: tests marked
``network`` (a real service venv from the index), run only with
``VENVBUILD_NETWORK_TESTS=1``.
"""

import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import sdists  # noqa: E402  pylint: disable=wrong-import-position

REPO_ROOT = pathlib.Path(__file__).parent.parent
STATES_DIR = REPO_ROOT / "states"

# A port nothing listens on: any attempt to use an index fails fast and loudly.
DEAD_INDEX = "http://127.0.0.1:9/simple"
OFFLINE_ENV = {
    "PIP_INDEX_URL": DEAD_INDEX,
    "UV_INDEX_URL": DEAD_INDEX,
    "UV_DEFAULT_INDEX": DEAD_INDEX,
    "PIP_RETRIES": "0",
    "PIP_TIMEOUT": "2",
}


def pytest_sessionstart(session):
    plugin = session.config.pluginmanager.get_plugin("saltfactories-log-server")
    if plugin is not None:
        plugin.log_host = "127.0.0.1"


# The newest Salt line the suite runs on (README "Tested with").
NEWEST_SALT = 3008


def pytest_collection_modifyitems(config, items):
    # Tests marked newest_salt check venvbuild's own logic and what pip and uv do
    # with its options, the same on every Salt (the Salt interfaces they go through
    # are tested on every Salt by the others): they run on the newest Salt only, so
    # that the older Salts' runs go to what Salt's version can change (states,
    # loader, pillar, mine, peer, orchestration, fileserver) and to every security
    # route.
    import salt.version  # pylint: disable=import-outside-toplevel

    if salt.version.__saltstack_version__.major < NEWEST_SALT:
        older = pytest.mark.skip(reason=f"venvbuild's own logic and what pip and uv do, the "
                                        f"same on every Salt: run on Salt {NEWEST_SALT}")
        for item in items:
            if "newest_salt" in item.keywords:
                item.add_marker(older)
    # Tests marked network reach the package index (pip's and uv's defaults):
    # only when asked, as scripts/test does for its Salt 3008 run.
    if os.environ.get("VENVBUILD_NETWORK_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs the package index: set VENVBUILD_NETWORK_TESTS=1")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def offline_environ(tmp_path_factory):
    # pip keeps wheels it built from an sdist in its cache, keyed by the sdist's URL.
    # The test sdists sit at the same path on every run (a fixed basetemp), so a
    # shared cache would answer a build from an earlier run: each session gets its own.
    environ = dict(OFFLINE_ENV, PIP_CACHE_DIR=str(tmp_path_factory.mktemp("pip-cache")))
    saved = {key: os.environ.get(key) for key in environ}
    os.environ.update(environ)
    try:
        yield environ
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def sdist_dir(tmp_path_factory):
    """A find-links directory: sdists of the test packages plus build backends."""
    path = tmp_path_factory.mktemp("sdists")
    sdists.make_index(path, sdists.DEFAULT_PACKAGES + [("vbdep", "1.1")])
    return path


@pytest.fixture(scope="session")
def build_args(sdist_dir):
    """Offline builds from the test sdists, in the builder environment (which holds
    setuptools and wheel): the role's default --no-build-isolation, and twice as
    fast as an isolated environment per sdist. Isolated builds are tested where
    isolation matters (test_venvbuild_fleet.py, build requirements)."""
    return ["--no-build-isolation", "--no-index", "--find-links", str(sdist_dir)]


@pytest.fixture(scope="session")
def salt_factories_config(tmp_path_factory):
    return {
        "root_dir": str(tmp_path_factory.mktemp("sf")),
        "start_timeout": 120 if os.environ.get("CI") else 60,
        "inject_sitecustomize": False,
        # slow_stop only matters for collecting coverage from daemons; it costs ~5 s each.
        "slow_stop": False,
    }


def pytest_sessionfinish(session, exitstatus):
    # Salt's log handlers flush at interpreter exit into pytest's closed capture
    # streams; that prints tracebacks about nothing. Silence logging's own errors.
    import logging  # pylint: disable=import-outside-toplevel

    logging.raiseExceptions = False
