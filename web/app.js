// dagctl's dashboard: a small single-page app over the REST API (/api/v1).
// Every string from a DAG author or a task is put into the page as text
// (textContent or esc()), never as markup.
"use strict";

const API = "/api/v1";
const view = document.getElementById("view");
const statusLine = document.getElementById("status");
let refreshTimer = null;

// ---- helpers -------------------------------------------------------------

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

function enc(s) { return encodeURIComponent(s); }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function when(t) {
  if (!t) return "";
  const d = new Date(t);
  return d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

function stateBox(state, cls = "dot", title = "") {
  return el("span", { class: `${cls} s-${state || "none"}`, title: title || state || "none" });
}

async function api(path, options = {}) {
  const headers = Object.assign({ "Content-Type": "application/json" }, options.headers || {});
  const token = localStorage.getItem("dagctl.token");
  if (token) headers.Authorization = `Bearer ${token}`;
  const resp = await fetch(API + path, Object.assign({}, options, { headers }));
  if (resp.status === 401) {
    const t = prompt("This dagctl needs an API token:");
    if (t) { localStorage.setItem("dagctl.token", t); return api(path, options); }
  }
  const type = resp.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await resp.json() : await resp.text();
  if (!resp.ok) throw new Error(body && body.detail ? `${body.title}: ${body.detail}` : `HTTP ${resp.status}`);
  return body;
}

function show(...nodes) {
  view.replaceChildren(...nodes);
}

function fail(err) {
  show(el("p", { class: "error", text: String(err.message || err) }));
}

// Re-renders the current page every 3 s while `active` says runs are going.
function autoRefresh(active) {
  clearTimeout(refreshTimer);
  statusLine.textContent = active ? "live: refreshing while runs are active" : "";
  if (active) refreshTimer = setTimeout(route, 3000);
}

// ---- DAG list ------------------------------------------------------------

// A DAG's schedule for people: the assets it waits for, its cron in its zone, or "manual only".
function scheduleText(d, assets) {
  if (assets && assets.length) return `on assets: ${assets.join(", ")}`;
  return d.schedule_interval ? `${d.schedule_interval.value} (${d.timezone})` : "manual only";
}

async function dagList() {
  const [dags, errors, datasets] = await Promise.all([api("/dags?limit=1000"), api("/importErrors"),
    api("/datasets?limit=1000").catch(() => ({ datasets: [] }))]);
  const assetsOf = {};
  for (const ds of datasets.datasets)
    for (const c of ds.consuming_dags) (assetsOf[c.dag_id] = assetsOf[c.dag_id] || []).push(ds.uri);
  const table = el("table", { id: "dag-list" },
    el("tr", {}, el("th", { text: "DAG" }), el("th", { text: "Schedule" }), el("th", { text: "Next run" }),
      el("th", { text: "Recent runs" }), el("th", { text: "Paused" })));
  let active = false;
  const recent = await Promise.all(dags.dags.map((d) =>
    api(`/dags/${enc(d.dag_id)}/dagRuns?order_by=-execution_date&limit=10`).catch(() => ({ dag_runs: [] }))));
  dags.dags.forEach((d, i) => {
    const runs = recent[i].dag_runs;
    active = active || runs.some((r) => r.state === "running" || r.state === "queued");
    const toggle = el("input", { type: "checkbox", "data-dag": d.dag_id, title: "paused",
      "aria-label": `pause ${d.dag_id}` });
    toggle.checked = d.is_paused;
    toggle.addEventListener("change", async () => {
      await api(`/dags/${enc(d.dag_id)}`, { method: "PATCH", body: JSON.stringify({ is_paused: toggle.checked }) });
    });
    const schedule = scheduleText(d, assetsOf[d.dag_id]);
    table.append(el("tr", {},
      el("td", {}, el("a", { href: `#/dags/${enc(d.dag_id)}`, text: d.dag_id }),
        el("div", { class: "muted", text: d.description || "" })),
      el("td", { text: schedule }),
      el("td", { text: when(d.next_dagrun_create_after) }),
      el("td", {}, ...runs.map((r) => stateBox(r.state, "dot", `${r.dag_run_id}: ${r.state}`))),
      el("td", {}, toggle)));
  });
  const parts = [el("h1", { text: "DAGs" }), table];
  if (errors.total_entries > 0) {
    parts.push(el("h2", { text: `Import errors (${errors.total_entries})` }));
    for (const e of errors.import_errors) parts.push(importError(e));
  }
  show(...parts);
  autoRefresh(active);
}

// ---- one DAG -------------------------------------------------------------

const PAGE = 25;

async function dagPage(dagId, tab, offset) {
  const details = await api(`/dags/${enc(dagId)}/details`);
  const schedule = scheduleText(details, details.dataset_expression && details.dataset_expression.all);
  const tabs = el("div", { class: "tabs" });
  for (const t of ["grid", "graph", "runs", "durations", "calendar", "code", "trigger", "backfill"])
    tabs.append(el("a", { href: `#/dags/${enc(dagId)}/${t}`, class: t === tab ? "active" : "", text: t }));
  const head = [el("h1", { text: dagId }), el("div", { class: "muted", text: `${details.description || ""} · ${schedule}` }), tabs];
  const body = await ({ grid: gridTab, graph: graphTab, runs: runsTab, code: codeTab, trigger: triggerTab,
    durations: durationsTab, calendar: calendarTab, backfill: backfillTab }[tab] || gridTab)(dagId, offset, details);
  show(...head, body);
}

// Groups the user unfolded, per view and DAG; they stay unfolded across refreshes.
const unfoldedGroups = { grid: new Map(), graph: new Map() };
function unfolded(viewName, dagId) {
  const views = unfoldedGroups[viewName];
  if (!views.has(dagId)) views.set(dagId, new Set());
  return views.get(dagId);
}

// A row is shown when every group it is in is unfolded.
function shown(row, parents, open) {
  for (let g = row.group; g; g = parents[g]) if (!open.has(g)) return false;
  return true;
}

// The button that folds or unfolds group `g` (a row of the grid, or the graph's list).
function foldButton(g, open, onToggle) {
  const isOpen = open.has(g.id);
  return el("button", {
    class: "fold", type: "button", "data-group": g.id, "aria-expanded": String(isOpen),
    title: `${g.id}: ${g.tasks} task${g.tasks === 1 ? "" : "s"}${g.tooltip ? ` · ${g.tooltip}` : ""}`,
    onclick: () => { if (isOpen) open.delete(g.id); else open.add(g.id); onToggle(g.id); },
  }, `${isOpen ? "▾" : "▸"} ${g.label}`);
}

async function gridTab(dagId, offset) {
  const g = await api(`/ui/grid/${enc(dagId)}?limit=${PAGE}&offset=${offset}`);
  const runs = g.dag_runs.slice().reverse();  // oldest on the left
  const rows = g.rows || g.tasks.map((id) => ({ id, kind: "task", label: id, depth: 0, group: null }));
  const parents = {};
  for (const r of rows) if (r.kind === "group") parents[r.id] = r.group;
  const open = unfolded("grid", dagId);
  const holder = el("div", {});
  const draw = (focusGroup) => {
    holder.replaceChildren(gridTable(dagId, g, runs, rows.filter((r) => shown(r, parents, open)), open, draw));
    if (focusGroup) holder.querySelector(`button.fold[data-group="${CSS.escape(focusGroup)}"]`)?.focus();
  };
  draw();
  const pager = el("div", { class: "pager" },
    el("button", { onclick: () => go(`#/dags/${enc(dagId)}/grid/${offset + PAGE}`), text: "◀ older" }),
    el("span", { class: "muted", text: `runs ${offset + 1}–${offset + g.dag_runs.length} of ${g.total_entries}` }),
    el("button", { onclick: () => go(`#/dags/${enc(dagId)}/grid/${Math.max(0, offset - PAGE)}`), text: "newer ▶" }));
  if (offset + PAGE >= g.total_entries) pager.children[0].disabled = true;
  if (offset === 0) pager.children[2].disabled = true;
  const legend = el("div", { class: "legend" }, ...["success", "running", "failed", "upstream_failed", "skipped",
    "up_for_retry", "queued", "scheduled"].map((s) => el("span", {}, stateBox(s), s)));
  autoRefresh(g.dag_runs.some((r) => r.state === "running" || r.state === "queued"));
  return el("div", {}, pager, g.dag_runs.length ? holder : el("p", { class: "muted", text: "No runs yet." }), legend);
}

// The grid's table: a row per shown task or group; a group's cell is its tasks' summary state.
function gridTable(dagId, g, runs, rows, open, redraw) {
  const table = el("table", { class: "grid", id: "grid" });
  table.append(el("tr", {}, el("th", { class: "task", text: "task \\ run" }),
    ...runs.map((r) => el("th", { class: "run", title: r.dag_run_id, text: when(r.logical_date).slice(0, 16) }))));
  table.append(el("tr", {}, el("td", { class: "task muted", text: "run" }),
    ...runs.map((r) => el("td", {}, stateBox(r.state, "cell", `${r.dag_run_id}: ${r.state}`)))));
  for (const row of rows) {
    const indent = { class: "task", style: `padding-left: ${4 + 16 * row.depth}px` };
    if (row.kind === "group") {
      table.append(el("tr", { class: "group-row", "data-group": row.id },
        el("td", indent, foldButton(row, open, redraw)), ...runs.map((r) => {
          const gi = (g.group_instances[r.dag_run_id] || {})[row.id] || {};
          const counts = Object.entries(gi.states || {}).map(([s, n]) => `${n} ${s}`).join(", ");
          return el("td", {}, el("span", {
            class: `cell group-cell s-${gi.state || "none"}`, "data-group": row.id, "data-run": r.dag_run_id,
            title: `${row.id} @ ${r.dag_run_id}: ${gi.state || "none"}${counts ? ` (${counts})` : ""}`,
          }));
        })));
      continue;
    }
    table.append(el("tr", {}, el("td", Object.assign({ title: row.id }, indent), row.label), ...runs.map((r) => {
      const ti = (g.task_instances[r.dag_run_id] || {})[row.id] || {};
      const link = el("a", {
        class: `cell s-${ti.state || "none"}`, "data-task": row.id, "data-run": r.dag_run_id,
        title: ti.mapped === undefined
          ? `${row.id} @ ${r.dag_run_id}: ${ti.state || "none"} (try ${ti.try_number || 0})`
          : `${row.id} @ ${r.dag_run_id}: ${ti.state || "none"} (${ti.mapped} mapped instances)`,
        href: `#/dags/${enc(dagId)}/runs/${enc(r.dag_run_id)}/tasks/${enc(row.id)}`,
      });
      return el("td", {}, link);
    })));
  }
  return table;
}

async function graphTab(dagId) {
  const open = unfolded("graph", dagId);
  const holder = el("div", {});
  const picker = await graphRunPicker(dagId, () => draw());
  const draw = async (focusGroup) => {
    const [g, states] = await Promise.all([api(`/ui/graph/${enc(dagId)}?unfolded=${[...open].map(enc).join(",")}`),
      graphRunStates(dagId, picker.select.value)]);
    const svg = graphSvg(g, open, draw);
    colourGraph(svg, g, states);
    holder.replaceChildren(graphGroups(g, open, draw), el("div", { class: "graph-scroll" }, svg));
    if (focusGroup) holder.querySelector(`[data-group="${CSS.escape(focusGroup)}"].fold`)?.focus();
  };
  await draw();
  const run = picker.runs.find((r) => r.dag_run_id === picker.select.value);
  autoRefresh(!!run && (run.state === "running" || run.state === "queued"));
  return el("div", {}, picker.node, holder);
}

// The graph's groups as buttons, each shown while the group it is in is unfolded.
function graphGroups(g, open, redraw) {
  if (!g.groups.length) return el("span");
  const parents = {};
  for (const grp of g.groups) parents[grp.id] = grp.group;
  return el("div", { class: "graph-groups" }, "Groups: ",
    ...g.groups.filter((grp) => shown(grp, parents, open)).map((grp) => foldButton(grp, open, redraw)));
}

function svgEl(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// The graph as SVG, laid out by the engine; a folded group is one node that unfolds on click
// (or Enter / Space), an unfolded one a labelled box around its nodes that folds it again.
function graphSvg(g, open, redraw) {
  const W = 200, H = 54, BW = 170, BH = 30;
  const pos = {};
  let cols = 0, rows = 0;
  for (const n of g.nodes) {
    pos[n.id] = { x: 20 + n.layer * W, y: 30 + n.order * H };
    cols = Math.max(cols, n.layer + 1);
    rows = Math.max(rows, n.order + 1);
  }
  const svg = svgEl("svg", { class: "graph", id: "graph", width: 40 + cols * W, height: 50 + rows * H });
  for (const grp of g.groups) if (open.has(grp.id)) groupBox(svg, g, grp, pos, BW, BH, open, redraw);
  for (const [from, to] of g.edges) {
    const a = pos[from], b = pos[to];
    const x1 = a.x + BW, y1 = a.y + BH / 2, x2 = b.x, y2 = b.y + BH / 2;
    svg.append(svgEl("path", { d: `M${x1},${y1} C${x1 + 20},${y1} ${x2 - 20},${y2} ${x2},${y2}` }));
  }
  for (const n of g.nodes) {
    const node = svgEl("g", { class: n.kind === "group" ? "node group-node fold" : "node", "data-id": n.id });
    node.append(svgEl("rect", { x: pos[n.id].x, y: pos[n.id].y, width: BW, height: BH }));
    const text = svgEl("text", { x: pos[n.id].x + 8, y: pos[n.id].y + 19 });
    const label = n.kind === "group" ? `▸ ${n.label} (${n.tasks})` : n.label;
    text.textContent = label.length > 22 ? label.slice(0, 21) + "…" : label;
    const title = svgEl("title");
    title.textContent = n.kind === "group"
      ? `group ${n.id}: ${n.tasks} tasks${n.tooltip ? ` · ${n.tooltip}` : ""} (click to unfold)`
      : `${n.id} (${n.operator}, ${n.trigger_rule})`;
    node.append(text, title);
    if (n.kind === "group") {
      Object.entries({ "data-group": n.id, role: "button", tabindex: "0", "aria-expanded": "false",
        "aria-label": `unfold group ${n.id}` }).forEach(([k, v]) => node.setAttribute(k, v));
      const unfold = () => { open.add(n.id); redraw(n.id); };
      node.addEventListener("click", unfold);
      node.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); unfold(); } });
    }
    svg.append(node);
  }
  return svg;
}

