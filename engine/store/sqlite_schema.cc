// Migrations of the SQLite schema, oldest first. Never edit a shipped one:
// append a new step. PRAGMA user_version records how many have run.
#include "engine/store/sqlite_schema.h"

namespace dagctl {

const std::vector<const char*>& SqliteMigrations() {
  static const std::vector<const char*> kMigrations = {
      // 1: runs, task instances, tries, XCom, pause flags.
      R"sql(
CREATE TABLE dag (
  dag_id     TEXT PRIMARY KEY,
  is_paused  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE dag_run (
  dag_id              TEXT NOT NULL,
  run_id              TEXT NOT NULL,
  run_type            TEXT NOT NULL,
  state               TEXT NOT NULL,
  logical_date        INTEGER NOT NULL,
  data_interval_start INTEGER NOT NULL,
  data_interval_end   INTEGER NOT NULL,
  queued_at           INTEGER NOT NULL,
  start_date          INTEGER,
  end_date            INTEGER,
  conf                TEXT NOT NULL DEFAULT '{}',
  dag_hash            TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (dag_id, run_id)
);
CREATE UNIQUE INDEX dag_run_one_per_interval ON dag_run (dag_id, logical_date)
  WHERE run_type IN ('scheduled', 'backfill');
CREATE INDEX dag_run_by_logical_date ON dag_run (dag_id, logical_date);
CREATE INDEX dag_run_by_state ON dag_run (state);
CREATE TABLE task_instance (
  dag_id          TEXT NOT NULL,
  run_id          TEXT NOT NULL,
  task_id         TEXT NOT NULL,
  state           TEXT,
  try_number      INTEGER NOT NULL DEFAULT 0,
  max_tries       INTEGER NOT NULL DEFAULT 1,
  start_date      INTEGER,
  end_date        INTEGER,
  next_try_at     INTEGER,
  operator        TEXT NOT NULL DEFAULT '',
  priority_weight INTEGER NOT NULL DEFAULT 1,
  pool            TEXT NOT NULL DEFAULT 'default_pool',
  pid             INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (dag_id, run_id, task_id),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
CREATE TABLE task_try (
  dag_id      TEXT NOT NULL,
  run_id      TEXT NOT NULL,
  task_id     TEXT NOT NULL,
  try_number  INTEGER NOT NULL,
  state       TEXT NOT NULL,
  start_date  INTEGER NOT NULL,
  end_date    INTEGER,
  exit_code   INTEGER,
  error       TEXT NOT NULL DEFAULT '',
  hostname    TEXT NOT NULL DEFAULT '',
  pid         INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (dag_id, run_id, task_id, try_number),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
CREATE TABLE xcom (
  dag_id   TEXT NOT NULL,
  run_id   TEXT NOT NULL,
  task_id  TEXT NOT NULL,
  key      TEXT NOT NULL,
  value    TEXT NOT NULL,
  PRIMARY KEY (dag_id, run_id, task_id, key),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
)sql",
      // 2: import errors of the DAGs folder, as the scheduler last saw them;
      // the process executing each run.
      R"sql(
ALTER TABLE dag_run ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE TABLE import_error (
  filename    TEXT PRIMARY KEY,
  stack_trace TEXT NOT NULL,
  timestamp   INTEGER NOT NULL
);
)sql",
      // 3: heartbeats of long-running processes (the scheduler), for /health.
      R"sql(
CREATE TABLE job (
  job_type         TEXT PRIMARY KEY,
  owner            TEXT NOT NULL,
  latest_heartbeat INTEGER NOT NULL
);
)sql",
      // 4: variables.
      R"sql(
CREATE TABLE variable (
  key   TEXT PRIMARY KEY,
  val   TEXT NOT NULL
);
)sql",
      // 5: when a sensor first poked (its timeout counts from there).
      R"sql(
ALTER TABLE task_instance ADD COLUMN first_poke_at INTEGER;
)sql",
      // 6: several processes on several machines. Runs and tries are held on
      // leases with fences; task instances get a map index, a queue, pool
      // slots and a version the run's owner reads changes by; workers, DAG
      // versions, shipped logs, pools and callbacks for workers to run.
      R"sql(
ALTER TABLE dag_run ADD COLUMN lease_until INTEGER;
ALTER TABLE dag_run ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dag_run ADD COLUMN ti_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX dag_run_by_owner ON dag_run (owner);
CREATE TABLE task_instance_v6 (
  dag_id          TEXT NOT NULL,
  run_id          TEXT NOT NULL,
  task_id         TEXT NOT NULL,
  map_index       INTEGER NOT NULL DEFAULT -1,
  state           TEXT,
  try_number      INTEGER NOT NULL DEFAULT 0,
  max_tries       INTEGER NOT NULL DEFAULT 1,
  start_date      INTEGER,
  end_date        INTEGER,
  next_try_at     INTEGER,
  operator        TEXT NOT NULL DEFAULT '',
  priority_weight INTEGER NOT NULL DEFAULT 1,
  pool            TEXT NOT NULL DEFAULT 'default_pool',
  pool_slots      INTEGER NOT NULL DEFAULT 1,
  queue           TEXT NOT NULL DEFAULT 'default',
  queued_at       INTEGER,
  pid             INTEGER NOT NULL DEFAULT 0,
  first_poke_at   INTEGER,
  worker          TEXT NOT NULL DEFAULT '',
  hostname        TEXT NOT NULL DEFAULT '',
  lease_until     INTEGER,
  fence           INTEGER NOT NULL DEFAULT 0,
  version         INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (dag_id, run_id, task_id, map_index),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
INSERT INTO task_instance_v6 (dag_id, run_id, task_id, state, try_number, max_tries, start_date,
  end_date, next_try_at, operator, priority_weight, pool, pid, first_poke_at)
  SELECT dag_id, run_id, task_id, state, try_number, max_tries, start_date, end_date, next_try_at,
  operator, priority_weight, pool, pid, first_poke_at FROM task_instance;
DROP TABLE task_instance;
ALTER TABLE task_instance_v6 RENAME TO task_instance;
CREATE INDEX task_instance_by_state ON task_instance (state, priority_weight);
CREATE INDEX task_instance_by_version ON task_instance (dag_id, run_id, version);
CREATE TABLE task_try_v6 (
  dag_id      TEXT NOT NULL,
  run_id      TEXT NOT NULL,
  task_id     TEXT NOT NULL,
  map_index   INTEGER NOT NULL DEFAULT -1,
  try_number  INTEGER NOT NULL,
  state       TEXT NOT NULL,
  start_date  INTEGER NOT NULL,
  end_date    INTEGER,
  exit_code   INTEGER,
  error       TEXT NOT NULL DEFAULT '',
  hostname    TEXT NOT NULL DEFAULT '',
  pid         INTEGER NOT NULL DEFAULT 0,
  worker      TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (dag_id, run_id, task_id, map_index, try_number),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
INSERT INTO task_try_v6 (dag_id, run_id, task_id, try_number, state, start_date, end_date,
  exit_code, error, hostname, pid)
  SELECT dag_id, run_id, task_id, try_number, state, start_date, end_date, exit_code, error,
  hostname, pid FROM task_try;
DROP TABLE task_try;
ALTER TABLE task_try_v6 RENAME TO task_try;
CREATE TABLE xcom_v6 (
  dag_id    TEXT NOT NULL,
  run_id    TEXT NOT NULL,
  task_id   TEXT NOT NULL,
  map_index INTEGER NOT NULL DEFAULT -1,
  key       TEXT NOT NULL,
  value     TEXT NOT NULL,
  PRIMARY KEY (dag_id, run_id, task_id, map_index, key),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
INSERT INTO xcom_v6 (dag_id, run_id, task_id, key, value)
  SELECT dag_id, run_id, task_id, key, value FROM xcom;
DROP TABLE xcom;
ALTER TABLE xcom_v6 RENAME TO xcom;
CREATE TABLE job_v6 (
  job_type         TEXT NOT NULL,
  owner            TEXT NOT NULL,
  latest_heartbeat INTEGER NOT NULL,
  PRIMARY KEY (job_type, owner)
);
INSERT INTO job_v6 SELECT job_type, owner, latest_heartbeat FROM job;
DROP TABLE job;
ALTER TABLE job_v6 RENAME TO job;
CREATE TABLE worker (
  name       TEXT PRIMARY KEY,
  hostname   TEXT NOT NULL,
  queues     TEXT NOT NULL,
  slots      INTEGER NOT NULL,
  slots_used INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  heartbeat  INTEGER NOT NULL
);
CREATE TABLE dag_version (
  dag_id     TEXT NOT NULL,
  hash       TEXT NOT NULL,
  path       TEXT NOT NULL,
  source     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (dag_id, hash)
);
CREATE TABLE task_log (
  dag_id     TEXT NOT NULL,
  run_id     TEXT NOT NULL,
  task_id    TEXT NOT NULL,
  map_index  INTEGER NOT NULL,
  try_number INTEGER NOT NULL,
  byte_offset INTEGER NOT NULL,
  byte_end    INTEGER NOT NULL,
  data       TEXT NOT NULL,
  PRIMARY KEY (dag_id, run_id, task_id, map_index, try_number, byte_offset),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
CREATE TABLE pool (
  name        TEXT PRIMARY KEY,
  slots       INTEGER NOT NULL,
  description TEXT NOT NULL DEFAULT ''
);
INSERT INTO pool (name, slots, description) VALUES ('default_pool', 128, 'Default pool');
CREATE TABLE callback_request (
  id          INTEGER PRIMARY KEY,
  dag_id      TEXT NOT NULL,
  run_id      TEXT NOT NULL,
  task_id     TEXT NOT NULL,
  map_index   INTEGER NOT NULL,
  try_number  INTEGER NOT NULL,
  event       TEXT NOT NULL,
  state       TEXT NOT NULL,
  error       TEXT NOT NULL,
  queue       TEXT NOT NULL,
  dag_hash    TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  status      TEXT NOT NULL DEFAULT 'queued',
  worker      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX callback_request_by_status ON callback_request (status, queue);
)sql",
      // 7: dynamic task mapping: each mapped instance's elements; why a
      // run's callback runs (Airflow's reason: success, task_failure, timed_out).
      R"sql(
ALTER TABLE task_instance ADD COLUMN map_values TEXT NOT NULL DEFAULT '';
ALTER TABLE callback_request ADD COLUMN reason TEXT NOT NULL DEFAULT '';
)sql",
      // 8: assets (Airflow 2's datasets): the assets, which DAGs schedule on
      // and produce each, their events, the per-DAG queue of assets with new
      // events (DatasetDagRunQueue), and the events each run consumed.
      R"sql(
CREATE TABLE asset (
  id         INTEGER PRIMARY KEY,
  uri        TEXT NOT NULL UNIQUE,
  extra      TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE asset_reference (
  asset_id   INTEGER NOT NULL REFERENCES asset (id),
  dag_id     TEXT NOT NULL,
  task_id    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (asset_id, dag_id, task_id)
);
CREATE INDEX asset_reference_by_dag ON asset_reference (dag_id);
CREATE TABLE asset_event (
  id               INTEGER PRIMARY KEY,
  asset_id         INTEGER NOT NULL REFERENCES asset (id),
  extra            TEXT NOT NULL DEFAULT '{}',
  source_dag_id    TEXT,
  source_task_id   TEXT,
  source_run_id    TEXT,
  source_map_index INTEGER,
  timestamp        INTEGER NOT NULL
);
CREATE INDEX asset_event_by_asset ON asset_event (asset_id, timestamp);
CREATE TABLE asset_dag_run_queue (
  asset_id      INTEGER NOT NULL REFERENCES asset (id),
  target_dag_id TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (asset_id, target_dag_id)
);
CREATE TABLE dag_run_asset_event (
  dag_id   TEXT NOT NULL,
  run_id   TEXT NOT NULL,
  event_id INTEGER NOT NULL REFERENCES asset_event (id),
  PRIMARY KEY (dag_id, run_id, event_id),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
)sql",
      // 9: connections created through the REST API (Airflow's connection
      // table); the environment and connections.yaml hold the others.
      R"sql(
CREATE TABLE connection (
  conn_id     TEXT PRIMARY KEY,
  conn_type   TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  host        TEXT NOT NULL DEFAULT '',
  schema      TEXT NOT NULL DEFAULT '',
  login       TEXT NOT NULL DEFAULT '',
  password    TEXT NOT NULL DEFAULT '',
  port        INTEGER,
  extra       TEXT NOT NULL DEFAULT ''
);
)sql",
      // 10: a backfill's own limit on its runs at a time (0 = none).
      R"sql(
ALTER TABLE dag_run ADD COLUMN max_active_runs INTEGER NOT NULL DEFAULT 0;
)sql",
  };
  return kMigrations;
}

}  // namespace dagctl
