// The dashboard in a real browser: Debian's headless Chromium, driven by
// playwright-core, against `dagctl serve` on loopback.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDashboard, waitUntil } from "./harness.mjs";

let dash, page, base;

function dagFiles() {
  const files = {};
  files["etl.yaml"] = `
description: "Nightly <script>window.__pwned = 'description'</script> load"
tags: [nightly]
schedule: "0 2 * * *"
timezone: Asia/Seoul
start_date: 2030-01-01
params:
  table: users
  rows: 3
tasks:
  - id: extract
    command: echo "extracting {{ params.table }}"; echo "<script>window.__pwned = 'log'</script>"
  - id: transform
    depends_on: extract
    command: echo "rows={{ params.rows }}"
  - id: load
    depends_on: transform
    command: echo loaded
`;
  files["pooled.yaml"] = `
description: Two loads that share a pool the test creates from the dashboard
schedule: null
start_date: 2030-01-01
tasks:
  - id: load_a
    pool: narrow
    command: sleep 30
  - id: load_b
    pool: narrow
    command: sleep 30
`;
  files["versioned.yaml"] = VERSION_1;
  files["grouped.yaml"] = `
description: Nested task groups the test folds and unfolds
task_groups:
  load: {depends_on: extract, tooltip: Loads the warehouse}
tasks:
  - {id: extract, command: "true"}
  - {id: users, group: load, command: "true"}
  - {id: orders, group: load, command: "exit 1", retries: 0}
  - {id: rows, group: load.check, command: "true", depends_on: load.orders}
  - {id: report, command: "true", depends_on: load, trigger_rule: all_done}
`;
  files["asset_producer.yaml"] = `
description: Loads the orders table, an asset
tasks:
  - {id: publish, command: "true", outlets: ["s3://lake/orders"]}
`;
  files["asset_report.yaml"] = `
description: Runs once the orders table has a new event
schedule:
  assets: ["s3://lake/orders"]
tasks:
  - {id: report, command: "true"}
`;
  files["mapped.yaml"] = `
description: One task mapped over three regions; the second one fails
tasks:
  - id: per_region
    expand: {region: [eu, us, ap]}
    retries: 0
    command: 'echo "region {{ region }} as {{ map_index }}"; test {{ region }} != us'
`;
  files["broken.yaml"] = "tasks: [\n";
  return files;
}

const VERSION_1 = `description: a DAG whose file changes while the test runs
tasks:
  - id: first
    command: echo "<script>window.__pwned = 'code'</script>"
  - id: second
    depends_on: first
    command: echo one
`;
const VERSION_2 = VERSION_1.replace("command: echo one\n",
  "command: echo two\n  - id: third\n    depends_on: second\n    command: echo three\n");

before(async () => {
  dash = await startDashboard(dagFiles());
  ({ page, base } = dash);
});

after(async () => {
  await dash?.stop();
});

test("the DAG list shows the DAGs, their schedule and the import errors", async () => {
  await page.goto(`${base}/`);
  await page.waitForSelector("#dag-list a[href='#/dags/etl']");
  const row = await page.textContent("#dag-list");
  assert.match(row, /0 2 \* \* \* \(Asia\/Seoul\)/);
  assert.match(await page.textContent(".import-error"), /broken\.yaml:2:1: error: invalid YAML/);
});

test("triggering from the trigger form makes a run that completes, shown in the grid", async () => {
  await page.goto(`${base}/#/dags/etl/trigger`);
  await page.waitForSelector("#param-table");
  assert.equal(await page.inputValue("#param-table"), "users");
  await page.fill("#param-rows", "7");
  await page.click("#trigger-form button[type=submit]");
  await page.waitForSelector("#trigger-result a");
  await page.goto(`${base}/#/dags/etl/grid`);
  await page.waitForSelector("#grid a.cell.s-success[data-task='load']", { timeout: 20000 });
  const cells = await page.$$eval("#grid a.cell", (as) => as.map((a) => a.className));
  assert.equal(cells.length, 3);
  assert.ok(cells.every((c) => c.includes("s-success")));
});

test("the graph is drawn as SVG from the engine's layout", async () => {
  await page.goto(`${base}/#/dags/etl/graph`);
  await page.waitForSelector("#graph");
  const labels = await page.$$eval("#graph text", (ts) => ts.map((t) => t.textContent));
  assert.deepEqual(labels, ["extract", "transform", "load"]);
  assert.equal(await page.$$eval("#graph path", (ps) => ps.length), 2);
});