// The box around an unfolded group's nodes, drawn when no other node falls inside it.
function groupBox(svg, g, grp, pos, BW, BH, open, redraw) {
  const inside = (id) => id === grp.id || id.startsWith(grp.id + ".");
  const mine = g.nodes.filter((n) => inside(n.id)).map((n) => pos[n.id]);
  if (!mine.length) return;
  const x = Math.min(...mine.map((p) => p.x)) - 8, y = Math.min(...mine.map((p) => p.y)) - 20;
  const x2 = Math.max(...mine.map((p) => p.x)) + BW + 8, y2 = Math.max(...mine.map((p) => p.y)) + BH + 8;
  const others = g.nodes.filter((n) => !inside(n.id)).map((n) => pos[n.id]);
  if (others.some((p) => p.x < x2 && p.x + BW > x && p.y < y2 && p.y + BH > y)) return;
  const box = svgEl("g", { class: "group-box", "data-group-box": grp.id });
  box.append(svgEl("rect", { x, y, width: x2 - x, height: y2 - y }));
  const label = svgEl("text", { x: x + 6, y: y + 13 });
  label.textContent = `▾ ${grp.label}`;
  const title = svgEl("title");
  title.textContent = `group ${grp.id} (click to fold)`;
  box.append(label, title);
  box.addEventListener("click", () => { open.delete(grp.id); redraw(grp.id); });
  svg.append(box);
}

// The run list's filters, per DAG; they stay while the user pages and the list refreshes.
const runFilters = new Map();

// The query string of a DAG's run filters, in the API's names.
function runFilterQuery(f) {
  const q = [];
  for (const st of f.states || []) q.push(`state=${enc(st)}`);
  if (f.runType) q.push(`run_type=${enc(f.runType)}`);
  if (f.from) q.push(`execution_date_gte=${enc(`${f.from}T00:00:00Z`)}`);
  if (f.to) q.push(`execution_date_lte=${enc(`${f.to}T23:59:59.999999Z`)}`);
  return q.map((x) => `&${x}`).join("");
}

function runFilterForm(dagId) {
  const f = runFilters.get(dagId) || {};
  const boxes = ["queued", "running", "success", "failed"].map((st) => {
    const box = el("input", { type: "checkbox", name: "state", value: st, id: `filter-state-${st}` });
    box.checked = (f.states || []).includes(st);
    return [box, el("label", { for: `filter-state-${st}`, text: st })];
  });
  const type = el("select", { name: "run_type", id: "filter-run-type", "aria-label": "run type" },
    ...["", "manual", "scheduled", "backfill", "dataset_triggered"].map((t) => el("option", { value: t, text: t || "any type" })));
  type.value = f.runType || "";
  const from = el("input", { type: "date", name: "from", id: "filter-from", "aria-label": "logical date from", value: f.from || "" });
  const to = el("input", { type: "date", name: "to", id: "filter-to", "aria-label": "logical date to", value: f.to || "" });
  const form = el("form", { class: "filters", id: "run-filters", role: "search", onsubmit: (e) => {
    e.preventDefault();
    runFilters.set(dagId, { states: boxes.filter(([b]) => b.checked).map(([b]) => b.value),
      runType: type.value, from: from.value, to: to.value });
    visit(`#/dags/${enc(dagId)}/runs/0`);
  } }, el("span", { class: "muted", text: "State:" }), ...boxes.flat(), type,
    el("label", { for: "filter-from", text: "from" }), from, el("label", { for: "filter-to", text: "to" }), to,
    el("button", { type: "submit", text: "Filter" }),
    el("button", { type: "button", text: "Reset", onclick: () => { runFilters.delete(dagId); visit(`#/dags/${enc(dagId)}/runs/0`); } }));
  return form;
}

