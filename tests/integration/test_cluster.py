"""Use cases 2, 4 and 5 on a real cluster: a builder builds once, targets install
its wheels through the mine and nginx, with no index reachable; highstates are
idempotent; a pillar change rolls out; a watcher fires only on change."""

import os
import re
import time

import pytest
import requests

from saltext_venvbuild.core.manifest import read_manifest

pytestmark = pytest.mark.integration

SPEC1 = ["vbapp", "vbdep==1.0"]
SPEC2 = ["vbapp", "vbcext", "vbdep==1.0"]
SPEC3 = ["vbapp", "vbcext", "vbdep==1.1"]


def manifests(cluster_dir):
    return sorted(p for p in cluster_dir.glob("repo/*/manifests/*.txt"))


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
    for minion_id, states in ret.data.items():
        assert isinstance(states, dict), f"{minion_id}: {states}"
        out[minion_id] = {key.split("_|-")[1]: value for key, value in states.items()}
    return out


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


def test_repo_sls_serves_the_repo_with_nginx(salt_cli, minions, builder_id, cluster_dir, pillar,
                                             nginx, repo_port):
    pillar.set_packages(SPEC1)
    refresh_pillar(salt_cli)
    ret = salt_cli.run("state.apply", "venvbuild.repo", minion_tgt=builder_id)
    assert ret.returncode == 0, ret
    assert (cluster_dir / "nginx" / "repo.conf").exists()
    nginx()
    index = requests.get(f"http://127.0.0.1:{repo_port}/", timeout=5)
    assert index.status_code == 200
    assert "Index of /" in index.text


def test_orchestration_builds_once_and_rolls_out(master, salt_cli, minions, builder_id, target_ids,
                                                 cluster_dir):
    ret = master.salt_run_cli(timeout=900).run("state.orchestrate", "orch.venvbuild")
    assert ret.returncode == 0, orch_comments(ret)
    (manifest_path,) = manifests(cluster_dir)
    manifest = read_manifest(manifest_path)
    assert manifest.versions() == {"vbapp": "1.0", "vbdep": "1.0"}
    for target_id in target_ids:
        status = salt_cli.run("venvbuild.status", str(venv(cluster_dir, target_id)),
                              minion_tgt=target_id).data
        assert status["versions"] == manifest.versions()
        assert status["manifest_sha256"] == manifest.sha256
        assert status["source"].startswith("http://127.0.0.1:")
        out = salt_cli.run("cmd.run", f"{venv(cluster_dir, target_id)}/bin/vbapp", minion_tgt=target_id)
        assert out.data == "hello vbapp from vbdep"
    no_local_builds(minions, target_ids)
    log = (cluster_dir / "nginx" / "access.log").read_text()
    assert len(re.findall(r"GET /[^ ]+/manifests/app-[0-9a-f]+\.txt HTTP[^\"]*\" 200", log)) >= 2
    assert len(re.findall(r"GET /[^ ]+/wheels/vbapp-1\.0-py3-none-any\.whl HTTP[^\"]*\" 200", log)) == 2


def test_second_highstate_changes_nothing_anywhere(salt_cli, minions, target_ids, cluster_dir):
    ret = salt_cli.run("state.apply", minion_tgt="*")
    assert ret.returncode == 0, ret
    results = state_results(ret)
    assert set(results) == set(minions)
    for minion_id, states in results.items():
        for state_id, state in states.items():
            assert state["result"] is True, (minion_id, state_id, state["comment"])
            assert state["changes"] == {}, (minion_id, state_id, state["changes"])
    assert [restarts(cluster_dir, t) for t in target_ids] == [0, 0]