test("a task try's log is readable, and the trigger's params reached the task", async () => {
  await page.goto(`${base}/#/dags/etl/grid`);
  await page.click("#grid a.cell[data-task='transform']");
  await until(() => /\[out\]/.test(document.querySelector("#log")?.textContent ?? ""));
  assert.match(await page.textContent("#log"), /Z \[out\] rows=7\n/);
  await page.goto(`${base}/#/dags/etl/grid`);
  await page.click("#grid a.cell[data-task='extract']");
  await until(() => /\[out\]/.test(document.querySelector("#log")?.textContent ?? ""));
  assert.match(await page.textContent("#log"), /extracting users/);
});

test("the workers page lists the live workers, their queues and slots", async () => {
  await page.goto(`${base}/`);
  await page.click("nav a[href='#/workers']");
  await page.waitForSelector("#workers td");
  const text = await page.textContent("#workers");
  // dagctl serve runs its own worker: every queue, DAGCTL_PARALLELISM slots.
  assert.match(text, /:\d+/);
  assert.match(text, /\(all\)/);
  assert.match(text, /\d+ \/ 32/);
  assert.match(text, /s ago/);
});

// Polls `fn` (run in the page, may be async) until it returns true.
function until(fn, arg, timeoutMs) { return waitUntil(page, fn, arg, timeoutMs); }

async function poolRow(name) {
  await page.waitForSelector(`#pools tr[data-pool='${name}']`);
  return page.$$eval(`#pools tr[data-pool='${name}'] td`, (tds) => tds.map((td) => td.textContent));
}

test("pools: created from the form, they hold tasks to their slots, and slots can be changed and the pool deleted", async () => {
  // Both tasks of the run wait as scheduled: their pool does not exist yet.
  await page.goto(`${base}/`);
  const run = await page.evaluate(async () => (await fetch("/api/v1/dags/pooled/dagRuns",
    { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })).json());
  assert.ok(run.dag_run_id);
  await page.click("nav a[href='#/pools']");
  const defaults = await poolRow("default_pool");
  assert.equal(defaults[0], "default_pool");
  assert.equal(await page.inputValue("#pools tr[data-pool='default_pool'] input"), "128");

  await page.fill("#new-pool input[name=name]", "narrow");
  await page.fill("#new-pool input[name=slots]", "1");
  await page.fill("#new-pool input[name=description]", "one load at a time");
  await page.click("#new-pool button");
  // One slot: one load runs, the other waits as scheduled.
  await page.waitForFunction(() => {
    const tds = [...document.querySelectorAll("#pools tr[data-pool='narrow'] td")].map((td) => td.textContent);
    return tds[2] === "1" && tds[4] === "1";
  }, null, { timeout: 15000 });
  const [, , running, queued, scheduled, open, description] = await poolRow("narrow");
  assert.deepEqual([running, queued, scheduled, open, description], ["1", "0", "1", "0", "one load at a time"]);

  // Two slots: the waiting load starts too.
  await page.fill("#pools tr[data-pool='narrow'] input", "2");
  await page.click("#pools tr[data-pool='narrow'] button:has-text('Set')");
  await page.waitForFunction(() => {
    const tds = [...document.querySelectorAll("#pools tr[data-pool='narrow'] td")].map((td) => td.textContent);
    return tds[2] === "2" && tds[4] === "0";
  }, null, { timeout: 15000 });
  assert.equal(await page.inputValue("#pools tr[data-pool='narrow'] input"), "2");

  // A second pool of the same name is refused with Airflow's message, where the user looks.
  await page.fill("#new-pool input[name=name]", "narrow");
  await page.click("#new-pool button");
  await page.waitForSelector("#new-pool p.error:has-text('already exists')");

  dash.acceptDialogs = true;
  try {
    await page.click("#pools tr[data-pool='narrow'] button:has-text('Delete')");
    await page.waitForSelector("#pools tr[data-pool='narrow']", { state: "detached" });
  } finally {
    dash.acceptDialogs = false;
  }
  assert.equal(await page.$$eval("#pools tr[data-pool='default_pool'] button:has-text('Delete')", (b) => b.length), 0);
});

