#!/usr/bin/env python3
"""Chaos soak: dagctl under random SIGKILLs, then a check of its invariants.

Runs dagctl over generated DAGs whose tasks fail, retry, sleep, time out and
skip at random, on `* * * * *` schedules with catchup and with runs
triggered all along, while killing its processes (SIGKILL) at random moments
and starting them again:

  --store sqlite (default): one `dagctl serve`;
  --store postgres: a throw-away PostgreSQL on loopback, --schedulers N
    `dagctl scheduler --no-worker` and --workers N `dagctl worker --name
    worker-K` (each with a home of its own, as on its own machine; a killed
    one comes back under the same name), one of them killed at a time.

Then it stops killing, lets every run finish, stops the processes and checks:

  - every run finished (success or failed);
  - at most one scheduled run per DAG and logical date;
  - every try accounted for: each try that started (its line in the lines
    file) has exactly one recorded end, and no task instance or try is still
    running;
  - no try number ran twice, and a task instance that succeeded ran its
    last try exactly once and nothing after it;
  - no dagctl or task process left behind;
  - the store is intact: SQLite's PRAGMA integrity_check; on PostgreSQL
    amcheck's bt_index_check (with heapallindexed) of every index.

Prints runs, tries, kills, violations and duration; exits 1 on a violation.

  tests/soak/soak.py --dagctl build/dagctl --minutes 5
  tests/soak/soak.py --dagctl build/dagctl --minutes 5 --store postgres

With --window S (default 0.3) the engine waits S seconds between a try's
end and its record (DAGCTL_TEST_PAUSE_BEFORE_RECORD), so that kills often
land in that window. It also kills task processes now and then.
"""
import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from throwaway_postgres import Postgres  # noqa: E402

# One task's shell: its line first (the try started), then a random fate.
TASK_SCRIPT = """\
echo "$AIRFLOW_CTX_DAG_ID $AIRFLOW_CTX_DAG_RUN_ID $AIRFLOW_CTX_TASK_ID $AIRFLOW_CTX_TRY_NUMBER" >> {lines}
n=$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')
if [ "$n" -lt {fail} ]; then exit 1; fi
if [ "$n" -lt {skip} ]; then exit 99; fi
if [ "$n" -lt {hang} ]; then sleep 5; fi
if [ "$n" -lt {slow} ]; then sleep 1; fi
echo "done $AIRFLOW_CTX_TASK_ID"
"""


def dag_yaml(i, lines, start):
    # Thresholds on a byte 0..255: ~12% fail, ~6% skip, ~4% hang past the
    # 2 s timeout, ~12% slow; the rest succeed at once.
    script = TASK_SCRIPT.format(lines=lines, fail=30, skip=45, hang=55, slow=85)
    body = "".join("      " + line + "\n" for line in script.splitlines())
    out = [
        f"dag_id: soak_{i}",
        "schedule: '* * * * *'",
        f"start_date: {start}",
        "catchup: true",
        "max_active_runs: 6",
        "tasks:",
    ]
    # a -> (b, c) -> d -> e, with skips flowing down by the default rule.
    deps = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"], "e": ["d"]}
    for task, up in deps.items():
        out.append(f"  - id: {task}")
        if up:
            out.append(f"    depends_on: [{', '.join(up)}]")
            out.append("    trigger_rule: all_done")
        out.append("    retries: 2")
        out.append("    retry_delay: 0s")
        out.append("    timeout: 2s")
        out.append("    command: |")
        out.append(body.rstrip("\n"))
    return "\n".join(out) + "\n"


