"""Two builders for one platform; one dies in the middle of a rollout (issue 15).

A second builder joins the cluster with its own repo (served on the host's
address) and its own mine entry. Venv ``svc`` of the targets may come from
either. The builder that one target prefers is stopped (its minion and its web
server) after the other target has installed: that target moves on to the
other builder within ``wait_timeout`` (each manifest still authenticated by its
own builder's mine entry), and the master's runner builds the next release on
the builder that is left.
"""

import contextlib
import json
import os

import pytest
from saltfactories.utils import random_string

import servers
from saltext_venvbuild.core import trust

from .conftest import HOST
from .test_cluster import by_id
from .test_cluster import no_local_builds
from .test_cluster import refresh_pillar
from .test_cluster_arranged import run_runner
from .test_cluster_arranged import svc_path

# The Salt interfaces used here (mine, LocalClient, runners) run on every Salt in
# test_cluster.py and test_cluster_arranged.py; this is venvbuild's own logic.
pytestmark = [pytest.mark.integration, pytest.mark.newest_salt]


def _preferred_by(target, builders, platform):
    info = {builder: {"url": "http://x", "platforms": [platform]} for builder in builders}
    return trust.ranked_builders(target, info, platform)[0][0]


@pytest.fixture(scope="module")
def platform(salt_cli, minions, target_ids):
    return salt_cli.run("venvbuild.platform", minion_tgt=target_ids[1]).data["key"]


@pytest.fixture(scope="module")
def second_builder(master, salt_cli, minions, builder_id, target_ids, cluster_dir, platform):
    """A second builder, the one target_ids[1] prefers over the first (its id is
    drawn until rendezvous hashing says so), with its repo served on HOST."""
    while True:
        other = random_string("bld2-", uppercase=False)
        if _preferred_by(target_ids[1], [builder_id, other], platform) == other:
            break
    repo = cluster_dir / "repo2"
    top = cluster_dir / "pillar" / "top.sls"
    saved = top.read_text()
    with contextlib.ExitStack() as web:
        url, _server = web.enter_context(servers.serve(str(repo), host=HOST))
        (cluster_dir / "pillar" / "builder2.sls").write_text(json.dumps({
            "venvbuild": {"repo": {"path": str(repo), "url": url}},
            "mine_functions": {"venvbuild_repo": {"mine_function": "venvbuild.repo_info"}},
        }))
        top.write_text(saved + f"  '{other}':\n    - builder2\n")
        factory = master.salt_minion_daemon(other)
        factory.start()
        try:
            yield {"id": other, "factory": factory, "url": url, "stop_web": web.close}
        finally:
            factory.terminate()
            # Its key and (with it) its mine entry go, so later '*' jobs wait for no one.
            master.salt_key_cli().run("-d", other, "-y")
            top.write_text(saved)
            (cluster_dir / "pillar" / "groups.sls").write_text("{}\n")
            refresh_pillar(salt_cli)


def declare_svc(salt_cli, cluster_dir, packages, builders, alive):
    (cluster_dir / "pillar" / "groups.sls").write_text(
        "venvbuild:\n  venvs:\n    svc:\n"
        f"      path: {cluster_dir}/{{{{ grains['id'] }}}}/venvs/svc\n"
        f"      packages: {json.dumps(packages)}\n"
        f"      builder_target: {','.join(builders)}\n"
        "      builder_tgt_type: list\n"
        "      wait_timeout: 90\n")
    for minion in alive:  # not '*': a dead builder would keep the CLI waiting
        ret = salt_cli.run("saltutil.refresh_pillar", "wait=True", minion_tgt=minion)
        assert ret.returncode == 0, ret
        ret = salt_cli.run("mine.update", minion_tgt=minion)
        assert ret.returncode == 0, ret


def test_a_builder_dies_in_the_middle_of_a_rollout_and_every_target_converges(
        master, salt_cli, minions, builder_id, target_ids, cluster_dir, second_builder):
    other = second_builder["id"]
    builders = [builder_id, other]
    declare_svc(salt_cli, cluster_dir, ["vbapp", "vbdep==1.0"], builders, builders + target_ids)
    for builder in builders:  # each builder publishes the spec in its own repo
        built = run_runner(master, "venvbuild.build", "tgt=tgt-*", "venv=svc",
                           f"builders={builder}", "builders_tgt_type=list")
        assert "Error" not in built and built["builds"][0]["builder"] == builder, built
    # The rollout: the first target installs...
    first = salt_cli.run("state.apply", "venvbuild", minion_tgt=target_ids[0])
    assert first.returncode == 0, first
    # ...then the builder the second target prefers dies: minion and web server.
    second_builder["factory"].terminate()
    second_builder["stop_web"]()
    ret = salt_cli.run("state.apply", "venvbuild", minion_tgt=target_ids[1])
    assert ret.returncode == 0, ret
    svc = by_id(ret.data)["svc_venv"]
    assert svc["result"] is True, svc
    status = salt_cli.run("venvbuild.status", svc_path(cluster_dir, target_ids[1]),
                          minion_tgt=target_ids[1]).data
    assert status["trust"] == f"manifest sha256 published by builder {builder_id} (mine)"
    # The next release: the runner's builds fail over to the builder that is left.
    declare_svc(salt_cli, cluster_dir, ["vbapp", "vbcext", "vbdep==1.0"], builders,
                [builder_id, *target_ids])
    built = run_runner(master, "venvbuild.build", "tgt=tgt-*", "venv=svc", "timeout=10")
    assert "Error" not in built, built
    assert {b["builder"] for b in built["builds"]} == {builder_id}, built
    rollout = salt_cli.run("state.apply", "venvbuild", minion_tgt="tgt-*")
    assert rollout.returncode == 0, rollout
    for target in target_ids:
        assert by_id(rollout.data[target])["svc_venv"]["result"] is True
        out = salt_cli.run("cmd.run", f"{svc_path(cluster_dir, target)}/bin/python -c "
                           "'import vbcext; print(vbcext.add(2, 3))'", minion_tgt=target)
        assert out.data == "5", out
    no_local_builds(minions, target_ids)
    for target in target_ids:
        salt_cli.run("venvbuild.remove", svc_path(cluster_dir, target), minion_tgt=target)
    assert not os.path.exists(os.path.join(svc_path(cluster_dir, target_ids[0]), "bin"))
