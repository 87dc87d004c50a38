"""core/arrange.py: the builds the targets' pillars ask for, one per spec and platform."""

from saltext_venvbuild.core import arrange
from saltext_venvbuild.core.spec import VenvSpec

PLATFORM = "debian-12-x86_64-cp311"
OTHER = "rocky-9-x86_64-cp311"
FROM_BUILDER = {"builder_target": "build*", "builder_tgt_type": "glob"}


def cfg(packages, **extra):
    return dict(FROM_BUILDER, path="/opt/venvs/nova", packages=packages, **extra)


def test_targets_with_equal_specs_share_one_build_and_different_ones_get_their_own():
    configs = {
        "api1": {"nova": cfg(["nova-api==1.0"])},
        "api2": {"nova": cfg(["nova-api==1.0"])},
        "cmp1": {"nova": cfg(["nova-compute==1.0"])},
    }
    platforms = {minion: {"nova": PLATFORM} for minion in configs}
    jobs, problems = arrange.plan(configs, platforms)
    assert problems == []
    assert sorted(sorted(job.targets) for job in jobs) == [["api1", "api2"], ["cmp1"]]
    by_target = {tuple(sorted(job.targets)): job for job in jobs}
    api = by_target[("api1", "api2")]
    assert api.spec_id == VenvSpec.create("nova", PLATFORM, packages=["nova-api==1.0"]).spec_id
    assert api.options == {"packages": ["nova-api==1.0"]}  # build options only
    assert (api.builder_target, api.builder_tgt_type) == ("build*", "glob")


def test_one_spec_on_two_platforms_is_two_builds():
    configs = {"a": {"nova": cfg(["nova"])}, "b": {"nova": cfg(["nova"])}}
    jobs, _ = arrange.plan(configs, {"a": {"nova": PLATFORM}, "b": {"nova": OTHER}})
    assert sorted(job.platform for job in jobs) == [PLATFORM, OTHER]


def test_the_builders_own_repo_settings_never_travel():
    entry = cfg(["nova"], repo_path="/srv/elsewhere", repo_user="www-data", build_env={"CC": "gcc"},
                install_env={"X": "1"}, install_args=["--compile"], wait_timeout=5)
    assert arrange.build_options(entry) == {"packages": ["nova"], "build_env": {"CC": "gcc"}}


def test_venvs_without_a_builder_are_built_by_their_target():
    configs = {"a": {"tools": {"path": "/opt/venvs/tools", "packages": ["ansible"]}}}
    assert arrange.plan(configs, {"a": {"tools": PLATFORM}}) == ([], [])


def test_problems_name_the_target_and_venv():
    configs = {
        "a": {"nova": cfg(["nova"])},  # no platform known
        "b": {"nova": cfg(["nova>>1"])},  # an invalid requirement
        "c": {"nova": cfg(["nova"], no_such_option=1)},
        "d": {"nova": cfg(["nova"])},
    }
    platforms = {"b": {"nova": PLATFORM}, "c": {"nova": PLATFORM},
                 "d": {"nova": "debian-12\x1b[2J"}}
    jobs, problems = arrange.plan(configs, platforms)
    assert jobs == []
    assert [(p["minion"], p["venv"]) for p in problems] == [
        ("a", "nova"), ("b", "nova"), ("c", "nova"), ("d", "nova")]
    assert "mine.update" in problems[0]["problem"]
    assert "not a valid requirement" in problems[1]["problem"]
    assert "no_such_option" in problems[2]["problem"]


def test_only_the_venv_asked_for():
    configs = {"a": {"nova": cfg(["nova"]), "glance": cfg(["glance"])}}
    jobs, _ = arrange.plan(configs, {"a": {"nova": PLATFORM, "glance": PLATFORM}}, venv="glance")
    assert [job.venv_id for job in jobs] == ["glance"]


def test_check_answer():
    job = arrange.Job("nova", "0123456789abcdef", PLATFORM, {}, ["a"], None, "b1", "list", None)
    ok = {"spec_id": job.spec_id, "platform": PLATFORM, "manifest_sha256": "0" * 64}
    assert arrange.check_answer(job, "b1", ok) is None
    other = dict(ok, spec_id="fedcba9876543210", platform=OTHER)
    assert "does not build for that platform" in arrange.check_answer(job, "b1", other)
    assert "answered" in arrange.check_answer(job, "b1", "'venvbuild.build_wheels' is not available.")
    assert "failed" in arrange.check_answer(job, "b1", dict(ok, manifest_sha256=None,
                                                            comment="build failed"))
