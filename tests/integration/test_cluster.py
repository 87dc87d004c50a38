"""Use cases 2, 4 and 5 on a real cluster: a builder builds once, targets (one
with pip, one with uv) install its wheels through the mine and nginx on the
machine's network address, with no index reachable; highstates are idempotent;
a pillar change rolls out; a watcher fires only on change."""

import json
import os
import re
import time

import pytest
import requests

from saltext_venvbuild.core.manifest import Manifest

from .conftest import HOST

pytestmark = pytest.mark.integration

SPEC1 = ["vbapp", "vbdep==1.0"]
SPEC2 = ["vbapp", "vbcext", "vbdep==1.0"]
SPEC3 = ["vbapp", "vbcext", "vbdep==1.1"]


def manifests(cluster_dir):
    return sorted(p for p in cluster_dir.glob("repo/*/manifests/*.txt"))


def read_manifest(path):
    return Manifest.parse(path.read_text())


def venv(cluster_dir, minion_id):
    return cluster_dir / minion_id / "venvs" / "app"


def restarts(cluster_dir, minion_id):
    path = cluster_dir / f"restarts-{minion_id}"
    return path.read_text().count("restarted") if path.exists() else 0


def refresh_pillar(salt_cli):
    ret = salt_cli.run("saltutil.refresh_pillar", "wait=True", minion_tgt="*")
    assert ret.returncode == 0, ret


def state_results(ret):
    """{minion: {state id: state return}} of a `salt '*' state.apply`."""
    out = {}
    assert isinstance(ret.data, dict), ret
    for minion_id, states in ret.data.items():
        assert isinstance(states, dict) and all("_|-" in key for key in states), f"{minion_id}: {states}"
        out[minion_id] = by_id(states)
    return out


def by_id(states):
    """{state id: state return} of one minion's state.apply."""
    return {key.split("_|-")[1]: value for key, value in states.items()}


def orch_comments(ret):
    """The comments of an orchestration's steps, for a readable failure."""
    data = ret.data.get("data", {}) if isinstance(ret.data, dict) else {}
    return "\n".join(
        f"{state.get('__id__')}: {state.get('result')}: {state.get('comment')} {state.get('changes')}"
        for states in data.values() for state in states.values()
    ) or ret


def no_local_builds(minions, target_ids):
    for target_id in target_ids:
        cachedir = minions[target_id].config["cachedir"]
        assert not os.path.exists(os.path.join(cachedir, "venvbuild", "builders")), (
            f"{target_id} built wheels itself"
        )


def test_pillar_is_read_plainly_and_the_mine_knows_the_platform_before_any_build(
        salt_cli, minions, builder_id, pillar):
    """Salt 3008 masks pillar.get in execution modules: the mine entry must still list
    the platforms the builder's pillar builds for, before it has built anything."""
    pillar.set_packages(SPEC1)
    refresh_pillar(salt_cli)
    configs = salt_cli.run("venvbuild.venv_configs", minion_tgt=builder_id).data
    assert configs["app"]["packages"] == SPEC1
    assert configs["app"]["repo_path"].endswith("/repo")
    assert configs["app"]["install_env"] == {"UV_HTTP_TIMEOUT": "****"}  # shown redacted
    assert salt_cli.run("mine.update", minion_tgt=builder_id).returncode == 0
    platform = salt_cli.run("venvbuild.platform", minion_tgt=builder_id).data["key"]
    mine = salt_cli.run("mine.get", builder_id, "venvbuild_repo", "tgt_type=list",
                        minion_tgt=builder_id).data
    assert mine[builder_id]["platforms"] == [platform]
    assert mine[builder_id]["url"] == pillar.repo_url
    assert mine[builder_id]["manifests"] == {}


