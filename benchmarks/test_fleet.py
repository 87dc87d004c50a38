"""The fleet benchmark: one build, many targets, measured against the peers.

A real master, one builder and six targets as daemons on this machine; the
builder's repo served by nginx on the host's network address; a realistic
service venv (flask, sqlalchemy, requests, pyyaml, pymysql, alembic,
python-dateutil, cryptography: 23 distributions, MarkupSafe compiled from its
sdist). It measures the builder's cold build, rollouts through
``orch.venvbuild`` with batch sizes 1, 3 and 6, the bytes nginx served per
target, a repeated rollout with the targets' wheel caches warm, a fleet-wide
no-op highstate against a one-state highstate on the same minions (interleaved,
five runs each, wall time and CPU per minion), a one-pin change (its rebuild
against the cold build, its rollout, and a fleet-wide rollback), a second
builder and a rollout with the first one dead (failover), the load on the master, the mine entry's size, nginx's throughput on
the repo and a manifest fetch; and beside it the baseline without venvbuild:
every target running Salt's ``pip.installed`` for itself.

Everything runs on one 2-core machine: the targets share its CPU and disk, so
per-target times under a parallel rollout are contended, as they would not be
on separate hosts. It prints a table; it asserts only that each step worked.

    scripts/benchmark --fleet
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import threading
import time

import psutil
import pytest
import requests
from saltfactories.utils import random_string

import servers

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATES_DIR = os.path.join(REPO_ROOT, "states")
HOST = servers.host_address()
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TARGETS = 6
NOOP_RUNS = 5
PACKAGES = ["flask", "sqlalchemy", "requests", "pyyaml", "pymysql", "alembic",
            "python-dateutil", "cryptography"]
BUILD_ARGS = ["--no-binary", "markupsafe"]  # one distribution compiled from its sdist
ROWS = []  # (section, figure, value, note)


def row(section, figure, value, note=""):
    ROWS.append((section, figure, value, note))


def free_port():
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def fmt(seconds):
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def mib(count):
    return f"{count / (1 << 20):.2f} MiB"


# -- the cluster ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = tmp_path_factory.mktemp("fleet")
    for sub in ("pillar", "extra", "repo", "repo2", "nginx", "nginx2"):
        (path / sub).mkdir()
    return path


@pytest.fixture(scope="module")
def ids():
    return {"builder": random_string("fb-", uppercase=False),
            "builder2": random_string("fb2-", uppercase=False),
            "targets": [random_string(f"ft{n}-", uppercase=False) for n in range(TARGETS)]}


@pytest.fixture(scope="module")
def port():
    return free_port()


@pytest.fixture(scope="module")
def port2():
    return free_port()


class Pillar:
    def __init__(self, base, builder_ids, ports):
        self.base = base
        (base / "pillar" / "top.sls").write_text(
            f"base:\n  '*':\n    - venvs\n  '{builder_ids[0]}':\n    - builder\n"
            f"  '{builder_ids[1]}':\n    - builder2\n  'ft*':\n    - target\n")
        for name, repo, port in (("builder", "repo", ports[0]), ("builder2", "repo2", ports[1])):
            (base / "pillar" / f"{name}.sls").write_text(json.dumps({
                "venvbuild": {"repo": {"path": str(base / repo), "url": f"http://{HOST}:{port}"}},
                "mine_functions": {"venvbuild_repo": {"mine_function": "venvbuild.repo_info"}},
            }))
        self.builders(builder_ids[:1])

    def builders(self, builder_ids):
        """The builders the targets may install from, in the targets' pillar."""
        (self.base / "pillar" / "target.sls").write_text(json.dumps({
            "venvbuild": {"builder": {"target": ",".join(builder_ids), "tgt_type": "list"},
                          "defaults": {"wheel_build": False}},
            "mine_functions": {"venvbuild_venvs": {"mine_function": "venvbuild.fleet_info"}},
        }))

    def set(self, packages):
        # Each "host" its own venv path; its pip and uv caches are its own already
        # (venvbuild keeps them in the minion's cachedir).
        (self.base / "pillar" / "venvs.sls").write_text(
            "venvbuild:\n  defaults:\n    install_tool: uv\n"
            f"    build_args: {json.dumps(BUILD_ARGS)}\n"
            "    wait_timeout: 600\n"
            "  venvs:\n    service:\n"
            f"      path: {self.base}/{{{{ grains['id'] }}}}/venvs/service\n"
            f"      packages: {json.dumps(packages)}\n")


