"""Measure venvbuild on a 23-package service venv and compare with its peers.

Figures measured here, on this machine, each run:
- venvbuild: first build (wheels_built), first install, no-op ``installed``
  (inside the state, median of N salt-call runs, and the salt-call wall time),
  for install_tool uv and pip;
- Salt's ``pip.installed`` no-op on the same venv and requirements;
- raw ``uv pip install`` from the same wheel directory: cold (new venv) and no-op.

Figures quoted from the project brief (measured on this kind of machine) are
printed beside them: pip.installed no-op 0.81 s, the role's no-op 4.8 s, raw uv
cold 0.47 s and no-op 16 ms. No assertion: this prints, people judge.
"""

import argparse
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
PACKAGES = ["flask", "sqlalchemy", "requests", "pyyaml", "pymysql", "alembic",
            "python-dateutil", "cryptography"]  # 23 distributions once resolved
QUOTED = {"pip.installed no-op": 0.81, "role no-op": 4.8, "uv cold": 0.47, "uv no-op": 0.016}


def write_config(tool):
    base = BENCH / tool
    (base / "pillar").mkdir(parents=True, exist_ok=True)
    (base / "extra").mkdir(exist_ok=True)
    (base / "minion").write_text(json.dumps({
        "id": f"bench-{tool}", "file_client": "local", "root_dir": str(base / "root"),
        "user": os.environ.get("USER") or "root",
        "file_roots": {"base": [str(TOP / "states"), str(base / "extra")]},
        "pillar_roots": {"base": [str(base / "pillar")]},
    }))
    (base / "pillar" / "top.sls").write_text("base:\n  '*': [venvbuild]\n")
    (base / "pillar" / "venvbuild.sls").write_text(json.dumps({"venvbuild": {
        "repo": {"path": str(base / "repo")},
        "defaults": {"install_tool": tool},
        "venvs": {"service": {"path": str(base / "venvs" / "service"), "packages": PACKAGES}},
    }}))
    return base


def salt_call(base, *args):
    start = time.perf_counter()
    proc = subprocess.run([SALT_CALL, "--local", "-c", str(base), "--out=json", *args],
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


def state_seconds(data):
    return sum(s["duration"] for s in data.values()) / 1000.0


def fmt(seconds):
    return f"{seconds * 1000:8.1f} ms" if seconds < 1 else f"{seconds:8.2f} s "


def bench_tool(tool, runs):
    base = write_config(tool)
    # Every figure from scratch: no venv, no repo, no builder env (pip's and
    # uv's download caches stay warm: we measure building, not downloading).
    shutil.rmtree(base / "venvs", ignore_errors=True)
    shutil.rmtree(base / "repo", ignore_errors=True)
    shutil.rmtree(base / "root" / "var" / "cache", ignore_errors=True)
    results = {}
    data, _ = salt_call(base, "state.apply", "venvbuild.builder")
    results["first build (wheels_built)"] = state_seconds(data)
    data, _ = salt_call(base, "state.apply", "venvbuild")
    results["first install"] = state_seconds(data)
    inside, walls = [], []
    for _ in range(runs):
        data, wall = salt_call(base, "state.apply", "venvbuild")
        assert all(not s["changes"] for s in data.values()), data
        inside.append(state_seconds(data))
        walls.append(wall)
    results["no-op installed (inside state)"] = statistics.median(inside)
    results["no-op salt-call wall time"] = statistics.median(walls)
    return base, results


def bench_peers(base, runs):
    """Salt's pip.installed and raw uv on the same wheels."""
    results = {}
    venv = base / "venvs" / "service"
    wheels = next((base / "repo").glob("*/wheels"))
    manifest = next((base / "repo").glob("*/manifests/service-*.txt"))
    reqs = [line.split(" ")[0] for line in manifest.read_text().splitlines()
            if line and not line.startswith("#")]
    (base / "extra" / "peer.sls").write_text(json.dumps({"peer_pip": {"pip.installed": [
        {"pkgs": reqs}, {"bin_env": str(venv / "bin" / "pip")},
        {"no_index": True}, {"find_links": str(wheels)}]}}))
    # pip.installed needs pip in the venv: the pip-tool venv has it.
    times, changed = [], 0
    for _ in range(runs):
        data, _ = salt_call(base, "state.apply", "peer")
        times.append(state_seconds(data))
        changed += any(s["changes"] for s in data.values())
    results["Salt pip.installed no-op (inside state)"] = statistics.median(times)
    results["  ...runs that reported changes"] = f"{changed}/{runs}"

    uv_venv = BENCH / "uv-peer"
    cold = []
    for _ in range(runs):
        shutil.rmtree(uv_venv, ignore_errors=True)
        subprocess.run([UV, "venv", "-q", "--python", sys.executable, str(uv_venv)], check=True)
        start = time.perf_counter()
        subprocess.run([UV, "pip", "install", "-q", "--python", str(uv_venv / "bin" / "python"),
                        "--no-index", "--find-links", str(wheels), "-r", str(manifest)], check=True)
        cold.append(time.perf_counter() - start)
    noop = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([UV, "pip", "install", "-q", "--python", str(uv_venv / "bin" / "python"),
                        "--no-index", "--find-links", str(wheels), "-r", str(manifest)], check=True)
        noop.append(time.perf_counter() - start)
    results["raw uv pip install, new venv (warm cache)"] = statistics.median(cold)
    results["raw uv pip install, no-op"] = statistics.median(noop)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    BENCH.mkdir(parents=True, exist_ok=True)
    print(f"venv: {len(PACKAGES)} requirements -> 23 distributions; {args.runs} runs per figure\n")
    figures = {}
    for tool in ("uv", "pip"):
        base, res = bench_tool(tool, args.runs)
        figures[tool] = res
    peers = bench_peers(BENCH / "pip", args.runs)
    manifest = next((BENCH / "uv" / "repo").glob("*/manifests/service-*.txt"))
    count = sum(1 for line in manifest.read_text().splitlines() if line and not line.startswith("#"))
    print(f"distributions in the manifest: {count}\n")
    for tool, res in figures.items():
        print(f"venvbuild, install_tool {tool}:")
        for key, value in res.items():
            print(f"  {key:42s} {fmt(value)}")
    print("\npeers measured now:")
    for key, value in peers.items():
        print(f"  {key:42s} {value if isinstance(value, str) else fmt(value)}")
    noop = figures["uv"]["no-op installed (inside state)"]
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
    print("\nfirst install vs raw uv into a new venv: "
          f"{fmt(figures['uv']['first install'])} vs {fmt(peers['raw uv pip install, new venv (warm cache)'])} "
          f"(quoted {fmt(QUOTED['uv cold'])}); venvbuild also creates the venv, verifies it "
          "and switches atomically")


if __name__ == "__main__":
    main()