def test_repo_sls_serves_the_repo_with_nginx(salt_cli, minions, builder_id, cluster_dir, nginx,
                                             repo_port):
    ret = salt_cli.run("state.apply", "venvbuild.repo", minion_tgt=builder_id)
    assert ret.returncode == 0, ret
    conf = (cluster_dir / "nginx" / "repo.conf").read_text()
    assert "disable_symlinks on;" in conf
    nginx()
    index = requests.get(f"http://{HOST}:{repo_port}/", timeout=5)
    assert index.status_code == 200
    assert "Index of /" in index.text


def test_a_highstate_everywhere_at_once_builds_then_installs(salt_cli, minions, builder_id,
                                                             target_ids, cluster_dir):
    """Targets wait for the builder; the builder publishes the new manifest's hash in
    the mine as soon as it is built, so targets can authenticate it."""
    ret = salt_cli.run("state.apply", minion_tgt="*")
    assert ret.returncode == 0, ret
    results = state_results(ret)
    (manifest_path,) = manifests(cluster_dir)
    manifest = read_manifest(manifest_path)
    assert manifest.versions() == {"vbapp": "1.0", "vbdep": "1.0"}
    assert "manifest" in results[builder_id]["app_wheels"]["changes"]
    for target_id, tool in zip(target_ids, ("uv", "pip")):
        state = results[target_id]["app_venv"]
        assert state["changes"]["packages"] == {"added": {"vbapp": "1.0", "vbdep": "1.0"}}
        status = salt_cli.run("venvbuild.status", str(venv(cluster_dir, target_id)),
                              minion_tgt=target_id).data
        assert status["install_tool"] == tool
        assert status["manifest_sha256"] == manifest.sha256
        assert status["source"].startswith(f"http://{HOST}:")
        assert status["trust"] == f"manifest sha256 published by builder {builder_id} (mine)"
        out = salt_cli.run("cmd.run", f"{venv(cluster_dir, target_id)}/bin/vbapp",
                           minion_tgt=target_id)
        assert out.data == "hello vbapp from vbdep"
        assert restarts(cluster_dir, target_id) == 1
    no_local_builds(minions, target_ids)


def orchestrate(master, builder_id, batch="25%"):  # targets get their highstate
    """salt-run state.orchestrate orch.venvbuild, builders by id (the master's word)."""
    orch = {"venvbuild": {"builder": {"target": builder_id, "tgt_type": "list"},
                          "orch": {"targets": "tgt-*", "targets_tgt_type": "glob", "batch": batch}}}
    return master.salt_run_cli(timeout=900).run("state.orchestrate", "orch.venvbuild",
                                                f"pillar={json.dumps(orch)}")


def test_the_orchestration_rebuilds_nothing_and_rolls_out_nothing_new(master, salt_cli, minions,
                                                                      builder_id, target_ids,
                                                                      cluster_dir):
    ret = orchestrate(master, builder_id)
    assert ret.returncode == 0, orch_comments(ret)
    assert len(manifests(cluster_dir)) == 1
    assert [restarts(cluster_dir, t) for t in target_ids] == [1, 1]


def test_second_highstate_changes_nothing_anywhere(salt_cli, minions, target_ids, cluster_dir):
    ret = salt_cli.run("state.apply", minion_tgt="*")
    assert ret.returncode == 0, ret
    results = state_results(ret)
    assert set(results) == set(minions)
    for minion_id, states in results.items():
        for state_id, state in states.items():
            assert state["result"] is True, (minion_id, state_id, state["comment"])
            assert state["changes"] == {}, (minion_id, state_id, state["changes"])
            assert "warnings" not in state, (minion_id, state_id, state["warnings"])
    assert [restarts(cluster_dir, t) for t in target_ids] == [1, 1]


