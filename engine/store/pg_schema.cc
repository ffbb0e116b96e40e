// Migrations of the PostgreSQL schema, oldest first. Never edit a shipped one:
// append a new step (and the matching step of the SQLite schema). Times are
// microseconds since the epoch (BIGINT), as in SQLite.
#include "engine/store/sqlite_schema.h"

namespace dagctl {

const std::vector<const char*>& PostgresMigrations() {
  static const std::vector<const char*> kMigrations = {
      // 1: everything of SQLite's schema version 6.
      R"sql(
CREATE OR REPLACE FUNCTION dagctl_now() RETURNS BIGINT LANGUAGE SQL VOLATILE AS
  $$ SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT $$;
CREATE TABLE dag (
  dag_id     TEXT PRIMARY KEY,
  is_paused  BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE dag_run (
  id                  BIGSERIAL UNIQUE,
  dag_id              TEXT NOT NULL,
  run_id              TEXT NOT NULL,
  run_type            TEXT NOT NULL,
  state               TEXT NOT NULL,
  logical_date        BIGINT NOT NULL,
  data_interval_start BIGINT NOT NULL,
  data_interval_end   BIGINT NOT NULL,
  queued_at           BIGINT NOT NULL,
  start_date          BIGINT,
  end_date            BIGINT,
  conf                TEXT NOT NULL DEFAULT '{}',
  dag_hash            TEXT NOT NULL DEFAULT '',
  owner               TEXT NOT NULL DEFAULT '',
  lease_until         BIGINT,
  fence               BIGINT NOT NULL DEFAULT 0,
  ti_version          BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (dag_id, run_id)
);
CREATE UNIQUE INDEX dag_run_one_per_interval ON dag_run (dag_id, logical_date)
  WHERE run_type IN ('scheduled', 'backfill');
CREATE INDEX dag_run_by_logical_date ON dag_run (dag_id, logical_date);
CREATE INDEX dag_run_by_state ON dag_run (state);
CREATE INDEX dag_run_by_owner ON dag_run (owner);
CREATE TABLE task_instance (
  dag_id          TEXT NOT NULL,
  run_id          TEXT NOT NULL,
  task_id         TEXT NOT NULL,
  map_index       BIGINT NOT NULL DEFAULT -1,
  state           TEXT,
  try_number      BIGINT NOT NULL DEFAULT 0,
  max_tries       BIGINT NOT NULL DEFAULT 1,
  start_date      BIGINT,
  end_date        BIGINT,
  next_try_at     BIGINT,
  operator        TEXT NOT NULL DEFAULT '',
  priority_weight BIGINT NOT NULL DEFAULT 1,
  pool            TEXT NOT NULL DEFAULT 'default_pool',
  pool_slots      BIGINT NOT NULL DEFAULT 1,
  queue           TEXT NOT NULL DEFAULT 'default',
  queued_at       BIGINT,
  pid             BIGINT NOT NULL DEFAULT 0,
  first_poke_at   BIGINT,
  worker          TEXT NOT NULL DEFAULT '',
  hostname        TEXT NOT NULL DEFAULT '',
  lease_until     BIGINT,
  fence           BIGINT NOT NULL DEFAULT 0,
  version         BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (dag_id, run_id, task_id, map_index),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
CREATE INDEX task_instance_by_state ON task_instance (state, priority_weight);
CREATE INDEX task_instance_by_version ON task_instance (dag_id, run_id, version);
CREATE TABLE task_try (
  dag_id      TEXT NOT NULL,
  run_id      TEXT NOT NULL,
  task_id     TEXT NOT NULL,
  map_index   BIGINT NOT NULL DEFAULT -1,
  try_number  BIGINT NOT NULL,
  state       TEXT NOT NULL,
  start_date  BIGINT NOT NULL,
  end_date    BIGINT,
  exit_code   BIGINT,
  error       TEXT NOT NULL DEFAULT '',
  hostname    TEXT NOT NULL DEFAULT '',
  pid         BIGINT NOT NULL DEFAULT 0,
  worker      TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (dag_id, run_id, task_id, map_index, try_number),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
CREATE TABLE xcom (
  dag_id    TEXT NOT NULL,
  run_id    TEXT NOT NULL,
  task_id   TEXT NOT NULL,
  map_index BIGINT NOT NULL DEFAULT -1,
  key       TEXT NOT NULL,
  value     TEXT NOT NULL,
  PRIMARY KEY (dag_id, run_id, task_id, map_index, key),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
CREATE TABLE import_error (
  filename    TEXT PRIMARY KEY,
  stack_trace TEXT NOT NULL,
  timestamp   BIGINT NOT NULL
);
CREATE TABLE job (
  job_type         TEXT NOT NULL,
  owner            TEXT NOT NULL,
  latest_heartbeat BIGINT NOT NULL,
  PRIMARY KEY (job_type, owner)
);
CREATE TABLE variable (
  key   TEXT PRIMARY KEY,
  val   TEXT NOT NULL
);
CREATE TABLE worker (
  name       TEXT PRIMARY KEY,
  hostname   TEXT NOT NULL,
  queues     TEXT NOT NULL,
  slots      BIGINT NOT NULL,
  slots_used BIGINT NOT NULL DEFAULT 0,
  started_at BIGINT NOT NULL,
  heartbeat  BIGINT NOT NULL
);
CREATE TABLE dag_version (
  dag_id     TEXT NOT NULL,
  hash       TEXT NOT NULL,
  path       TEXT NOT NULL,
  source     TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (dag_id, hash)
);
CREATE TABLE task_log (
  dag_id     TEXT NOT NULL,
  run_id     TEXT NOT NULL,
  task_id    TEXT NOT NULL,
  map_index  BIGINT NOT NULL,
  try_number BIGINT NOT NULL,
  byte_offset BIGINT NOT NULL,
  byte_end    BIGINT NOT NULL,
  data       TEXT NOT NULL,
  PRIMARY KEY (dag_id, run_id, task_id, map_index, try_number, byte_offset),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
CREATE TABLE pool (
  name        TEXT PRIMARY KEY,
  slots       BIGINT NOT NULL,
  description TEXT NOT NULL DEFAULT ''
);
INSERT INTO pool (name, slots, description) VALUES ('default_pool', 128, 'Default pool');
CREATE TABLE callback_request (
  id          BIGSERIAL PRIMARY KEY,
  dag_id      TEXT NOT NULL,
  run_id      TEXT NOT NULL,
  task_id     TEXT NOT NULL,
  map_index   BIGINT NOT NULL,
  try_number  BIGINT NOT NULL,
  event       TEXT NOT NULL,
  state       TEXT NOT NULL,
  error       TEXT NOT NULL,
  queue       TEXT NOT NULL,
  dag_hash    TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'queued',
  worker      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX callback_request_by_status ON callback_request (status, queue);
)sql",
      // 2: SQLite's 7: dynamic task mapping: each mapped instance's
      // elements; why a run's callback runs (Airflow's reason: success,
      // task_failure, timed_out).
      R"sql(
ALTER TABLE task_instance ADD COLUMN map_values TEXT NOT NULL DEFAULT '';
ALTER TABLE callback_request ADD COLUMN reason TEXT NOT NULL DEFAULT '';
)sql",
      // 3: SQLite's 8: assets (Airflow 2's datasets): the assets, which DAGs
      // schedule on and produce each, their events, the per-DAG queue of
      // assets with new events (DatasetDagRunQueue), and the events each run
      // consumed.
      R"sql(
CREATE TABLE asset (
  id         BIGSERIAL PRIMARY KEY,
  uri        TEXT NOT NULL UNIQUE,
  extra      TEXT NOT NULL DEFAULT '{}',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE asset_reference (
  asset_id   BIGINT NOT NULL REFERENCES asset (id),
  dag_id     TEXT NOT NULL,
  task_id    TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (asset_id, dag_id, task_id)
);
CREATE INDEX asset_reference_by_dag ON asset_reference (dag_id);
CREATE TABLE asset_event (
  id               BIGSERIAL PRIMARY KEY,
  asset_id         BIGINT NOT NULL REFERENCES asset (id),
  extra            TEXT NOT NULL DEFAULT '{}',
  source_dag_id    TEXT,
  source_task_id   TEXT,
  source_run_id    TEXT,
  source_map_index BIGINT,
  timestamp        BIGINT NOT NULL
);
CREATE INDEX asset_event_by_asset ON asset_event (asset_id, timestamp);
CREATE TABLE asset_dag_run_queue (
  asset_id      BIGINT NOT NULL REFERENCES asset (id),
  target_dag_id TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  PRIMARY KEY (asset_id, target_dag_id)
);
CREATE TABLE dag_run_asset_event (
  dag_id   TEXT NOT NULL,
  run_id   TEXT NOT NULL,
  event_id BIGINT NOT NULL REFERENCES asset_event (id),
  PRIMARY KEY (dag_id, run_id, event_id),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
)sql",
      // 4: SQLite's 9: connections created through the REST API (Airflow's connection
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
  port        BIGINT,
  extra       TEXT NOT NULL DEFAULT ''
);
)sql",
      // 5: SQLite's 10: a backfill's own limit on its runs at a time (0 = none).
      R"sql(
ALTER TABLE dag_run ADD COLUMN max_active_runs INTEGER NOT NULL DEFAULT 0;
)sql",
  };
  return kMigrations;
}

}  // namespace dagctl
