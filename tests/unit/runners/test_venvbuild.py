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


# -- venvbuild.prune -------------------------------------------------------------------

OTHER_SPEC = "fedcba9876543210"
KEPT_SPEC = "1111111111111111"


class FakeClient:
    """LocalClient as the runner uses it: a context manager whose cmd answers per minion."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, mopts):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def cmd(self, tgt, fun, **kwargs):
        self.calls.append((tgt, fun, kwargs))
        return {m: a for m, a in self.answers.items() if m in tgt.split(",")}


@pytest.fixture
def client(monkeypatch):
    fake = FakeClient({"bld": {"ret": {"removed": {"manifests": []}}, "retcode": 0}})
    monkeypatch.setattr(runner.salt.client, "LocalClient", fake)
    monkeypatch.setattr(runner, "_minions", lambda tgt, tgt_type: ["bld", "tgt1", "tgt2", "quiet"])
    return fake


def test_prune_sends_every_targets_wanted_installed_and_kept_specs(mine, client):
    mine["venvbuild_venvs"]["tgt2"] = {"app": dict(VENV, wanted=OTHER_SPEC, current=False,
                                                   kept=[KEPT_SPEC])}
    ret = runner.prune(builders="bld", keep=2, min_age=0)
    ((tgt, fun, kwargs),) = client.calls
    assert (tgt, fun, kwargs["tgt_type"], kwargs["full_return"]) == ("bld", "venvbuild.prune_repo", "list", True)
    assert kwargs["kwarg"] == {"in_use": [f"{PLATFORM}/app-{SPEC}", f"{PLATFORM}/app-{KEPT_SPEC}",
                                          f"{PLATFORM}/app-{OTHER_SPEC}"],
                               "keep": 2, "min_age": 0.0, "test": True}
    assert ret["builders"] == {"bld": {"removed": {"manifests": []}, "result": True}}
    assert ret["in_use"] == 3 and ret["test"] is True and "Error" not in ret
    assert ret["without_entry"] == ["quiet"]  # its specs are unknown: said so
    assert any("1 minion(s) publish no venvbuild_venvs entry" in note for note in ret["notes"])


def test_prune_keeps_a_venv_without_platform_on_every_platform_the_builders_serve(mine, client):
    mine["venvbuild_venvs"] = {"tgt1": {"app": dict(VENV, platform=None, wanted=None, current=False,
                                                    error="bad")}}
    mine["venvbuild_repo"]["bld"] = dict(REPO, platforms=[PLATFORM, "rocky-9-x86_64-cp39"])
    runner.prune(builders="bld")
    assert client.calls[0][2]["kwarg"]["in_use"] == [f"{PLATFORM}/app-{SPEC}",
                                                     f"rocky-9-x86_64-cp39/app-{SPEC}"]


def test_prune_needs_builders_named_and_matched(client):
    ret = runner.prune()
    assert ret["retcode"] == 1 and "name the builders to prune" in ret["error"]
    ret = runner.prune(builders="nobody")
    assert ret["retcode"] == 1 and "publishes venvbuild_repo: nothing to prune" in ret["error"]
    ret = runner.prune(builders="bld", keep=0)
    assert ret["retcode"] == 1 and ret["error"].startswith("keep 0")
    assert client.calls == []


def test_a_builder_that_fails_or_does_not_answer_is_an_error(mine, client):
    mine["venvbuild_repo"]["bld2"] = REPO
    client.answers = {"bld": {"ret": "ERROR: in_use: 'x' is not a key \x1b[2J", "retcode": 1}}
    ret = runner.prune(builders="bld,bld2", builders_tgt_type="list", test=False)
    assert client.calls[0][0] == "bld,bld2" and client.calls[0][2]["kwarg"]["test"] is False
    assert ret["builders"]["bld"]["result"] is False
    assert "\x1b" not in ret["builders"]["bld"]["comment"]
    assert ret["builders"]["bld2"] == {"result": False, "comment": "did not answer"}
    assert ret["Error"] == "2 of 2 builders did not prune (see builders)"


def test_prune_refuses_without_a_mine(master_opts, client):
    master_opts["minion_data_cache"] = False
    ret = runner.prune(builders="bld")
    assert ret["retcode"] == 1 and client.calls == []


# -- venvbuild.build -------------------------------------------------------------------


@pytest.fixture
def arranged(monkeypatch, mine):
    """Targets tgt1 and tgt2 whose pillars define venv app from builders b1,b2."""
    cfg = {"path": "/opt/venvs/app", "packages": ["vbdep==1.0"], "builder_target": "b1,b2",
           "builder_tgt_type": "list"}
    monkeypatch.setattr(runner, "_venv_configs", lambda minion: {"app": dict(cfg)})
    monkeypatch.setattr(runner, "_minions",
                        lambda tgt, tgt_type: ["b1", "b2"] if tgt == "b1,b2" else ["tgt1", "tgt2"])
    mine["venvbuild_repo"] = {"b1": dict(REPO, url="http://b1:8181"),
                              "b2": dict(REPO, url="http://b2:8181")}
    from saltext_venvbuild.core import arrange  # pylint: disable=import-outside-toplevel

    jobs, _ = arrange.plan({"tgt1": {"app": cfg}}, {"tgt1": {"app": PLATFORM}})
    return jobs[0]


def _built(job, builder):
    return {"ret": {"spec_id": job.spec_id, "platform": PLATFORM, "manifest_sha256": SHA,
                    "comment": f"built on {builder}"}, "retcode": 0}


@pytest.mark.parametrize("silence", [
    {"failed": True},
    {"ret": "Minion did not return. [Not connected]", "out": "no_return", "retcode": 1},
])
def test_build_moves_on_when_a_builder_does_not_answer(monkeypatch, arranged, silence):
    answers = {"b1": silence, "b2": silence}
    fake = FakeClient(answers)
    monkeypatch.setattr(runner.salt.client, "LocalClient", fake)
    first = [b for b, _ in runner.core_trust.ranked_builders(
        f"app-{arranged.spec_id}", {"b1": dict(REPO), "b2": dict(REPO)}, PLATFORM)]
    answers[first[1]] = _built(arranged, first[1])
    ret = runner.build(tgt="tgt*", venv="app")
    (build,) = ret["builds"]
    assert "Error" not in ret, ret
    assert build["builder"] == first[1] and build["result"] is True
    assert build["failover"] == [f"{first[0]} did not answer"]
    assert [call[0] for call in fake.calls] == first
    assert sorted(build["targets"]) == ["tgt1", "tgt2"]  # one build for both


def test_a_failed_build_is_reported_not_raised(monkeypatch, arranged):
    failed = {"ret": "ERROR: venv app: building wheels ... exited 1", "retcode": 1}
    monkeypatch.setattr(runner.salt.client, "LocalClient", FakeClient({"b1": failed, "b2": failed}))
    ret = runner.build(tgt="tgt*", venv="app")
    (build,) = ret["builds"]
    assert build["result"] is False and "answered 'ERROR: venv app" in build["comment"]
    assert "manifest_sha256" not in build
    assert "1 of 1 builds failed" in ret["Error"]


def test_build_test_mode_publishes_nothing(monkeypatch, arranged):
    fake = FakeClient({})
    monkeypatch.setattr(runner.salt.client, "LocalClient", fake)
    ret = runner.build(tgt="tgt*", test=True)
    assert [b["result"] for b in ret["builds"]] == [None]
    assert fake.calls == []
