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
  };
  return kMigrations;
}

}  // namespace dagctl
