// Saves the README's dashboard screenshots (docs/*.png) from a running
// `dagctl serve` of the seed DAGs (scripts/serve.sh), in Debian's headless
// Chromium:  node screenshots.mjs [OUT_DIR=../../docs] [BASE=http://127.0.0.1:8080]
import { resolve, join } from "node:path";
import { chromium } from "playwright-core";

const out = resolve(process.argv[2] || "../../docs");
const base = process.argv[3] || "http://127.0.0.1:8080";
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const shot = (name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });

await page.goto(`${base}/`);
await page.waitForSelector("#dag-list a[href='#/dags/yolov5_image_collection_daily']");
await shot("dag-list");
await page.goto(`${base}/#/dags/yolov5_image_collection_daily/grid`);
await page.waitForSelector("#grid a.cell[data-task='dedupe']");
await shot("dag-grid");
await page.setViewportSize({ width: 1720, height: 480 });  // the whole graph, no scrolling
await page.goto(`${base}/#/dags/user_log_rollup_daily/graph`);
await page.waitForSelector("#graph text");
await shot("dag-graph");
await page.setViewportSize({ width: 1280, height: 800 });
await page.goto(`${base}/#/dags/yolov5_image_collection_daily/grid`);
await page.click("#grid a.cell[data-task='dedupe']");
await page.waitForFunction(() => /\[out\]/.test(document.querySelector("#log")?.textContent ?? ""));
await shot("task-log");
// A run's page: its task instances and Gantt chart; then a clear's preview on it.
const runs = await (await fetch(`${base}/api/v1/dags/yolov5_image_collection_daily/dagRuns?order_by=-execution_date&state=success&limit=1`)).json();
const runHash = `#/dags/yolov5_image_collection_daily/runs/${encodeURIComponent(runs.dag_runs[0].dag_run_id)}`;
await page.goto(`${base}/${runHash}`);
await page.waitForSelector("#gantt rect.try");
await shot("run-gantt");
await page.click("#task-instances button[data-clear='dedupe']");
await page.click("#clear-preview-button");
await page.waitForSelector("#clear-list li");
await page.screenshot({ path: join(out, "clear-preview.png") });
await page.click("#clear-panel button:text-is('Cancel')");
await page.goto(`${base}/#/dags/api_collect_etl_daily/calendar`);
await page.waitForSelector("#calendar rect.day");
await shot("dag-calendar");
await page.goto(`${base}/#/dags/api_collect_etl_daily/backfill`);
await page.waitForSelector("#backfill-form");
await page.fill("#backfill-from", new Date(Date.now() - 5 * 864e5).toISOString().slice(0, 10));
await page.fill("#backfill-to", new Date(Date.now() - 2 * 864e5).toISOString().slice(0, 10));
await page.click("#backfill-form button[type=submit]");
await page.waitForSelector("#backfill-runs tr[data-run]");
await shot("dag-backfill");
await page.goto(`${base}/#/pools`);
await page.waitForSelector("#pools tr[data-pool='warehouse']");
await shot("pools");
await page.goto(`${base}/#/assets`);
await page.waitForSelector("#assets td");
await shot("assets");
await browser.close();
console.log(`screenshots: dag-list, dag-grid, dag-graph, task-log, run-gantt, clear-preview, dag-calendar, dag-backfill, pools, assets in ${out}`);
