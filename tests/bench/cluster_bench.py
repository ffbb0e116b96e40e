#!/usr/bin/env python3
"""Cluster benchmark: dagctl on PostgreSQL with 1, 2 and 4 workers.

Starts a throw-away PostgreSQL on loopback (initdb in a temporary folder, as the
postgres user when run as root), then for each number of workers:
  throughput: one `dagctl scheduler --no-worker` and N `dagctl worker --slots S`
              processes run R runs of a DAG of T no-op tasks (`true`), all queued
              at once; tries/s = R*T / (last try's end - first try's start), from
              the store's own timestamps;
  pickup:     with the same processes idle, P single-task runs are triggered one
              at a time; the latency of each try is claim time - queued time
              (both on PostgreSQL's clock): how long a queued try waits for an
              idle worker. p50 and p99.
Then the same throughput and pickup on SQLite with `dagctl serve` (one process),
for comparison. Prints a table.

usage: tests/bench/cluster_bench.py [--dagctl build/dagctl] [--runs 20] [--tasks 100]
       [--slots 16] [--pickups 100] [--workers 1,2,4]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from throwaway_postgres import Postgres  # noqa: E402


def write_dags(dags, tasks):
    os.makedirs(dags, exist_ok=True)
    with open(os.path.join(dags, "noop.yaml"), "w") as f:
        f.write(f"max_active_runs: 1000\nmax_active_tasks: 1000\ndefault_args:\n  retries: 0\n"
                f"tasks:\n")
        for i in range(tasks):
            f.write(f"  - {{id: t{i}, command: 'true'}}\n")
    with open(os.path.join(dags, "one.yaml"), "w") as f:
        f.write("max_active_runs: 1000\ntasks:\n  - {id: t, command: 'true'}\n")


class Env:
    """How to run dagctl on one store."""

    def __init__(self, dagctl, home, dags, store):
        self.dagctl, self.home, self.dags, self.store = dagctl, home, dags, store

    def env(self):
        e = {**os.environ, "DAGCTL_HOME": self.home, "DAGCTL_DAGS": self.dags}
        if self.store:
            e["DAGCTL_STORE"] = self.store
        return e

    def run(self, *args):
        return subprocess.run([self.dagctl, *args], env=self.env(), check=True,
                              capture_output=True, text=True).stdout

    def start(self, *args):
        return subprocess.Popen([self.dagctl, *args], env=self.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until(cond, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def measure(env, query, runs, tasks, pickups):
    """Throughput then pickup latencies on a running set of processes."""
    for _ in range(runs):
        env.run("trigger", "noop")
    done, span = query["done"], query["span"]
    if not wait_until(done, 600):
        sys.exit("the runs did not finish in 10 minutes")
    count, micros = span()
    throughput = int(count) / (int(micros) / 1e6)
    for _ in range(pickups):
        env.run("trigger", "one")
        time.sleep(0.05)
    if not wait_until(query["pickups_done"], 120):
        sys.exit("the pickup runs did not finish")
    latencies = [int(x[0]) / 1000.0 for x in query["pickups"]()]
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return throughput, p50, p99


def pg_queries(pg, db, runs, pickups):
    return {
        "done": lambda: pg.sql("SELECT COUNT(*) FROM dag_run WHERE dag_id='noop' AND "
                               "state='success'", db)[0][0] == str(runs),
        "span": lambda: pg.sql("SELECT COUNT(*), MAX(end_date) - MIN(start_date) FROM task_try "
                               "WHERE dag_id='noop'", db)[0],
        "pickups_done": lambda: pg.sql("SELECT COUNT(*) FROM dag_run WHERE dag_id='one' AND "
                                       "state='success'", db)[0][0] == str(pickups),
        "pickups": lambda: pg.sql("SELECT start_date - queued_at FROM task_instance WHERE "
                                  "dag_id='one'", db),
    }


def sqlite_queries(db, runs, pickups):
    def q(sql):
        out = subprocess.run(["sqlite3", db, sql], check=True, capture_output=True,
                             text=True).stdout
        return [line.split("|") for line in out.splitlines() if line]
    return {
        "done": lambda: q("SELECT COUNT(*) FROM dag_run WHERE dag_id='noop' AND "
                          "state='success'")[0][0] == str(runs),
        "span": lambda: q("SELECT COUNT(*), MAX(end_date) - MIN(start_date) FROM task_try "
                          "WHERE dag_id='noop'")[0],
        "pickups_done": lambda: q("SELECT COUNT(*) FROM dag_run WHERE dag_id='one' AND "
                                  "state='success'")[0][0] == str(pickups),
        "pickups": lambda: q("SELECT start_date - queued_at FROM task_instance WHERE "
                             "dag_id='one'"),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dagctl", default="build/dagctl")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--slots", type=int, default=16)
    ap.add_argument("--pickups", type=int, default=100)
    ap.add_argument("--workers", default="1,2,4")
    args = ap.parse_args()
    dagctl = os.path.abspath(args.dagctl)
    root = tempfile.mkdtemp(prefix="dagctl_cluster_bench_")
    pg = Postgres(root)
    rows = []
    try:
        dags = os.path.join(root, "dags")
        write_dags(dags, args.tasks)
        for n in [int(x) for x in args.workers.split(",")]:
            db = f"bench{n}"
            pg.sql(f"CREATE DATABASE {db}")
            env = Env(dagctl, os.path.join(root, f"home{n}"), dags, pg.url(db))
            procs = [env.start("scheduler", "--no-worker", "--quiet")]
            procs += [env.start("worker", "--quiet", "--slots", str(args.slots),
                                "--name", f"w{i}") for i in range(n)]
            time.sleep(1)
            try:
                t, p50, p99 = measure(env, pg_queries(pg, db, args.runs, args.pickups),
                                      args.runs, args.tasks, args.pickups)
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    p.wait()
            rows.append((f"PostgreSQL, {n} worker{'s' if n > 1 else ''} x {args.slots} slots",
                         t, p50, p99))
        home = os.path.join(root, "sqlite")
        env = Env(dagctl, home, dags, None)
        proc = env.start("serve", "--port", "0", "--quiet", "--slots", str(args.slots))
        time.sleep(1)
        try:
            t, p50, p99 = measure(env, sqlite_queries(os.path.join(home, "dagctl.db"), args.runs,
                                                      args.pickups),
                                  args.runs, args.tasks, args.pickups)
        finally:
            proc.terminate()
            proc.wait()
        rows.append((f"SQLite, dagctl serve ({args.slots} slots)", t, p50, p99))
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'setup':42} {'tries/s':>8} {'pickup p50':>11} {'pickup p99':>11}")
    for name, t, p50, p99 in rows:
        print(f"{name:42} {t:8.0f} {p50:9.1f}ms {p99:9.1f}ms")
    print(f"{args.runs} runs x {args.tasks} no-op tasks per throughput figure; "
          f"{args.pickups} single-task runs for pickup; machine: {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
