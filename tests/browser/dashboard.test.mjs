// The dashboard in a real browser: Debian's headless Chromium, driven by
// playwright-core, against `dagctl serve` on loopback.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const DAGCTL = resolve(process.env.DAGCTL_BIN || "../../build/dagctl");
const dir = mkdtempSync(join(tmpdir(), "dagctl_browser_"));
let server, browser, page, base;

function writeDags() {
  const dags = join(dir, "dags");
  mkdirSync(dags);
  writeFileSync(join(dags, "etl.yaml"), `
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
`);
  writeFileSync(join(dags, "broken.yaml"), "tasks: [\n");
  return dags;
}

function startServer(dags) {
  return new Promise((resolvePort, reject) => {
    server = spawn(DAGCTL, ["serve", "--port", "0", "--quiet"], {
      env: { ...process.env, DAGCTL_HOME: join(dir, "home"), DAGCTL_DAGS: dags },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    server.stderr.on("data", (chunk) => {
      log += chunk;
      const m = log.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolvePort(Number(m[1]));
    });
    server.on("exit", (code) => reject(new Error(`dagctl serve exited (${code}): ${log}`)));
    setTimeout(() => reject(new Error(`dagctl serve did not start: ${log}`)), 10000);
  });
}

before(async () => {
  const port = await startServer(writeDags());
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("dialog", (d) => d.dismiss());
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
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
  await page.waitForSelector("#log");
  assert.equal((await page.textContent("#log")).trim(), "rows=7");
  await page.goto(`${base}/#/dags/etl/grid`);
  await page.click("#grid a.cell[data-task='extract']");
  await page.waitForSelector("#log");
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

test("script injected through a description or a task's output never runs", async () => {
  await page.goto(`${base}/`);
  await page.waitForSelector("#dag-list");
  assert.match(await page.textContent("#dag-list"), /<script>window.__pwned = 'description'<\/script>/);
  await page.goto(`${base}/#/dags/etl/grid`);
  await page.click("#grid a.cell[data-task='extract']");
  await page.waitForSelector("#log");
  assert.match(await page.textContent("#log"), /<script>window.__pwned = 'log'<\/script>/);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.$$eval("main script", (s) => s.length), 0);
});