class Soak:
    def __init__(self, args):
        self.args = args
        self.dagctl = os.path.abspath(args.dagctl)
        self.dir = tempfile.mkdtemp(prefix="dagctl_soak_")
        self.dags = os.path.join(self.dir, "dags")
        self.lines = os.path.join(self.dir, "lines")
        os.makedirs(self.dags)
        self.pg = None
        self.env = dict(os.environ, DAGCTL_DAGS=self.dags)
        if args.window > 0:
            # Hold open the window between a try's end and its record, so
            # that kills land in it often (the engine's test fault hook).
            self.env["DAGCTL_TEST_PAUSE_BEFORE_RECORD"] = str(args.window)
        self.task_kills = 0
        self.kills = Counter()
        self.starts = 0
        self.violations = []
        self.rng = random.Random(args.seed)
        self.procs = {}  # name -> Popen

    # --- processes -----------------------------------------------------------
    def layout(self):
        """Each process's name and command line."""
        lease = ["--lease", self.args.lease]
        if self.args.store == "sqlite":
            return {"serve": ["serve", "--port", "0", *lease]}
        out = {}
        for k in range(1, self.args.schedulers + 1):
            out[f"scheduler-{k}"] = ["scheduler", "--no-worker", *lease]
        for k in range(1, self.args.workers + 1):
            out[f"worker-{k}"] = ["worker", "--name", f"worker-{k}", "--slots", "8", *lease]
        return out

    def proc_env(self, name):
        # One home per process, as if each ran on a machine of its own; on
        # SQLite the one process's home holds the store.
        return dict(self.env, DAGCTL_HOME=os.path.join(self.dir, "home", name))

    def start(self, name):
        with open(os.path.join(self.dir, f"{name}.log"), "ab") as log:
            self.procs[name] = subprocess.Popen(
                [self.dagctl, *self.layout()[name]], env=self.proc_env(name), stdout=log,
                stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        self.starts += 1

    def kill(self, name):
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait()
        self.kills[name.split("-")[0]] += 1

    def kill_a_task(self):
        # A task's shell (its script names the lines file): SIGKILL, as the
        # OOM killer would; the living engine records it failed.
        pids = []
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if cmd.startswith(b"/bin/") and self.lines.encode() in cmd:
                pids.append(int(pid))
        if pids:
            try:
                os.kill(self.rng.choice(pids), signal.SIGKILL)
                self.task_kills += 1
            except OSError:
                pass

    def dagctl_cmd(self, *argv):
        env = self.proc_env(next(iter(self.layout())))
        return subprocess.run([self.dagctl, *argv], env=env, capture_output=True, text=True)

    # --- the run -------------------------------------------------------------
    def setup(self):
        if self.args.store == "postgres":
            self.pg = Postgres(self.dir)
            self.pg.sql("CREATE DATABASE soak")
            self.pg.sql("CREATE EXTENSION amcheck", db="soak")
            self.env["DAGCTL_STORE"] = self.pg.url("soak")
        self.generate()

    def generate(self):
        start = (datetime.now(timezone.utc) - timedelta(minutes=self.args.catchup)).strftime(
            "%Y-%m-%dT%H:%M:00Z")
        for i in range(self.args.dags):
            with open(os.path.join(self.dags, f"soak_{i}.yaml"), "w") as f:
                f.write(dag_yaml(i, self.lines, start))

    def chaos(self):
        end = time.monotonic() + self.args.minutes * 60
        for name in self.layout():
            self.start(name)
        next_kill = time.monotonic() + self.rng.uniform(1, self.args.kill_every * 2)
        while time.monotonic() < end:
            time.sleep(0.2)
            if self.rng.random() < 0.05:
                self.dagctl_cmd("trigger", f"soak_{self.rng.randrange(self.args.dags)}")
            if self.rng.random() < 0.02:
                self.kill_a_task()
            if time.monotonic() >= next_kill:
                name = self.rng.choice(sorted(self.procs))
                self.kill(name)
                time.sleep(self.rng.uniform(0, 1.5))
                self.start(name)
                next_kill = time.monotonic() + self.rng.uniform(1, self.args.kill_every * 2)
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    self.violations.append(f"{name} exited by itself ({proc.returncode})")
                    self.start(name)

    def settle(self):
        # No new runs (an end_date now; a paused DAG would leave its queued
        # runs queued); let the engine finish what there is.
        end = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        for i in range(self.args.dags):
            path = os.path.join(self.dags, f"soak_{i}.yaml")
            with open(path) as f:
                text = f.read()
            with open(path, "w") as f:
                f.write(text.replace("catchup: true\n", f"catchup: true\nend_date: {end}\n"))
        deadline = time.monotonic() + self.args.settle
        while True:
            quiet = 0
            while time.monotonic() < deadline and quiet < 3:
                quiet = quiet + 1 if self.unfinished_runs() == 0 else 0
                time.sleep(1)
            self.stop_all()
            # A process that had not yet read the end_date may have created a
            # run just before it stopped (a SIGTERM leaves runs to the next
            # start): start them again, with the end_date read, to finish it.
            if self.unfinished_runs() == 0 or time.monotonic() >= deadline:
                return
            for name in self.layout():
                self.start(name)

    def stop_all(self):
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                self.violations.append(f"{name} did not stop within 30 s of SIGTERM")
                proc.kill()
                proc.wait()

    def query(self, sql):
        """Rows of the store as tuples of text (None for NULL)."""
        if self.pg:
            return [tuple(None if c == "" else c for c in row) for row in self.pg.sql(sql, db="soak")]
        con = sqlite3.connect(os.path.join(self.dir, "home", "serve", "dagctl.db"), timeout=30)
        try:
            return [tuple(None if c is None else str(c) for c in row) for row in con.execute(sql)]
        finally:
            con.close()

    def unfinished_runs(self):
        return int(self.query(
            "SELECT count(*) FROM dag_run WHERE state NOT IN ('success','failed')")[0][0])

    def integrity(self):
        if not self.pg:
            return self.query("PRAGMA integrity_check")[0][0]
        bad = []
        for (index,) in self.query("SELECT c.relname FROM pg_index i JOIN pg_class c ON "
                                   "c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                                   "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                   "WHERE a.amname = 'btree' AND n.nspname = 'public'"):
            try:
                self.query(f"SELECT bt_index_check('{index}'::regclass, true)")
            except subprocess.CalledProcessError as e:
                bad.append(f"{index}: {e.stderr.strip()}")
        return "; ".join(bad) if bad else "ok"

    # --- the invariants ------------------------------------------------------
    def check(self):
        v = self.violations
        q = self.query
        for row in q("SELECT dag_id, run_id, state FROM dag_run "
                     "WHERE state NOT IN ('success','failed')"):
            v.append(f"run not finished: {row}")
        for row in q("SELECT dag_id, logical_date, count(*) FROM dag_run WHERE "
                     "run_type='scheduled' GROUP BY 1, 2 HAVING count(*) > 1"):
            v.append(f"more than one scheduled run per logical date: {row}")
        for row in q("SELECT dag_id, run_id, task_id, state FROM task_instance "
                     "WHERE state IN ('running','queued','scheduled')"):
            v.append(f"task instance left {row[3]}: {row[:3]}")
        tries = {}
        for d, r, t, n, state, end in q(
                "SELECT dag_id, run_id, task_id, try_number, state, end_date FROM task_try"):
            tries[(d, r, t, int(n))] = (state, end)
            if state == "running" or end is None:
                v.append(f"try without an end: {(d, r, t, n)} {state}")
        started = Counter()
        with open(self.lines) as f:
            for line in f:
                parts = line.split()
                if len(parts) != 4:
                    v.append(f"malformed line: {line!r}")
                    continue
                started[(parts[0], parts[1], parts[2], int(parts[3]))] += 1
        for key, count in started.items():
            if count > 1:
                v.append(f"try ran {count} times: {key}")
            if key not in tries:
                v.append(f"try started but has no recorded end: {key}")
        last_try = defaultdict(int)
        for (d, r, t, n) in started:
            last_try[(d, r, t)] = max(last_try[(d, r, t)], n)
        for d, r, t, state, n in q(
                "SELECT dag_id, run_id, task_id, state, try_number FROM task_instance"):
            n = int(n)
            if state == "success":
                if started.get((d, r, t, n), 0) != 1:
                    v.append(f"succeeded try did not run exactly once: {(d, r, t, n)}")
                if last_try[(d, r, t)] > n:
                    v.append(f"task ran again after it succeeded: {(d, r, t)}")
        ok = self.integrity()
        if ok != "ok":
            v.append(f"integrity check: {ok}")
        self.runs = int(q("SELECT count(*) FROM dag_run")[0][0])
        self.run_states = {s: int(c) for s, c in q("SELECT state, count(*) FROM dag_run GROUP BY 1")}
        self.tries = len(tries)
        self.try_states = dict(Counter(s for s, _ in tries.values()))
        self.started = sum(started.values())
        self.lost = int(q("SELECT count(*) FROM task_try WHERE error LIKE "
                          "'%stopped renewing its lease%'")[0][0])
        self.recovered = 0
        for root, _, files in os.walk(os.path.join(self.dir, "home")):
            for name in files:
                if name.endswith(".log"):
                    with open(os.path.join(root, name), errors="replace") as f:
                        self.recovered += f.read().count(" records it from attempt=")
        time.sleep(1)
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = f.read()
            except OSError:
                continue
            if self.dir.encode() in env or self.dir in cmd:
                if self.pg and "postgres" in cmd:
                    continue  # the soak's own database, stopped below
                v.append(f"process left behind: {pid} {cmd.strip()}")

    def report(self, duration):
        figures = {
            "duration_s": round(duration),
            "store": self.args.store,
            "dags": self.args.dags,
            "runs": self.runs,
            "run_states": self.run_states,
            "tries": self.tries,
            "try_states": self.try_states,
            "tries_started": self.started,
            "kills": sum(self.kills.values()),
            "kills_by_process": dict(self.kills),
            "task_kills": self.task_kills,
            "outcomes_recovered": self.recovered,
            "tries_lost": self.lost,
            "violations": len(self.violations),
        }
        for line in self.violations[:50]:
            print("VIOLATION:", line)
        print(json.dumps(figures))
        return figures


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dagctl", default="build/dagctl")
    p.add_argument("--minutes", type=float, default=5, help="time under chaos")
    p.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--schedulers", type=int, default=2, help="with --store postgres")
    p.add_argument("--workers", type=int, default=2, help="with --store postgres")
    p.add_argument("--dags", type=int, default=4)
    p.add_argument("--catchup", type=int, default=30, help="minutes of scheduled runs to catch up")
    p.add_argument("--kill-every", type=float, default=6, help="mean seconds between kills")
    p.add_argument("--lease", default="3s")
    p.add_argument("--settle", type=float, default=600, help="at most this long to finish")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--window", type=float, default=0.3,
                   help="seconds the engine waits between a try's end and its record (0: none)")
    p.add_argument("--keep", action="store_true", help="keep the soak's folder")
    args = p.parse_args()
    soak = Soak(args)
    print(f"soak: {soak.dir}", flush=True)
    began = time.monotonic()
    try:
        soak.setup()
        soak.chaos()
        soak.settle()
        soak.check()
    finally:
        for proc in soak.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if soak.pg:
            soak.pg.stop()
    soak.report(time.monotonic() - began)
    if not args.keep and not soak.violations:
        shutil.rmtree(soak.dir, ignore_errors=True)
    sys.exit(1 if soak.violations else 0)


if __name__ == "__main__":
    main()
