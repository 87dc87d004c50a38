"""Measure venvbuild on a 23-package service venv and compare with its peers.

Figures measured here, on this machine, each run:
- venvbuild: first build (wheels_built); first install inside the state with a
  cold and with a warm uv cache; no-op ``installed`` inside the state; the whole
  no-op ``salt-call --local state.apply venvbuild`` against the floor of any
  salt-call, ``salt-call --local test.ping`` (runs interleaved, medians);
  for install_tool uv and pip;
- Salt's ``pip.installed`` no-op on the same venv and requirements;
- raw ``uv venv`` + ``uv pip install --no-index`` from the same wheels, with a
  cold and with a warm uv cache, and its no-op.

Figures quoted from the project brief (measured on this kind of machine) are
printed beside them: pip.installed no-op 0.81 s, the role's no-op 4.8 s, raw uv
cold 0.47 s and no-op 16 ms. No assertion: this prints, people judge.
The fleet benchmark is ``scripts/benchmark --fleet`` (benchmarks/test_fleet.py).
"""

import argparse
import compileall
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

TOP = pathlib.Path(__file__).resolve().parent.parent
BENCH = TOP / ".cache" / "bench"
SALT_CALL = str(pathlib.Path(sys.executable).parent / "salt-call")
UV = str(pathlib.Path(sys.executable).parent / "uv")
# The interpreter python3 on PATH runs (not a pyenv shim): venvbuild resolves it so too.
PYTHON = subprocess.run(["python3", "-c", "import sys; print(sys.executable)"],
                        capture_output=True, text=True, check=True).stdout.strip()
PACKAGES = ["flask", "sqlalchemy", "requests", "pyyaml", "pymysql", "alembic",
            "python-dateutil", "cryptography"]  # 23 distributions once resolved
QUOTED = {"pip.installed no-op": 0.81, "role no-op": 4.8, "uv cold": 0.47, "uv no-op": 0.016}


