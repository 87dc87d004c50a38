"""Attacks that cross minions, on the real cluster (docs/security.md):

- a minion asks the builder, through peer publishing, to run what it likes;
- a rogue minion claims to be a builder (grain and mine entry of its own);
- a second web server serves a rebuilt wheel with a manifest that matches it.

Each is refused; the builder's repo and the targets' venvs stay as they were.
"""

import hashlib
import json
import os
import shutil

import pytest

import servers
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin

from .conftest import HOST
from .test_cluster import SPEC2
from .test_cluster import manifests
from .test_cluster import state_results
from .test_cluster import venv

pytestmark = pytest.mark.integration


def publish(salt_cli, source, *args):
    """What ``source`` gets back from ``publish.publish`` (a peer request)."""
    return salt_cli.run("publish.publish", *args, "timeout=60", minion_tgt=source).data


def test_the_peer_rule_allows_build_spec_only(salt_cli, builder_id, rogue_id, cluster_dir):
    """A minion cannot make the builder run build_wheels with options of its choosing
    (build_args reading /etc/shadow, URLs, paths): the master's peer rule allows
    venvbuild.build_spec alone."""
    before = manifests(cluster_dir)
    args = json.dumps(["evil", "packages=[\"vbdep\"]", "build_args=[\"-r\", \"/etc/shadow\"]"])
    answer = publish(salt_cli, rogue_id, builder_id, "venvbuild.build_wheels", f"arg={args}")
    assert not answer, answer
    for fun in ("venvbuild.build_spec_x", "venvbuildXbuild_spec", "cmd.run"):
        assert not publish(salt_cli, rogue_id, builder_id, fun, 'arg=["id"]')
    assert manifests(cluster_dir) == before


def test_build_spec_takes_no_options_and_refuses_specs_the_pillar_does_not_define(
        salt_cli, builder_id, rogue_id, cluster_dir):
    before = manifests(cluster_dir)
    extra = publish(salt_cli, rogue_id, builder_id, "venvbuild.build_spec",
                    'arg=["app", "0123456789abcdef", "build_args=[\\"-r\\", \\"/etc/shadow\\"]"]')
    assert "not valid" in str(extra[builder_id])
    unknown = publish(salt_cli, rogue_id, builder_id, "venvbuild.build_spec",
                      'arg=["other", "0123456789abcdef"]')[builder_id]
    assert unknown["result"] is False and "not in builder" in unknown["comment"]
    wrong = publish(salt_cli, rogue_id, builder_id, "venvbuild.build_spec",
                    'arg=["app", "0123456789abcdef"]')[builder_id]
    assert wrong["result"] is False and "refusing" in wrong["comment"]
    bad = publish(salt_cli, rogue_id, builder_id, "venvbuild.build_spec",
                  'arg=["../app", "xyz"]')[builder_id]
    assert "venv id '../app'" in str(bad)
    assert manifests(cluster_dir) == before
    assert "root:" not in json.dumps([extra, unknown, wrong, bad])


@pytest.fixture
def rogue_builder(salt_cli, rogue_id, builder_id, cluster_dir, tmp_path):
    """The rogue minion claims to be a builder: the builder's grain, and a mine entry
    pointing at its own web server, for every platform and manifest the real one has."""
    real = salt_cli.run("mine.get", builder_id, "venvbuild_repo", "tgt_type=list",
                        minion_tgt=rogue_id).data[builder_id]
    evil = tmp_path / "evil"
    shutil.copytree(cluster_dir / "repo", evil, ignore=shutil.ignore_patterns(".locks", ".staging"))
    with servers.serve(evil, host=HOST) as (url, server):
        fake = dict(real, url=url)
        assert salt_cli.run("grains.append", "roles", "venvbuild-builder", minion_tgt=rogue_id).returncode == 0
        assert salt_cli.run("grains.setval", "venvbuild_fake", json.dumps(fake),
                            minion_tgt=rogue_id).returncode == 0
        assert salt_cli.run("mine.send", "venvbuild_repo", "mine_function=grains.get",
                            "venvbuild_fake", minion_tgt=rogue_id).returncode == 0
        try:
            yield server
        finally:
            salt_cli.run("mine.delete", "venvbuild_repo", minion_tgt=rogue_id)
            salt_cli.run("grains.delkey", "venvbuild_fake", minion_tgt=rogue_id)
            salt_cli.run("grains.remove", "roles", "venvbuild-builder", minion_tgt=rogue_id)


