#!/usr/bin/env python3
"""Scheduler benchmark.

1. Overhead: a 200-task chain run through the scheduler (dagctl trigger) against
   the same chain under `dagctl run`: median run durations, their ratio, and the
   median delay between a task ending and its downstream starting.
2. Fire accuracy and idle cost: 200 DAGs scheduled `*/1 * * * *`; for the next
   minute's fire, how long after the fire time each run was created, and the
   scheduler's CPU use while idle between fires.

usage: tests/bench/scheduler_bench.py [--dagctl build/dagctl] [--runs 5]
       [--chain 200] [--dags 200] [--idle-seconds 20]
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


def us(ts):
    return ts / 1e6


def chain_dag(path, n):
    with open(os.path.join(path, "chain.yaml"), "w") as f:
        f.write("dag_id: chain\nmax_active_tasks: 1\ndefault_args:\n  retries: 0\ntasks:\n")
        for i in range(n):
            dep = f", depends_on: t{i-1}" if i else ""
            f.write(f"  - {{id: t{i}, command: 'echo t{i} > /dev/null'{dep}}}\n")


def run_stats(db, run_id):
    """(run seconds, [downstream start - upstream end] in ms) for one chain run."""
    con = sqlite3.connect(db)
    start, end = con.execute(
        "SELECT start_date, end_date FROM dag_run WHERE run_id=?", (run_id,)).fetchone()
    rows = con.execute(
        "SELECT task_id, start_date, end_date FROM task_instance WHERE run_id=?", (run_id,)).fetchall()
    con.close()
    by = {t: (s, e) for t, s, e in rows}
    gaps = [(by[f"t{i}"][0] - by[f"t{i-1}"][1]) / 1000.0 for i in range(1, len(by))]
    return us(end - start), gaps


def wait_state(db, run_id, states, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        try:
            con = sqlite3.connect(db)
            row = con.execute("SELECT state FROM dag_run WHERE run_id=?", (run_id,)).fetchone()
            con.close()
            if row and row[0] in states:
                return row[0]
        except sqlite3.OperationalError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"run {run_id} did not finish")


def overhead(dagctl, work, n, runs):
    dags = os.path.join(work, "chain_dags")
    os.makedirs(dags)
    chain_dag(dags, n)
    home = os.path.join(work, "home_chain")
    env = dict(os.environ, DAGCTL_HOME=home, DAGCTL_DAGS=dags)
    db = os.path.join(home, "dagctl.db")
    direct, scheduled, gaps_direct, gaps_sched = [], [], [], []
    for _ in range(runs):
        subprocess.run([dagctl, "run", "chain"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run_id = subprocess.run([dagctl, "runs", "chain", "--limit", "1"], env=env, check=True,
                                capture_output=True, text=True).stdout.splitlines()[1].split()[0]
        secs, gaps = run_stats(db, run_id)
        direct.append(secs)
        gaps_direct += gaps
    sched = subprocess.Popen([dagctl, "scheduler", "--quiet"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(runs):
            out = subprocess.run([dagctl, "trigger", "chain"], env=env, check=True,
                                 capture_output=True, text=True).stdout
            run_id = out.split()[1]
            wait_state(db, run_id, ("success", "failed"))
            secs, gaps = run_stats(db, run_id)
            scheduled.append(secs)
            gaps_sched += gaps
            time.sleep(1.1)  # fresh run ids (they carry the trigger second)
    finally:
        sched.send_signal(signal.SIGTERM)
        sched.wait()
    d, s = statistics.median(direct), statistics.median(scheduled)
    print(f"chain of {n} tasks: dagctl run median {d:.3f}s, through the scheduler median {s:.3f}s"
          f" -> {s/d:.2f}x")
    print(f"  task end -> downstream start: median {statistics.median(gaps_direct):.2f} ms (run),"
          f" {statistics.median(gaps_sched):.2f} ms (scheduler)")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fires(dagctl, work, count, idle_seconds):
    dags = os.path.join(work, "minute_dags")
    os.makedirs(dags)
    for i in range(count):
        with open(os.path.join(dags, f"m{i:03}.yaml"), "w") as f:
            f.write("schedule: '*/1 * * * *'\nstart_date: 2026-01-01\n"
                    "tasks:\n  - {id: t, command: 'true'}\n")
    home = os.path.join(work, "home_minutes")
    env = dict(os.environ, DAGCTL_HOME=home, DAGCTL_DAGS=dags)
    db = os.path.join(home, "dagctl.db")
    sched = subprocess.Popen([dagctl, "scheduler", "--quiet"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Let the start-up round (one run per DAG) finish, then wait for the
        # next minute's fire plus a few seconds.
        time.sleep(3)
        now = time.time()
        fire = (int(now) // 60 + 1) * 60
        if fire - now < 2:
            fire += 60
        time.sleep(fire - time.time() + 5)
        con = sqlite3.connect(db)
        lags = [us(q) - fire for (q,) in con.execute(
            "SELECT queued_at FROM dag_run WHERE data_interval_end = ?", (fire * 1_000_000,))]
        con.close()
        # Idle: from 10 s after the fire for `idle_seconds`.
        time.sleep(5)
        c0, t0 = cpu_seconds(sched.pid), time.time()
        time.sleep(idle_seconds)
        c1, t1 = cpu_seconds(sched.pid), time.time()
    finally:
        sched.send_signal(signal.SIGTERM)
        sched.wait()
    lags.sort()
    print(f"{count} DAGs on */1: {len(lags)} runs created for the fire at "
          f"{time.strftime('%H:%M:%S', time.gmtime(fire))} UTC; lag after the fire time: "
          f"median {statistics.median(lags)*1000:.0f} ms, max {lags[-1]*1000:.0f} ms")
    print(f"  idle scheduler CPU over {t1-t0:.0f}s: {100*(c1-c0)/(t1-t0):.2f}% of a core")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dagctl", default="build/dagctl")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--chain", type=int, default=200)
    ap.add_argument("--dags", type=int, default=200)
    ap.add_argument("--idle-seconds", type=int, default=20)
    ap.add_argument("--workdir", default="build/bench")
    a = ap.parse_args()
    dagctl = os.path.abspath(a.dagctl)
    os.makedirs(a.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="sched_", dir=a.workdir)
    try:
        overhead(dagctl, work, a.chain, a.runs)
        fires(dagctl, work, a.dags, a.idle_seconds)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
