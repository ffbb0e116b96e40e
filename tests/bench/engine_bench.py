#!/usr/bin/env python3
"""Engine benchmark: dagctl vs GNU make on the same no-op task graphs.

Generates two DAGs of no-op tasks and the equivalent Makefiles (SHELL := /bin/bash,
recipes with a redirection so make, like dagctl, starts bash for every task):
  chain:   N tasks in a line, parallelism 1
  fan-out: 1 -> M -> 1, parallelism 16
runs each engine several times from a clean state, and prints medians, ratios,
dagctl's peak RSS on the fan-out, and the time of `dagctl validate` on a
10,000-task DAG.

usage: tests/bench/engine_bench.py [--dagctl build/dagctl] [--runs 5]
       [--chain 1000] [--fanout 5000] [--validate-tasks 10000]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def write_chain(path, n):
    with open(os.path.join(path, "chain.yaml"), "w") as f:
        f.write("dag_id: chain\nmax_active_tasks: 1\ndefault_args:\n  retries: 0\ntasks:\n")
        for i in range(n):
            dep = f", depends_on: t{i-1}" if i else ""
            f.write(f"  - {{id: t{i}, command: 'echo t{i} > /dev/null'{dep}}}\n")
    with open(os.path.join(path, "chain.mk"), "w") as f:
        f.write("SHELL := /bin/bash\n.PHONY: all " + " ".join(f"t{i}" for i in range(n)) + "\n")
        f.write(f"all: t{n-1}\n")
        for i in range(n):
            dep = f" t{i-1}" if i else ""
            f.write(f"t{i}:{dep}\n\t@echo $@ > /dev/null\n")


def write_fanout(path, m):
    with open(os.path.join(path, "fanout.yaml"), "w") as f:
        f.write("dag_id: fanout\nmax_active_tasks: 16\ndefault_args:\n  retries: 0\ntasks:\n")
        f.write("  - {id: src, command: 'echo src > /dev/null'}\n")
        for i in range(m):
            f.write(f"  - {{id: m{i}, command: 'echo m{i} > /dev/null', depends_on: src}}\n")
        f.write("  - id: sink\n    command: 'echo sink > /dev/null'\n    depends_on:\n")
        for i in range(m):
            f.write(f"      - m{i}\n")
    mids = " ".join(f"m{i}" for i in range(m))
    with open(os.path.join(path, "fanout.mk"), "w") as f:
        f.write(f"SHELL := /bin/bash\n.PHONY: all src sink {mids}\nall: sink\n")
        f.write("src:\n\t@echo $@ > /dev/null\n")
        f.write(f"{mids}: src\n\t@echo $@ > /dev/null\n")
        f.write(f"sink: {mids}\n\t@echo $@ > /dev/null\n")


def write_validate(path, n):
    # A layered DAG: each task depends on up to three tasks of the layer before.
    with open(os.path.join(path, "big.yaml"), "w") as f:
        f.write("dag_id: big\nschedule: '0 2 * * *'\nstart_date: 2026-01-01\ntasks:\n")
        width = 100
        for i in range(n):
            layer = i // width
            deps = [f"t{(layer-1)*width + (i+k) % width}" for k in range(3)] if layer else []
            dep = f", depends_on: [{', '.join(deps)}]" if deps else ""
            f.write(f"  - {{id: t{i}, command: 'echo {{{{ ds }}}} > /dev/null', retries: 1{dep}}}\n")


def timed(cmd, env=None):
    """Wall seconds and peak RSS (KiB) of one command, via /usr/bin/time."""
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    rss = int(p.stderr.strip().splitlines()[-1])
    return wall, rss


def bench(name, work, dagctl, runs, parallel):
    make_times, dag_times, dag_rss = [], [], []
    for _ in range(runs):
        make_times.append(timed(["make", "-s", f"-j{parallel}", "-f",
                                 os.path.join(work, f"{name}.mk")])[0])
        home = tempfile.mkdtemp(prefix="home_", dir=work)
        env = dict(os.environ, DAGCTL_HOME=home, DAGCTL_PARALLELISM=str(parallel))
        wall, rss = timed([dagctl, "run", os.path.join(work, f"{name}.yaml")], env)
        shutil.rmtree(home)
        dag_times.append(wall)
        dag_rss.append(rss)
    return statistics.median(make_times), statistics.median(dag_times), max(dag_rss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dagctl", default="build/dagctl")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--chain", type=int, default=1000)
    ap.add_argument("--fanout", type=int, default=5000)
    ap.add_argument("--validate-tasks", type=int, default=10000)
    ap.add_argument("--workdir", default="build/bench",
                    help="where DAGs, Makefiles and DAGCTL_HOME go (default build/bench)")
    a = ap.parse_args()
    dagctl = os.path.abspath(a.dagctl)
    os.makedirs(a.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="work_", dir=a.workdir)
    write_chain(work, a.chain)
    write_fanout(work, a.fanout)
    write_validate(work, a.validate_tasks)

    print(f"{'workload':<28} {'make (median)':>14} {'dagctl (median)':>16} {'ratio':>7}  dagctl peak RSS")
    for name, tasks, par in (("chain", a.chain, 1), ("fanout", a.fanout + 2, 16)):
        m, d, rss = bench(name, work, dagctl, a.runs, par)
        label = f"{name} ({tasks} tasks, -j{par})"
        print(f"{label:<28} {m:>13.3f}s {d:>15.3f}s {d/m:>6.2f}x  {rss/1024:.1f} MB"
              f"   ({m/tasks*1000:.2f} vs {d/tasks*1000:.2f} ms/task)")

    vt = []
    for _ in range(a.runs):
        vt.append(timed([dagctl, "validate", os.path.join(work, "big.yaml")])[0])
    print(f"validate ({a.validate_tasks} tasks)       median {statistics.median(vt):.3f}s")
    print(f"runs per figure: {a.runs}; machine: {os.cpu_count()} cores")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
