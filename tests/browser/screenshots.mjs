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
await page.waitForSelector("#log");
await shot("task-log");
await page.goto(`${base}/#/pools`);
await page.waitForSelector("#pools tr[data-pool='warehouse']");
await shot("pools");
await page.goto(`${base}/#/assets`);
await page.waitForSelector("#assets td");
await shot("assets");
await browser.close();
console.log(`screenshots: dag-list, dag-grid, dag-graph, task-log, pools, assets in ${out}`);
