"""Functional tests: the real execution and state modules through Salt's loader,
with real pip, uv and gcc building the test packages, and no network."""

import pytest
from saltfactories.utils import random_string
from saltfactories.utils.functional import Loaders


@pytest.fixture(scope="package")
def minion_opts(salt_factories):
    factory = salt_factories.salt_minion_daemon(
        random_string("f-", uppercase=False),
        overrides={"file_client": "local"},
    )
    return factory.config.copy()


@pytest.fixture(scope="package")
def loaders(minion_opts):
    return Loaders(minion_opts, loaded_base_name=f"{__name__}.loaded")


# No per-test loaders.reset_state(): it empties the minion's cachedir, where the
# builder environments and the interpreter cache live, and every test would pay
# for recreating them. Tests isolate themselves by their own repo and venv paths.


@pytest.fixture
def modules(loaders):
    return loaders.modules


@pytest.fixture
def states(loaders):
    return loaders.states


@pytest.fixture
def repo_path(tmp_path):
    return str(tmp_path / "repo")


@pytest.fixture
def venv_path(tmp_path):
    return str(tmp_path / "venvs" / "app")


@pytest.fixture
def venv_args(build_args, repo_path):
    """Arguments every test venv shares: offline builds into a private repo."""
    return {"build_args": build_args, "repo_path": repo_path}
