#!/usr/bin/env python3
"""Dynamic task mapping benchmark, through a running `dagctl scheduler`.

1. Cost of mapping: a task mapped over N elements (`true` each) against N
   plain tasks doing the same (a fan-out written out task by task): median
   run durations over several runs, and their ratio.
2. The scheduler's loop while a large mapped task runs: a chain of tasks in
   another DAG, alone and then while N mapped instances (`sleep`) run beside
   it: the median and p99 delay between a chain task's end and its
   downstream's start (from the store), and the chain's duration.

usage: tests/bench/mapping_bench.py [--dagctl build/dagctl] [--instances 1000]
       [--runs 3] [--chain 50]
"""
import argparse
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import time


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def mapped_dag(path, n, command):
    """A task mapped over 1..n, the list made by an upstream's XCom."""
    write(path,
          "max_active_tasks: 32\ndefault_args: {retries: 0}\ntasks:\n"
          "  - {id: list, command: 'seq -s, 1 %d | sed \"s/.*/[&]/\"'}\n"
          "  - {id: each, depends_on: list, expand: {i: \"{{ xcom.list }}\"}, "
          "max_map_length: %d, command: '%s'}\n" % (n, n, command))


def plain_dag(path, n, command):
    """n plain tasks after one upstream: the same work, written out task by task."""
    lines = ["max_active_tasks: 32", "default_args: {retries: 0}", "tasks:",
             "  - {id: list, command: 'true'}"]
    lines += [f"  - {{id: t{i}, depends_on: list, command: '{command}'}}" for i in range(n)]
    write(path, "\n".join(lines) + "\n")


def dags(folder, n, chain):
    mapped_dag(os.path.join(folder, "mapped.yaml"), n, "true")
    plain_dag(os.path.join(folder, "plain.yaml"), n, "true")
    mapped_dag(os.path.join(folder, "busy.yaml"), n, "sleep 0.2")
    plain_dag(os.path.join(folder, "busy_plain.yaml"), n, "sleep 0.2")
    lines = ["default_args: {retries: 0}", "tasks:"]
    for i in range(chain):
        dep = f", depends_on: c{i-1}" if i else ""
        lines.append(f"  - {{id: c{i}, command: 'true'{dep}}}")
    write(os.path.join(folder, "chain.yaml"), "\n".join(lines) + "\n")


def state(db, dag, run_id):
    try:
        con = sqlite3.connect(db)
        row = con.execute("SELECT state FROM dag_run WHERE dag_id=? AND run_id=?",
                          (dag, run_id)).fetchone()
        con.close()
        return row[0] if row else None
    except sqlite3.OperationalError:
        return None


def trigger(dagctl, env, dag):
    out = subprocess.run([dagctl, "trigger", dag], env=env, check=True,
                         capture_output=True, text=True).stdout
    return out.split()[1]


def wait(db, dag, run_id, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        s = state(db, dag, run_id)
        if s in ("success", "failed"):
            if s != "success":
                raise SystemExit(f"{dag} run {run_id} {s}")
            return
        time.sleep(0.02)
    raise SystemExit(f"{dag} run {run_id} did not finish")


def duration(db, dag, run_id):
    con = sqlite3.connect(db)
    start, end = con.execute("SELECT start_date, end_date FROM dag_run WHERE dag_id=? AND run_id=?",
                             (dag, run_id)).fetchone()
    con.close()
    return (end - start) / 1e6


def chain_gaps(db, run_id, n):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT task_id, start_date, end_date FROM task_instance "
                       "WHERE dag_id='chain' AND run_id=?", (run_id,)).fetchall()
    con.close()
    by = {t: (s, e) for t, s, e in rows}
    return [(by[f"c{i}"][0] - by[f"c{i-1}"][1]) / 1000.0 for i in range(1, n)]


def p99(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dagctl", default="build/dagctl")
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chain", type=int, default=50)
    ap.add_argument("--workdir", default="build/bench")
    a = ap.parse_args()
    dagctl = os.path.abspath(a.dagctl)
    os.makedirs(a.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="mapping_", dir=a.workdir)
    folder = os.path.join(work, "dags")
    os.makedirs(folder)
    dags(folder, a.instances, a.chain)
    home = os.path.join(work, "home")
    # More slots than the mapped DAG may take, so the chain never waits for one.
    env = dict(os.environ, DAGCTL_HOME=home, DAGCTL_DAGS=folder, DAGCTL_PARALLELISM="64")
    db = os.path.join(home, "dagctl.db")
    sched = subprocess.Popen([dagctl, "scheduler", "--quiet"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        times = {"mapped": [], "plain": []}
        for _ in range(a.runs):
            for dag in ("mapped", "plain"):
                run_id = trigger(dagctl, env, dag)
                wait(db, dag, run_id)
                times[dag].append(duration(db, dag, run_id))
            time.sleep(1.1)  # fresh run ids (they carry the trigger second)
        m, p = statistics.median(times["mapped"]), statistics.median(times["plain"])
        print(f"{a.instances} tries of `true`, max_active_tasks 32: mapped task median {m:.2f}s, "
              f"{a.instances} plain tasks median {p:.2f}s -> {m/p:.2f}x")

        alone = trigger(dagctl, env, "chain")
        wait(db, "chain", alone)
        g0 = chain_gaps(db, alone, a.chain)
        print(f"chain of {a.chain} tasks, task end -> downstream start: alone median "
              f"{statistics.median(g0):.2f} ms, p99 {p99(g0):.2f} ms, run "
              f"{duration(db, 'chain', alone):.2f}s")
        for busy_dag, what in (("busy", f"a task mapped over {a.instances} (`sleep 0.2`)"),
                               ("busy_plain", f"{a.instances} plain tasks (`sleep 0.2`)")):
            time.sleep(1.1)
            busy = trigger(dagctl, env, busy_dag)
            # Wait until its tries run.
            end = time.time() + 60
            while time.time() < end:
                con = sqlite3.connect(db)
                running = con.execute("SELECT COUNT(*) FROM task_instance WHERE dag_id=? AND "
                                      "run_id=? AND state='running' AND task_id != 'list'",
                                      (busy_dag, busy)).fetchone()[0]
                con.close()
                if running:
                    break
                time.sleep(0.02)
            beside = trigger(dagctl, env, "chain")
            wait(db, "chain", beside)
            still = state(db, busy_dag, busy)
            wait(db, busy_dag, busy)
            g1 = chain_gaps(db, beside, a.chain)
            print(f"  beside {what}: median {statistics.median(g1):.2f} ms, p99 {p99(g1):.2f} ms, "
                  f"run {duration(db, 'chain', beside):.2f}s (that run still {still} at the chain's end)")
    finally:
        sched.send_signal(signal.SIGTERM)
        sched.wait()
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