test("mapping: a mapped task is one grid cell; its page lists the instances, each with its log", async () => {
  await page.goto(`${base}/`);
  const run = await page.evaluate(async () => (await fetch("/api/v1/dags/mapped/dagRuns",
    { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })).json());
  await page.goto(`${base}/#/dags/mapped/grid`);
  // One failed instance of three: the cell shows failed, and says how many there are.
  await page.waitForSelector("#grid a.cell.s-failed[data-task='per_region']", { timeout: 20000 });
  assert.match(await page.getAttribute("#grid a.cell[data-task='per_region']", "title"), /failed \(3 mapped instances\)/);
  await page.click("#grid a.cell[data-task='per_region']");
  await page.waitForSelector("#mapped tr[data-map-index='2']");
  const rows = await page.$$eval("#mapped tr[data-map-index]", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => r.slice(0, 4)), [
    ["[0]", "region=eu", "success", "1"], ["[1]", "region=us", "failed", "1"], ["[2]", "region=ap", "success", "1"]]);
  await page.click("#mapped a:has-text('[1]')");
  await until(() => /\[out\]/.test(document.querySelector("#log")?.textContent ?? ""));
  assert.match(await page.textContent("#log"), /region us as 1/);
  assert.match(await page.textContent("main h1"), new RegExp(`${run.dag_run_id.replace(/[+]/g, "\\+")} / per_region \\[1\\]`));
});

test("script injected through a description or a task's output never runs", async () => {
  await page.goto(`${base}/`);
  await page.waitForSelector("#dag-list");
  assert.match(await page.textContent("#dag-list"), /<script>window.__pwned = 'description'<\/script>/);
  await page.goto(`${base}/#/dags/etl/grid`);
  await page.click("#grid a.cell[data-task='extract']");
  await until(() => /\[out\]/.test(document.querySelector("#log")?.textContent ?? ""));
  assert.match(await page.textContent("#log"), /<script>window.__pwned = 'log'<\/script>/);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.$$eval("main script", (s) => s.length), 0);
});

test("code: a run's page shows the version it ran and what changed since; the code tab the current file", async () => {
  await page.goto(`${base}/`);
  const run = await page.evaluate(async () => (await fetch("/api/v1/dags/versioned/dagRuns",
    { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })).json());
  await until(async (id) => {
    const r = await fetch(`/api/v1/dags/versioned/dagRuns/${encodeURIComponent(id)}`);
    return (await r.json()).state === "success";
  }, run.dag_run_id);
  dash.writeDag("versioned.yaml", VERSION_2);
  // The scheduler stores the new version, and the web server sees it.
  await until(async () => {
    const v = await (await fetch("/api/v1/ui/versions/versioned")).json();
    return v.total_entries === 2 && v.current && v.current.version_number === 2;
  });

  // From the run's page to its code, with the keyboard.
  await page.goto(`${base}/#/dags/versioned/runs/${encodeURIComponent(run.dag_run_id)}`);
  await page.focus("#run-code");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#code-diff");
  assert.match(await page.textContent("#code-version"), /This run executes version 1, first seen .* UTC\. The DAG file changed since: the current file is version 2\./);
  assert.deepEqual(await page.$$eval("#code-diff .diff-del", (s) => s.map((x) => x.textContent)),
    ["-     command: echo one\n"]);
  assert.deepEqual(await page.$$eval("#code-diff .diff-add", (s) => s.map((x) => x.textContent)),
    ["+     command: echo two\n", "+   - id: third\n", "+     depends_on: second\n", "+     command: echo three\n"]);
  await page.focus("button[data-view=file]");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#code");
  assert.equal(await page.textContent("#code"), VERSION_1);
  assert.equal(await page.getAttribute("button[data-view=file]", "aria-pressed"), "true");

  // The DAG's code tab: the current file and both versions.
  await page.goto(`${base}/#/dags/versioned/code`);
  // The run's code view also has a #code: wait for the tab's own page.
  await page.waitForSelector("#versions");
  assert.equal(await page.textContent("#code"), VERSION_2);
  assert.match(await page.textContent("#code-version"), /The current file, version 2 of 2, first seen/);
  assert.equal(await page.$$eval("#versions tr", (rows) => rows.length), 3);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
});

// The text of each task or group row of the grid, top to bottom.
const gridRows = () => page.$$eval("#grid tr", (trs) => trs.slice(2).map((tr) => tr.cells[0].textContent.trim()));
const graphLabels = () => page.$$eval("#graph g.node text", (ts) => ts.map((t) => t.textContent));

