"""Repo upkeep on real daemons (issue 15, item 5): ``salt-run venvbuild.prune`` keeps
every spec a target runs or keeps for rollback, as the targets publish them in the
mine, and removes what nobody uses. It runs after the other cluster tests (its
file name sorts last): it removes manifests they built.
"""

import os

import pytest

from .test_cluster import by_id
from .test_cluster import orch_comments
from .test_cluster import orchestrate
from .test_cluster_arranged import declare
from .test_cluster_arranged import groups  # noqa: F401 (a fixture)
from .test_cluster_arranged import run_runner
from .test_cluster_arranged import svc_path

# The Salt interfaces used here (mine, LocalClient, runners) run on every Salt in
# test_cluster.py and test_cluster_arranged.py; this is venvbuild's own logic.
pytestmark = [pytest.mark.integration, pytest.mark.newest_salt]


def repo_manifests(cluster_dir):
    """``{"<platform>/<venv>-<spec id>": path}`` of every manifest in the builder's repo."""
    found = {}
    for root, _dirs, files in os.walk(cluster_dir / "repo"):
        if os.path.basename(root) == "manifests":
            platform = os.path.relpath(os.path.dirname(root), cluster_dir / "repo")
            for name in files:
                if name.endswith(".txt"):
                    found[f"{platform}/{name[:-4]}"] = os.path.join(root, name)
    return found


def test_prune_keeps_what_the_targets_run_and_keep(master, salt_cli, minions, builder_id,
                                                   target_ids, cluster_dir, groups):  # noqa: F811
    """Two rollouts leave each target a live and a kept version of ``svc``; a third spec
    built and never installed is what prune removes (keep=1 keeps only the newest per
    venv besides those in use). The dry run removes nothing; the real one removes exactly
    its plan, every target's live and kept specs stay, and a target reinstalls from the
    pruned repo."""
    for packages in ({"tgt-uv-": ["vbapp", "vbdep==1.0"], "tgt-pip-": ["vbapp", "vbdep==1.1"]},
                     {"tgt-uv-": ["vbapp", "vbdep==1.1"], "tgt-pip-": ["vbapp", "vbdep==1.0"]}):
        declare(salt_cli, cluster_dir, packages)
        ret = orchestrate(master, builder_id)
        assert ret.returncode == 0, orch_comments(ret)
    assert salt_cli.run("mine.update", minion_tgt="tgt-*").returncode == 0
    fleet = salt_cli.run("venvbuild.fleet_info", minion_tgt="tgt-*")
    assert fleet.returncode == 0, fleet
    in_use = set()
    for target in target_ids:
        svc = fleet.data[target]["svc"]
        assert svc["current"] is True and len(svc["kept"]) == 1, svc
        in_use |= {f"{svc['platform']}/svc-{spec}" for spec in (svc["installed"], *svc["kept"])}

    # Specs built for nobody: the runner builds what the pillar says, then the pillar
    # goes back, so no target runs or keeps them. keep=1 keeps the newest svc manifest
    # besides those in use, so the older of the two is removed.
    nobody = []
    for pins in (["vbdep==1.0"], ["vbdep==1.1"]):
        known = set(repo_manifests(cluster_dir))
        declare(salt_cli, cluster_dir, {"tgt-uv-": pins, "tgt-pip-": pins})
        built = run_runner(master, "venvbuild.build", "tgt=tgt-*")
        assert not built.get("Error") and all(b["result"] for b in built["builds"]), built
        nobody.append(set(repo_manifests(cluster_dir)) - known)
    assert nobody[0], "the first spec for nobody was there already"
    declare(salt_cli, cluster_dir, {"tgt-uv-": ["vbapp", "vbdep==1.1"],
                                    "tgt-pip-": ["vbapp", "vbdep==1.0"]})
    before = repo_manifests(cluster_dir)
    assert in_use <= set(before)

    dry = run_runner(master, "venvbuild.prune", f"builders={builder_id}", "builders_tgt_type=list",
                     "keep=1", "min_age=0")
    assert not dry.get("Error"), dry
    assert dry["test"] is True and dry["in_use"] >= len(in_use)
    plan = dry["builders"][builder_id]
    assert plan["result"] is True, plan
    assert repo_manifests(cluster_dir) == before, "the dry run removed something"
    removed = set(plan["removed"]["manifests"])
    assert removed, plan
    assert not removed & in_use, "prune would remove a spec a target runs or keeps"
    assert nobody[0] <= removed, plan
    assert all(plan["kept"]["manifests"][key] == "in use" for key in in_use), plan["kept"]

    real = run_runner(master, "venvbuild.prune", f"builders={builder_id}",
                      "builders_tgt_type=list", "keep=1", "min_age=0", "test=False")
    assert not real.get("Error"), real
    assert set(real["builders"][builder_id]["removed"]["manifests"]) == removed
    after = repo_manifests(cluster_dir)
    assert set(before) - set(after) == removed and in_use <= set(after)

    # The builder's mine entry shrinks with the repo.
    assert salt_cli.run("mine.update", minion_tgt=builder_id).returncode == 0
    mine = salt_cli.run("mine.get", builder_id, "venvbuild_repo", "tgt_type=list",
                        minion_tgt=builder_id).data[builder_id]
    published = set(mine["manifests"])  # {"<platform>/<venv>-<spec id>": sha256}
    assert not published & removed and in_use <= published

    # Every target's venv is untouched; one installs its spec again from the pruned repo.
    target = target_ids[0]
    assert salt_cli.run("venvbuild.remove", svc_path(cluster_dir, target),
                        minion_tgt=target).returncode == 0
    ret = salt_cli.run("state.apply", "venvbuild", minion_tgt=target)
    assert ret.returncode == 0, ret
    svc = by_id(ret.data)["svc_venv"]
    assert svc["result"] is True and svc["changes"], svc
