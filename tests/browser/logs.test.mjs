// A try's log in the dashboard: times and streams on every line, followed
// live while the try runs, and searchable.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDashboard, apiJson, waitUntil } from "./harness.mjs";

let dash, page, base;

const TICKER = `description: prints a line every 0.3 s for a few seconds
tasks:
  - id: tick
    retries: 0
    command: |
      for i in $(seq 1 12); do
        echo "tick $i"
        if [ $((i % 4)) = 0 ]; then echo "warning at $i <b>bold</b>" >&2; fi
        sleep 0.3
      done
`;

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

before(async () => {
  dash = await startDashboard({ "ticker.yaml": TICKER });
  ({ page, base } = dash);
});

after(async () => {
  await dash?.stop();
});

// The lines the log box shows: time, stream, text, and whether visible.
async function shownLines() {
  return page.$$eval("#log .l", (rows) => rows.map((r) => ({
    time: r.querySelector(".l-time")?.textContent ?? "",
    stream: r.querySelector(".l-stream")?.textContent ?? "",
    text: r.querySelector(".l-text").textContent,
    hidden: r.hidden,
    cls: r.className,
  })));
}

async function runTicker() {
  const run = await apiJson(dash, "/dags/ticker/dagRuns", { method: "POST", body: "{}" });
  const ti = `/dags/ticker/dagRuns/${encodeURIComponent(run.dag_run_id)}/taskInstances/tick`;
  const end = Date.now() + 20000;
  while ((await apiJson(dash, ti)).state !== "running") {
    assert.ok(Date.now() < end, "the try did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  return run.dag_run_id;
}

test("a running try's log is followed live: new lines appear in place, then the footer, then it stops", async () => {
  const runId = await runTicker();
  await page.goto(`${base}/#/dags/ticker/runs/${encodeURIComponent(runId)}/tasks/tick`);
  await waitUntil(page, (id) => {
    const text = document.querySelector("#log")?.textContent ?? "";
    return text.includes(`run_id=${id} `) && /tick 1\n/.test(text);
  }, runId);
  // The box is the same element from here on: new text is appended, the page is not redrawn.
  await page.evaluate(() => { document.getElementById("log").dataset.marker = "first"; });
  assert.match(await page.textContent("#log-live"), /following/);
  const early = await shownLines();
  assert.ok(!early.some((l) => /^end: /.test(l.text)), "no footer while the try runs");
  assert.ok(!early.some((l) => l.text === "tick 12"));
  await waitUntil(page, () => /tick 7\n/.test(document.querySelector("#log").textContent));
  const middle = await shownLines();
  assert.ok(middle.length > early.length, "lines were added while the try ran");
  await waitUntil(page, () => /\[dagctl\] end: exit code 0/.test(document.querySelector("#log").textContent));
  assert.equal(await page.evaluate(() => document.getElementById("log").dataset.marker), "first");
  assert.equal(await page.textContent("#log-live"), "");
  await waitUntil(page, () => /success/.test(document.querySelector("#ti-summary").textContent));

  const lines = await shownLines();
  // Every line has its time and stream; the header opens, the footer closes.
  for (const l of lines) {
    assert.match(l.time, TIME);
    assert.match(l.stream, /^\[(out|err|dagctl)\]$/);
  }
  assert.match(lines[0].text, /^try 1 of 1: dag_id=ticker run_id=\S+ task_id=tick map_index=-1$/);
  assert.match(lines[1].text, /^host=\S+ worker=\S+ operator=shell pid=\d+$/);
  assert.match(lines.at(-1).text, /^end: exit code 0, duration \d+\.\d{3}s, state success$/);
  const ticks = lines.filter((l) => l.stream === "[out]").map((l) => l.text);
  assert.deepEqual(ticks, Array.from({ length: 12 }, (_, i) => `tick ${i + 1}`));
  // stderr lines are marked and drawn in another colour; their markup stays text.
  const warn = lines.filter((l) => l.stream === "[err]");
  assert.deepEqual(warn.map((l) => l.text), ["warning at 4 <b>bold</b>", "warning at 8 <b>bold</b>", "warning at 12 <b>bold</b>"]);
  assert.ok(warn.every((l) => /l-err/.test(l.cls)));
  assert.equal(await page.$$eval("#log b", (b) => b.length), 0);
  const colour = (sel) => page.$eval(sel, (e) => getComputedStyle(e).color);
  assert.notEqual(await colour("#log .l-err .l-text"), await colour("#log .l-out .l-text"));
  // Stopped: no more requests for the log once it ended.
  let asked = 0;
  const count = (req) => { if (/\/logs\/1/.test(req.url())) asked++; };
  page.on("request", count);
  await new Promise((r) => setTimeout(r, 2500));
  page.off("request", count);
  assert.equal(asked, 0);
});

test("the log's search field is reached from the keyboard and keeps only the matching lines, marked", async () => {
  const runId = await runTicker();
  await page.goto(`${base}/#/dags/ticker/runs/${encodeURIComponent(runId)}/tasks/tick`);
  // (The page before shows another run's ended log until this one is drawn.)
  await waitUntil(page, (id) => {
    const text = document.querySelector("#log")?.textContent ?? "";
    return text.includes(`run_id=${id} `) && /\[dagctl\] end: /.test(text);
  }, runId);
  const total = (await shownLines()).length;
  // "/" jumps to the field.
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "log-search");
  await page.keyboard.type("TICK 1");
  let lines = await shownLines();
  const visible = lines.filter((l) => !l.hidden).map((l) => l.text);
  assert.deepEqual(visible, ["tick 1", "tick 10", "tick 11", "tick 12"]);
  assert.deepEqual(await page.$$eval("#log .l:not([hidden]) mark", (m) => m.map((x) => x.textContent)),
    ["tick 1", "tick 1", "tick 1", "tick 1"]);
  assert.equal(await page.textContent("#log-count"), `4 of ${total} lines match`);
  // Markup typed into the search is text too: it finds the stderr lines and
  // the header's line of the script that printed them.
  await page.fill("#log-search", "<b>");
  lines = (await shownLines()).filter((l) => !l.hidden);
  assert.deepEqual(lines.map((l) => l.stream), ["[dagctl]", "[err]", "[err]", "[err]"]);
  assert.equal(await page.$$eval("#log b", (b) => b.length), 0);
  // Cleared: every line again, unmarked.
  await page.fill("#log-search", "");
  lines = await shownLines();
  assert.equal(lines.filter((l) => !l.hidden).length, total);
  assert.equal(await page.$$eval("#log mark", (m) => m.length), 0);
});