async function runsTab(dagId, offset) {
  const filter = runFilterQuery(runFilters.get(dagId) || {});
  const runs = await api(`/dags/${enc(dagId)}/dagRuns?order_by=-execution_date&limit=${PAGE}&offset=${offset}${filter}`);
  const table = el("table", { id: "runs" }, el("tr", {}, ...["Run", "Type", "State", "Logical date", "Start", "End"]
    .map((h) => el("th", { text: h }))));
  for (const r of runs.dag_runs)
    table.append(el("tr", { "data-run": r.dag_run_id },
      el("td", {}, el("a", { href: `#/dags/${enc(dagId)}/runs/${enc(r.dag_run_id)}`, text: r.dag_run_id })),
      el("td", { text: r.run_type }), el("td", {}, stateBox(r.state), r.state),
      el("td", { text: when(r.logical_date) }), el("td", { text: when(r.start_date) }), el("td", { text: when(r.end_date) })));
  const pager = el("div", { class: "pager" },
    el("button", { onclick: () => go(`#/dags/${enc(dagId)}/runs/${Math.max(0, offset - PAGE)}`), text: "◀ newer" }),
    el("span", { class: "muted", id: "runs-count", text: `${runs.dag_runs.length ? offset + 1 : 0}–${offset + runs.dag_runs.length} of ${runs.total_entries}` }),
    el("button", { onclick: () => go(`#/dags/${enc(dagId)}/runs/${offset + PAGE}`), text: "older ▶" }));
  if (offset === 0) pager.children[0].disabled = true;
  if (offset + PAGE >= runs.total_entries) pager.children[2].disabled = true;
  // Not while the user is setting filters: a refresh would drop what they typed.
  if (runs.dag_runs.some((r) => r.state === "running" || r.state === "queued")) refreshWhileIdle();
  else autoRefresh(false);
  return el("div", {}, runFilterForm(dagId), pager,
    runs.dag_runs.length ? table : el("p", { class: "muted", text: "No run matches." }));
}

// A param's field, typed from its default: a number field, a checkbox, JSON for lists and objects, text.
function paramField(name, value) {
  const id = `param-${name}`;
  if (typeof value === "boolean") {
    const input = el("input", { type: "checkbox", name, id });
    input.checked = value;
    return { input, read: () => input.checked };
  }
  if (typeof value === "number") {
    const input = el("input", { type: "number", step: "any", name, id, value: String(value) });
    return { input, read: () => (input.value.trim() === "" ? null : Number(input.value)) };
  }
  if (value !== null && typeof value === "object") {
    const input = el("textarea", { name, id, rows: "3", class: "json" });
    input.value = JSON.stringify(value, null, 2);
    return { input, read: () => JSON.parse(input.value) };
  }
  const input = el("input", { name, id, value: value ?? "" });
  return { input, read: () => input.value };
}

// The trigger form: a logical date (UTC; empty = now) and the DAG's params,
// each its own field, or the whole conf as raw JSON.
function triggerTab(dagId, _offset, details) {
  const form = el("form", { class: "trigger", id: "trigger-form" });
  const date = el("input", { type: "datetime-local", step: "1", name: "logical_date", id: "trigger-date" });
  form.append(el("label", { for: "trigger-date", text: "Logical date (UTC; empty = now)" }), date);
  const fields = {};
  const paramBox = el("fieldset", { id: "trigger-params" }, el("legend", { text: "Params" }));
  for (const [name, p] of Object.entries(details.params || {})) {
    fields[name] = paramField(name, p.value);
    paramBox.append(el("label", { for: `param-${name}`, text: name }), fields[name].input);
  }
  if (!Object.keys(fields).length) paramBox.append(el("p", { class: "muted", text: "This DAG has no params." }));
  const conf = () => Object.fromEntries(Object.entries(fields).map(([n, f]) => [n, f.read()]));
  const raw = el("textarea", { id: "trigger-conf", name: "conf", rows: "6", class: "json", "aria-label": "conf as JSON" });
  const rawBox = el("div", { hidden: "" }, el("label", { for: "trigger-conf", text: "Conf (JSON object)" }), raw);
  const useRaw = el("input", { type: "checkbox", id: "trigger-raw" });
  useRaw.addEventListener("change", () => {
    if (useRaw.checked) {
      try { raw.value = JSON.stringify(conf(), null, 2); } catch { raw.value = "{}"; }
    }
    rawBox.hidden = !useRaw.checked;
    paramBox.hidden = useRaw.checked;
  });
  const result = el("p", { id: "trigger-result" });
  form.append(paramBox, el("p", {}, useRaw, el("label", { for: "trigger-raw", class: "inline", text: " edit the conf as raw JSON" })),
    rawBox, el("p", {}, el("button", { class: "primary", type: "submit", text: "Trigger run" })), result);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const body = { conf: useRaw.checked ? JSON.parse(raw.value || "{}") : conf() };
      if (date.value) body.logical_date = `${date.value.length === 16 ? `${date.value}:00` : date.value}Z`;
      const run = await api(`/dags/${enc(dagId)}/dagRuns`, { method: "POST", body: JSON.stringify(body) });
      result.className = "";
      result.replaceChildren("Queued ", el("a", { href: `#/dags/${enc(dagId)}/runs/${enc(run.dag_run_id)}`, text: run.dag_run_id }),
        ` (logical date ${when(run.logical_date)})`);
    } catch (err) {
      result.className = "error";
      result.textContent = err.message;
    }
  });
  return form;
}

// ---- code: a DAG's versions ------------------------------------------------

async function sourceOf(token) {
  return (await api(`/dagSources/${enc(token)}`)).content;
}

function versionName(v) {
  return v.version_number ? `version ${v.version_number}` : "a version not stored yet";
}

function firstSeen(versions, hash) {
  const v = versions.find((x) => x.hash === hash);
  return v ? `, first seen ${when(v.created_at)}` : "";
}

function codeBlock(text, id) {
  return el("pre", { class: "code", id, tabindex: "0", text });
}

// The current file of the DAG, and every version the store keeps.
async function codeTab(dagId) {
  const v = await api(`/ui/versions/${enc(dagId)}`);
  const parts = [];
  if (v.current) {
    const which = v.current.version_number ? `, version ${v.current.version_number} of ${v.total_entries}`
      : " (not stored yet: no scheduler has loaded it)";
    parts.push(el("p", { class: "muted", id: "code-version",
      text: `The current file${which}${firstSeen(v.versions, v.current.hash)}.` }));
    parts.push(codeBlock(await sourceOf(v.current.file_token), "code"));
  }
  const table = el("table", { id: "versions" },
    el("tr", {}, ...["Version", "First seen", "File", ""].map((h) => el("th", { text: h }))));
  for (const x of v.versions.slice().reverse())
    table.append(el("tr", {}, el("td", { text: x.version_number }), el("td", { text: when(x.created_at) }),
      el("td", { text: x.path }), el("td", { text: v.current && x.hash === v.current.hash ? "current" : "" })));
  parts.push(el("h2", { text: "Versions" }),
    el("p", { class: "muted", text: "Each run executes the version it was created from; its page shows that version and what changed since." }),
    v.versions.length ? table : el("p", { class: "muted", text: "No version stored yet: the scheduler stores each version it loads." }));
  return el("div", {}, ...parts);
}

