// Acting from the dashboard and the views of runs, driven as a person would:
// clear with a preview, backfill from the form, trigger with a date and
// params, filter the run list, the Gantt chart (with a retried task's
// tries), task durations, the calendar, and the graph coloured by a run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDashboard, apiJson, waitUntil } from "./harness.mjs";

let dash, page, base;
// `fix` fails until this file exists; the test creates it before clearing.
const marker = join(tmpdir(), `dagctl_operate_${process.pid}`);

function dagFiles() {
  return {
    "ops.yaml": `
description: A task that fails until fixed, one after it, and one that needs a second try
params:
  target: <b>lake</b>
  rows: 3
  dry: false
tasks:
  - {id: start, command: "true"}
  - {id: fix, depends_on: start, retries: 0, command: "test -f ${marker}"}
  - {id: after, depends_on: fix, command: "true"}
  - id: flaky
    depends_on: start
    retries: 1
    retry_delay: 1s
    command: 'echo "try $AIRFLOW_CTX_TRY_NUMBER {{ params.target }} {{ params.rows }} {{ params.dry }}"; test "$AIRFLOW_CTX_TRY_NUMBER" != 1'
`,
    "daily.yaml": `
description: A daily DAG to backfill (the test asks for one run at a time)
schedule: "0 3 * * *"
start_date: 2025-01-01
catchup: false
max_active_runs: 4
tasks:
  - {id: work, command: "sleep 0.5"}
`,
  };
}

before(async () => {
  rmSync(marker, { force: true });
  dash = await startDashboard(dagFiles());
  ({ page, base } = dash);
});

after(async () => {
  rmSync(marker, { force: true });
  await dash?.stop();
});

async function runsOf(dagId, query = "") {
  return (await apiJson(dash, `/dags/${dagId}/dagRuns?limit=100${query}`)).dag_runs;
}

async function settled(dagId, runId) {
  for (let i = 0; i < 150; i++) {
    const r = await apiJson(dash, `/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}`);
    if (r.state === "success" || r.state === "failed") return r.state;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`${runId} did not finish`);
}

let opsRun;

test("trigger with a logical date and params typed from their defaults", async () => {
  await page.goto(`${base}/#/dags/ops/trigger`);
  await page.waitForSelector("#param-target");
  assert.equal(await page.getAttribute("#param-rows", "type"), "number");
  assert.equal(await page.getAttribute("#param-dry", "type"), "checkbox");
  await page.fill("#trigger-date", "2026-02-03T04:05:06");
  await page.fill("#param-rows", "42");
  await page.check("#param-dry");
  await page.click("#trigger-form button[type=submit]");
  await page.waitForSelector("#trigger-result a");
  opsRun = await page.textContent("#trigger-result a");
  assert.equal(opsRun, "manual__2026-02-03T04:05:06+00:00");
  const run = await apiJson(dash, `/dags/ops/dagRuns/${encodeURIComponent(opsRun)}`);
  assert.deepEqual(run.conf, { target: "<b>lake</b>", rows: 42, dry: true });
  assert.equal(await settled("ops", opsRun), "failed");

  // The raw JSON option sends exactly what was typed.
  await page.reload();
  await page.waitForSelector("#trigger-raw");
  await page.check("#trigger-raw");
  assert.deepEqual(JSON.parse(await page.inputValue("#trigger-conf")), { target: "<b>lake</b>", rows: 3, dry: false });
  await page.fill("#trigger-conf", '{"rows": 5}');
  await page.fill("#trigger-date", "2026-02-04T00:00");
  await page.click("#trigger-form button[type=submit]");
  await page.waitForSelector("#trigger-result a");
  const raw = await apiJson(dash, `/dags/ops/dagRuns/${encodeURIComponent("manual__2026-02-04T00:00:00+00:00")}`);
  assert.deepEqual(raw.conf, { rows: 5 });
  await settled("ops", raw.dag_run_id);
});