def test_a_minion_claiming_to_be_a_builder_is_ignored_by_id_targeting(salt_cli, target_ids,
                                                                     builder_id, rogue_id,
                                                                     cluster_dir, rogue_builder,
                                                                     build_args):
    paths = [cluster_dir / "imp" / target_id / "app" for target_id in target_ids]
    for target_id, path in zip(target_ids, paths):
        ret = salt_cli.run(
            "venvbuild.install", str(path), f"packages={json.dumps(SPEC2)}", "venv_id=app",
            f"build_args={json.dumps(build_args)}", f"builder_target={builder_id},{rogue_id}",
            "builder_tgt_type=list", "wheel_build=False", "builder_platforms={\"" + builder_id
            + "\": [\"*\"]}", minion_tgt=target_id)
        assert ret.returncode == 0, ret
        assert ret.data["comment"].endswith(f"from builder {builder_id}")
        assert "warnings" not in ret.data
    assert rogue_builder.hits == {}, "a target fetched from the rogue's server"

    # Found by grain, the rogue is as good as the builder: a warning says so.
    grain = salt_cli.run(
        "venvbuild.install", str(paths[0]), f"packages={json.dumps(SPEC2)}", "venv_id=app",
        f"build_args={json.dumps(build_args)}", "builder_target=roles:venvbuild-builder",
        "builder_tgt_type=grain", "wheel_build=False", "test=True", minion_tgt=target_ids[0])
    assert grain.returncode == 0, grain
    assert any("any minion can set that grain" in w for w in grain.data["warnings"])


def test_a_second_server_with_a_rebuilt_wheel_and_matching_manifest_is_refused(
        salt_cli, target_ids, builder_id, cluster_dir, tmp_path, build_args):
    """repo_url points at another server; the builder's mine entry still vouches for the
    manifest, and the forged one (matching its rebuilt wheel) does not hash to it."""
    installed = salt_cli.run("venvbuild.status", str(venv(cluster_dir, target_ids[1])),
                             minion_tgt=target_ids[1]).data
    (path,) = cluster_dir.glob(f"repo/*/manifests/app-{installed['spec_id']}.txt")
    genuine = Manifest.parse(path.read_text())
    platform_dir = path.parent.parent
    evil = tmp_path / "evil"
    shutil.copytree(cluster_dir / "repo", evil, ignore=shutil.ignore_patterns(".locks", ".staging"))
    evil_platform = evil / platform_dir.name
    pins = []
    for pin in genuine.pins:
        data = (platform_dir / "wheels" / pin.path).read_bytes() + b"\0"  # other bytes
        sha = hashlib.sha256(data).hexdigest()
        (evil_platform / "wheels" / sha).mkdir()
        (evil_platform / "wheels" / sha / pin.filename).write_bytes(data)
        pins.append(Pin.from_wheel(pin.filename, sha, len(data)))
    forged = Manifest.create(genuine.venv_id, genuine.spec_id, genuine.platform,
                             genuine.requirements, pins)
    (evil_platform / "manifests" / genuine.filename).write_text(forged.render())
    packages = [req for req in genuine.requirements]
    target = cluster_dir / "forged" / "app"
    with servers.serve(evil, host=HOST) as (url, server):
        ret = salt_cli.run(
            "venvbuild.install", str(target), f"packages={json.dumps(packages)}", "venv_id=app",
            f"build_args={json.dumps(build_args)}", f"repo_url={url}", f"builder={builder_id}",
            "wheel_build=False", "wait_timeout=10", minion_tgt=target_ids[1])
        assert server.hits, "the target did not ask the second server"
    assert ret.returncode != 0
    assert f"builder {builder_id}'s mine entry" in str(ret.data) and "refused" in str(ret.data)
    assert not os.path.lexists(target)
    # The genuine venvs are untouched.
    for target_id in target_ids:
        status = salt_cli.run("venvbuild.status", str(venv(cluster_dir, target_id)),
                              minion_tgt=target_id).data
        assert status["versions"]["vbcext"] == "1.0"


def test_a_highstate_after_the_attacks_changes_nothing(salt_cli, minions, target_ids):
    results = state_results(salt_cli.run("state.apply", minion_tgt="*"))
    for states in results.values():
        assert all(state["changes"] == {} and state["result"] is True for state in states.values())