// Lines of `a` and `b` as a list of {op, text}: op " " (both), "-" (only in a),
// "+" (only in b), along a longest common subsequence. The common head and
// tail are taken off first, so the table covers only the changed middle.
function diffLines(a, b) {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let endA = a.length, endB = b.length;
  while (endA > head && endB > head && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const A = a.slice(head, endA), B = b.slice(head, endB);
  if (A.length * B.length > 4e6) return null;  // too large to compare here
  const lcs = Array.from({ length: A.length + 1 }, () => new Uint32Array(B.length + 1));
  for (let i = A.length - 1; i >= 0; i--)
    for (let j = B.length - 1; j >= 0; j--)
      lcs[i][j] = A[i] === B[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = a.slice(0, head).map((text) => ({ op: " ", text }));
  let i = 0, j = 0;
  while (i < A.length || j < B.length) {
    if (i < A.length && j < B.length && A[i] === B[j]) { out.push({ op: " ", text: A[i++] }); j++; }
    else if (j >= B.length || (i < A.length && lcs[i + 1][j] >= lcs[i][j + 1])) out.push({ op: "-", text: A[i++] });
    else out.push({ op: "+", text: B[j++] });
  }
  for (const text of a.slice(endA)) out.push({ op: " ", text });
  return out;
}

// The changed lines with `context` unchanged lines around each change; a
// "⋯" line stands for what is left out.
function diffView(ops, context = 3) {
  const pre = el("pre", { class: "code diff", id: "code-diff", tabindex: "0" });
  const near = ops.map(() => false);
  ops.forEach((o, k) => {
    if (o.op === " ") return;
    for (let d = Math.max(0, k - context); d <= Math.min(ops.length - 1, k + context); d++) near[d] = true;
  });
  let gap = false;
  ops.forEach((o, k) => {
    if (!near[k]) { gap = true; return; }
    if (gap) pre.append(el("span", { class: "diff-gap", text: "⋯\n" }));
    gap = false;
    const cls = o.op === "+" ? "diff-add" : o.op === "-" ? "diff-del" : "diff-same";
    pre.append(el("span", { class: cls, text: `${o.op} ${o.text}\n` }));
  });
  if (gap) pre.append(el("span", { class: "diff-gap", text: "⋯\n" }));
  return pre;
}

function lines(text) {
  const l = text.split("\n");
  if (l.length && l[l.length - 1] === "") l.pop();
  return l;
}

// The version a run executes, and what changed in the DAG file since.
async function runCodePage(dagId, runId) {
  const v = await api(`/ui/versions/${enc(dagId)}?dag_run_id=${enc(runId)}`);
  const mine = v.dag_run;
  const head = [el("h1", {}, el("a", { href: `#/dags/${enc(dagId)}`, text: dagId }), " / ",
    el("a", { href: `#/dags/${enc(dagId)}/runs/${enc(runId)}`, text: runId }), " / code")];
  if (!mine.file_token) {
    show(...head, el("p", { class: "muted", text: "This run recorded no DAG version (it is older than version keeping)." }));
    return;
  }
  const [then, now] = await Promise.all([sourceOf(mine.file_token), v.current ? sourceOf(v.current.file_token) : null]);
  const summary = el("p", { id: "code-version" }, `This run executes ${versionName(mine)}${firstSeen(v.versions, mine.hash)}. `);
  const views = el("div", { class: "tabs", role: "group", "aria-label": "what to show" });
  const body = el("div");
  const choices = [["changes", "What changed since", () => diffOf(then, now)], ["file", "This run's file", () => codeBlock(then, "code")]];
  const pick = (name) => {
    for (const b of views.children) b.setAttribute("aria-pressed", String(b.dataset.view === name));
    body.replaceChildren(choices.find((c) => c[0] === name)[2]());
  };
  if (now === null) summary.append("The DAG's file is no longer in the DAGs folder.");
  else if (now === then) summary.append("The DAG file has not changed since.");
  else summary.append(`The DAG file changed since: the current file is ${versionName(v.current)}.`);
  const changed = now !== null && now !== then;
  for (const [name, label] of choices)
    if (name === "file" || changed) views.append(el("button", { type: "button", "data-view": name, onclick: () => pick(name), text: label }));
  show(...head, summary, views, body);
  pick(changed ? "changes" : "file");
}

function diffOf(then, now) {
  const ops = diffLines(lines(then), lines(now));
  if (!ops) return el("p", { class: "muted", text: "The files are too large to compare here." });
  return el("div", {}, el("p", { class: "muted", text: "- this run's version   + the current file" }), diffView(ops));
}

// ---- one run, one task try -------------------------------------------------

async function runPage(dagId, runId) {
  if (clearHolder.dataset.run !== `${dagId}/${runId}`) clearHolder.replaceChildren();
  const [run, tis] = await Promise.all([
    api(`/dags/${enc(dagId)}/dagRuns/${enc(runId)}`),
    api(`/dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances?limit=1000`)]);
  const table = el("table", { id: "task-instances" }, el("tr", {}, ...["Task", "State", "Try", "Start", "End", "Duration"]
    .map((h) => el("th", { text: h }))));
  for (const ti of tis.task_instances)
    table.append(el("tr", {},
      el("td", {}, el("a", { href: tiHash(dagId, runId, ti.task_id, ti.map_index), text: tiLabel(ti) })),
      el("td", {}, stateBox(ti.state), ti.state || "none"), el("td", { text: ti.try_number }),
      el("td", { text: when(ti.start_date) }), el("td", { text: when(ti.end_date) }),
      el("td", { text: ti.duration === null ? "" : `${ti.duration.toFixed(2)}s` }),
      el("td", {}, clearButton(dagId, runId, ti.task_id))));
  table.firstChild.append(el("th", { text: "" }));
  const triggers = run.run_type === "dataset_triggered" ? await triggeredBy(dagId, runId) : [];
  const gantt = await ganttSection(dagId, runId);
  show(el("h1", {}, el("a", { href: `#/dags/${enc(dagId)}`, text: dagId }), " / ", run.dag_run_id),
    el("div", { class: "muted" }, stateBox(run.state), `${run.state} · ${run.run_type} · logical date ${when(run.logical_date)} · `,
      el("a", { href: `#/dags/${enc(dagId)}/runs/${enc(runId)}/code`, id: "run-code", text: "code of this run's version" })),
    markRunButtons(dagId, runId), el("div", { class: "actions" }, clearButton(dagId, runId, null)), clearHolder,
    ...triggers, el("h2", { text: "Task instances" }), table, ...gantt);
  if (!clearHolder.hasChildNodes()) autoRefresh(run.state === "running" || run.state === "queued");
}

// The asset events a dataset-triggered run consumed, one line each, linking to the producing run.
async function triggeredBy(dagId, runId) {
  const events = await api(`/dags/${enc(dagId)}/dagRuns/${enc(runId)}/upstreamDatasetEvents`);
  const list = el("ul", { id: "triggered-by" });
  for (const e of events.dataset_events)
    list.append(el("li", {}, `${e.dataset_uri} at ${when(e.timestamp)} `, e.source_dag_id
      ? el("a", { href: `#/dags/${enc(e.source_dag_id)}/runs/${enc(e.source_run_id)}`,
        text: `by ${e.source_dag_id}.${e.source_task_id}` })
      : "from outside"));
  return [el("h2", { text: "Triggered by asset events" }), list];
}

// A task instance's page, and its label: `task [3]` for a mapped instance.
function tiHash(dagId, runId, taskId, mapIndex = -1) {
  const base = `#/dags/${enc(dagId)}/runs/${enc(runId)}/tasks/${enc(taskId)}`;
  return mapIndex >= 0 ? `${base}/map/${mapIndex}` : base;
}

function tiLabel(ti) {
  return ti.map_index >= 0 ? `${ti.task_id} [${ti.map_index}]` : ti.task_id;
}

function runTitle(dagId, runId, ...rest) {
  return el("h1", {}, el("a", { href: `#/dags/${enc(dagId)}`, text: dagId }), " / ",
    el("a", { href: `#/dags/${enc(dagId)}/runs/${enc(runId)}`, text: runId }), " / ", ...rest);
}

async function tryPage(dagId, runId, taskId, tryNumber, mapIndex = -1) {
  const base = `/dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances/${enc(taskId)}`;
  const tiPath = mapIndex >= 0 ? `${base}/${mapIndex}` : base;
  let ti;
  try {
    ti = await api(tiPath);
  } catch (err) {
    if (mapIndex < 0 && /is mapped/.test(err.message)) return mappedPage(dagId, runId, taskId);
    throw err;
  }
  const n = tryNumber || ti.try_number;
  const tries = el("div", { class: "tries" }, "Tries: ");
  for (let i = 1; i <= ti.try_number; i++)
    tries.append(el("a", { href: `${tiHash(dagId, runId, taskId, mapIndex)}/try/${i}`, class: i === n ? "active" : "", text: `#${i}` }));
  const title = mapIndex >= 0
    ? [el("a", { href: tiHash(dagId, runId, taskId), text: taskId }), ` [${mapIndex}]`] : [taskId];
  const summary = el("div", { class: "muted", id: "ti-summary" });
  const tiSummary = (t) => summary.replaceChildren(stateBox(t.state), `${t.state || "none"} · try ${t.try_number} of ${t.max_tries + 1}`,
    t.rendered_map_index ? ` · ${t.rendered_map_index}` : "");
  tiSummary(ti);
  const viewer = logViewer();
  show(runTitle(dagId, runId, ...title), summary, markTiButtons(dagId, runId, taskId, mapIndex), tries, viewer.node);
  if (n < 1) {
    viewer.note("(no try yet)");
    autoRefresh(["running", "queued", "scheduled", "up_for_retry"].includes(ti.state));
    return;
  }
  // Follows the log while the try runs; when it ends, the page refreshes as
  // before if the task instance goes on (a retry).
  await followLog(viewer, `${base}/logs/${n}`, mapIndex, async () => {
    const now = await api(tiPath);
    tiSummary(now);
    autoRefresh(!tryNumber && ["running", "queued", "scheduled", "up_for_retry"].includes(now.state));
  });
}

// ---- a try's log -------------------------------------------------------------

// A log line: `2026-12-01T04:12:03.123Z [out] text` (stream out, err or dagctl).
const LOG_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) \[(out|err|dagctl)\] ?(.*)$/;

// The log box: one element per line (time, stream, text; stderr and dagctl's
// own lines styled apart), and a search field that keeps the matching lines
// and marks the matches. Everything from the log goes in as text.
function logViewer() {
  const pre = el("pre", { class: "log", id: "log", "aria-live": "polite" });
  const count = el("span", { class: "muted", id: "log-count" });
  const search = el("input", { type: "search", id: "log-search", placeholder: "Search the log (/)", "aria-label": "Search the log" });
  const live = el("span", { class: "muted", id: "log-live" });
  let pending = "";  // a line not yet ended
  let query = "";
  const filter = (row) => {
    const text = row.dataset.text;
    const hit = !query || text.toLowerCase().includes(query);
    row.hidden = !hit;
    const body = row.querySelector(".l-text");
    body.replaceChildren();
    if (!query || !hit) { body.textContent = text; return hit; }
    // Marks each match; the text between goes in as text nodes.
    const low = text.toLowerCase();
    let at = 0;
    for (let i = low.indexOf(query); i >= 0; i = low.indexOf(query, at)) {
      body.append(document.createTextNode(text.slice(at, i)), el("mark", { text: text.slice(i, i + query.length) }));
      at = i + query.length;
    }
    body.append(document.createTextNode(text.slice(at)));
    return hit;
  };
  const recount = () => {
    const rows = [...pre.querySelectorAll(".l")];
    const hits = rows.filter((r) => !r.hidden).length;
    count.textContent = query ? `${hits} of ${rows.length} lines match` : `${rows.length} lines`;
  };
  search.addEventListener("input", () => {
    query = search.value.toLowerCase();
    for (const row of pre.querySelectorAll(".l")) filter(row);
    recount();
  });
  const lineNode = (line) => {
    const m = LOG_LINE.exec(line);
    const stream = m ? m[2] : "dagctl";
    // Inline, each ending in its newline: the text copies as the log it is.
    const row = el("span", { class: `l l-${stream}` });
    if (m) row.append(el("span", { class: "l-time", text: m[1] }), " ", el("span", { class: "l-stream", text: `[${m[2]}]` }), " ");
    row.dataset.text = m ? m[3] : line;
    row.append(el("span", { class: "l-text" }), "\n");
    filter(row);
    return row;
  };
  return {
    node: el("div", { class: "log-view" },
      el("div", { class: "log-tools" }, search, " ", count, " ", live), pre),
    append(text) {
      const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      const parts = (pending + text).split("\n");
      pending = parts.pop();
      pre.append(...parts.map(lineNode));
      if (stick) pre.scrollTop = pre.scrollHeight;
      recount();
    },
    finish() {
      if (pending) pre.append(lineNode(pending));
      pending = "";
      recount();
    },
    note(text) { pre.replaceChildren(el("span", { class: "l-note", text })); },
    live(on) { live.textContent = on ? "following: the try is running" : ""; },
    search,
  };
}

// Reads the log from its start, then what it gains every second (the API's
// continuation_token) until end_of_log, then calls `ended`. Stops when the
// user leaves the page.
async function followLog(viewer, path, mapIndex, ended) {
  const mi = mapIndex >= 0 ? `&map_index=${mapIndex}` : "";
  let token = "";
  let empty = true;
  for (;;) {
    const body = await api(`${path}?full_content=true${mi}${token ? `&token=${enc(token)}` : ""}`);
    if (!viewer.node.isConnected) return;
    if (body.content) { viewer.append(body.content); empty = false; }
    token = body.continuation_token;
    if (body.end_of_log) break;
    viewer.live(true);
    await new Promise((resolve) => { clearTimeout(refreshTimer); refreshTimer = setTimeout(resolve, 1000); });
    if (!viewer.node.isConnected) return;
  }
  viewer.finish();
  viewer.live(false);
  if (empty) viewer.note("(this try printed nothing)");
  await ended();
}

// "/" puts the cursor in the log's search field (not while typing elsewhere).
document.addEventListener("keydown", (e) => {
  const search = document.getElementById("log-search");
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
  if (e.key === "/" && search && !typing) { e.preventDefault(); search.focus(); }
});

// A mapped task in one run: its instances, each with its values and state.
async function mappedPage(dagId, runId, taskId) {
  const base = `/dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances/${enc(taskId)}`;
  const list = await api(`${base}/listMapped?limit=1000`);
  const table = el("table", { id: "mapped" }, el("tr", {}, ...["Map index", "Values", "State", "Try", "Duration"]
    .map((h) => el("th", { text: h }))));
  let active = false;
  for (const ti of list.task_instances) {
    active = active || ["running", "queued", "scheduled", "up_for_retry"].includes(ti.state);
    table.append(el("tr", { "data-map-index": ti.map_index },
      el("td", {}, el("a", { href: tiHash(dagId, runId, taskId, ti.map_index), text: `[${ti.map_index}]` })),
      el("td", { text: ti.rendered_map_index || "" }),
      el("td", {}, stateBox(ti.state), ti.state || "none"), el("td", { text: ti.try_number }),
      el("td", { text: ti.duration === null ? "" : `${ti.duration.toFixed(2)}s` })));
  }
  const shown = list.task_instances.length < list.total_entries ? ` (the first ${list.task_instances.length})` : "";
  show(runTitle(dagId, runId, taskId),
    el("div", { class: "muted", text: `mapped: ${list.total_entries} instances${shown}` }), table);
  autoRefresh(active);
}

// ---- marking states by hand -------------------------------------------------

// The changes a dry run answered, one line each, for a confirmation.
function changeLines(refs, newState) {
  return refs.map((r) => `  ${r.dag_run_id} · ${r.task_id}${r.map_index >= 0 ? ` [${r.map_index}]` : ""}` +
    `${r.state !== undefined ? ` (${r.state || "none"})` : ""} → ${newState}`).join("\n");
}

// "Mark success" / "Mark failed" on a task instance: a dry run lists what
// changes, a confirmation, then the change (the run then goes on from it).
function markTiButtons(dagId, runId, taskId, mapIndex) {
  const result = el("span", { class: "error", id: "mark-result" });
  const mark = async (newState) => {
    const path = `/dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances/${enc(taskId)}` +
      (mapIndex >= 0 ? `/${mapIndex}` : "");
    const send = (dryRun) => mapIndex >= 0
      ? api(path, { method: "PATCH", body: JSON.stringify({ new_state: newState, dry_run: dryRun }) })
        .then((r) => ({ task_instances: [Object.assign(r, { map_index: mapIndex })] }))
      : api(`/dags/${enc(dagId)}/updateTaskInstancesState`, { method: "POST",
        body: JSON.stringify({ task_id: taskId, dag_run_id: runId, new_state: newState, dry_run: dryRun }) });
    const preview = await send(true);
    if (!preview.task_instances.length) { result.textContent = `already ${newState}`; return; }
    if (!confirm(`Mark ${newState}? These task instances change:\n${changeLines(preview.task_instances, newState)}`)) return;
    await send(false);
  };
  return el("p", { class: "actions", id: "mark-ti" },
    el("button", { type: "button", id: "mark-ti-success", text: "Mark success", onclick: () => act(() => mark("success"), result) }), " ",
    el("button", { type: "button", id: "mark-ti-failed", text: "Mark failed", onclick: () => act(() => mark("failed"), result) }), " ",
    result);
}

// "Mark run success" / "Mark run failed": the task instances that change,
// confirmed, then PATCH of the run's state.
function markRunButtons(dagId, runId) {
  const result = el("span", { class: "error", id: "mark-result" });
  const mark = async (state) => {
    const preview = await api(`/ui/markRun/${enc(dagId)}/${enc(runId)}`,
      { method: "POST", body: JSON.stringify({ state, dry_run: true }) });
    const lines = preview.task_instances.map((r) => changeLines([r], r.new_state)).join("\n");
    if (!confirm(`Mark run ${runId} ${state}?${lines ? `\nThese task instances change:\n${lines}` : ""}`)) return;
    await api(`/dags/${enc(dagId)}/dagRuns/${enc(runId)}`, { method: "PATCH", body: JSON.stringify({ state }) });
  };
  return el("p", { class: "actions", id: "mark-run" },
    el("button", { type: "button", id: "mark-run-success", text: "Mark run success", onclick: () => act(() => mark("success"), result) }), " ",
    el("button", { type: "button", id: "mark-run-failed", text: "Mark run failed", onclick: () => act(() => mark("failed"), result) }), " ",
    result);
}

// ---- workers -----------------------------------------------------------------

async function workersPage() {
  const data = await api("/ui/workers");
  const table = el("table", { id: "workers" },
    el("tr", {}, el("th", { text: "Worker" }), el("th", { text: "Host" }), el("th", { text: "Queues" }),
      el("th", { text: "Slots in use" }), el("th", { text: "Last heartbeat" })));
  for (const w of data.workers) {
    table.append(el("tr", {},
      el("td", { text: w.name }), el("td", { text: w.hostname }),
      el("td", { text: w.queues.length ? w.queues.join(", ") : "(all)" }),
      el("td", { text: `${w.slots_used} / ${w.slots}` }),
      el("td", { text: `${when(w.latest_heartbeat)} (${w.seconds_since_heartbeat.toFixed(1)} s ago)` })));
  }
  show(el("h1", { text: "Workers" }),
    data.workers.length ? table : el("p", { text: "No live worker: start one with dagctl worker (or dagctl serve)." }));
  // Heartbeats and slots change by themselves: keep the page current.
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(route, 3000);
}

// ---- assets ----------------------------------------------------------------

// Links to the DAGs of `refs` ({dag_id[, task_id]}), comma separated.
function dagLinks(refs) {
  const out = [];
  refs.forEach((r, i) => {
    if (i) out.push(", ");
    out.push(el("a", { href: `#/dags/${enc(r.dag_id)}`, text: r.task_id ? `${r.dag_id}.${r.task_id}` : r.dag_id }));
  });
  return out;
}

async function assetsPage() {
  const [data, events] = await Promise.all([api("/datasets?limit=1000&order_by=uri"),
    api("/datasets/events?order_by=-timestamp&limit=1000")]);
  const latest = {};
  for (const e of events.dataset_events) latest[e.dataset_id] = latest[e.dataset_id] || e;
  const table = el("table", { id: "assets" },
    el("tr", {}, el("th", { text: "Asset" }), el("th", { text: "Produced by" }), el("th", { text: "Consumed by" }),
      el("th", { text: "Latest event" }), el("th", { text: "Runs it triggered" })));
  for (const ds of data.datasets) {
    const e = latest[ds.id];
    const source = !e ? "" : e.source_dag_id ? ` by ${e.source_dag_id}.${e.source_task_id} (${e.source_run_id})` : " from outside";
    const runs = e ? e.created_dagruns.map((r) => [el("a", { href: `#/dags/${enc(r.dag_id)}/runs/${enc(r.run_id)}`,
      text: r.run_id }), " "]).flat() : [];
    table.append(el("tr", { "data-asset": ds.uri },
      el("td", { text: ds.uri }),
      el("td", {}, ...dagLinks(ds.producing_tasks)),
      el("td", {}, ...dagLinks(ds.consuming_dags)),
      el("td", { text: e ? `${when(e.timestamp)}${source}` : "none yet" }),
      el("td", {}, ...runs)));
  }
  show(el("h1", { text: "Assets" }),
    el("p", { class: "muted", text: "A task's outlets record an event when it succeeds; a DAG scheduled on assets runs once each of them has a new event." }),
    data.datasets.length ? table : el("p", { text: "No asset yet: name one in a task's outlets or a DAG's schedule: {assets: [...]}." }));
  refreshWhileIdle();
}

// ---- pools -----------------------------------------------------------------

async function poolsPage() {
  const data = await api("/pools?limit=1000");
  const table = el("table", { id: "pools" },
    el("tr", {}, el("th", { text: "Pool" }), el("th", { text: "Slots" }), el("th", { text: "Running" }),
      el("th", { text: "Queued" }), el("th", { text: "Scheduled (waiting)" }), el("th", { text: "Open" }),
      el("th", { text: "Description" }), el("th", { text: "" })));
  for (const p of data.pools) {
    const slots = el("input", { type: "number", min: "0", value: String(p.slots), "aria-label": `slots of ${p.name}` });
    const save = el("button", { text: "Set", onclick: () => act(() => api(`/pools/${enc(p.name)}?update_mask=slots`,
      { method: "PATCH", body: JSON.stringify({ slots: Number(slots.value) }) })) });
    const remove = el("button", { text: "Delete", onclick: () => {
      if (confirm(`Delete pool ${p.name}? Tasks that name it wait until it exists again.`))
        act(() => api(`/pools/${enc(p.name)}`, { method: "DELETE" }));
    } });
    table.append(el("tr", { "data-pool": p.name },
      el("td", { text: p.name }), el("td", {}, slots, " ", save),
      el("td", { text: p.running_slots }), el("td", { text: p.queued_slots }),
      el("td", { text: p.scheduled_slots }), el("td", { text: p.open_slots }),
      el("td", { text: p.description ?? "" }),
      el("td", {}, p.name === "default_pool" ? "" : remove)));
  }
  const name = el("input", { name: "name", required: "", placeholder: "warehouse" });
  const slots = el("input", { name: "slots", type: "number", min: "0", required: "", value: "1" });
  const description = el("input", { name: "description", placeholder: "what the pool protects" });
  const result = el("p", { class: "error" });
  const form = el("form", { class: "trigger", id: "new-pool", onsubmit: (e) => {
    e.preventDefault();
    act(() => api("/pools", { method: "POST",
      body: JSON.stringify({ name: name.value, slots: Number(slots.value), description: description.value || null }) }), result);
  } },
    el("label", { text: "Name" }), name, el("label", { text: "Slots" }), slots,
    el("label", { text: "Description" }), description, el("p", {}, el("button", { class: "primary", text: "Create pool" })), result);
  show(el("h1", { text: "Pools" }),
    el("p", { class: "muted", text: "A task starts only while its pool has open slots; the others wait as scheduled." }),
    table, el("h2", { text: "New pool" }), form);
  refreshWhileIdle();
}

// Re-renders the page every 3 s, but not while the user is typing into one of its fields.
function refreshWhileIdle() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    const focus = document.activeElement;
    if (focus && view.contains(focus) && focus.tagName === "INPUT") refreshWhileIdle();
    else route();
  }, 3000);
}

