// Marking states from the dashboard, as a person does it: the buttons on a
// task instance's page and on a run's page, the confirmation that lists what
// changes (a dry run), and the states that follow.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDashboard, apiJson, waitUntil } from "./harness.mjs";

let dash, page, base;

before(async () => {
  dash = await startDashboard({
    "chain.yaml": `
tasks:
  - id: extract
    command: echo extracting
  - id: check
    depends_on: extract
    retries: 0
    command: exit 3
  - id: publish
    depends_on: check
    command: echo published
`,
    "long.yaml": `
tasks:
  - id: first
    command: echo first
  - id: wait
    depends_on: first
    command: sleep 60
  - id: after
    depends_on: wait
    command: echo after
`,
  });
  ({ page, base } = dash);
});

after(async () => { await dash.stop(); });

async function runToEnd(dagId, runId) {
  await apiJson(dash, `/dags/${dagId}/dagRuns`, { method: "POST", body: JSON.stringify({ dag_run_id: runId }) });
  for (let i = 0; i < 100; i++) {
    const run = await apiJson(dash, `/dags/${dagId}/dagRuns/${runId}`);
    if (run.state === "success" || run.state === "failed") return run;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`run ${runId} did not end`);
}

test("Mark success on a failed task: the confirmation lists it, then its downstream runs and the run succeeds", async () => {
  const run = await runToEnd("chain", "r1");
  assert.equal(run.state, "failed");
  const messages = [];
  page.removeAllListeners("dialog");
  page.on("dialog", (d) => { messages.push(d.message()); d.accept(); });
  await page.goto(`${base}/#/dags/chain/runs/r1/tasks/check`);
  await page.waitForSelector("#mark-ti-success");
  assert.match(await page.textContent(".muted"), /failed/);
  await page.click("#mark-ti-success");
  await waitUntil(page, () => /success/.test(document.querySelector(".muted")?.textContent ?? ""));
  assert.equal(messages.length, 1);
  assert.match(messages[0], /Mark success\?/);
  assert.match(messages[0], /r1 · check → success/);
  // The run goes on: publish runs, the run ends success.
  await page.goto(`${base}/#/dags/chain/runs/r1`);
  await waitUntil(page, () => document.querySelector("#mark-run") !== null &&
    /^success · manual/.test(document.querySelector(".muted")?.textContent.trim() ?? ""), null, 30000);
  const publish = await apiJson(dash, "/dags/chain/dagRuns/r1/taskInstances/publish");
  assert.equal(publish.state, "success");
  assert.equal(publish.try_number, 1);
  const check = await apiJson(dash, "/dags/chain/dagRuns/r1/taskInstances/check");
  assert.equal(check.try_number, 1);  // marked, not run again
});

test("Mark failed, dismissed at the confirmation, changes nothing", async () => {
  page.removeAllListeners("dialog");
  page.on("dialog", (d) => d.dismiss());
  await page.goto(`${base}/#/dags/chain/runs/r1/tasks/extract`);
  await page.waitForSelector("#mark-ti-failed");
  await page.click("#mark-ti-failed");
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await apiJson(dash, "/dags/chain/dagRuns/r1/taskInstances/extract")).state, "success");
  assert.equal((await apiJson(dash, "/dags/chain/dagRuns/r1")).state, "success");
});

test("Mark run failed on a running run: its running task stops, the rest is skipped", async () => {
  await apiJson(dash, "/dags/long/dagRuns", { method: "POST", body: JSON.stringify({ dag_run_id: "r1" }) });
  const messages = [];
  page.removeAllListeners("dialog");
  page.on("dialog", (d) => { messages.push(d.message()); d.accept(); });
  await page.goto(`${base}/#/dags/long/runs/r1`);
  await waitUntil(page, () => /running/.test(document.querySelector("#task-instances")?.textContent ?? ""), null, 30000);
  await page.click("#mark-run-failed");
  await waitUntil(page, () => /^failed ·/.test(document.querySelector(".muted")?.textContent.trim() ?? ""));
  assert.equal(messages.length, 1);
  assert.match(messages[0], /Mark run r1 failed\?/);
  assert.match(messages[0], /wait \(running\) → failed/);
  assert.match(messages[0], /after \(none\) → skipped/);
  const states = Object.fromEntries((await apiJson(dash, "/dags/long/dagRuns/r1/taskInstances"))
    .task_instances.map((t) => [t.task_id, t.state]));
  assert.deepEqual(states, { first: "success", wait: "failed", after: "skipped" });
  const rows = await page.$$eval("#task-instances tr", (trs) => trs.slice(1).map((tr) => tr.textContent));
  assert.ok(rows.some((r) => /wait.*failed/.test(r)));
  assert.ok(rows.some((r) => /after.*skipped/.test(r)));
});

test("Mark run success: every task instance not yet successful becomes success", async () => {
  await apiJson(dash, "/dags/long/dagRuns", { method: "POST", body: JSON.stringify({ dag_run_id: "r2" }) });
  page.removeAllListeners("dialog");
  const messages = [];
  page.on("dialog", (d) => { messages.push(d.message()); d.accept(); });
  await page.goto(`${base}/#/dags/long/runs/r2`);
  await page.waitForSelector("#mark-run-success");
  await page.click("#mark-run-success");
  await waitUntil(page, () => /^success ·/.test(document.querySelector(".muted")?.textContent.trim() ?? ""));
  assert.match(messages[0], /Mark run r2 success\?/);
  const tis = (await apiJson(dash, "/dags/long/dagRuns/r2/taskInstances")).task_instances;
  assert.ok(tis.every((t) => t.state === "success"), JSON.stringify(tis.map((t) => t.state)));
});