test("the Gantt chart shows each task instance's tries, a retried task's two", async () => {
  await page.goto(`${base}/#/dags/ops/runs/${encodeURIComponent(opsRun)}`);
  await page.waitForSelector("#gantt rect.try[data-task='flaky']");
  const tries = await page.$$eval("#gantt rect.try[data-task='flaky']", (rs) => rs.map((r) => [r.dataset.try, r.getAttribute("class")]));
  assert.deepEqual(tries, [["1", "try s-failed"], ["2", "try s-success"]]);
  // The second try starts after the first ended (its retry delay), left to right.
  const xs = await page.$$eval("#gantt rect.try[data-task='flaky']", (rs) => rs.map((r) => [Number(r.getAttribute("x")), Number(r.getAttribute("width"))]));
  assert.ok(xs[1][0] >= xs[0][0] + xs[0][1] - 1, JSON.stringify(xs));
  assert.equal(await page.$$eval("#gantt rect.queued[data-task='flaky']", (rs) => rs.length), 1);
  assert.equal(await page.$$eval("#gantt rect.try[data-task='fix']", (rs) => rs.map((r) => r.getAttribute("class")).join()), "try s-failed");
  // `after` never ran (upstream failed): no bar.
  assert.equal(await page.$$eval("#gantt rect[data-task='after']", (rs) => rs.length), 0);
});

test("clear a task with its downstream: preview, confirm, watch them re-run", async () => {
  await page.goto(`${base}/#/dags/ops/runs/${encodeURIComponent(opsRun)}`);
  await waitUntil(page, (id) => document.querySelector("h1")?.textContent.endsWith(id), opsRun);
  await page.focus("#task-instances button[data-clear='fix']");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#clear-panel #clear-include_downstream");
  assert.equal(await page.isChecked("#clear-include_downstream"), true);
  await page.click("#clear-preview-button");
  await page.waitForSelector("#clear-list li");
  assert.deepEqual((await page.$$eval("#clear-list li", (ls) => ls.map((l) => l.textContent))).sort(), ["after", "fix"]);
  // With upstream too, the preview grows; nothing has changed yet.
  await page.check("#clear-include_upstream");
  await page.click("#clear-preview-button");
  await page.waitForSelector("#clear-list li");
  assert.deepEqual((await page.$$eval("#clear-list li", (ls) => ls.map((l) => l.textContent))).sort(), ["after", "fix", "start"]);
  assert.equal((await apiJson(dash, `/dags/ops/dagRuns/${encodeURIComponent(opsRun)}`)).state, "failed");
  await page.uncheck("#clear-include_upstream");
  await page.click("#clear-preview-button");
  await page.waitForSelector("#clear-confirm");
  assert.equal(await page.textContent("#clear-confirm"), "Clear 2 task instances");
  writeFileSync(marker, "fixed");
  await page.click("#clear-confirm");
  // The page refreshes by itself until the run has re-run.
  await waitUntil(page, () => document.querySelector("#clear-panel")?.childElementCount === 0);
  await page.waitForSelector("#task-instances tr:has(a:text-is('after')) .s-success", { timeout: 30000 });
  await page.waitForSelector("#gantt rect.try.s-success[data-task='fix']");
  const ti = await apiJson(dash, `/dags/ops/dagRuns/${encodeURIComponent(opsRun)}/taskInstances/fix`);
  assert.equal(ti.state, "success");
  assert.equal(ti.try_number, 2);
  // Untouched: start and flaky kept their tries.
  const flaky = await apiJson(dash, `/dags/ops/dagRuns/${encodeURIComponent(opsRun)}/taskInstances/flaky`);
  assert.equal(flaky.try_number, 2);
  assert.equal(await settled("ops", opsRun), "success");
});

