"""A real Salt cluster: one master, one builder, two targets (one installing
with pip, one with uv) and a rogue minion as daemons, and a real nginx serving
the builder's repo on this machine's network address (not loopback: a fleet is
not 127.0.0.1).

The daemons inherit the test session's environment, where pip's and uv's index
URLs point at a closed port: targets can only install from the builder.
Builders are found the safe way (by minion id); the rogue minion is there to
try what docs/security.md says it cannot do.
"""

import json
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest
import requests
from saltfactories.utils import random_string

import servers

pytestmark = pytest.mark.integration

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


HOST = servers.host_address()


def free_port(host=HOST):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="package")
def cluster_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("cl")
    for sub in ("pillar", "extra", "repo", "nginx"):
        (base / sub).mkdir()
    return base


@pytest.fixture(scope="package")
def repo_port():
    return free_port()


@pytest.fixture(scope="package")
def builder_id():
    return random_string("bld-", uppercase=False)


@pytest.fixture(scope="package")
def target_ids():
    """Two targets: the first installs with uv, the second with pip (its id says which)."""
    return [random_string("tgt-uv-", uppercase=False), random_string("tgt-pip-", uppercase=False)]


@pytest.fixture(scope="package")
def rogue_id():
    return random_string("rogue-", uppercase=False)


class Pillar:
    """Writes the cluster's pillar files; the venv definitions can change."""

    def __init__(self, base, builder_id, repo_port, build_args):
        self.base = base
        # Pillar is assigned by minion id only: a grain would let a minion give
        # itself the builder's pillar (docs/security.md).
        (base / "pillar" / "top.sls").write_text(
            "base:\n"
            "  '*':\n    - venvs\n"
            f"  '{builder_id}':\n    - builder\n"
            "  'tgt-*':\n    - target\n    - groups\n"
        )
        # Venvs only targets declare (tests of master-arranged builds fill it).
        (base / "pillar" / "groups.sls").write_text("{}\n")
        (base / "pillar" / "builder.sls").write_text(json.dumps({
            "venvbuild": {"repo": {
                "path": str(base / "repo"),
                "url": f"http://{HOST}:{repo_port}",
                "nginx": {"manage_service": False, "listen": HOST, "port": repo_port,
                          "config": str(base / "nginx" / "repo.conf")},
            }},
            "mine_functions": {"venvbuild_repo": {"mine_function": "venvbuild.repo_info"}},
        }))
        (base / "pillar" / "target.sls").write_text(json.dumps({
            "venvbuild": {
                "builder": {"target": builder_id, "tgt_type": "list"},
                # No compiler work on targets: fail rather than build locally.
                "defaults": {"wheel_build": False},
            },
            # The fleet view (salt-run venvbuild.fleet) reads this.
            "mine_functions": {"venvbuild_venvs": {"mine_function": "venvbuild.fleet_info"}},
        }))
        self.build_args = build_args
        self.repo_url = f"http://{HOST}:{repo_port}"
        self.extra = {}

    def set_packages(self, packages, **extra):
        """The shared venv definitions; ``extra`` adds keys to venv 'app'."""
        self.extra = extra
        lines = "".join(f"      {key}: {json.dumps(value)}\n" for key, value in sorted(extra.items()))
        # Jinja: each minion's venv under its own directory (one machine here);
        # targets whose id says pip install with pip, the others with uv.
        (self.base / "pillar" / "venvs.sls").write_text(
            "venvbuild:\n"
            "  defaults:\n"
            "    install_tool: {{ 'pip' if grains['id'].startswith('tgt-pip-') else 'uv' }}\n"
            f"    build_args: {json.dumps(self.build_args)}\n"
            "    wait_timeout: 120\n"
            # One machine plays every host: each minion's pip and uv caches are its
            # own (in its cachedir), so each target really downloads the wheels.
            "    install_env: {UV_HTTP_TIMEOUT: '60'}\n"
            "  venvs:\n"
            "    app:\n"
            f"      path: {self.base}/{{{{ grains['id'] }}}}/venvs/app\n"
            f"      packages: {json.dumps(packages)}\n"
            f"{lines}"
        )


