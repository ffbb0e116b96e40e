#!/usr/bin/env python3
"""REST API benchmark: a store with 10,000 runs and 200,000 task instances.

Fills a fresh database (through dagctl's own schema) with RUNS runs of a
TASKS-task DAG, starts `dagctl webserver`, then measures
  - the median latency of GET /api/v1/dags/{id}/dagRuns?limit=100 and of the
    dashboard's grid data for the last 25 runs (sequential requests), and
  - throughput on loopback with wrk (Debian's package; installed if missing).

usage: tests/bench/api_bench.py [--dagctl build/dagctl] [--runs 10000] [--tasks 20]
       [--requests 200] [--wrk-seconds 10] [--connections 16]
"""
import argparse
import http.client
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import time


def fill(dagctl, work, runs, tasks):
    dags = os.path.join(work, "dags")
    os.makedirs(dags)
    with open(os.path.join(dags, "big.yaml"), "w") as f:
        f.write("schedule: '@hourly'\nstart_date: 2020-01-01\ntasks:\n")
        for t in range(tasks):
            dep = f", depends_on: t{t-1}" if t else ""
            f.write(f"  - {{id: t{t}, command: 'true'{dep}}}\n")
    home = os.path.join(work, "home")
    env = dict(os.environ, DAGCTL_HOME=home, DAGCTL_DAGS=dags)
    subprocess.run([dagctl, "list"], env=env, check=True, stdout=subprocess.DEVNULL)
    con = sqlite3.connect(os.path.join(home, "dagctl.db"))
    start = 1577836800 * 1_000_000  # 2020-01-01
    hour = 3600 * 1_000_000
    run_rows, ti_rows = [], []
    for i in range(runs):
        t = start + i * hour
        run_id = f"scheduled__{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t / 1e6))}+00:00"
        state = "failed" if i % 17 == 0 else "success"
        run_rows.append(("big", run_id, "scheduled", state, t, t, t + hour, t + hour, t + hour,
                         t + hour + 5_000_000))
        for k in range(tasks):
            ti_state = "failed" if state == "failed" and k == tasks - 1 else "success"
            ti_rows.append(("big", run_id, f"t{k}", ti_state, 1, 4, t + hour + k * 1000,
                            t + hour + k * 1000 + 500, "shell"))
    con.executemany(
        "INSERT INTO dag_run (dag_id, run_id, run_type, state, logical_date, data_interval_start, "
        "data_interval_end, queued_at, start_date, end_date) VALUES (?,?,?,?,?,?,?,?,?,?)", run_rows)
    con.executemany(
        "INSERT INTO task_instance (dag_id, run_id, task_id, state, try_number, max_tries, "
        "start_date, end_date, operator) VALUES (?,?,?,?,?,?,?,?,?)", ti_rows)
    con.commit()
    con.close()
    return env


def latency(port, path, n):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        times.append((time.perf_counter() - t0) * 1000)
        if resp.status != 200:
            raise SystemExit(f"{path}: HTTP {resp.status} {body[:200]}")
    conn.close()
    return statistics.median(times), len(body)


def wrk(port, path, seconds, connections):
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s",
                          f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in m.groups())
    return rps, total, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dagctl", default="build/dagctl")
    ap.add_argument("--runs", type=int, default=10000)
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workdir", default="build/bench")
    a = ap.parse_args()
    dagctl = os.path.abspath(a.dagctl)
    os.makedirs(a.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="api_", dir=a.workdir)
    server = None
    try:
        env = fill(dagctl, work, a.runs, a.tasks)
        server = subprocess.Popen([dagctl, "webserver", "--port", "0"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = int(re.search(r":(\d+)/", server.stderr.readline()).group(1))
        print(f"store: {a.runs} runs, {a.runs * a.tasks} task instances")
        runs_path = "/api/v1/dags/big/dagRuns?limit=100&order_by=-execution_date"
        grid_path = "/api/v1/ui/grid/big?limit=25"
        for name, path in (("dagRuns?limit=100", runs_path), ("grid, last 25 runs", grid_path)):
            med, size = latency(port, path, a.requests)
            print(f"  {name:<22} median {med:.2f} ms over {a.requests} requests ({size} bytes)")
        for name, path in (("dagRuns?limit=100", runs_path), ("health", "/api/v1/health")):
            rps, total, errors = wrk(port, path, a.wrk_seconds, a.connections)
            print(f"  wrk {name:<18} {rps:.0f} requests/s ({total} in {a.wrk_seconds}s, "
                  f"{a.connections} connections, {errors} errors)")
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait()
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