test("task groups: the grid folds a group into one row with its summary state, and unfolds it from the keyboard", async () => {
  await page.goto(`${base}/`);
  const run = await page.evaluate(async () => (await fetch("/api/v1/dags/grouped/dagRuns",
    { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })).json());
  assert.ok(run.dag_run_id);
  await page.goto(`${base}/#/dags/grouped/grid`);
  // load.orders fails: the folded group shows failed; report (all_done) still runs.
  await page.waitForSelector("#grid span.group-cell[data-group='load'].s-failed", { timeout: 20000 });
  await page.waitForSelector("#grid a.cell.s-success[data-task='report']", { timeout: 20000 });
  assert.deepEqual(await gridRows(), ["extract", "▸ load", "report"]);
  assert.equal(await page.getAttribute("#grid button.fold[data-group='load']", "aria-expanded"), "false");
  assert.match(await page.getAttribute("#grid span.group-cell[data-group='load']", "title"),
    /load @ .*: failed \(1 failed, 1 success, 1 upstream_failed\)/);

  await page.focus("#grid button.fold[data-group='load']");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#grid a.cell[data-task='load.users']");
  assert.deepEqual(await gridRows(), ["extract", "▾ load", "users", "orders", "▸ check", "report"]);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.group), "load");
  assert.equal(await page.getAttribute("#grid button.fold[data-group='load']", "aria-expanded"), "true");
  assert.match(await page.getAttribute("#grid a.cell[data-task='load.orders']", "class"), /s-failed/);
  assert.match(await page.getAttribute("#grid span.group-cell[data-group='load.check']", "class"), /s-upstream_failed/);

  await page.focus("#grid button.fold[data-group='load.check']");
  await page.keyboard.press(" ");
  await page.waitForSelector("#grid a.cell.s-upstream_failed[data-task='load.check.rows']");
  assert.deepEqual(await gridRows(), ["extract", "▾ load", "users", "orders", "▾ check", "rows", "report"]);

  await page.click("#grid button.fold[data-group='load']");
  assert.deepEqual(await gridRows(), ["extract", "▸ load", "report"]);
  await page.click("#grid button.fold[data-group='load']");  // it reopens as it was left
  assert.deepEqual(await gridRows(), ["extract", "▾ load", "users", "orders", "▾ check", "rows", "report"]);
});

test("task groups: the graph draws a folded group as one node that unfolds on click, and folds again", async () => {
  await page.goto(`${base}/#/dags/grouped/graph`);
  await page.waitForSelector("#graph g.group-node[data-group='load']");
  assert.deepEqual(await graphLabels(), ["extract", "▸ load (3)", "report"]);
  assert.equal(await page.$$eval("#graph path", (ps) => ps.length), 2);
  assert.match(await page.textContent("#graph g.group-node[data-group='load'] title"), /Loads the warehouse/);

  await page.click("#graph g.group-node[data-group='load']");
  await page.waitForSelector("#graph g.node[data-id='load.users']");
  assert.deepEqual(await graphLabels(), ["extract", "users", "orders", "▸ check (1)", "report"]);
  assert.equal(await page.$$eval("#graph path", (ps) => ps.length), 5);
  assert.equal(await page.$$eval("#graph g.group-box[data-group-box='load']", (bs) => bs.length), 1);

  await page.focus("#graph g.group-node[data-group='load.check']");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#graph g.node[data-id='load.check.rows']");
  assert.deepEqual(await graphLabels(), ["extract", "users", "orders", "rows", "report"]);

  await page.click(".graph-groups button.fold[data-group='load']");
  await page.waitForSelector("#graph g.group-node[data-group='load']");
  assert.deepEqual(await graphLabels(), ["extract", "▸ load (3)", "report"]);
});

async function assetRow(uri) {
  await page.waitForSelector(`#assets tr[data-asset='${uri}']`);
  return page.$$eval(`#assets tr[data-asset='${uri}'] td`, (tds) => tds.map((td) => td.textContent));
}

test("assets: the page lists producers and consumers; an event shows as the latest with the run it triggered", async () => {
  await page.goto(`${base}/`);
  await page.waitForSelector("#dag-list a[href='#/dags/asset_report']");
  assert.match(await page.textContent("#dag-list"), /on assets: s3:\/\/lake\/orders/);
  await page.click("nav a[href='#/assets']");
  let row = await assetRow("s3://lake/orders");
  assert.deepEqual(row.slice(0, 4), ["s3://lake/orders", "asset_producer.publish", "asset_report", "none yet"]);
  const posted = await page.evaluate(async () => (await fetch("/api/v1/datasets/events", { method: "POST",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify({ dataset_uri: "s3://lake/orders" }) })).status);
  assert.equal(posted, 200);
  // The page refreshes by itself: the event, then the report's run it triggered.
  await until(() => /dataset_triggered__/.test(document.querySelector("#assets tr[data-asset='s3://lake/orders']")?.textContent ?? ""));
  row = await assetRow("s3://lake/orders");
  assert.match(row[3], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC from outside$/);
  await page.click("#assets tr[data-asset='s3://lake/orders'] a[href*='dataset_triggered__']");
  await page.waitForSelector("#triggered-by li");
  assert.match(await page.textContent("#triggered-by"), /^s3:\/\/lake\/orders at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC from outside$/);
  await page.goto(`${base}/#/dags/asset_report`);
  await page.waitForSelector("text=on assets: s3://lake/orders");
});
