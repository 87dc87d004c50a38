"""Where installed takes its wheels from: repo_url, the mine, or a local build."""

from unittest import mock

import pytest

import saltext_venvbuild.modules.venvbuild as venvbuild_mod
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.spec import VenvSpec

PLATFORM = "debian-12-x86_64-cp311"
SPEC = VenvSpec.create("app", packages=["vbapp"], platform=PLATFORM)


@pytest.fixture
def mine(monkeypatch):
    get = mock.Mock(return_value={})
    monkeypatch.setattr(venvbuild_mod, "__salt__", {"mine.get": get}, raising=False)
    monkeypatch.setattr(venvbuild_mod, "__opts__", {"id": "t1"}, raising=False)
    return get


def opts(**kwargs):
    out = dict(venvbuild_mod.OPTIONS)
    out.update(kwargs)
    return out


def test_repo_url_needs_no_mine(mine):
    source = venvbuild_mod._find_source(opts(repo_url="http://r:8181"), SPEC)
    assert source == {"url": "http://r:8181", "builder": None, "how": "repo_url"}
    mine.assert_not_called()


def test_builder_id_is_looked_up_in_the_mine(mine):
    mine.return_value = {"b1": {"url": "http://b1:8181", "platforms": [PLATFORM]}}
    source = venvbuild_mod._find_source(opts(builder="b1"), SPEC)
    mine.assert_called_once_with("b1", "venvbuild_repo", tgt_type="glob")
    assert source["url"] == "http://b1:8181" and source["builder"] == "b1"


def test_builder_target_with_its_type(mine):
    mine.return_value = {
        "b1": {"url": "http://b1", "platforms": ["rocky-9-x86_64-cp39"]},
        "b2": {"url": "http://b2", "platforms": [PLATFORM]},
    }
    source = venvbuild_mod._find_source(
        opts(builder_target="roles:venvbuild-builder", builder_tgt_type="grain"), SPEC)
    mine.assert_called_once_with("roles:venvbuild-builder", "venvbuild_repo", tgt_type="grain")
    assert source["builder"] == "b2"


def test_no_builder_with_wheel_build_means_local(mine):
    assert venvbuild_mod._find_source(opts(builder_target="roles:x"), SPEC) is None


def test_no_builder_without_wheel_build_is_a_clear_error(mine):
    mine.return_value = {"b1": {"url": "http://b1", "platforms": ["rocky-9-x86_64-cp39"]}}
    with pytest.raises(SpecError) as info:
        venvbuild_mod._find_source(opts(builder_target="roles:x", wheel_build=False), SPEC)
    message = str(info.value)
    assert f"no builder serves platform {PLATFORM}" in message
    assert "b1" in message and "wheel_build is false" in message
    assert "state.apply venvbuild.builder" in message