// Runs a change through the API, then shows the page again (or the error where the user looks).
async function act(change, where = null) {
  try {
    await change();
    await route();
  } catch (err) {
    if (where) where.textContent = String(err.message || err);
    else fail(err);
  }
}


// ---- clear: preview, confirm, clear --------------------------------------

// Where the run page shows the clear panel; kept across the page's refreshes.
const clearHolder = el("section", { id: "clear-panel", "aria-live": "polite" });

// The button that opens the clear panel for a run (taskId null) or one of its tasks.
function clearButton(dagId, runId, taskId) {
  return el("button", { type: "button", class: "clear", "data-clear": taskId ?? "", text: taskId ? "Clear…" : "Clear run…",
    title: taskId ? `clear ${taskId} in this run` : "clear this run's tasks",
    onclick: () => openClear(dagId, runId, taskId) });
}

// The clear panel: options, then a preview of the task instances a clear with
// them resets (dry_run), then the clear itself. The page does not refresh
// while it is open.
function openClear(dagId, runId, taskId) {
  clearTimeout(refreshTimer);
  clearHolder.dataset.run = `${dagId}/${runId}`;
  statusLine.textContent = "";
  const option = (name, label, checked) => {
    const box = el("input", { type: "checkbox", id: `clear-${name}`, name });
    box.checked = checked;
    return [box, el("label", { for: `clear-${name}`, class: "inline", text: ` ${label} ` })];
  };
  const down = option("include_downstream", "downstream", taskId !== null);
  const up = option("include_upstream", "upstream", false);
  const failed = option("only_failed", "only failed", taskId === null);
  const preview = el("div", { id: "clear-preview" });
  const body = () => ({ dag_run_id: runId, include_downstream: down[0].checked, include_upstream: up[0].checked,
    only_failed: failed[0].checked, ...(taskId ? { task_ids: [taskId] } : {}) });
  const close = () => { clearHolder.replaceChildren(); route(); };
  const showPreview = async () => {
    try {
      const r = await api(`/dags/${enc(dagId)}/clearTaskInstances`, { method: "POST", body: JSON.stringify({ ...body(), dry_run: true }) });
      const list = el("ul", { id: "clear-list" }, ...r.task_instances.map((ti) => el("li", { "data-task": ti.task_id, text: ti.task_id })));
      const confirmBtn = el("button", { type: "button", class: "primary", id: "clear-confirm",
        text: `Clear ${r.task_instances.length} task instance${r.task_instances.length === 1 ? "" : "s"}`,
        onclick: async () => {
          try {
            await api(`/dags/${enc(dagId)}/clearTaskInstances`, { method: "POST", body: JSON.stringify({ ...body(), dry_run: false }) });
            close();
          } catch (err) { preview.append(el("p", { class: "error", text: err.message })); }
        } });
      if (!r.task_instances.length) confirmBtn.disabled = true;
      preview.replaceChildren(el("p", { text: r.task_instances.length ? "These task instances will be cleared and run again:" : "Nothing to clear with these options." }),
        list, confirmBtn);
      confirmBtn.focus();
    } catch (err) {
      preview.replaceChildren(el("p", { class: "error", text: err.message }));
    }
  };
  for (const o of [down, up, failed]) o[0].addEventListener("change", () => preview.replaceChildren());
  clearHolder.replaceChildren(el("h2", { text: taskId ? `Clear ${taskId}` : "Clear this run" }),
    el("div", {}, ...down, ...up, ...failed,
      el("button", { type: "button", id: "clear-preview-button", text: "Preview", onclick: showPreview }),
      el("button", { type: "button", text: "Cancel", onclick: close })), preview);
  clearHolder.querySelector("#clear-preview-button").focus();
}

