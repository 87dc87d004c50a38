"""The fleet runner as a thin Salt adapter (salt-factories loader mock).

``mine.get`` (the master's runner) is a mock answering by (target, alias,
target type), and the pillar compilation a stub counting its calls: what is
tested here is what the runner asks Salt and how it fails, the view itself in
tests/unit/core/test_fleet.py and against real daemons in
tests/integration/test_fleet_hostile.py.
"""

import gc
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


def test_no_builder_entry_compiles_each_pillar_once_for_the_preflight_only(mine, compiled):
    del mine["venvbuild_repo"]
    view = runner.fleet()
    # No builder scope to find, but who builds for itself is read from the pillars.
    assert sorted(call.args[0] for call in compiled.call_args_list) == ["tgt1", "tgt2"]
    assert view["builders"] == {} and view["summary"]["minions"] == 2
    assert not any("unverified" in note for note in view["notes"])


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
    mine["venvbuild_repo"]["bld"] = dict(
        REPO, platforms=[PLATFORM, "rocky-9-x86_64-cp39"],
        manifests={f"{PLATFORM}/app-{SPEC}": SHA, f"rel1/rocky-9-x86_64-cp39/app-{OTHER_SPEC}": SHA})
    runner.prune(builders="bld")
    assert client.calls[0][2]["kwarg"]["in_use"] == [f"{PLATFORM}/app-{SPEC}",
                                                     f"rocky-9-x86_64-cp39/app-{SPEC}"]


def test_a_rogue_entry_naming_thousands_of_venvs_and_platforms_adds_nothing(mine, client):
    # One minion publishes (mine.send) more venvs, platforms and kept specs than a
    # builder accepts in one call: were it believed, no builder could prune again.
    kept = [f"{n:016x}" for n in range(20)]
    mine["venvbuild_venvs"]["rogue"] = {
        f"v{n}": dict(VENV, platform=None if n % 2 else f"debian-12-x86_64-cp3{n}",
                      wanted=None, current=False, kept=kept)
        for n in range(999)}  # with app, as many as a minion's entry may list
    mine["venvbuild_venvs"]["rogue"]["app"] = dict(VENV, kept=kept)
    ret = runner.prune(builders="bld", keep=2, min_age=0)
    in_use = client.calls[0][2]["kwarg"]["in_use"]
    # Only the venv the builder publishes, on its platform, with the specs named for it.
    assert len(in_use) == 21 and all(key.startswith(f"{PLATFORM}/app-") for key in in_use)
    assert ret["in_use"] == 21 and "Error" not in ret


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


# -- the role's pre-flight check (core/preflight.py) in venvbuild.build and the fleet view ----

ROCKY = "rocky-9-x86_64-cp39"
ALONE = {"packages": ["vbdep==1.0"]}  # no builder, no repo_url: the target builds it itself
FROM_B = {"packages": ["vbdep==1.0"], "builder_target": "b1,b2", "builder_tgt_type": "list"}


@pytest.fixture
def fleet_of(monkeypatch, mine):
    """``fleet_of({minion: {venv: options}}, platform)``: those targets' pillars as the
    master compiles them, each venv installing for ``platform`` (their mine entries);
    builders b1 and b2 serve PLATFORM. Returns the LocalClient fake (nothing answers)."""
    fake = FakeClient({})
    monkeypatch.setattr(runner.salt.client, "LocalClient", fake)

    def make(configs, platform=PLATFORM):
        full = {m: {v: dict(cfg, path=f"/opt/venvs/{v}") for v, cfg in venvs.items()}
                for m, venvs in configs.items()}
        monkeypatch.setattr(runner, "_venv_configs", lambda minion: full[minion])
        groups = {"b1,b2": ["b1", "b2"], "bld": ["bld"]}
        monkeypatch.setattr(runner, "_minions", lambda tgt, tgt_type: groups.get(tgt, sorted(full)))
        mine["venvbuild_repo"] = {"b1": dict(REPO, url="http://b1:8181"),
                                  "b2": dict(REPO, url="http://b2:8181")}
        mine["venvbuild_venvs"] = {m: {v: dict(VENV, path=cfg["path"], platform=platform)
                                       for v, cfg in venvs.items()} for m, venvs in full.items()}
        return fake
    return make


