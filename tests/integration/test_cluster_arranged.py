"""The master arranges the builds (issue 15): targets declare their own venvs,
the master compiles their pillars and has a builder build exactly those specs;
a target may ask for its own spec through the master (peer_run), never for
another's; a bad release is switched back with one command.

The venv ``svc`` is declared in a pillar file only the targets get
(``groups.sls``), with other packages on each target: the builder's pillar
knows nothing of it.
"""

import json
import os

import pytest

from .test_cluster import by_id
from .test_cluster import manifests
from .test_cluster import no_local_builds
from .test_cluster import orch_comments
from .test_cluster import orchestrate
from .test_cluster import refresh_pillar

pytestmark = pytest.mark.integration

PACKAGES = {"tgt-uv-": ["vbapp", "vbdep==1.0"], "tgt-pip-": ["vbapp", "vbdep==1.1"]}


def svc_path(cluster_dir, minion_id):
    return f"{cluster_dir}/{minion_id}/venvs/svc"


def declare(salt_cli, cluster_dir, packages):
    """Venv 'svc' for the targets only (groups.sls), ``packages`` by target id prefix."""
    (cluster_dir / "pillar" / "groups.sls").write_text(
        "venvbuild:\n  venvs:\n    svc:\n"
        f"      path: {cluster_dir}/{{{{ grains['id'] }}}}/venvs/svc\n"
        "      packages: {{ " + json.dumps(packages["tgt-pip-"])
        + " if grains['id'].startswith('tgt-pip-') else " + json.dumps(packages["tgt-uv-"])
        + " }}\n")
    refresh_pillar(salt_cli)
    # The targets publish the platform each venv installs for (venvbuild.fleet_info).
    assert salt_cli.run("mine.update", minion_tgt="tgt-*").returncode == 0


@pytest.fixture
def groups(salt_cli, cluster_dir, target_ids):
    declare(salt_cli, cluster_dir, PACKAGES)
    yield
    (cluster_dir / "pillar" / "groups.sls").write_text("{}\n")
    refresh_pillar(salt_cli)
    for target in target_ids:
        salt_cli.run("venvbuild.remove", svc_path(cluster_dir, target), minion_tgt=target)


def run_runner(master, *args):
    ret = master.salt_run_cli(timeout=600).run(*args)
    if not isinstance(ret.data, dict):
        pytest.fail(f"salt-run {' '.join(args)}: rc {ret.returncode}\n{ret.stdout}\n{ret.stderr}")
    return ret.data


def test_the_runner_builds_what_each_targets_pillar_defines(master, salt_cli, minions, builder_id,
                                                            target_ids, cluster_dir, groups):
    configs = salt_cli.run("venvbuild.venv_configs", minion_tgt=builder_id).data
    assert "svc" not in configs, "the builder's pillar must not know svc"
    predicted = run_runner(master, "venvbuild.build", "tgt=tgt-*", "venv=svc", "test=True")
    assert "Error" not in predicted, predicted
    assert len(predicted["builds"]) == 2, predicted  # two specs, one per target group
    assert {b["builder"] for b in predicted["builds"]} == {builder_id}
    assert all(b["result"] is None for b in predicted["builds"])
    before = len(manifests(cluster_dir))
    assert len(manifests(cluster_dir)) == before, "test=True built something"
    built = run_runner(master, "venvbuild.build", "tgt=tgt-*", "venv=svc")
    assert "Error" not in built, built
    assert [b["result"] for b in built["builds"]] == [True, True], built
    assert sorted(t for b in built["builds"] for t in b["targets"]) == sorted(target_ids)
    assert len(manifests(cluster_dir)) == before + 2
    # The targets install what was built for them, from the builder, building nothing.
    ret = salt_cli.run("state.apply", "venvbuild", minion_tgt="tgt-*")
    assert ret.returncode == 0, ret
    for target in target_ids:
        assert by_id(ret.data[target])["svc_venv"]["result"] is True
        status = salt_cli.run("venvbuild.status", svc_path(cluster_dir, target),
                              minion_tgt=target).data
        wanted = "1.1" if target.startswith("tgt-pip-") else "1.0"
        assert status["versions"]["vbdep"] == wanted, status
    no_local_builds(minions, target_ids)
    # Built already: the runner finds every manifest published and builds nothing new.
    again = run_runner(master, "venvbuild.build", "tgt=tgt-*", "venv=svc")
    assert [b["result"] for b in again["builds"]] == [True, True], again
    assert len(manifests(cluster_dir)) == before + 2