@pytest.fixture(scope="module")
def pillar(base, ids, port, port2):
    found = Pillar(base, [ids["builder"], ids["builder2"]], [port, port2])
    found.set(PACKAGES)
    return found


@pytest.fixture(scope="module")
def master(salt_factories, base, pillar, ids):
    (base / "extra" / "trivial.sls").write_text("trivial:\n  test.succeed_without_changes: []\n")
    # The floor of a highstate: saltenv "floor" maps every minion to one test state.
    (base / "floor").mkdir()
    (base / "floor" / "top.sls").write_text("floor:\n  '*':\n    - trivial\n")
    (base / "floor" / "trivial.sls").write_text("trivial:\n  test.succeed_without_changes: []\n")
    (base / "extra" / "top.sls").write_text(
        f"base:\n  '{ids['builder']}':\n    - venvbuild.builder\n  'ft*':\n    - venvbuild\n")
    # The baseline without venvbuild: each target builds and installs for itself.
    (base / "extra" / "baseline.sls").write_text(
        "baseline_venv:\n  cmd.run:\n"
        f"    - name: python3 -m venv {base}/{{{{ grains['id'] }}}}/baseline\n"
        f"    - creates: {base}/{{{{ grains['id'] }}}}/baseline/bin/python\n"
        "baseline_packages:\n  pip.installed:\n"
        f"    - pkgs: {json.dumps(PACKAGES)}\n"
        f"    - bin_env: {base}/{{{{ grains['id'] }}}}/baseline\n"
        "    - no_binary: markupsafe\n"
        f"    - cache_dir: {base}/{{{{ grains['id'] }}}}/baseline-pip-cache\n"
        "    - require:\n      - cmd: baseline_venv\n")
    factory = salt_factories.salt_master_daemon(random_string("fm-", uppercase=False), overrides={
        "file_roots": {"base": [STATES_DIR, str(base / "extra")], "floor": [str(base / "floor")]},
        "pillar_roots": {"base": [str(base / "pillar")]},
        "worker_threads": 4,
    })
    with factory.started():
        yield factory


@pytest.fixture(scope="module")
def minions(master, ids):
    factories = [master.salt_minion_daemon(ids["builder"])]
    factories += [master.salt_minion_daemon(t) for t in ids["targets"]]
    errors = []

    def start(factory):
        try:
            factory.start()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(f,)) for f in factories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors, errors
        yield factories
    finally:
        for factory in factories:
            factory.terminate()