// ---- Gantt chart of a run --------------------------------------------------

// Per task instance a row: its latest try's queued time, and each try's
// running time, coloured by how the try ended, on one time axis (SVG).
async function ganttSection(dagId, runId) {
  const g = await api(`/ui/gantt/${enc(dagId)}/${enc(runId)}`);
  const rows = g.task_instances.filter((ti) => ti.tries.length || ti.queued_when);
  if (!rows.length) return [el("h2", { text: "Gantt" }), el("p", { class: "muted", text: "No task has been queued yet." })];
  const now = Date.now();
  const t = (x) => (x ? Date.parse(x) : now);
  let lo = Infinity, hi = -Infinity;
  for (const ti of rows) {
    if (ti.queued_when) lo = Math.min(lo, t(ti.queued_when));
    for (const tr of ti.tries) { lo = Math.min(lo, t(tr.start_date)); hi = Math.max(hi, t(tr.end_date)); }
    hi = Math.max(hi, lo + 1000);
  }
  const LABEL = 200, W = 1000, ROW = 22, AXIS = 24;
  const x = (ms) => LABEL + ((ms - lo) / (hi - lo)) * (W - LABEL - 10);
  const svg = svgEl("svg", { class: "gantt", id: "gantt", width: W, height: AXIS + rows.length * ROW + 6, role: "img",
    "aria-label": `Gantt chart of ${runId}` });
  for (let k = 0; k <= 5; k++) {
    const ms = lo + ((hi - lo) * k) / 5;
    svg.append(svgEl("line", { x1: x(ms), x2: x(ms), y1: AXIS - 4, y2: AXIS + rows.length * ROW, class: "tick" }));
    const label = svgEl("text", { x: x(ms), y: 12, class: "axis", "text-anchor": k === 0 ? "start" : k === 5 ? "end" : "middle" });
    label.textContent = `+${((ms - lo) / 1000).toFixed(1)}s`;
    svg.append(label);
  }
  rows.forEach((ti, i) => {
    const y = AXIS + i * ROW;
    const name = ti.map_index >= 0 ? `${ti.task_id} [${ti.map_index}]` : ti.task_id;
    const label = svgEl("text", { x: 4, y: y + 15, class: "label" });
    label.textContent = name.length > 28 ? name.slice(0, 27) + "…" : name;
    svg.append(label);
    const latest = ti.tries.find((tr) => tr.try_number === ti.try_number);
    if (ti.queued_when) {
      const end = latest ? t(latest.start_date) : now;
      svg.append(bar("queued", ti, null, x(t(ti.queued_when)), y, x(end) - x(t(ti.queued_when)),
        `${name}: queued ${when(ti.queued_when)}${latest ? `, started after ${((end - t(ti.queued_when)) / 1000).toFixed(1)}s` : ""}`));
    }
    for (const tr of ti.tries) {
      const secs = ((t(tr.end_date) - t(tr.start_date)) / 1000).toFixed(1);
      svg.append(bar(`try s-${tr.state}`, ti, tr.try_number, x(t(tr.start_date)), y, x(t(tr.end_date)) - x(t(tr.start_date)),
        `${name} try ${tr.try_number}: ${tr.state}, ${when(tr.start_date)} for ${secs}s`));
    }
  });
  const legend = el("div", { class: "legend" }, el("span", {}, el("span", { class: "dot gantt-queued" }), "queued"),
    ...["success", "failed", "up_for_retry", "running"].map((st) => el("span", {}, stateBox(st), `try ${st}`)));
  return [el("h2", { text: "Gantt" }), el("div", { class: "graph-scroll" }, svg), legend];
}