test("clear a run's failed tasks only", async () => {
  rmSync(marker, { force: true });
  const r = await apiJson(dash, "/dags/ops/dagRuns", { method: "POST", body: JSON.stringify({ logical_date: "2026-02-05T00:00:00Z" }) });
  assert.equal(await settled("ops", r.dag_run_id), "failed");
  await page.goto(`${base}/#/dags/ops/runs/${encodeURIComponent(r.dag_run_id)}`);
  await waitUntil(page, (id) => document.querySelector("h1")?.textContent.endsWith(id), r.dag_run_id);
  await page.click(".actions button[data-clear='']");
  assert.equal(await page.isChecked("#clear-only_failed"), true);
  await page.click("#clear-preview-button");
  await page.waitForSelector("#clear-list li");
  assert.deepEqual((await page.$$eval("#clear-list li", (ls) => ls.map((l) => l.textContent))).sort(), ["after", "fix"]);
  writeFileSync(marker, "fixed");
  await page.click("#clear-confirm");
  assert.equal(await settled("ops", r.dag_run_id), "success");
});

test("backfill from the form: the runs appear, run one at a time as asked, and finish", async () => {
  await page.goto(`${base}/#/dags/daily/backfill`);
  await page.waitForSelector("#backfill-form");
  assert.equal(await page.inputValue("#backfill-max"), "4");
  await page.fill("#backfill-max", "1");
  await page.fill("#backfill-from", "2025-02-01");
  await page.fill("#backfill-to", "2025-02-03");
  await page.click("#backfill-form button[type=submit]");
  await page.waitForSelector("#backfill-runs tr[data-run]");
  const ids = ["backfill__2025-02-01T03:00:00+00:00", "backfill__2025-02-02T03:00:00+00:00", "backfill__2025-02-03T03:00:00+00:00"];
  assert.deepEqual(await page.$$eval("#backfill-runs tr[data-run]", (rs) => rs.map((r) => r.dataset.run)), ids);
  // Watch them run: the run list, filtered to backfills, refreshes by itself.
  await page.click("#backfill-watch");
  await page.waitForSelector("#runs tr[data-run]");
  assert.equal(await page.inputValue("#filter-run-type"), "backfill");
  let most = 0;
  for (let i = 0; i < 150; i++) {
    const runs = await runsOf("daily", "&run_type=backfill");
    most = Math.max(most, runs.filter((r) => r.state === "running").length);
    if (runs.length === 3 && runs.every((r) => r.state === "success")) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(most, 1, "the backfill's max active runs, 1, holds");
  await waitUntil(page, () => document.querySelectorAll("#runs tr[data-run] .s-success").length === 3);
  const shown = await page.$$eval("#runs tr[data-run]", (rs) => rs.map((r) => r.dataset.run));
  assert.deepEqual(shown, ids.slice().reverse());
  const started = (await runsOf("daily", "&run_type=backfill&order_by=logical_date")).map((r) => r.start_date);
  assert.deepEqual(started.slice().sort(), started, "oldest first");
});

test("the run list filters by state, run type and date range", async () => {
  await page.goto(`${base}/#/dags/ops/runs`);
  await page.waitForSelector("#run-filters");
  await page.click("#run-filters button:text-is('Reset')");
  await page.waitForSelector("#runs tr[data-run]");
  assert.equal(await page.$$eval("#runs tr[data-run]", (rs) => rs.length), 3);
  await page.fill("#filter-from", "2026-02-04");
  await page.fill("#filter-to", "2026-02-05");
  await page.click("#run-filters button[type=submit]");
  await waitUntil(page, () => document.querySelectorAll("#runs tr[data-run]").length === 2);
  await page.goto(`${base}/#/dags/daily/runs`);
  await page.waitForSelector("#run-filters");
  await page.selectOption("#filter-run-type", "scheduled");
  await page.click("#run-filters button[type=submit]");
  await waitUntil(page, () => [...document.querySelectorAll("#runs tr[data-run]")].every((r) => r.dataset.run.startsWith("scheduled__")));
  await page.selectOption("#filter-run-type", "");
  await page.check("#filter-state-failed");
  await page.click("#run-filters button[type=submit]");
  await page.waitForSelector("#runs-count:text-is('0–0 of 0')");
  await page.waitForSelector("text=No run matches.");
});

test("the graph is coloured by the run chosen in its run selector", async () => {
  const failed = await apiJson(dash, "/dags/ops/dagRuns", { method: "POST", body: JSON.stringify({ logical_date: "2026-02-06T00:00:00Z" }) });
  rmSync(marker, { force: true });
  assert.equal(await settled("ops", failed.dag_run_id), "failed");
  await page.goto(`${base}/#/dags/ops/graph`);
  await page.waitForSelector("#graph g.node[data-state]");
  assert.equal(await page.inputValue("#graph-run"), failed.dag_run_id);
  assert.equal(await page.getAttribute("#graph g.node[data-id='fix']", "data-state"), "failed");
  assert.equal(await page.getAttribute("#graph g.node[data-id='after']", "data-state"), "upstream_failed");
  await page.selectOption("#graph-run", opsRun);
  await waitUntil(page, () => document.querySelector("#graph g.node[data-id='fix']")?.dataset.state === "success");
  assert.match(await page.getAttribute("#graph g.node[data-id='fix']", "class"), /s-success/);
});

test("task durations across the last N runs", async () => {
  await page.goto(`${base}/#/dags/ops/durations`);
  await page.waitForSelector("#durations tr[data-task='flaky']");
  assert.equal(await page.inputValue("#durations-n"), "25");
  // Four finished runs of ops, each with a duration for start.
  assert.equal(await page.$$eval("#durations tr[data-task='start'] rect.duration", (rs) => rs.length), 4);
  assert.match(await page.textContent("#durations tr[data-task='start']"), /\d+\.\d\ds.*\d+\.\d\ds.*\d+\.\d\ds/);
  await page.selectOption("#durations-n", "10");
  await page.waitForSelector("#durations-n");
  assert.equal(await page.inputValue("#durations-n"), "10");
});

test("the calendar colours each day by its runs' states", async () => {
  await page.goto(`${base}/#/dags/daily/calendar`);
  await page.waitForSelector("#calendar rect.day");
  // Today is in view, not 2025-02: go back a year or two until it is.
  for (let i = 0; i < 3 && !(await page.$("#calendar rect[data-date='2025-02-02']")); i++) {
    await page.click("button:text-is('◀ earlier year')");
    await page.waitForTimeout(300);
  }
  assert.equal(await page.getAttribute("#calendar rect[data-date='2025-02-02']", "data-state"), "success");
  assert.equal(await page.getAttribute("#calendar rect[data-date='2025-01-20']", "data-state"), "none");
  assert.match(await page.textContent("#calendar rect[data-date='2025-02-02'] title"), /2025-02-02: 1 success/);
  const days = await page.$$eval("#calendar rect.day", (rs) => rs.length);
  assert.ok(days >= 365 && days <= 366, String(days));
});

test("pause toggle and import errors on the DAG list", async () => {
  dash.writeDag("broken.yaml", "tasks:\n  - {id: a, command: x, depend_on: b}\n");
  // The list shows the file once the web server has loaded it again.
  for (let i = 0; i < 50; i++) {
    await page.goto(`${base}/?${i}#/`);
    await page.waitForSelector("#dag-list");
    if (/depend_on/.test(await page.textContent("#view"))) break;
    await new Promise((res) => setTimeout(res, 300));
  }
  const li = await page.$eval(".import-error li[data-line]", (l) => [l.dataset.line, l.dataset.column, l.textContent]);
  assert.equal(li[0], "2");
  assert.match(li[2], /broken\.yaml:2:\d+: error: .*depend_on/);
  assert.match(await page.textContent(".import-error strong"), /broken\.yaml/);
  await page.focus("#dag-list input[data-dag='daily']");
  await page.keyboard.press("Space");
  await waitUntil(page, async () => (await (await fetch("/api/v1/dags/daily")).json()).is_paused === true);
  await page.keyboard.press("Space");
  await waitUntil(page, async () => (await (await fetch("/api/v1/dags/daily")).json()).is_paused === false);
  assert.ok(existsSync(dash.dags));
});