@pytest.mark.parametrize("test", [False, True])
def test_build_refuses_when_more_than_two_targets_build_for_themselves(fleet_of, test):
    fake = fleet_of({"tgt1": {"tools": ALONE, "app": FROM_B}, "tgt2": {"tools": ALONE},
                     "tgt3": {"tools": ALONE, "web": ALONE}})
    ret = runner.build(test=test)
    assert ret["Error"].startswith(
        "refused: 3 targets would build their wheels themselves, more than 2: tgt1 (tools), "
        "tgt2 (tools), tgt3 (tools, web). Each would fetch and compile every source")
    assert "allow_local_builds=True" in ret["Error"]
    assert ret["builds"] == [] and fake.calls == []  # nothing built, not even app from b1/b2
    assert sorted(ret["local_builds"]) == ["tgt1", "tgt2", "tgt3"]
    assert "wheel_build: true" in ret["local_builds"]["tgt3"]["web"]


def test_allow_local_builds_lets_them_build(fleet_of):
    fleet_of({f"tgt{n}": {"tools": ALONE} for n in range(1, 4)})
    ret = runner.build(allow_local_builds=True)
    assert "Error" not in ret, ret
    assert sorted(ret["local_builds"]) == ["tgt1", "tgt2", "tgt3"]
    assert ret["summary"] == {"specs": 0, "built": 0, "failed": 0, "local": 3}


def test_two_targets_building_for_themselves_are_what_the_role_allows(fleet_of):
    fleet_of({"tgt1": {"tools": ALONE}, "tgt2": {"tools": ALONE}, "tgt3": {"app": FROM_B}})
    ret = runner.build(test=True)
    assert "Error" not in ret, ret
    assert [(b["result"], b["builder"] in ("b1", "b2")) for b in ret["builds"]] == [(None, True)]
    assert ret["summary"]["local"] == 2


@pytest.mark.parametrize("kwargs", [{}, {"builders": "bld", "builders_tgt_type": "list"}])
def test_the_builders_own_venvs_are_not_counted(fleet_of, kwargs):
    """The builder's pillar has the venvs without a builder (it builds them): as the
    targets' builder targeting (or builders=) names it, it is no target building for itself."""
    builder_named = dict(FROM_B, builder_target="bld") if not kwargs else FROM_B
    fleet_of({"bld": {"tools": ALONE}, "tgt1": {"tools": ALONE}, "tgt2": {"tools": ALONE},
              "tgt3": {"app": builder_named}})
    ret = runner.build(test=True, **kwargs)
    assert not ret.get("Error", "").startswith("refused"), ret
    assert sorted(ret["local_builds"]) == ["tgt1", "tgt2"]


def test_no_builder_for_the_platform_is_named_per_target_that_may_not_build_itself(fleet_of):
    fake = fleet_of({"tgt1": {"app": dict(FROM_B, build_fallback=True)}, "tgt2": {"app": FROM_B},
                     "tgt3": {"app": FROM_B}}, platform=ROCKY)
    ret = runner.build()
    (build,) = ret["builds"]  # one spec, three targets
    assert build["result"] is False
    assert build["comment"].startswith(f"no builder serves platform {ROCKY} ")
    assert build["comment"].endswith("; tgt1 build it themselves (build_fallback: true)")
    assert [(p["minion"], p["venv"]) for p in ret["problems"]] == [("tgt2", "app"), ("tgt3", "app")]
    assert all(p["problem"].startswith(f"no builder serves its platform {ROCKY} and it may not "
                                       "build its wheels itself (build_fallback: false)")
               for p in ret["problems"])
    assert ret["Error"] == "1 of 1 builds failed, 2 problems (see builds and problems)"
    assert list(ret["local_builds"]) == ["tgt1"] and fake.calls == []


def test_build_fallback_on_more_than_two_targets_is_refused_and_allowed_on_purpose(fleet_of):
    fleet_of({f"tgt{n}": {"app": dict(FROM_B, build_fallback=True)} for n in range(1, 4)},
             platform=ROCKY)
    ret = runner.build()
    assert ret["Error"].startswith("refused: 3 targets would build their wheels themselves")
    assert f"no builder serves its platform {ROCKY}" in ret["local_builds"]["tgt2"]["app"]
    ret = runner.build(allow_local_builds=True)
    (build,) = ret["builds"]
    assert build["result"] is None and "Error" not in ret, ret  # its targets build it themselves
    assert build["comment"].endswith("; tgt1, tgt2, tgt3 build it themselves (build_fallback: true)")