function bar(cls, ti, tryNumber, x, y, w, tip) {
  const r = svgEl("rect", { class: cls, x, y: y + 4, width: Math.max(2, w), height: 14, "data-task": ti.task_id,
    "data-map-index": ti.map_index });
  if (tryNumber !== null) r.setAttribute("data-try", tryNumber);
  const title = svgEl("title");
  title.textContent = tip;
  r.append(title);
  return r;
}

// ---- graph coloured by a run -----------------------------------------------

// The run whose states the graph shows, per DAG ("" = the latest).
const graphRuns = new Map();

async function graphRunPicker(dagId, onChange) {
  const runs = (await api(`/dags/${enc(dagId)}/dagRuns?order_by=-execution_date&limit=${PAGE}`)).dag_runs;
  const select = el("select", { id: "graph-run", "aria-label": "run to colour the graph by" },
    el("option", { value: "", text: "no run (plain graph)" }),
    ...runs.map((r) => el("option", { value: r.dag_run_id, text: `${r.dag_run_id} (${r.state})` })));
  const chosen = graphRuns.get(dagId);
  select.value = chosen !== undefined && [...select.options].some((o) => o.value === chosen) ? chosen : (runs[0]?.dag_run_id ?? "");
  select.addEventListener("change", () => { graphRuns.set(dagId, select.value); onChange(); });
  return { node: el("p", {}, el("label", { for: "graph-run", text: "Colour by run: " }), select), select, runs };
}

async function graphRunStates(dagId, runId) {
  if (!runId) return null;
  const tis = await api(`/dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances?limit=1000`);
  const states = {};
  for (const ti of tis.task_instances) (states[ti.task_id] = states[ti.task_id] || []).push(ti.state || "none");
  return states;
}

// Airflow's summary of several states: the most pressing one wins.
const STATE_ORDER = ["failed", "upstream_failed", "up_for_retry", "up_for_reschedule", "running", "queued",
  "scheduled", "none", "skipped", "success"];
function summaryState(list) {
  let best = null;
  for (const st of list) if (best === null || STATE_ORDER.indexOf(st) < STATE_ORDER.indexOf(best)) best = st;
  return best;
}

// Gives each node the class of its state in the chosen run (a group: its tasks' summary).
function colourGraph(svg, g, states) {
  if (!states) return;
  for (const node of svg.querySelectorAll("g.node")) {
    const id = node.getAttribute("data-id");
    const n = g.nodes.find((x) => x.id === id);
    const mine = n.kind === "group"
      ? Object.entries(states).filter(([t]) => t.startsWith(`${id}.`)).flatMap(([, l]) => l) : states[id] || [];
    const st = mine.length ? summaryState(mine) : "none";
    node.classList.add(`s-${st}`);
    node.setAttribute("data-state", st);
    node.querySelector("title").textContent += ` · ${st}`;
  }
}

// ---- task durations across runs -------------------------------------------

const durationRuns = new Map();

async function durationsTab(dagId) {
  const n = durationRuns.get(dagId) || 25;
  const d = await api(`/ui/durations/${enc(dagId)}?limit=${n}`);
  const runs = d.dag_runs.slice().reverse();  // oldest on the left
  const pick = el("select", { id: "durations-n", "aria-label": "how many runs" },
    ...[10, 25, 50, 100].map((k) => el("option", { value: String(k), text: `last ${k} runs` })));
  pick.value = String(n);
  pick.addEventListener("change", () => { durationRuns.set(dagId, Number(pick.value)); route(); });
  const table = el("table", { id: "durations" }, el("tr", {}, ...["Task", `Duration per run (oldest → newest)`, "Min", "Mean", "Max"]
    .map((h) => el("th", { text: h }))));
  let max = 0;
  for (const t of d.tasks) for (const v of Object.values(d.durations[t] || {})) if (v !== null) max = Math.max(max, v);
  for (const t of d.tasks) {
    const values = runs.map((r) => (d.durations[t] || {})[r.dag_run_id]);
    const done = values.filter((v) => v !== undefined && v !== null);
    const W = 6, H = 36;
    const chart = svgEl("svg", { class: "bars", width: Math.max(1, runs.length) * (W + 2), height: H, role: "img",
      "aria-label": `${t}: ${done.length} durations` });
    runs.forEach((r, i) => {
      const v = values[i];
      if (v === undefined || v === null) return;
      const h = max > 0 ? Math.max(1, (v / max) * (H - 2)) : 1;
      const b = svgEl("rect", { x: i * (W + 2), y: H - h, width: W, height: h, class: "duration", "data-run": r.dag_run_id });
      const title = svgEl("title");
      title.textContent = `${t} in ${r.dag_run_id}: ${v.toFixed(2)}s`;
      b.append(title);
      chart.append(b);
    });
    const fmt = (v) => (v === undefined ? "" : `${v.toFixed(2)}s`);
    table.append(el("tr", { "data-task": t }, el("td", { text: t }), el("td", {}, chart),
      el("td", { text: fmt(done.length ? Math.min(...done) : undefined) }),
      el("td", { text: fmt(done.length ? done.reduce((a, b) => a + b, 0) / done.length : undefined) }),
      el("td", { text: fmt(done.length ? Math.max(...done) : undefined) })));
  }
  refreshWhileIdle();
  return el("div", {}, el("p", {}, pick, el("span", { class: "muted", text: ` ${d.dag_runs.length} runs shown` })), table);
}

// ---- calendar of run states ------------------------------------------------

// The last day the calendar shows, per DAG ("" = today).
const calendarEnd = new Map();

function dayState(counts) {
  if (!counts) return "none";
  if (counts.failed) return "failed";
  if (counts.running) return "running";
  if (counts.queued) return "queued";
  return "success";
}