def test_pillar_change_rolls_out_and_fires_the_watcher(master, salt_cli, minions, builder_id,
                                                       target_ids, cluster_dir, pillar,
                                                       event_listener):
    pillar.set_packages(SPEC2)
    refresh_pillar(salt_cli)
    started = time.time()
    ret = orchestrate(master, builder_id, batch=1)
    assert ret.returncode == 0, orch_comments(ret)
    for target_id in target_ids:
        status = salt_cli.run("venvbuild.status", str(venv(cluster_dir, target_id)),
                              minion_tgt=target_id).data
        assert status["versions"] == {"vbapp": "1.0", "vbcext": "1.0", "vbdep": "1.0"}
    assert [restarts(cluster_dir, t) for t in target_ids] == [2, 2]
    assert len(manifests(cluster_dir)) == 2
    no_local_builds(minions, target_ids)
    # Each target announced the change on the master's event bus (for reactors).
    deadline = time.time() + 30
    while True:
        events = event_listener.get_events([(master.id, "venvbuild/venv/app/changed")],
                                           after_time=started)
        senders = {event.data.get("id") for event in events}
        if senders >= set(target_ids) or time.time() > deadline:
            break
        time.sleep(0.5)
    assert senders == set(target_ids)
    again = state_results(salt_cli.run("state.apply", minion_tgt="*"))
    for states in again.values():
        assert all(state["changes"] == {} for state in states.values())
    assert [restarts(cluster_dir, t) for t in target_ids] == [2, 2]


def test_test_mode_predicts_a_rollout_and_changes_nothing(salt_cli, target_ids, cluster_dir, pillar):
    pillar.set_packages(SPEC3)
    refresh_pillar(salt_cli)
    try:
        ret = salt_cli.run("state.apply", "test=True", minion_tgt="*")
        results = state_results(ret)
        for target_id in target_ids:
            predicted = results[target_id]["app_venv"]
            assert predicted["result"] is None
            assert predicted["changes"]["requirements"] == {
                "added": ["vbdep==1.1"], "removed": ["vbdep==1.0"]}
        assert len(manifests(cluster_dir)) == 2, "test mode built wheels"
        assert [restarts(cluster_dir, t) for t in target_ids] == [2, 2]
    finally:
        pillar.set_packages(SPEC2)
        refresh_pillar(salt_cli)


def test_target_asks_the_builder_to_build_its_own_spec(salt_cli, minions, builder_id, target_ids,
                                                        cluster_dir, pillar):
    """request_build: the target names only the venv and spec id; the builder builds
    what its own pillar defines (venvbuild.build_spec, the only peer-allowed function)."""
    pillar.set_packages(SPEC3)
    refresh_pillar(salt_cli)
    try:
        before = len(manifests(cluster_dir))
        ret = salt_cli.run("state.apply", "venvbuild", "pillar={\"venvbuild\": {\"defaults\": "
                           "{\"request_build\": true}}}", minion_tgt=target_ids[1])
        assert ret.returncode == 0, ret
        changes = by_id(ret.data)["app_venv"]["changes"]
        assert changes["packages"] == {"changed": {"vbdep": {"old": "1.0", "new": "1.1"}}}
        assert len(manifests(cluster_dir)) == before + 1, "the builder did not publish the spec"
        no_local_builds(minions, target_ids)
    finally:
        pillar.set_packages(SPEC2)
        refresh_pillar(salt_cli)
        assert salt_cli.run("state.apply", "venvbuild", minion_tgt=target_ids[1]).returncode == 0


def test_unbuilt_manifest_times_out_with_a_clear_message(salt_cli, builder_id, target_ids,
                                                          cluster_dir, build_args):
    ret = salt_cli.run(
        "venvbuild.install", str(cluster_dir / "never" / "app"),
        'packages=["vbapp", "vbdep==1.1"]', f"build_args={build_args!r}".replace("'", '"'),
        f"builder={builder_id}", "wait_timeout=2", "wheel_build=False", "install_tool=uv",
        minion_tgt=target_ids[0],
    )
    assert ret.returncode != 0
    message = str(ret.data)
    assert re.search(rf"manifest http://{re.escape(HOST)}:\d+/[^ ]+/manifests/app-[0-9a-f]{{16}}\.txt "
                     r"not found within the wait", message), message
    assert f"salt {builder_id} state.apply venvbuild.builder" in message
    assert not (cluster_dir / "never").exists() or not any((cluster_dir / "never").iterdir())


