"""An OpenStack-like venv end to end, on the cluster and the machine's network address:
an upper-constraints file of 600 lines served over HTTP (``--constraint <url>`` in
``global_constraints``, as role users write it) and a package taken from a git fork
at a version that also exists as an sdist. The builder builds it once; the pip target
and the uv target install the fork's bytes, and the sdist's wheel of the same name
and version stays in the repo for the venvs that use it."""

import os
import shutil
import subprocess

import pytest

import sdists
import servers
from saltext_venvbuild.core.manifest import Manifest

from .conftest import HOST
from .test_cluster import SPEC2
from .test_cluster import refresh_pillar
from .test_cluster import state_results
from .test_cluster import venv

# The Salt interfaces used here (mine, LocalClient, runners) run on every Salt in
# test_cluster.py and test_cluster_arranged.py; this is venvbuild's own logic.
pytestmark = [pytest.mark.integration, pytest.mark.newest_salt]

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}


def upper_constraints(count=600):
    """Lines as OpenStack's upper-constraints.txt has them, with ours among them."""
    lines = ["# upper-constraints, as generated for a release"]
    for index in range(count):
        lines.append(f"oslo.vbtest{index:03d}===9.{index % 7}.{index % 3}")
        if index % 50 == 0:
            lines.append(f"vbtest-marker{index}===1.0;python_version=='3.{8 + index % 5}'")
    lines += ["vbdep===1.0", "vbapp===1.0", "vbcext===1.0"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def fork(tmp_path_factory):
    """A git fork of vbdep, still at version 1.0 (which the sdist index also has)."""
    repo = tmp_path_factory.mktemp("fork") / "vbdep"
    shutil.copytree(sdists.PACKAGES / "vbdep", repo)
    (repo / "VBVERSION").write_text("1.0\n")
    (repo / "vbdep" / "__init__.py").write_text(
        "def greet(name):\n    return f\"hello {name} from the vbdep fork\"\n")
    env = dict(os.environ, **GIT_ENV)
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "fork"]):
        subprocess.run(["git", *cmd], cwd=repo, env=env, check=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                         check=True).stdout.strip()
    return f"vbdep @ git+file://{repo}@{sha}"


def test_an_openstack_like_venv_on_a_pip_and_a_uv_target(master, salt_cli, minions, builder_id,
                                                          target_ids, cluster_dir, pillar, fork,
                                                          tmp_path):
    served = tmp_path / "constraints"
    served.mkdir()
    (served / "upper-constraints.txt").write_text(upper_constraints())
    with servers.serve(served, host=HOST) as (url, server):
        pillar.set_packages(["vbapp", "vbcext"], constraints=[fork],
                            global_constraints=[f"--constraint {url}/upper-constraints.txt"])
        refresh_pillar(salt_cli)
        try:
            ret = salt_cli.run("state.apply", minion_tgt="*")
            assert ret.returncode == 0, ret
            assert server.hits.get("/upper-constraints.txt"), "the builder did not read the file"
            results = state_results(ret)
            for target_id in target_ids:
                assert results[target_id]["app_venv"]["result"] is True
                out = salt_cli.run("cmd.run", f"{venv(cluster_dir, target_id)}/bin/vbapp",
                                   minion_tgt=target_id)
                assert out.data == "hello vbapp from the vbdep fork"
            spec_id = salt_cli.run("venvbuild.status", str(venv(cluster_dir, target_ids[0])),
                                   minion_tgt=target_ids[0]).data["spec_id"]
            (path,) = cluster_dir.glob(f"repo/*/manifests/app-{spec_id}.txt")
            manifest = Manifest.parse(path.read_text())
            assert manifest.versions()["vbdep"] == "1.0"
            (cfile,) = manifest.constraint_files
            assert cfile.ref == f"{url}/upper-constraints.txt"
            # Two builds of vbdep 1.0 from two sources, side by side in the repo.
            builds = list(path.parent.parent.glob("wheels/*/vbdep-1.0-py3-none-any.whl"))
            assert len(builds) == 2
            # Targets never fetched the constraints file: only the builder did.
            assert server.hits["/upper-constraints.txt"] == 1
        finally:
            pillar.set_packages(SPEC2)
            refresh_pillar(salt_cli)
            back = salt_cli.run("state.apply", minion_tgt="*")
            assert back.returncode == 0, back
    for target_id in target_ids:
        out = salt_cli.run("cmd.run", f"{venv(cluster_dir, target_id)}/bin/vbapp",
                           minion_tgt=target_id)
        assert out.data == "hello vbapp from vbdep"