// A year of days (a column per week, Sunday on top), each coloured by its runs' states.
async function calendarTab(dagId) {
  const end = calendarEnd.get(dagId) || "";
  const c = await api(`/ui/calendar/${enc(dagId)}${end ? `?end_date=${enc(end)}` : ""}`);
  const first = new Date(`${c.start_date}T00:00:00Z`), last = new Date(`${c.end_date}T00:00:00Z`);
  const CELL = 14, TOP = 18;
  const start = new Date(first.getTime() - first.getUTCDay() * 864e5);  // the Sunday before
  const weeks = Math.ceil(((last - start) / 864e5 + 1) / 7);
  const svg = svgEl("svg", { class: "calendar", id: "calendar", width: 50 + weeks * CELL, height: TOP + 7 * CELL + 4,
    role: "img", "aria-label": `run states per day, ${c.start_date} to ${c.end_date}` });
  let month = -1;
  for (let d = new Date(first); d <= last; d = new Date(d.getTime() + 864e5)) {
    const week = Math.floor((d - start) / 864e5 / 7), dow = d.getUTCDay();
    if (d.getUTCMonth() !== month && dow <= 0 + 6) {
      if (d.getUTCDate() <= 7) {
        const m = svgEl("text", { x: 30 + week * CELL, y: 12, class: "axis" });
        m.textContent = d.toLocaleString("en", { month: "short", timeZone: "UTC" });
        svg.append(m);
      }
      month = d.getUTCMonth();
    }
    const key = d.toISOString().slice(0, 10);
    const counts = c.days[key];
    const st = dayState(counts);
    const r = svgEl("rect", { x: 30 + week * CELL, y: TOP + dow * CELL, width: CELL - 2, height: CELL - 2,
      class: `day s-${st}`, "data-date": key, "data-state": st });
    const title = svgEl("title");
    title.textContent = `${key}: ${counts ? Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(", ") : "no runs"}`;
    r.append(title);
    svg.append(r);
  }
  for (const [i, name] of [[1, "Mon"], [3, "Wed"], [5, "Fri"]]) {
    const t = svgEl("text", { x: 0, y: TOP + i * CELL + 10, class: "axis" });
    t.textContent = name;
    svg.append(t);
  }
  const shift = (days) => {
    calendarEnd.set(dagId, new Date(last.getTime() + days * 864e5).toISOString().slice(0, 10));
    route();
  };
  const table = el("table", { id: "calendar-days", class: "compact" },
    el("tr", {}, ...["Day", "Runs"].map((h) => el("th", { text: h }))));
  for (const key of Object.keys(c.days).sort().reverse().slice(0, 14))
    table.append(el("tr", { "data-date": key }, el("td", { text: key }),
      el("td", {}, stateBox(dayState(c.days[key])), Object.entries(c.days[key]).map(([s, n]) => `${n} ${s}`).join(", "))));
  autoRefresh(false);
  return el("div", {},
    el("div", { class: "pager" },
      el("button", { type: "button", onclick: () => shift(-365), text: "◀ earlier year" }),
      el("span", { class: "muted", text: `${c.start_date} – ${c.end_date} (logical dates, UTC)` }),
      el("button", { type: "button", onclick: () => shift(365), text: "later year ▶" }),
      el("button", { type: "button", onclick: () => { calendarEnd.delete(dagId); route(); }, text: "today" })),
    el("div", { class: "graph-scroll" }, svg),
    el("div", { class: "legend" }, ...["success", "running", "queued", "failed"].map((st) => el("span", {}, stateBox(st), st))),
    el("h2", { text: "Latest days with runs" }), Object.keys(c.days).length ? table : el("p", { class: "muted", text: "No runs in this year." }));
}

// ---- backfill --------------------------------------------------------------

// The backfill form: the runs of a range of the DAG's schedule, recorded for
// the scheduler (POST /ui/backfills), which runs them in date order.
function backfillTab(dagId, _offset, details) {
  const form = el("form", { class: "trigger", id: "backfill-form" });
  if (!details.schedule_interval || details.schedule_interval.value === "@once") {
    form.append(el("p", { class: "muted", text: "This DAG has no recurring schedule to backfill." }));
    return form;
  }
  const from = el("input", { type: "date", name: "from_date", id: "backfill-from", required: "" });
  const to = el("input", { type: "date", name: "to_date", id: "backfill-to", required: "" });
  const rerun = el("input", { type: "checkbox", name: "rerun_failed", id: "backfill-rerun" });
  const most = el("input", { type: "number", min: "1", max: "1000", name: "max_active_runs", id: "backfill-max",
    value: String(details.max_active_runs) });
  const result = el("div", { id: "backfill-result", "aria-live": "polite" });
  form.append(
    el("p", { class: "muted", text: `Creates a backfill run for each interval of ${details.schedule_interval.value} ` +
      `(${details.timezone}) that starts in the range; the scheduler runs them oldest first, at most max active runs at a time ` +
      `(and within the DAG's max_active_runs, ${details.max_active_runs}).` }),
    el("label", { for: "backfill-from", text: "From (logical date)" }), from,
    el("label", { for: "backfill-to", text: "To (included)" }), to,
    el("label", { for: "backfill-max", text: "Max active runs" }), most,
    el("p", {}, rerun, el("label", { for: "backfill-rerun", class: "inline", text: " re-run the failed tasks of runs that failed" })),
    el("p", {}, el("button", { class: "primary", type: "submit", text: "Backfill" })), result);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const b = await api("/ui/backfills", { method: "POST", body: JSON.stringify({ dag_id: dagId, from_date: from.value,
        to_date: to.value, reprocess_behavior: rerun.checked ? "failed" : "none", max_active_runs: Number(most.value) }) });
      const list = el("table", { id: "backfill-runs" }, el("tr", {}, ...["Run", "Logical date", "Backfill"].map((h) => el("th", { text: h }))));
      const verb = { created: "created", rerun: "failed tasks cleared", queued: "queued already", kept: "kept as it is" };
      for (const r of b.dag_runs)
        list.append(el("tr", { "data-run": r.dag_run_id },
          el("td", {}, el("a", { href: `#/dags/${enc(dagId)}/runs/${enc(r.dag_run_id)}`, text: r.dag_run_id })),
          el("td", { text: when(r.logical_date) }), el("td", { text: r.action === "kept" ? `${verb.kept} (${r.state})` : verb[r.action] })));
      result.replaceChildren(el("p", { text: `${b.dag_runs.length} run${b.dag_runs.length === 1 ? "" : "s"} in the range, ${b.max_active_runs} at a time. ` },
        el("a", { href: `#/dags/${enc(dagId)}/runs`, id: "backfill-watch", text: "Watch them run",
          onclick: () => runFilters.set(dagId, { runType: "backfill" }) })), list);
    } catch (err) {
      result.replaceChildren(el("p", { class: "error", text: err.message }));
    }
  });
  return form;
}

// ---- import errors ---------------------------------------------------------

// An import error: its file, then each problem with its line and column.
function importError(e) {
  const list = el("ul", {});
  for (const line of e.stack_trace.split("\n").filter((l) => l.trim())) {
    const m = /^(.*?):(\d+):(\d+): (.*)$/.exec(line);
    list.append(m
      ? el("li", { "data-line": m[2], "data-column": m[3] },
        el("span", { class: "where", title: `line ${m[2]}, column ${m[3]}`, text: `${m[1]}:${m[2]}:${m[3]}` }), `: ${m[4]}`)
      : el("li", { text: line }));
  }
  return el("div", { class: "error import-error", "data-file": e.filename }, el("strong", { text: e.filename }), list);
}

// ---- routing ---------------------------------------------------------------

function go(hash) { location.hash = hash; }

// Goes to `hash`, or shows its page again when it is already there.
function visit(hash) {
  if (location.hash === hash) route();
  else go(hash);
}

// The page of the address bar. Pages load in turn, but a slow one can end
// after the user has gone on to another: a page that finishes drawing after a
// newer one has drawn itself drew over it, so the current page is drawn again.
let navigations = 0;
let drawn = 0;
async function route() {
  const mine = ++navigations;
  await drawRoute();
  if (mine < drawn) return route();
  drawn = mine;
}

async function drawRoute() {
  clearTimeout(refreshTimer);
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "dags" && parts[1]) {
      const dag = parts[1];
      if (parts[2] === "runs" && parts[3] && isNaN(Number(parts[3]))) {
        if (parts[4] === "tasks" && parts[5] && parts[6] === "map")
          return await tryPage(dag, parts[3], parts[5], Number(parts[9]) || 0, Number(parts[7]));
        if (parts[4] === "tasks" && parts[5]) return await tryPage(dag, parts[3], parts[5], Number(parts[7]) || 0);
        if (parts[4] === "code") return await runCodePage(dag, parts[3]);
        return await runPage(dag, parts[3]);
      }
      return await dagPage(dag, parts[2] || "grid", Number(parts[3]) || 0);
    }
    if (parts[0] === "workers") return await workersPage();
    if (parts[0] === "pools") return await poolsPage();
    if (parts[0] === "assets") return await assetsPage();
    return await dagList();
  } catch (err) {
    fail(err);
  }
}

window.addEventListener("hashchange", route);
route();