def test_a_target_asks_the_master_for_its_own_spec_only(master, salt_cli, minions, builder_id,
                                                       target_ids, rogue_id, cluster_dir, groups):
    target = target_ids[1]
    spec_id = salt_cli.run("venvbuild.spec_hash", "svc",
                           f"packages={json.dumps(PACKAGES['tgt-pip-'] + ['vbcext'])}",
                           minion_tgt=target).data
    platform = salt_cli.run("venvbuild.platform", minion_tgt=target).data["key"]
    # Not what its pillar defines (a package added): refused, nothing built.
    before = len(manifests(cluster_dir))
    refused = salt_cli.run("publish.runner", "venvbuild.request",
                           f"arg={json.dumps(['svc', spec_id, platform])}", minion_tgt=target).data
    assert refused["result"] is False and "refused" in refused["comment"], refused
    assert refused["minion"] == target  # the master knows who asks
    # The rogue minion asks for the target's own spec: its pillar has no svc.
    own = salt_cli.run("venvbuild.fleet_info", minion_tgt=target).data
    wanted = own["svc"]["wanted"]
    stolen = salt_cli.run("publish.runner", "venvbuild.request",
                          f"arg={json.dumps(['svc', wanted, platform])}", minion_tgt=rogue_id).data
    assert stolen["result"] is False and stolen["minion"] == rogue_id, stolen
    # A forged caller id in the arguments is not an argument the runner takes.
    forged = salt_cli.run("publish.runner", "venvbuild.request",
                          f"arg={json.dumps(['svc', wanted, platform, '__pub_id=' + target])}",
                          minion_tgt=rogue_id).data
    assert not (isinstance(forged, dict) and forged.get("result") is True), forged
    assert len(manifests(cluster_dir)) == before
    # The target's own spec, through request_build in a plain state run: built by the
    # master's arrangement, installed from the builder. (A spec not built before.)
    declare(salt_cli, cluster_dir, {"tgt-uv-": PACKAGES["tgt-uv-"],
                                    "tgt-pip-": ["vbapp", "vbcext", "vbdep==1.1"]})
    ret = salt_cli.run("state.apply", "venvbuild",
                       'pillar={"venvbuild": {"defaults": {"request_build": true}}}',
                       minion_tgt=target)
    assert ret.returncode == 0, ret
    assert by_id(ret.data)["svc_venv"]["result"] is True
    assert len(manifests(cluster_dir)) == before + 1
    no_local_builds(minions, target_ids)


def test_rollback_on_two_targets(master, salt_cli, minions, builder_id, target_ids, cluster_dir,
                                groups):
    """After a rollout, ``salt 'tgt-*' venvbuild.rollback svc`` switches every target
    back to the kept version with one rename: no download, no install."""
    assert salt_cli.run("state.apply", "venvbuild", minion_tgt="tgt-*").returncode == 0
    first = {t: os.path.realpath(svc_path(cluster_dir, t)) for t in target_ids}
    declare(salt_cli, cluster_dir, {"tgt-uv-": ["vbapp", "vbdep==1.1"],
                                    "tgt-pip-": ["vbapp", "vbdep==1.0"]})
    # One orchestration: the runner builds the targets' new specs (nothing in the
    # builder's pillar), then the targets install them in batches.
    ret = orchestrate(master, builder_id)
    assert ret.returncode == 0, orch_comments(ret)
    second = {t: os.path.realpath(svc_path(cluster_dir, t)) for t in target_ids}
    assert all(first[t] != second[t] for t in target_ids)
    predicted = salt_cli.run("venvbuild.rollback", "svc", "test=True", minion_tgt="tgt-*")
    assert predicted.returncode == 0, predicted
    ret = salt_cli.run("venvbuild.rollback", "svc", minion_tgt="tgt-*")
    assert ret.returncode == 0, ret
    for target in target_ids:
        done = ret.data[target]
        assert done["changed"] is True, done
        assert done["changes"] == predicted.data[target]["changes"]
        assert done["changes"]["venv_dir"] == {"old": second[target], "new": first[target]}
        assert os.path.realpath(svc_path(cluster_dir, target)) == first[target]
    # The pillar still wants the new spec: the next highstate switches forward again,
    # to the kept version, without installing.
    forward = salt_cli.run("state.apply", "venvbuild", minion_tgt="tgt-*")
    assert forward.returncode == 0, forward
    for target in target_ids:
        svc = by_id(forward.data[target])["svc_venv"]
        assert "switched to the kept version" in svc["comment"], svc
        assert os.path.realpath(svc_path(cluster_dir, target)) == second[target]
    no_local_builds(minions, target_ids)


def test_more_than_two_targets_building_for_themselves_are_refused(master, salt_cli, minions,
                                                                   builder_id, target_ids,
                                                                   rogue_id, cluster_dir):
    """The role's pre-flight check, on the master: both targets get a venv with no
    builder (they would build it themselves), and the rogue minion's shared venv has
    none either (it gets venvs.sls only). Three targets building for themselves are
    refused, naming them; the builder's own venvs (it has no builder either) do not
    count, as the targets' builder targeting names it. Nothing is built (test=True)."""
    (cluster_dir / "pillar" / "groups.sls").write_text(
        "venvbuild:\n  venvs:\n    solo:\n"
        f"      path: {cluster_dir}/{{{{ grains['id'] }}}}/venvs/solo\n"
        "      packages: [vbdep]\n      builder_target: null\n      wheel_build: true\n")
    refresh_pillar(salt_cli)
    assert salt_cli.run("mine.update", minion_tgt="tgt-*").returncode == 0
    try:
        local = {rogue_id, *target_ids}
        refused = run_runner(master, "venvbuild.build", "tgt=*", "test=True")
        assert refused.get("Error", "").startswith("refused: "), refused
        assert "targets would build their wheels themselves, more than 2: " in refused["Error"]
        assert all(minion in refused["Error"] for minion in local), refused["Error"]
        assert local <= set(refused["local_builds"]) and builder_id not in refused["local_builds"]
        assert refused["builds"] == []
        allowed = run_runner(master, "venvbuild.build", "tgt=*", "test=True",
                             "allow_local_builds=True")
        assert not allowed.get("Error", "").startswith("refused"), allowed
        assert local <= set(allowed["local_builds"])
        assert allowed["builds"] and all(b["result"] is None for b in allowed["builds"]), allowed
        # The fleet view reads the same pillars; the rogue publishes no venvbuild_venvs,
        # so only the two targets are in it: not more than 2.
        view = run_runner(master, "venvbuild.fleet")
        assert set(target_ids) <= set(view["local_builds"]), view
        assert builder_id not in view["local_builds"]
    finally:
        (cluster_dir / "pillar" / "groups.sls").write_text("{}\n")
        refresh_pillar(salt_cli)