@pytest.fixture(scope="package")
def pillar(cluster_dir, builder_id, repo_port, build_args):
    return Pillar(cluster_dir, builder_id, repo_port, build_args)


@pytest.fixture(scope="package")
def state_tree(cluster_dir, builder_id):
    extra = cluster_dir / "extra"
    (extra / "top.sls").write_text(
        "base:\n"
        f"  '{builder_id}':\n    - venvbuild.builder\n"
        "  'tgt-*':\n    - venvbuild\n    - restart\n"
        "  'rogue-*':\n    - idle\n"
    )
    # The rogue minion installs nothing (it is there to attack).
    (extra / "idle.sls").write_text("idle:\n  test.succeed_without_changes: []\n")
    # The stand-in for `service.running: watch: venvbuild: app_venv`.
    (extra / "restart.sls").write_text(
        "restart_app:\n  cmd.run:\n"
        f"    - name: echo restarted >> {cluster_dir}/restarts-{{{{ grains['id'] }}}}\n"
        "    - onchanges:\n      - venvbuild: app_venv\n"
    )
    # The formulas themselves come from the installed extension's fileserver
    # backend (master option fileserver_backend), as docs/install.md tells users.
    return [str(extra)]


@pytest.fixture(scope="package")
def master(salt_factories, cluster_dir, state_tree, pillar):
    factory = salt_factories.salt_master_daemon(
        random_string("mst-", uppercase=False),
        overrides={
            "file_roots": {"base": state_tree},
            # The extension serves its formulas (venvbuild, venvbuild.builder,
            # venvbuild.repo, orch.venvbuild): nothing copied into file_roots.
            "fileserver_backend": ["roots", "venvbuild"],
            "pillar_roots": {"base": [str(cluster_dir / "pillar")]},
            "log_level_logfile": "info",
            # Targets may ask a builder to build a spec of its pillar now
            # (request_build): this function only, anchored (docs/security.md).
            "peer": {".*": [r"^venvbuild\.build_spec$"]},
            # ... or ask the master to build a spec of their own pillar (the runner
            # learns the caller's authenticated id): this runner only, anchored.
            "peer_run": {".*": [r"^venvbuild\.request$"]},
        },
    )
    with factory.started():
        yield factory


@pytest.fixture(scope="package")
def minions(master, builder_id, target_ids, rogue_id):
    """Start the builder, the targets and the rogue minion in parallel."""
    factories = {
        builder_id: master.salt_minion_daemon(
            builder_id, overrides={"grains": {"roles": ["venvbuild-builder"]}}
        )
    }
    for target_id in target_ids:
        factories[target_id] = master.salt_minion_daemon(target_id)
    factories[rogue_id] = master.salt_minion_daemon(rogue_id)
    errors = []

    def start(factory):
        try:
            factory.start()
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(f,)) for f in factories.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        if errors:
            raise errors[0]
        yield factories
    finally:
        for factory in factories.values():
            factory.terminate()


@pytest.fixture(scope="package")
def salt_cli(master):
    return master.salt_cli(timeout=600)


@pytest.fixture(scope="package")
def nginx(cluster_dir, repo_port):
    """Start nginx on the config that venvbuild/repo.sls writes (see test_repo_sls)."""
    prefix = cluster_dir / "nginx"
    started = {}

    def start():
        main = prefix / "nginx.conf"
        user = "user root;\n" if os.geteuid() == 0 else ""
        main.write_text(
            f"{user}daemon off;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
            "events { worker_connections 64; }\n"
            f"http {{\n  access_log {prefix}/access.log;\n  include {prefix}/repo.conf;\n}}\n"
        )
        proc = subprocess.Popen([NGINX, "-c", str(main), "-p", str(prefix)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://{HOST}:{repo_port}/", timeout=1)
                started["proc"] = proc
                return proc
            except requests.ConnectionError:
                if proc.poll() is not None:
                    raise RuntimeError(f"nginx exited: {proc.stderr.read().decode()}") from None
                time.sleep(0.1)
        proc.kill()
        raise RuntimeError("nginx did not answer within 15 s")

    yield start
    if "proc" in started:
        started["proc"].terminate()
        started["proc"].wait(10)
