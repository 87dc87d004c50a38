"""core/preflight.py: the role's pre-flight check, from the targets' pillars.

The role (tasks/main.yml, "Fail if wheels build is problematic") refuses to run
when wheel building is disabled on more than 2 hosts, and when a host's
distribution and architecture has no build host. Here: who builds its own
wheels, counted fleet-wide, and which venv nothing serves, named per target.
"""

import pytest

from saltext_venvbuild.core import preflight
from saltext_venvbuild.core.errors import VenvbuildError
from saltext_venvbuild.core.options import validate

PLATFORM = "debian-12-x86_64-cp311"
FROM_BUILDER = {"path": "/opt/venvs/app", "packages": ["app"], "builder_target": "bld*",
                "builder_tgt_type": "glob"}
ALONE = {"path": "/opt/venvs/app", "packages": ["app"]}


def opts(cfg):
    return validate({key: value for key, value in cfg.items() if key != "path"})


@pytest.mark.parametrize("cfg, platform, served, kind, words", [
    (FROM_BUILDER, PLATFORM, True, "builder", ""),
    (dict(FROM_BUILDER, build_fallback=True), PLATFORM, False, "local",
     f"no builder serves its platform {PLATFORM}: it builds its wheels itself (build_fallback: true)"),
    (FROM_BUILDER, PLATFORM, False, "unserved",
     f"no builder serves its platform {PLATFORM} and it may not build its wheels itself "
     "(build_fallback: false)"),
    (dict(FROM_BUILDER, builder_target=None, builder="bld1"), PLATFORM, False, "unserved",
     "or set build_fallback: true"),
    (dict(ALONE, repo_url="https://mirror.example/venvbuild"), None, None, "repo_url", ""),
    (ALONE, None, None, "local", "no builder (builder, builder_target) and no repo_url: it builds "
                                 "its wheels itself (wheel_build: true)"),
    (dict(ALONE, wheel_build=False), None, None, "unserved",
     "no builder (builder, builder_target), no repo_url and wheel_build: false: it has nothing "
     "to install from"),
])
def test_where_a_venvs_wheels_come_from(cfg, platform, served, kind, words):
    found_kind, reason = preflight.verdict(opts(cfg), platform, served)
    assert found_kind == kind
    assert words in reason


def test_a_venv_from_builders_whose_platform_is_unknown_is_left_to_the_planner():
    assert preflight.verdict(opts(FROM_BUILDER), None, None) is None
    assert preflight.verdict(opts(FROM_BUILDER), PLATFORM, None) is None


def never_served(minion, venv_id, checked):
    return PLATFORM, False


def test_more_than_two_targets_building_for_themselves_is_refused_naming_them():
    configs = {f"api{n}": {"app": ALONE, "web": ALONE} for n in range(3)}
    result = preflight.assess(configs, never_served)
    assert result.hosts() == ["api0", "api1", "api2"]
    why = result.refusal()
    assert why.startswith("3 targets would build their wheels themselves, more than 2: "
                          "api0 (app, web), api1 (app, web), api2 (app, web). ")
    assert "allow_local_builds=True" in why and "venvbuild:orch:allow_local_builds" in why
    assert result.refusal(allow=True) is None
    # Two are what the role allows.
    assert preflight.assess({m: configs[m] for m in ("api0", "api1")}, never_served).refusal() is None


def test_every_way_of_building_locally_counts_and_nothing_else_does():
    configs = {
        "alone": {"app": ALONE},
        "fallback": {"app": dict(FROM_BUILDER, build_fallback=True)},  # no builder serves it
        "mirror": {"app": dict(ALONE, repo_url="https://mirror.example/venvbuild")},
        "served": {"app": FROM_BUILDER},
        "stuck": {"app": FROM_BUILDER},  # no builder serves it, may not fall back
    }

    def served(minion, venv_id, checked):
        assert venv_id == "app" and checked["builder_target"] == "bld*"
        return PLATFORM, minion == "served"

    result = preflight.assess(configs, served)
    assert sorted(result.local) == ["alone", "fallback"]
    assert [(u["minion"], u["venv"]) for u in result.unserved] == [("stuck", "app")]
    assert result.refusal() is None  # two
    configs["third"] = {"app": ALONE}
    assert preflight.assess(configs, served).hosts() == ["alone", "fallback", "third"]


def test_the_builders_themselves_are_not_counted():
    configs = {name: {"app": ALONE} for name in ("bld1", "bld2", "api1", "api2")}
    result = preflight.assess(configs, never_served, builders={"bld1", "bld2"})
    assert result.hosts() == ["api1", "api2"] and result.refusal() is None
    assert "bld1" not in result.local


def test_only_the_venv_asked_for_and_only_venvs_that_check():
    configs = {
        "a": {"app": ALONE, "tools": dict(ALONE, wheel_build=False)},
        "b": {"app": dict(ALONE, no_such_option=1)},  # the planner reports it
    }
    result = preflight.assess(configs, never_served, venv="app")
    assert list(result.local) == ["a"] and result.unserved == []
    result = preflight.assess(configs, never_served)
    assert result.unserved == [{"minion": "a", "venv": "tools", "problem": result.unserved[0]["problem"]}]
    assert "wheel_build: false" in result.unserved[0]["problem"]


def test_a_refusal_names_twenty_targets_and_counts_the_rest():
    configs = {f"api{n:02d}": {"app": ALONE} for n in range(25)}
    why = preflight.assess(configs, never_served).refusal()
    assert why.startswith("25 targets would build their wheels themselves")
    assert "api19 (app) and 5 more." in why and "api20" not in why


def test_hostile_ids_are_shown_escaped():
    configs = {f"x\x1b[2J{n}": {"a\u202eb": ALONE} for n in range(3)}
    result = preflight.assess(configs, never_served)
    assert "\x1b" not in result.refusal() and "\\x1b[2J0 (a\\u202eb)" in result.refusal()
    view = result.as_view()
    assert view["refusal"].startswith("venvbuild.build would refuse: 3 targets")
    assert list(view["local_builds"]) == ["x\\x1b[2J0", "x\\x1b[2J1", "x\\x1b[2J2"]
    assert list(view["local_builds"]["x\\x1b[2J0"]) == ["a\\u202eb"]


@pytest.mark.parametrize("value", ["yes", 1, None, "True"])
def test_the_override_must_be_a_boolean(value):
    with pytest.raises(VenvbuildError, match="^allow_local_builds .*: must be True or False"):
        preflight.check_allow(value)
    assert preflight.check_allow(True) is True and preflight.check_allow(False) is False
