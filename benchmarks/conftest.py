"""Fixtures of the fleet benchmark (scripts/benchmark --fleet): salt-factories with
a short private root, its log server on loopback. Not part of the test suite: it
needs the package index (it builds real packages) and only prints figures."""

import pathlib
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))  # servers.py: the host's address


def pytest_sessionstart(session):
    plugin = session.config.pluginmanager.get_plugin("saltfactories-log-server")
    if plugin is not None:
        plugin.log_host = "127.0.0.1"


@pytest.fixture(scope="session")
def salt_factories_config(tmp_path_factory):
    return {
        "root_dir": str(tmp_path_factory.mktemp("sf")),
        "start_timeout": 120,
        "inject_sitecustomize": False,
        "slow_stop": False,
    }