class Nginx:
    """An nginx serving ``root`` on the host address and ``port``; its access log counts bytes."""

    def __init__(self, prefix, root, port):
        self.prefix = prefix
        self.access_log = prefix / "access.log"
        user = "user root;\n" if os.geteuid() == 0 else ""
        (prefix / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 2;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n  log_format bytes '$request_uri $status $body_bytes_sent';\n"
            f"  access_log {self.access_log} bytes;\n  sendfile on;\n"
            f"  server {{ listen {HOST}:{port}; root {root}; autoindex on; disable_symlinks on;\n"
            "    location ~ /\\. { return 404; } }\n}\n")
        self.proc = subprocess.Popen([NGINX, "-c", str(prefix / "nginx.conf"), "-p", str(prefix)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(f"http://{HOST}:{port}/", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and self.proc.poll() is None, "nginx did not start"
                time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def nginx(base, port):
    server = Nginx(base / "nginx", base / "repo", port)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def nginx2(base, port2):
    server = Nginx(base / "nginx2", base / "repo2", port2)
    try:
        yield server
    finally:
        server.stop()


class AccessLog:
    """Bytes nginx sent since the last mark."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def mark(self):
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def since(self):
        with open(self.path, encoding="utf-8") as handle:
            handle.seek(self.offset)
            lines = handle.read().splitlines()
        sent = [line.split() for line in lines if len(line.split()) == 3]
        wheels = sum(int(b) for uri, status, b in sent if uri.endswith(".whl") and status == "200")
        total = sum(int(b) for _uri, _status, b in sent)
        return {"requests": len(sent), "bytes": total, "wheel_bytes": wheels,
                "wheel_requests": sum(1 for uri, status, _b in sent if uri.endswith(".whl"))}


def master_cpu(master):
    """CPU seconds the master's processes (the daemon and its workers) used so far."""
    return tree_cpu(psutil.Process(master.pid))


def tree_cpu(proc):
    """CPU seconds of a daemon and its children, reaped job processes included."""
    total = 0.0
    for each in [proc, *proc.children(recursive=True)]:
        try:
            times = each.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def durations(ret_data, state_id):
    """{minion: seconds} of one state's duration in a `salt '*' state.apply` return."""
    out = {}
    for minion_id, states in ret_data.items():
        if isinstance(states, dict):
            for key, state in states.items():
                if key.split("_|-")[1] == state_id:
                    out[minion_id] = state["duration"] / 1000.0
    return out


def orchestrate(master, builder_id, batch):
    orch = {"venvbuild": {"builder": {"target": builder_id, "tgt_type": "list"},
                          "orch": {"targets": "ft*", "targets_tgt_type": "glob",
                                   "target_sls": ["venvbuild"], "batch": batch}}}
    started = time.monotonic()
    ret = master.salt_run_cli(timeout=1800).run("state.orchestrate", "orch.venvbuild",
                                                f"pillar={json.dumps(orch)}")
    seconds = time.monotonic() - started
    assert ret.returncode == 0, ret
    per_target = {}
    for step in ret.data["data"].values():
        for key, state in step.items():
            if "venvbuild_install_venvs" in key:
                for minion_id, minion_ret in (state.get("changes", {}).get("ret") or {}).items():
                    for skey, sret in minion_ret.items():
                        if "_venv_" in skey:
                            per_target[minion_id] = sret["duration"] / 1000.0
    return seconds, per_target


def reset_targets(salt_cli, base, ids, minions, caches=True):
    """Remove the targets' venvs and, with caches, their uv caches and venvbuild's
    wheel caches, so a rollout installs anew as on a fresh host."""
    for target in ids["targets"]:
        ret = salt_cli.run("venvbuild.remove", f"{base}/{target}/venvs/service", minion_tgt=target)
        assert ret.returncode == 0, ret
    if caches:
        for factory in minions[1:]:
            for cache in ("wheels", os.path.join("cache", "uv")):
                shutil.rmtree(os.path.join(factory.config["cachedir"], "venvbuild", cache),
                              ignore_errors=True)


def wrk(url, seconds=5, connections=32):
    if not shutil.which("wrk"):
        return None
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url],
                         capture_output=True, text=True, check=False).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    scale = {"B": 1 / (1 << 20), "KB": 1 / 1024, "MB": 1, "GB": 1024}
    mbps = float(transfer.group(1)) * scale.get(transfer.group(2), 1) if transfer else None
    return (float(rps.group(1)) if rps else None), mbps


# -- the benchmark ----------------------------------------------------------------------


def test_fleet(master, minions, nginx, nginx2, base, ids, pillar, port):
    try:
        run_fleet(master, minions, nginx, base, ids, pillar, port)
    finally:
        report()  # what was measured, also when a step failed


def run_fleet(master, minions, nginx, base, ids, pillar, port):  # noqa: PLR0915
    salt_cli = master.salt_cli(timeout=1800)
    access = AccessLog(nginx.access_log)
    builder = ids["builder"]
    assert salt_cli.run("saltutil.refresh_pillar", "wait=True", minion_tgt="*").returncode == 0

    # 1. The builder's cold build: no pip cache, no builder environment, no repo.
    started = time.monotonic()
    ret = salt_cli.run("state.apply", "venvbuild.builder", minion_tgt=builder)
    cold_build = time.monotonic() - started
    assert ret.returncode == 0, ret
    (state,) = ret.data.values()
    manifest_path = next((base / "repo").glob("*/manifests/service-*.txt"))
    pins = [line for line in manifest_path.read_text().splitlines() if line and not line.startswith("#")]
    row("build", "distributions in the venv", str(len(pins)))
    row("build", "builder cold build (salt CLI wall)", fmt(cold_build),
        f"inside the state {fmt(state['duration'] / 1000)}; downloads from the index included")
    assert salt_cli.run("mine.update", minion_tgt=builder).returncode == 0
    mine = salt_cli.run("mine.get", builder, "venvbuild_repo", "tgt_type=list", minion_tgt=builder).data
    row("scale inputs", "mine entry of the builder", f"{len(json.dumps(mine[builder]))} bytes",
        f"{len(mine[builder]['manifests'])} manifest(s)")

    # 2. Rollouts through orch.venvbuild, batch sizes 1, 3 and 6, caches cold.
    rollouts = {}
    for batch in (1, 3, 6):
        reset_targets(salt_cli, base, ids, minions)
        access.mark()
        cpu_before = master_cpu(master)
        seconds, per_target = orchestrate(master, builder, batch)
        served = access.since()
        cpu = master_cpu(master) - cpu_before
        assert len(per_target) == TARGETS, per_target
        rollouts[batch] = seconds
        row("rollout (cold caches)", f"orch.venvbuild, batch {batch}: total", fmt(seconds),
            f"per target median {fmt(statistics.median(per_target.values()))}, "
            f"max {fmt(max(per_target.values()))}")
        row("rollout (cold caches)", f"batch {batch}: bytes served per target",
            mib(served["bytes"] / TARGETS), f"{served['wheel_requests'] // TARGETS} wheels each")
        row("scale inputs", f"master CPU during the batch-{batch} rollout", f"{cpu:.2f} s",
            f"{cpu / seconds * 100:.0f}% of one core over {fmt(seconds)}")
    row("rollout (cold caches)", "batch 1 time / batch 6 time", f"{rollouts[1] / rollouts[6]:.2f}x",
        "6 targets share 2 cores here: batches win on separate hosts, not on one")

    # 3. The same rollout again, the targets' wheel caches warm (venvs removed only).
    reset_targets(salt_cli, base, ids, minions, caches=False)
    access.mark()
    seconds, per_target = orchestrate(master, builder, 6)
    served = access.since()
    row("rollout (warm caches)", "orch.venvbuild, batch 6: total", fmt(seconds),
        f"per target median {fmt(statistics.median(per_target.values()))}")
    row("rollout (warm caches)", "bytes served per target", mib(served["bytes"] / TARGETS),
        f"{served['wheel_requests']} wheel downloads in all (the manifest only)")

    # 4. A fleet-wide no-op highstate against its floor: the same minions applying one
    # test state, interleaved, NOOP_RUNS times each (one run of each varied 1.0x-1.8x here).
    # Each names its saltenv: a plain state.apply would merge both environments' top files.
    ping = time.monotonic()
    assert salt_cli.run("test.ping", minion_tgt="*").returncode == 0
    row("no-op", f"floor of any job: salt '*' test.ping ({TARGETS + 1} minions)",
        fmt(time.monotonic() - ping))
    minion_procs = [psutil.Process(f.pid) for f in minions]
    runs = {"floor": [], "no-op": []}
    cpu = {"floor": [], "no-op": []}
    inside = []
    for _ in range(NOOP_RUNS):
        for name, saltenv in (("floor", "floor"), ("no-op", "base")):
            cpu_before = [tree_cpu(proc) for proc in minion_procs]
            started = time.monotonic()
            ret = salt_cli.run("state.apply", f"saltenv={saltenv}", minion_tgt="*")
            runs[name].append(time.monotonic() - started)
            assert ret.returncode == 0, ret
            assert all(not s["changes"] for states in ret.data.values() for s in states.values())
            time.sleep(1)  # the minions reap their job processes
            cpu[name].append(statistics.median(
                tree_cpu(proc) - before for proc, before in zip(minion_procs, cpu_before)))
            if name == "no-op":
                inside.extend(durations(ret.data, "service_venv").values())
    floor, noop = statistics.median(runs["floor"]), statistics.median(runs["no-op"])
    row("no-op", f"floor: highstate of one test state, {TARGETS + 1} minions (median of {NOOP_RUNS})",
        fmt(floor), "runs " + ", ".join(fmt(x) for x in runs["floor"]))
    row("no-op", f"no-op highstate, {TARGETS + 1} minions (median of {NOOP_RUNS})", fmt(noop),
        "runs " + ", ".join(fmt(x) for x in runs["no-op"]))
    row("no-op", "no-op highstate / floor, wall", f"{noop / floor:.2f}x",
        f"venvbuild.installed inside the state: median {fmt(statistics.median(inside))}")
    cpu_floor, cpu_noop = statistics.median(cpu["floor"]), statistics.median(cpu["no-op"])
    row("no-op", "CPU per minion: floor / no-op highstate", f"{fmt(cpu_floor)} / {fmt(cpu_noop)}",
        f"{cpu_noop / cpu_floor:.2f}x; the minion process and its job processes, median")

    # 5. A one-pin change: only the changed wheel is rebuilt, then rolled out.
    status = salt_cli.run("venvbuild.status", f"{base}/{ids['targets'][0]}/venvs/service",
                          minion_tgt=ids["targets"][0]).data
    idna = status["versions"]["idna"]
    pillar.set([*PACKAGES, f"idna<{idna}"])
    assert salt_cli.run("saltutil.refresh_pillar", "wait=True", minion_tgt="*").returncode == 0
    started = time.monotonic()
    ret = salt_cli.run("state.apply", "venvbuild.builder", minion_tgt=builder)
    pin_build = time.monotonic() - started
    assert ret.returncode == 0, ret
    (state,) = ret.data.values()
    row("one-pin change", f"rebuild (idna<{idna})", fmt(pin_build),
        f"{state['changes'].get('wheels', {}).get('added')} new; against the cold build "
        f"{cold_build / pin_build:.0f}x faster")
    access.mark()
    seconds, per_target = orchestrate(master, builder, 6)
    served = access.since()
    row("one-pin change", "rollout, batch 6: total", fmt(seconds),
        f"per target median {fmt(statistics.median(per_target.values()))}")
    row("one-pin change", "bytes served per target", mib(served["bytes"] / TARGETS),
        f"{served['wheel_requests']} wheel downloads in all")

    # 5b. A bad release rolled back fleet-wide: one command, no download, no install.
    started = time.monotonic()
    ret = salt_cli.run("venvbuild.rollback", "service", minion_tgt="ft*")
    back = time.monotonic() - started
    assert ret.returncode == 0, ret
    # One venv of that id per target: its result, {"changed": True, ...}.
    switched = [m for m, r in ret.data.items() if isinstance(r, dict) and r.get("changed")]
    assert len(switched) == TARGETS, ret.data
    row("one-pin change", f"rollback: salt 'ft*' venvbuild.rollback service ({TARGETS} targets)",
        fmt(back), f"{len(switched)}/{TARGETS} switched back to the kept version; 0 bytes served")

    # 6. The repo under load, a manifest fetch, as a target does them.
    manifest = next((base / "repo").glob("*/manifests/service-*.txt"))
    rel = manifest.relative_to(base / "repo")
    url = f"http://{HOST}:{port}/{rel}"
    with requests.Session() as session:
        times = []
        for _ in range(50):
            start = time.perf_counter()
            assert session.get(url, timeout=5).status_code == 200
            times.append(time.perf_counter() - start)
    row("scale inputs", "manifest fetch (keep-alive, median of 50)", fmt(statistics.median(times)))
    biggest = max((base / "repo").glob("*/wheels/*/*.whl"), key=lambda p: p.stat().st_size)
    result = wrk(url)
    if result:
        row("scale inputs", "nginx: manifest requests/s (wrk, 32 connections)", f"{result[0]:.0f}")
    wheel_url = f"http://{HOST}:{port}/{biggest.relative_to(base / 'repo')}"
    result = wrk(wheel_url)
    if result and result[1]:
        row("scale inputs", f"nginx: MiB/s serving {biggest.name[:28]}... "
            f"({mib(biggest.stat().st_size)})", f"{result[1]:.0f}")

    # 7. The baseline: every target runs Salt's pip.installed for itself (cold caches).
    started = time.monotonic()
    ret = salt_cli.run("state.apply", "baseline", minion_tgt="ft*")
    baseline = time.monotonic() - started
    assert ret.returncode == 0, ret
    per_target = durations(ret.data, "baseline_packages")
    row("baseline: pip.installed", f"all {TARGETS} targets at once (each from the index, "
        "MarkupSafe compiled on each)", fmt(baseline),
        f"per target median {fmt(statistics.median(per_target.values()))}")
    started = time.monotonic()
    ret = salt_cli.run("state.apply", "baseline", minion_tgt="ft*")
    baseline_noop = time.monotonic() - started
    per_target = durations(ret.data, "baseline_packages")
    changed = sum(1 for states in ret.data.values()
                  for key, s in states.items() if "baseline_packages" in key and s["changes"])
    row("baseline: pip.installed", "no-op run on all targets", fmt(baseline_noop),
        f"pip.installed inside the state: median {fmt(statistics.median(per_target.values()))}; "
        f"{changed}/{TARGETS} reported changes")
    row("baseline: pip.installed", "venvbuild's batch-6 rollout against it",
        f"{baseline / rollouts[6]:.1f}x faster", "the builder's cold build not included")
    row("baseline: pip.installed", "venvbuild's batch-6 rollout with the cold build",
        f"{baseline / (rollouts[6] + cold_build):.1f}x faster")

    # 8. Two builders; one dies. The second builder builds the same spec, the targets
    # list both; the first builder's minion and web server stop, its mine entry stays
    # (stale), and the targets install anew (venvs removed, wheel caches warm).
    second = master.salt_minion_daemon(ids["builder2"])
    with second.started():
        assert salt_cli.run("saltutil.refresh_pillar", "wait=True", minion_tgt="*").returncode == 0
        started = time.monotonic()
        ret = salt_cli.run("state.apply", "venvbuild.builder", minion_tgt=ids["builder2"])
        assert ret.returncode == 0, ret
        row("two builders", "second builder's cold build", fmt(time.monotonic() - started))
        assert salt_cli.run("mine.update", minion_tgt=ids["builder2"]).returncode == 0
        pillar.builders([builder, ids["builder2"]])
        assert salt_cli.run("saltutil.refresh_pillar", "wait=True", minion_tgt="ft*").returncode == 0
        reset_targets(salt_cli, base, ids, minions, caches=False)
        started = time.monotonic()
        ret = salt_cli.run("state.apply", "venvbuild", minion_tgt="ft*")
        both = time.monotonic() - started
        assert ret.returncode == 0, ret
        row("two builders", "rollout, both builders up (salt 'ft*' state.apply venvbuild)", fmt(both),
            f"per target median {fmt(statistics.median(durations(ret.data, 'service_venv').values()))}")
        minions[0].terminate()
        nginx.stop()
        reset_targets(salt_cli, base, ids, minions, caches=False)
        started = time.monotonic()
        ret = salt_cli.run("state.apply", "venvbuild", minion_tgt="ft*")
        failover = time.monotonic() - started
        assert ret.returncode == 0, ret
        per_target = durations(ret.data, "service_venv")
        assert len(per_target) == TARGETS, ret.data
        row("two builders", "rollout, first builder dead (stale mine entry)", fmt(failover),
            f"per target median {fmt(statistics.median(per_target.values()))}, "
            f"max {fmt(max(per_target.values()))}; {TARGETS}/{TARGETS} converged")


def report():
    width = max(len(figure) for _s, figure, _v, _n in ROWS)
    section = None
    lines = [f"\nfleet benchmark: 1 builder (2 in the last part), {TARGETS} targets, repo on http://{HOST} "
             f"(nginx); {os.cpu_count()} cores\n"]
    for name, figure, value, note in ROWS:
        if name != section:
            lines.append(f"\n{name}")
            section = name
        lines.append(f"  {figure:{width}s}  {value:>12s}  {note}")
    text = "\n".join(lines)
    print(text)
    out = os.environ.get("VENVBUILD_BENCH_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