def test_a_target_with_nothing_to_install_from_is_a_problem(fleet_of):
    fleet_of({"tgt1": {"tools": dict(ALONE, wheel_build=False)},
              "tgt2": {"tools": dict(ALONE, wheel_build=False, repo_url="https://mirror.example/r")}})
    ret = runner.build(test=True)
    assert [(p["minion"], p["venv"]) for p in ret["problems"]] == [("tgt1", "tools")]
    assert "no repo_url and wheel_build: false" in ret["problems"][0]["problem"]
    assert ret["local_builds"] == {} and "Error" in ret


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_allow_local_builds_must_be_a_boolean(fleet_of, value):
    fleet_of({"tgt1": {"tools": ALONE}})
    ret = runner.build(allow_local_builds=value)
    assert ret["Error"].startswith("allow_local_builds ") and "must be True or False" in ret["Error"]
    assert ret["builds"] == []


def test_the_fleet_view_says_what_venvbuild_build_would_refuse(mine, compiled):
    """No builder anywhere: every target builds its own wheels; the view compiles
    the targets' pillars (once each) to say so."""
    del mine["venvbuild_repo"]
    mine["venvbuild_venvs"]["tgt3"] = {"app": VENV}
    alone = {"venvbuild": {"venvs": {"app": {"path": "/opt/venvs/app"}}}}
    compiled.side_effect = lambda minion_id: alone
    view = runner.fleet()
    assert sorted(call.args[0] for call in compiled.call_args_list) == ["tgt1", "tgt2", "tgt3"]
    assert view["builders"] == {} and view["summary"]["minions"] == 3
    assert sorted(view["local_builds"]) == ["tgt1", "tgt2", "tgt3"]
    assert view["preflight"].startswith("venvbuild.build would refuse: 3 targets would build "
                                        "their wheels themselves, more than 2: tgt1 (app)")
    assert view["summary"]["local_builds"] == 3


def test_the_fleet_view_names_venvs_no_builder_serves(mine, compiled):
    mine["venvbuild_venvs"]["tgt2"] = {"app": dict(VENV, platform=ROCKY)}
    view = runner.fleet()
    # bld (named by the targets' pillars) serves tgt1's platform, not tgt2's.
    assert view["unserved"] == [{"minion": "tgt2", "venv": "app",
                                 "problem": view["unserved"][0]["problem"]}]
    assert view["unserved"][0]["problem"].startswith(f"no builder serves its platform {ROCKY}")
    assert view["local_builds"] == {} and view["preflight"] is None
    # A pillar compiled once for both the builders' scope and the check.
    assert sorted(call.args[0] for call in compiled.call_args_list) == ["tgt1", "tgt2"]


def test_the_fleet_view_with_builders_given_compiles_no_pillar_and_says_so(compiled):
    view = runner.fleet(builders="bld")
    compiled.assert_not_called()
    assert view["preflight"] is None and view["local_builds"] == {}
    assert any(note.startswith("who builds for itself (local_builds, unserved, preflight) is not "
                               "assessed") for note in view["notes"])


def render_orch(pillar):
    """states/orch/venvbuild.sls as Salt's Jinja renders it with the master's ``pillar``."""
    import pathlib  # pylint: disable=import-outside-toplevel

    import salt.config  # pylint: disable=import-outside-toplevel
    import salt.utils.templates  # pylint: disable=import-outside-toplevel
    import yaml  # pylint: disable=import-outside-toplevel

    sls = pathlib.Path(__file__).parents[3] / "states" / "orch" / "venvbuild.sls"
    context = {"salt": {"pillar.get": lambda key, default=None: pillar.get(key, default)},
               "opts": salt.config.DEFAULT_MINION_OPTS.copy(), "saltenv": "base"}
    return yaml.safe_load(salt.utils.templates.render_jinja_tmpl(sls.read_text(), context))


@pytest.mark.parametrize("orch, passed", [({}, False), ({"allow_local_builds": True}, True)])
def test_the_orchestration_passes_the_masters_allow_local_builds_to_the_runner(orch, passed):
    states = render_orch({"venvbuild": {"builder": {"target": "b1", "tgt_type": "list"},
                                        "orch": orch}})
    step = {key: value for item in states["venvbuild_build_for_targets"]["salt.runner"]
            for key, value in item.items()}
    assert step["name"] == "venvbuild.build"
    assert step["allow_local_builds"] is passed


def test_what_a_runner_leaves_behind_is_finalized_before_salt_stores_the_job():
    # Salt finalizes a LocalClient, MasterMinion or pillar by destroying its loaders,
    # which removes their modules from sys.modules; left to the garbage collector it
    # can hit salt-run's import of the job cache's returner (Salt 3006.29 seen).
    finalized = []

    class Client:
        def __del__(self):
            finalized.append(True)

    @runner._settled
    def work():
        client = Client()
        client.cycle = client  # freed only by the garbage collector
        return "done"

    gc.disable()
    try:
        assert work() == "done"
        assert finalized == [True]
    finally:
        gc.enable()