def test_pillar_change_rolls_out_and_fires_the_watcher(master, salt_cli, minions, builder_id,
                                                       target_ids, cluster_dir, pillar,
                                                       event_listener):
    pillar.set_packages(SPEC2)
    refresh_pillar(salt_cli)
    started = time.time()
    # One highstate everywhere at once: targets wait for the builder's manifest.
    ret = salt_cli.run("state.apply", minion_tgt="*")
    assert ret.returncode == 0, ret
    results = state_results(ret)
    assert "manifest" in results[builder_id]["app_wheels"]["changes"]
    for target_id in target_ids:
        changes = results[target_id]["app_venv"]["changes"]
        assert changes["packages"] == {"added": {"vbcext": "1.0"}}
        assert changes["requirements"] == {"added": ["vbcext"]}
    assert [restarts(cluster_dir, t) for t in target_ids] == [1, 1]
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
    for event in events:
        assert event.data["data"]["new"] == results[event.data["id"]]["app_venv"]["changes"][
            "spec_id"]["new"]

    again = state_results(salt_cli.run("state.apply", minion_tgt="*"))
    for states in again.values():
        assert all(state["changes"] == {} for state in states.values())
    assert [restarts(cluster_dir, t) for t in target_ids] == [1, 1]


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
        assert [restarts(cluster_dir, t) for t in target_ids] == [1, 1]
    finally:
        pillar.set_packages(SPEC2)
        refresh_pillar(salt_cli)


def test_unbuilt_manifest_times_out_with_a_clear_message(salt_cli, target_ids, cluster_dir,
                                                          build_args):
    ret = salt_cli.run(
        "venvbuild.install", str(cluster_dir / "never" / "app"),
        'packages=["vbapp", "vbdep==1.1"]', f"build_args={build_args!r}".replace("'", '"'),
        "builder_target=roles:venvbuild-builder", "builder_tgt_type=grain",
        "wait_timeout=2", "wheel_build=False", "install_tool=uv",
        minion_tgt=target_ids[0],
    )
    assert ret.returncode != 0
    message = str(ret.data)
    assert re.search(r"manifest http://127\.0\.0\.1:\d+/[^ ]+/manifests/app-[0-9a-f]{16}\.txt "
                     r"not found after 2 s", message), message
    assert "state.apply venvbuild.builder" in message
    assert not (cluster_dir / "never").exists() or not any((cluster_dir / "never").iterdir())


def test_no_builder_and_no_wheel_build_is_a_clear_error(salt_cli, target_ids, cluster_dir):
    ret = salt_cli.run(
        "venvbuild.install", str(cluster_dir / "nobuilder" / "app"), 'packages=["vbapp"]',
        "builder_target=roles:no-such-role", "builder_tgt_type=grain", "wheel_build=False",
        minion_tgt=target_ids[0],
    )
    assert ret.returncode != 0
    assert "no builder serves platform" in str(ret.data)
    assert "wheel_build is false" in str(ret.data)


def test_target_asks_the_builder_to_build_through_peer_publish(salt_cli, minions, target_ids,
                                                                cluster_dir, build_args):
    before = len(manifests(cluster_dir))
    path = cluster_dir / target_ids[1] / "asked" / "app"
    ret = salt_cli.run(
        "venvbuild.install", str(path), 'packages=["vbdep==1.1"]',
        f"build_args={build_args!r}".replace("'", '"'), "install_tool=uv",
        "builder_target=roles:venvbuild-builder", "builder_tgt_type=grain",
        "wheel_build=False", "request_build=True", "wait_timeout=120",
        minion_tgt=target_ids[1],
    )
    assert ret.returncode == 0, ret
    assert ret.data["changes"]["packages"] == {"added": {"vbdep": "1.1"}}
    assert len(manifests(cluster_dir)) == before + 1, "the builder did not publish the spec"
    no_local_builds(minions, target_ids)


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
    assert status["source"].startswith(f"http://127.0.0.1:{repo_port}/")
    assert status["versions"] == {"vbapp": "1.0", "vbcext": "1.0", "vbdep": "1.0"}
    print(f"\none target's install from the builder (salt CLI round trip included): {seconds:.2f} s; "
          f"inside the module: {ret.data['seconds']} s")
    no_local_builds(minions, target_ids)