class Host:
    """One masterless minion configuration under .cache/bench/<tool>."""

    def __init__(self, tool):
        self.tool = tool
        self.base = BENCH / tool
        self.venv = self.base / "venvs" / "service"
        self.cachedir = self.base / "root" / "var" / "cache" / "salt" / "minion"
        # pip's and uv's caches are venvbuild's own, in the minion's cachedir.
        self.uv_cache = self.cachedir / "venvbuild" / "cache" / "uv"
        self.pip_cache = self.cachedir / "venvbuild" / "cache" / "pip"
        (self.base / "pillar").mkdir(parents=True, exist_ok=True)
        (self.base / "extra").mkdir(exist_ok=True)
        (self.base / "minion").write_text(json.dumps({
            "id": f"bench-{tool}", "file_client": "local", "root_dir": str(self.base / "root"),
            "user": os.environ.get("USER") or "root",
            "file_roots": {"base": [str(TOP / "states"), str(self.base / "extra")]},
            "pillar_roots": {"base": [str(self.base / "pillar")]},
        }))
        (self.base / "pillar" / "top.sls").write_text("base:\n  '*': [venvbuild]\n")
        # Salt's own state machinery, for the floor: one state that does nothing.
        (self.base / "extra" / "trivial.sls").write_text(
            "trivial:\n  test.succeed_without_changes: []\n")
        (self.base / "pillar" / "venvbuild.sls").write_text(json.dumps({"venvbuild": {
            "repo": {"path": str(self.base / "repo")},
            "defaults": {"install_tool": tool, "python": PYTHON},
            "venvs": {"service": {"path": str(self.venv), "packages": PACKAGES}},
        }}))

    def call(self, *args):
        start = time.perf_counter()
        proc = subprocess.run([SALT_CALL, "--local", "-c", str(self.base), "--out=json", *args],
                              capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        try:
            data = json.loads(proc.stdout)["local"]
        except (ValueError, KeyError):
            sys.exit(f"salt-call {args} failed:\n{proc.stdout}\n{proc.stderr}")
        if isinstance(data, dict):
            for state in data.values():
                if isinstance(state, dict) and state.get("result") is False:
                    sys.exit(f"salt-call {args}: {state.get('comment')}")
        return data, wall

    def fresh(self):
        """No venv, no repo, no builder environment, no caches of ours (pip's and
        uv's download caches for the build stay warm: we measure building, not
        downloading)."""
        kept = self.base / "pip-cache-kept"
        shutil.rmtree(kept, ignore_errors=True)
        if self.pip_cache.is_dir():
            self.pip_cache.rename(kept)
        for path in (self.base / "venvs", self.base / "repo", self.base / "root" / "var" / "cache"):
            shutil.rmtree(path, ignore_errors=True)
        if kept.is_dir():
            self.pip_cache.parent.mkdir(parents=True, mode=0o700)
            kept.rename(self.pip_cache)

    def install(self, cold):
        """A first install: the venv removed; with cold also the uv cache and
        venvbuild's wheel cache, as on a host that never installed these wheels."""
        self.call("venvbuild.remove", str(self.venv))
        if cold:
            shutil.rmtree(self.uv_cache, ignore_errors=True)
            shutil.rmtree(self.cachedir / "venvbuild" / "wheels", ignore_errors=True)
        data, _ = self.call("state.apply", "venvbuild")
        assert all(s["changes"] for s in data.values()), data
        return state_seconds(data)

    def wheelhouse(self):
        """The repo's wheels in one flat directory, for the raw uv peer."""
        flat = BENCH / "wheelhouse"
        shutil.rmtree(flat, ignore_errors=True)
        flat.mkdir()
        for wheel in (self.base / "repo").glob("*/wheels/*/*.whl"):
            shutil.copy2(wheel, flat / wheel.name)
        manifest = next((self.base / "repo").glob("*/manifests/service-*.txt"))
        return flat, manifest


def state_seconds(data):
    return sum(s["duration"] for s in data.values()) / 1000.0


def fmt(seconds):
    return f"{seconds * 1000:8.1f} ms" if seconds < 1 else f"{seconds:8.2f} s "


def bench_tool(tool, runs):
    host = Host(tool)
    host.fresh()
    results = {}
    data, _ = host.call("state.apply", "venvbuild.builder")
    results["first build (wheels_built)"] = state_seconds(data)
    data, _ = host.call("state.apply", "venvbuild")
    results["first install, right after the build"] = state_seconds(data)
    inside, walls, floor, trivial = [], [], [], []
    for _ in range(4 * runs):  # wall times vary most: four times the runs, interleaved
        _data, wall = host.call("test.ping")
        floor.append(wall)
        _data, wall = host.call("state.apply", "trivial")
        trivial.append(wall)
        data, wall = host.call("state.apply", "venvbuild")
        assert all(not s["changes"] for s in data.values()), data
        inside.append(state_seconds(data))
        walls.append(wall)
    results["no-op installed (inside state)"] = statistics.median(inside)
    results["no-op salt-call state.apply, wall"] = statistics.median(walls)
    results["salt-call test.ping, wall (the floor)"] = statistics.median(floor)
    results["salt-call state.apply of one test state, wall"] = statistics.median(trivial)
    return host, results


def bench_first_installs(host, runs):
    """A first install by venvbuild and by raw uv, alternately, the uv cache cold
    (emptied before each) and warm (kept): the same wheels, the same cache state."""
    wheels, manifest = host.wheelhouse()
    cache, venv = BENCH / "uv-peer-cache", BENCH / "uv-peer"
    results = {}
    for label, cold in (("cold", True), ("warm", False)):
        ours, raw = [], []
        shutil.rmtree(cache, ignore_errors=True)
        raw_uv(wheels, manifest, cache, venv)  # the warm runs start warm, as ours do
        host.install(cold=False)
        for _ in range(runs):
            if cold:
                shutil.rmtree(cache, ignore_errors=True)
            raw.append(raw_uv(wheels, manifest, cache, venv))
            ours.append(host.install(cold=cold))
        results[f"venvbuild first install, {label} uv cache (inside the state)"] = statistics.median(ours)
        results[f"raw uv venv + uv pip install, {label} cache"] = statistics.median(raw)
    return results


def raw_uv(wheels, manifest, cache, venv):
    """uv venv + uv pip install from the wheelhouse: seconds."""
    shutil.rmtree(venv, ignore_errors=True)
    env = dict(os.environ, UV_CACHE_DIR=str(cache))
    start = time.perf_counter()
    subprocess.run([UV, "venv", "-q", "--python", PYTHON, str(venv)], check=True, env=env)
    subprocess.run([UV, "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
                    "--no-index", "--find-links", str(wheels), "-r", str(manifest)],
                   check=True, env=env)
    return time.perf_counter() - start


def bench_peers(pip_host, uv_host, runs):
    """Salt's pip.installed and raw uv on the same wheels."""
    results = {}
    manifest = next((pip_host.base / "repo").glob("*/manifests/service-*.txt"))
    reqs = [line.split(" ")[0] for line in manifest.read_text().splitlines()
            if line and not line.startswith("#")]
    wheels, _ = pip_host.wheelhouse()
    (pip_host.base / "extra" / "peer.sls").write_text(json.dumps({"peer_pip": {"pip.installed": [
        {"pkgs": reqs}, {"bin_env": str(pip_host.venv / "bin" / "pip")},
        {"no_index": True}, {"find_links": str(wheels)}]}}))
    # pip.installed needs pip in the venv: the pip-tool venv has it.
    times, changed = [], 0
    for _ in range(runs):
        data, _ = pip_host.call("state.apply", "peer")
        times.append(state_seconds(data))
        changed += any(s["changes"] for s in data.values())
    results["Salt pip.installed no-op (inside state)"] = statistics.median(times)
    results["  ...runs that reported changes"] = f"{changed}/{runs}"

    wheels, manifest = uv_host.wheelhouse()
    cache, venv = BENCH / "uv-peer-cache", BENCH / "uv-peer"
    raw_uv(wheels, manifest, cache, venv)
    noop = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([UV, "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
                        "--no-index", "--find-links", str(wheels), "-r", str(manifest)],
                       check=True, env=dict(os.environ, UV_CACHE_DIR=str(cache)))
        noop.append(time.perf_counter() - start)
    results["raw uv pip install, no-op"] = statistics.median(noop)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    BENCH.mkdir(parents=True, exist_ok=True)
    # Bytecode, as an installed package has it (an editable install may not, and
    # PYTHONDONTWRITEBYTECODE would make every salt-call compile the sources).
    compileall.compile_dir(str(TOP / "src" / "saltext_venvbuild"), quiet=1)
    print(f"venv: {len(PACKAGES)} requirements; {args.runs} runs per figure, medians; "
          f"{os.cpu_count()} cores; interpreter {PYTHON}\n")
    hosts, figures = {}, {}
    for tool in ("uv", "pip"):
        hosts[tool], figures[tool] = bench_tool(tool, args.runs)
    firsts = bench_first_installs(hosts["uv"], args.runs)
    peers = bench_peers(hosts["pip"], hosts["uv"], args.runs)
    _wheels, manifest = hosts["uv"].wheelhouse()
    count = sum(1 for line in manifest.read_text().splitlines() if line and not line.startswith("#"))
    print(f"distributions in the manifest: {count}\n")
    for tool, res in figures.items():
        print(f"venvbuild, install_tool {tool}:")
        for key, value in res.items():
            print(f"  {key:42s} {fmt(value)}")
    print("\nfirst installs, venvbuild and raw uv alternately:")
    for key, value in firsts.items():
        print(f"  {key:58s} {fmt(value)}")
    print("\npeers measured now:")
    for key, value in peers.items():
        print(f"  {key:42s} {value if isinstance(value, str) else fmt(value)}")
    uv = figures["uv"]
    noop = uv["no-op installed (inside state)"]
    print("\nratios (peer / venvbuild no-op inside the state, install_tool uv):")
    rows = [
        ("Salt pip.installed no-op, measured now", peers["Salt pip.installed no-op (inside state)"]),
        ("Salt pip.installed no-op, quoted", QUOTED["pip.installed no-op"]),
        ("role no-op run, quoted", QUOTED["role no-op"]),
        ("raw uv no-op, measured now", peers["raw uv pip install, no-op"]),
        ("raw uv no-op, quoted", QUOTED["uv no-op"]),
    ]
    for label, value in rows:
        print(f"  {label:42s} {fmt(value)}  {value / noop:8.1f}x")
    print("\nthe whole no-op run against the floor of any salt-call (target: at most 1.10x):")
    for tool, res in figures.items():
        whole, floor = res["no-op salt-call state.apply, wall"], res["salt-call test.ping, wall (the floor)"]
        salt_only = res["salt-call state.apply of one test state, wall"]
        print(f"  install_tool {tool:4s} {fmt(whole)} vs test.ping {fmt(floor)}  {whole / floor:6.2f}x"
              f"   (Salt's state run of one test state alone: {salt_only / floor:4.2f}x)")
    print("\nfirst install inside the state against raw uv venv + uv pip install --no-index "
          "(target: at most 1.00x):")
    for cache in ("cold", "warm"):
        ours = firsts[f"venvbuild first install, {cache} uv cache (inside the state)"]
        raw = firsts[f"raw uv venv + uv pip install, {cache} cache"]
        print(f"  {cache} cache  venvbuild {fmt(ours)} vs raw uv {fmt(raw)}  {ours / raw:6.2f}x")
    print(f"  (quoted raw uv cold: {fmt(QUOTED['uv cold'])}; venvbuild also verifies every "
          "installed file list, writes its stamp and switches atomically)")


if __name__ == "__main__":
    main()
