"""The fleet runner as a thin Salt adapter (salt-factories loader mock).

``mine.get`` (the master's runner) is a mock answering by (target, alias,
target type), and the pillar compilation a stub counting its calls: what is
tested here is what the runner asks Salt and how it fails, the view itself in
tests/unit/core/test_fleet.py and against real daemons in
tests/integration/test_fleet_hostile.py.
"""

from unittest import mock

import pytest
from salt.exceptions import SaltCacheError

import saltext_venvbuild.runners.venvbuild as runner

PLATFORM = "debian-12-x86_64-cp311"
SPEC = "0123456789abcdef"
SHA = "ab" * 32
VENV = {"path": "/opt/venvs/app", "platform": PLATFORM, "wanted": SPEC, "installed": SPEC,
        "manifest_sha256": SHA, "trust": "manifest sha256 published by builder bld (mine)",
        "current": True}
REPO = {"url": "http://bld:8181", "path": "/srv/venvbuild", "platforms": [PLATFORM],
        "published": [PLATFORM], "manifests": {f"{PLATFORM}/app-{SPEC}": SHA}}
TARGET_PILLAR = {"venvbuild": {"builder": {"target": "bld", "tgt_type": "list"},
                               "venvs": {"app": {"path": "/opt/venvs/app"}}}}


@pytest.fixture
def mine():
    """What the master's mine holds: {alias: {minion id: entry}}."""
    return {
        "venvbuild_venvs": {"tgt1": {"app": VENV}, "tgt2": {"app": VENV}},
        "venvbuild_repo": {"bld": REPO, "rogue": dict(REPO, url="http://evil:1/")},
    }


@pytest.fixture
def mine_get(mine):
    """The master's matching, for what these tests use: '*', a list, a glob."""
    def get(tgt, fun, tgt_type="glob"):
        entries = mine.get(fun, {})
        if tgt_type == "list":
            return {m: e for m, e in entries.items() if m in tgt.split(",")}
        assert tgt_type == "glob", tgt_type
        return {m: e for m, e in entries.items() if tgt in ("*", m)}
    return mock.Mock(side_effect=get)


@pytest.fixture
def master_opts(tmp_path):
    (tmp_path / "cache" / "proc").mkdir(parents=True)
    return {"id": "mst_master", "cachedir": str(tmp_path / "cache"), "minion_data_cache": True}


@pytest.fixture
def configure_loader_modules(mine_get, master_opts):
    return {runner: {"__salt__": {"mine.get": mine_get}, "__opts__": master_opts}}


@pytest.fixture
def compiled(monkeypatch):
    """The pillar the master compiles, per minion; the calls are counted."""
    pillars = {"tgt1": TARGET_PILLAR, "tgt2": TARGET_PILLAR}
    stub = mock.Mock(side_effect=lambda minion_id: pillars[minion_id])
    monkeypatch.setattr(runner, "_compiled_pillar", stub)
    return stub


def test_the_runner_needs_the_masters_cache_directory(master_opts, tmp_path):
    assert runner.__virtual__() == "venvbuild"
    master_opts["cachedir"] = str(tmp_path / "nowhere")
    ok, why = runner.__virtual__()
    assert ok is False
    assert f"{tmp_path}/nowhere/proc does not exist" in why and "salt '*' mine.update" in why


@pytest.mark.parametrize("opts", [{"minion_data_cache": False},
                                  {"minion_data_cache": False, "enforce_mine_cache": False}])
def test_a_master_that_keeps_no_mine_is_a_clear_error(master_opts, opts, compiled):
    master_opts.update(opts)
    ret = runner.fleet()
    assert ret["retcode"] == 1 and "minion_data_cache: True" in ret["error"]


def test_builders_named_by_the_targets_pillars_each_compiled_once(mine_get, compiled):
    view = runner.fleet()
    assert sorted(call.args[0] for call in compiled.call_args_list) == ["tgt1", "tgt2"]
    # The one targeting both targets share is resolved once, by the master's mine.get.
    assert mine_get.call_args_list.count(mock.call("bld", "venvbuild_repo", "list")) == 1
    assert list(view["builders"]) == ["bld"] and list(view["unverified"]) == ["rogue"]
    assert view["venvs"]["app"]["unpublished"] == []


def test_builders_given_are_resolved_by_the_master_and_no_pillar_is_compiled(mine_get, compiled):
    view = runner.fleet(builders=["bld", "other"], builders_tgt_type="list")
    compiled.assert_not_called()
    mine_get.assert_any_call("bld,other", "venvbuild_repo", "list")
    assert list(view["builders"]) == ["bld"] and list(view["unverified"]) == ["rogue"]


def test_no_builder_entry_compiles_no_pillar(mine, compiled):
    del mine["venvbuild_repo"]
    view = runner.fleet()
    compiled.assert_not_called()
    assert view["builders"] == {} and view["summary"]["minions"] == 2


def test_a_pillar_the_master_cannot_compile_is_a_note(compiled):
    compiled.side_effect = lambda minion_id: (_ for _ in ()).throw(RuntimeError("render \x1b[2J failed"))
    view = runner.fleet()
    assert view["builders"] == {} and sorted(view["unverified"]) == ["bld", "rogue"]
    assert any(note.startswith("the builders of tgt1 are unknown: the master could not compile "
                               "its pillar: render \\x1b[2J failed") for note in view["notes"])


def test_pillar_render_errors_are_a_note(compiled):
    compiled.side_effect = lambda minion_id: {"_errors": ["Specified SLS 'x' is not available"]}
    view = runner.fleet()
    assert any(note.endswith("its pillar has errors: Specified SLS 'x' is not available")
               for note in view["notes"])
    assert view["builders"] == {}


def test_an_empty_mine_says_what_is_needed(mine, compiled):
    mine.clear()
    view = runner.fleet()
    assert view["venvs"] == {} and view["builders"] == {}
    assert "salt '*' mine.update" in view["notes"][-1]
    assert "venvbuild.fleet_info" in view["notes"][-1]


def test_salt_failing_to_read_the_mine_is_a_clear_error(mine_get):
    mine_get.side_effect = SaltCacheError("There was an error reading the cache file")
    ret = runner.fleet()
    assert ret == {"error": "mine.get venvbuild_venvs of glob '*' failed on the master: There was "
                            "an error reading the cache file", "retcode": 1}


@pytest.mark.parametrize("kwargs, error", [
    ({"tgt_type": "magic"}, "tgt_type 'magic': must be one of"),
    ({"builders": "b", "builders_tgt_type": "magic"}, "builders_tgt_type 'magic'"),
    ({"tgt": ""}, "tgt '': must be a target expression"),
    ({"builders": 7}, "builders 7: must be a target expression"),
])
def test_bad_arguments_are_clear_errors(kwargs, error):
    ret = runner.fleet(**kwargs)
    assert ret["retcode"] == 1 and ret["error"].startswith(error)
