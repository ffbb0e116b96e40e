// What every browser test file needs: a `dagctl serve` on loopback over a
// DAGs folder the file writes, and a headless Chromium page at 1280 px.
//
//   const dash = await startDashboard({ "etl.yaml": "tasks: ..." });
//   await dash.page.goto(`${dash.base}/#/dags/etl`);
//   ...
//   await dash.stop();
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

export const DAGCTL = resolve(process.env.DAGCTL_BIN || "../../build/dagctl");

function startServer(dir, dags, args) {
  return new Promise((resolveStart, reject) => {
    const server = spawn(DAGCTL, ["serve", "--port", "0", "--quiet", ...args], {
      env: { ...process.env, DAGCTL_HOME: join(dir, "home"), DAGCTL_DAGS: dags },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    server.stderr.on("data", (chunk) => {
      log += chunk;
      const m = log.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolveStart({ server, port: Number(m[1]) });
    });
    server.on("exit", (code) => reject(new Error(`dagctl serve exited (${code}): ${log}`)));
    setTimeout(() => reject(new Error(`dagctl serve did not start: ${log}`)), 10000);
  });
}

/// Writes `files` (name -> YAML text) into a fresh DAGs folder, starts
/// `dagctl serve` over it (with `serveArgs`) and a browser page. Dialogs
/// (confirm/prompt) are dismissed unless `dash.acceptDialogs` is set true.
export async function startDashboard(files, serveArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), "dagctl_browser_"));
  const dags = join(dir, "dags");
  mkdirSync(dags);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dags, name), text);
  const { server, port } = await startServer(dir, dags, serveArgs);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const dash = {
    dir, dags, home: join(dir, "home"), base: `http://127.0.0.1:${port}`, server, browser, page,
    acceptDialogs: false,
    // A DAG file written (or rewritten) while serve runs.
    writeDag(name, text) { writeFileSync(join(dags, name), text); },
    async stop() {
      await browser.close();
      // Wait for serve to end its tries and write their logs before the folder goes.
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((resolveExit) => server.once("exit", resolveExit));
        server.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  page.on("dialog", (d) => (dash.acceptDialogs ? d.accept() : d.dismiss()));
  return dash;
}

/// GET (or another method) on the API; the parsed JSON body.
export async function apiJson(dash, path, options = {}) {
  const resp = await fetch(`${dash.base}/api/v1${path}`, {
    headers: { "Content-Type": "application/json" }, ...options,
  });
  const body = await resp.json();
  if (!resp.ok) throw new Error(`${options.method || "GET"} ${path}: ${resp.status} ${JSON.stringify(body)}`);
  return body;
}

/// Polls `fn` (run in the page, may be async) until it returns true.
export async function waitUntil(page, fn, arg, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(fn, arg))) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${fn}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