def test_no_builder_for_the_platform_is_a_clear_error_as_in_the_role(salt_cli, target_ids,
                                                                    cluster_dir):
    ret = salt_cli.run(
        "venvbuild.install", str(cluster_dir / "nobuilder" / "app"), 'packages=["vbapp"]',
        "builder=no-such-builder", minion_tgt=target_ids[0],
    )
    assert ret.returncode != 0
    assert "no builder serves platform" in str(ret.data)
    assert "build_fallback" in str(ret.data)


def test_install_from_a_builder_named_by_id(salt_cli, minions, builder_id, target_ids, cluster_dir,
                                            build_args, repo_port):
    """venv_build_host -> builder: the named builder's repo, found through the mine."""
    path = cluster_dir / target_ids[0] / "by-id" / "app"
    started = time.monotonic()
    ret = salt_cli.run(
        "venvbuild.install", str(path), 'packages=["vbapp", "vbcext", "vbdep==1.0"]',
        f"build_args={build_args!r}".replace("'", '"'), "install_tool=uv", "venv_id=app",
        f"builder={builder_id}", "wheel_build=False", minion_tgt=target_ids[0],
    )
    seconds = time.monotonic() - started
    assert ret.returncode == 0, ret
    assert ret.data["comment"].endswith(f"from builder {builder_id}")
    status = salt_cli.run("venvbuild.status", str(path), minion_tgt=target_ids[0]).data
    assert status["source"].startswith(f"http://{HOST}:{repo_port}/")
    assert status["versions"] == {"vbapp": "1.0", "vbcext": "1.0", "vbdep": "1.0"}
    # The target's wheel cache already held these wheels: nothing was downloaded.
    assert ret.data["bytes_downloaded"] < 4096
    print(f"\none target's install from the builder (salt CLI round trip included): {seconds:.2f} s; "
          f"inside the module: {ret.data['seconds']} s")
    no_local_builds(minions, target_ids)


def test_the_fleet_view_shows_specs_drift_and_builders(master, salt_cli, minions, builder_id,
                                                      target_ids, pillar):
    """salt-run venvbuild.fleet: from the mine, which spec each target runs, who drifts
    from its pillar, which builders serve which platforms."""
    run = master.salt_run_cli(timeout=120)
    assert salt_cli.run("mine.update", minion_tgt="*").returncode == 0
    view = run.run("venvbuild.fleet").data
    print(f"\nsalt-run venvbuild.fleet (all current):\n{json.dumps(view, indent=1)}")
    app = view["venvs"]["app"]
    assert set(app["minions"]) == set(target_ids)
    (spec_id,) = app["specs"]
    assert sorted(app["specs"][spec_id]) == sorted(target_ids)
    assert app["drift"] == {} and app["unpublished"] == []
    for entry in app["minions"].values():
        assert entry["wanted"] == entry["installed"] == spec_id
        assert entry["trust"] == f"manifest sha256 published by builder {builder_id} (mine)"
    platform = salt_cli.run("venvbuild.platform", minion_tgt=builder_id).data["key"]
    assert platform in view["builders"][builder_id]["platforms"]
    assert view["summary"]["drifting"] == []

    pillar.set_packages(SPEC3)  # changed in the pillar, not rolled out yet
    refresh_pillar(salt_cli)
    try:
        assert salt_cli.run("mine.update", minion_tgt="tgt-*").returncode == 0
        drift = run.run("venvbuild.fleet", "tgt=tgt-*").data
        print(f"salt-run venvbuild.fleet tgt='tgt-*' (pillar changed):\n{json.dumps(drift, indent=1)}")
        assert sorted(drift["summary"]["drifting"]) == sorted(target_ids)
        for reason in drift["venvs"]["app"]["drift"].values():
            assert reason.startswith(f"runs {spec_id}, its pillar wants ")
    finally:
        pillar.set_packages(SPEC2)
        refresh_pillar(salt_cli)
