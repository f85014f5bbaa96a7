/* smartbms serve: the pages' script. Live values by SSE (/api/stream), changes through /api
   with the session's CSRF token. No framework, no CDN. */
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const page = document.body.dataset.page;
const session = { paired: false, csrf: null };

function fmt(value, kind) {
  if (value === null || value === undefined) return "—";
  switch (kind) {
    case "v": return value.toFixed(2) + " V";
    case "a": return value.toFixed(1) + " A";
    case "c": return value.toFixed(1) + " °C";
    case "pct": return value.toFixed(0) + " %";
    case "pct0": return value.toFixed(0) + " %";
    case "onoff": return value ? "On" : "Off";
    case "yesno": return value ? "yes" : "no";
    case "running": return value ? "running" : "off";
    default: return String(value);
  }
}

function lookup(obj, path) {
  return path.split(".").reduce((o, k) => (o === null || o === undefined ? o : o[k]), obj);
}

async function loadSession() {
  const response = await fetch("/api/session");
  const body = await response.json();
  session.paired = body.paired;
  session.csrf = body.csrf_token;
  return session.paired;
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (session.csrf) headers["X-CSRF-Token"] = session.csrf;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (response.status === 401) { session.paired = false; session.csrf = null; }
  return { ok: response.ok, status: response.status, data };
}

function problem(result) {
  if (result.data && result.data.detail) return result.data.detail;
  return "The device refused (" + result.status + ").";
}

/* --- pairing ------------------------------------------------------------------------------ */

function pairDialog(message) {
  const dialog = $("#pair-dialog");
  const input = $("#pair-pin");
  const error = $("#pair-error");
  error.textContent = message || "";
  input.value = "";
  return new Promise((resolve) => {
    const form = $("#pair-form");
    const cancel = $("#pair-cancel");
    function finish(result) {
      form.removeEventListener("submit", submit);
      cancel.removeEventListener("click", onCancel);
      dialog.close();
      resolve(result);
    }
    async function submit(event) {
      event.preventDefault();
      const result = await api("POST", "/api/pair", { pin: input.value });
      if (result.ok) {
        session.paired = true;
        session.csrf = result.data.csrf_token;
        finish(true);
      } else if (result.status === 429) {
        error.textContent = "Too many wrong PINs. " + problem(result);
      } else if (result.status === 401) {
        error.textContent = "Wrong PIN code.";
        input.select();
      } else {
        error.textContent = problem(result);
      }
    }
    function onCancel() { finish(false); }
    form.addEventListener("submit", submit);
    cancel.addEventListener("click", onCancel);
    dialog.showModal();
    input.focus();
  });
}

let sessionLoaded = null;

async function ensurePaired(message) {
  await sessionLoaded;  // a click before the page knew its session must not ask again
  if (session.paired) return true;
  return pairDialog(message);
}

/* Change something: pair first if needed, and once more if the session ended meanwhile. */
async function change(method, path, body) {
  if (!(await ensurePaired())) return { ok: false, status: 401, data: { detail: "Not paired." } };
  let result = await api(method, path, body);
  if (result.status === 401 && path !== "/api/pin") {
    if (await pairDialog("The session ended: pair again.")) result = await api(method, path, body);
  }
  return result;
}

/* --- live values -------------------------------------------------------------------------- */

let lastStatus = null;

function renderStatus(status) {
  lastStatus = status;
  $$("[data-bind]").forEach((el) => {
    el.textContent = fmt(lookup(status, el.dataset.bind), el.dataset.format);
  });
  const leds = $("#leds");
  if (leds) {
    $$(".led", leds).forEach((el, i) => {
      const led = status.leds[i];
      el.dataset.state = led.state;
      el.title = led.name + ": " + led.state;
    });
  }
  const list = $("#messages");
  if (list) {
    list.replaceChildren(...status.messages.map((m) => {
      const li = document.createElement("li");
      li.className = m.severity;
      const code = document.createElement("span");
      code.className = "code";
      code.textContent = m.code;
      const remedy = document.createElement("p");
      remedy.className = "remedy";
      remedy.textContent = m.remedy;
      li.append(code, m.title, remedy);
      return li;
    }));
    $("#no-messages").hidden = status.messages.length > 0;
  }
  const soft = $("#soft-switch");
  if (soft && !soft.dataset.busy) soft.checked = status.soft_switch_on;
  if (page === "twin") renderCockpit(status.twin);
  if (page === "status") maybeAskFuse(status);
}

function connectStream() {
  const source = new EventSource("/api/stream");
  source.addEventListener("status", (e) => renderStatus(JSON.parse(e.data)));
  source.addEventListener("event", (e) => onEvent(JSON.parse(e.data)));
  window.addEventListener("pagehide", () => source.close());
  return source;
}

function onEvent(event) {
  const rows = $("#event-rows");
  if (!rows) return;
  const tr = document.createElement("tr");
  const details = Object.entries(event)
    .filter(([k]) => !["seq", "clock", "t_s", "event", "code"].includes(k))
    .map(([k, v]) => k + "=" + v).join(" ");
  for (const [cls, text] of [["clock", event.clock], ["", event.event], ["code", event.code || ""],
    ["details", details]]) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    tr.append(td);
  }
  rows.prepend(tr);
  while (rows.children.length > 500) rows.lastElementChild.remove();
}

async function pollBatteries() {
  if (!$("[data-battery]")) return;
  const response = await fetch("/api/batteries");
  if (!response.ok) return;
  for (const b of await response.json()) {
    $$(`[data-battery="${b.number}"][data-key]`).forEach((el) => {
      el.textContent = fmt(b[el.dataset.key], el.dataset.format);
    });
    $$(`[data-battery="${b.number}"][data-cell]`).forEach((el) => {
      const v = b.cell_voltages_v[Number(el.dataset.cell)];
      el.textContent = v === null ? "—" : v.toFixed(3) + " V";
    });
  }
}

/* --- status page -------------------------------------------------------------------------- */

let fuseAsked = false;

function maybeAskFuse(status) {
  if (!status.fuse_type_prompt || fuseAsked || !session.paired) return;
  if (sessionStorage.getItem("fuse-later") === "1") return;  // "Later": not again this visit
  const dialog = $("#fuse-dialog");
  if (dialog.open || $("#pair-dialog").open) return;
  fuseAsked = true;
  $("#fuse-error").textContent = "";
  dialog.showModal();
}

function initStatus() {
  const soft = $("#soft-switch");
  soft.addEventListener("change", async () => {
    const wanted = soft.checked;
    soft.dataset.busy = "1";
    const result = await change("POST", "/api/commands", { type: "soft-switch", on: wanted });
    delete soft.dataset.busy;
    $("#status-error").textContent = result.ok ? "" : problem(result);
    if (!result.ok) soft.checked = !wanted;
    else renderStatus(await (await fetch("/api/status")).json());
  });
  $("#fuse-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const result = await change("PUT", "/api/settings", { fuse_type: $("#fuse-select").value });
    if (result.ok) {
      $("#fuse-dialog").close();
      renderStatus(await (await fetch("/api/status")).json());
    } else {
      $("#fuse-error").textContent = problem(result);
    }
  });
  $("#fuse-later").addEventListener("click", () => {
    sessionStorage.setItem("fuse-later", "1");
    $("#fuse-dialog").close();
  });
}

/* --- settings page ------------------------------------------------------------------------ */

function initSettings() {
  const form = $("#settings-form");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    $("#settings-ok").textContent = "";
    const body = {};
    for (const el of $$("[name]", form)) {
      body[el.name] = el.type === "number" ? Number(el.value) : el.value;
    }
    const result = await change("PUT", "/api/settings", body);
    $("#settings-error").textContent = result.ok ? "" : problem(result);
    if (result.ok) {
      $("#settings-ok").textContent = "Saved.";
      fillSettings(result.data);
    }
  });
  $("#pin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("#pin-ok").textContent = "";
    const result = await change("PUT", "/api/pin", {
      old_pin: $("#old-pin").value, new_pin: $("#new-pin").value,
    });
    $("#pin-error").textContent = result.ok ? "" : problem(result);
    if (result.ok) {
      session.paired = false;
      session.csrf = null;
      $("#old-pin").value = "";
      $("#new-pin").value = "";
      $("#pin-ok").textContent = "PIN changed.";
      await pairDialog("PIN changed: pair again with the new PIN.");
    }
  });
  $("#factory-reset").addEventListener("click", async () => {
    if (!(await ensurePaired())) return;
    const dialog = $("#reset-dialog");
    dialog.returnValue = "";
    dialog.showModal();
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "reset") return;
      const result = await change("POST", "/api/factory-reset");
      if (!result.ok) { $("#settings-error").textContent = problem(result); return; }
      session.paired = false;
      session.csrf = null;
      fillSettings((await api("GET", "/api/settings")).data);
      await pairDialog("Factory settings restored: pair again (PIN 000000).");
    }, { once: true });
  });
}

function fillSettings(values) {
  for (const [name, value] of Object.entries(values)) {
    const el = $("#setting-" + name);
    if (el) el.value = value;
  }
}

/* --- product info ------------------------------------------------------------------------- */

function initProduct() {
  $("#show-keys").addEventListener("click", async () => {
    if (!(await ensurePaired())) return;
    const info = (await api("GET", "/api/product-info")).data;
    const list = $("#keys-list");
    list.replaceChildren(...info.keys.map((k) => {
      const p = document.createElement("p");
      p.textContent = k.device + ": " + (k.key || "pair to see the key");
      return p;
    }));
    $("#keys-dialog").showModal();
  });
}

/* --- twin cockpit ------------------------------------------------------------------------- */

function renderCockpit(twin) {
  const shore = $("#shore-power");
  if (shore && !shore.dataset.busy) shore.checked = twin.shore_power;
  for (const d of twin.devices) {
    const row = $(`[data-device="${CSS.escape(d.name)}"]`);
    if (!row) continue;
    const on = $("[data-device-on]", row);
    if (on && !on.dataset.busy) on.checked = d.on;
    const current = $("[data-device-current]", row);
    if (current) current.textContent = fmt(d.current_a, "a");
  }
  $("#faults-present").textContent = twin.faults.length ? twin.faults.join(", ") : "none";
  const clear = $("#fault-clear");
  const wanted = twin.faults.filter((f) => f !== "config-corrupted").join(",");
  if (clear.dataset.faults !== wanted) {
    clear.dataset.faults = wanted;
    clear.replaceChildren(...twin.faults.filter((f) => f !== "config-corrupted").map((f) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Clear " + f;
      button.addEventListener("click", () => command({ type: "clear-fault", fault: f }));
      return button;
    }));
  }
}

async function command(body) {
  const result = await change("POST", "/api/commands", body);
  $("#twin-error").textContent = result.ok ? "" : problem(result);
  return result.ok;
}

function initTwin() {
  $("#engine-start").addEventListener("click", () => command({ type: "engine-start" }));
  $("#engine-stop").addEventListener("click", () => command({ type: "engine-stop" }));
  const shore = $("#shore-power");
  shore.addEventListener("change", async () => {
    shore.dataset.busy = "1";
    if (!(await command({ type: "shore-power", on: shore.checked }))) shore.checked = !shore.checked;
    delete shore.dataset.busy;
  });
  $("#ambient-set").addEventListener("click",
    () => command({ type: "ambient", ambient_c: Number($("#ambient").value) }));
  $("#solar-set").addEventListener("click",
    () => command({ type: "solar", clear_sky_fraction: Number($("#solar").value) }));
  for (const row of $$("[data-device]")) {
    const name = row.dataset.device;
    const on = $("[data-device-on]", row);
    on.addEventListener("change", async () => {
      on.dataset.busy = "1";
      if (!(await command({ type: "set", device: name, on: on.checked }))) on.checked = !on.checked;
      delete on.dataset.busy;
    });
    const setPower = $("[data-set-power]", row);
    if (setPower) {
      setPower.addEventListener("click", () => {
        const input = $("[data-power]", row);
        command({ type: "set", device: name, [input.dataset.power]: Number(input.value) });
      });
    }
  }
  const select = $("#fault-type");
  select.addEventListener("change", () => {
    for (const el of $$("[data-fault-fields]")) el.hidden = el.dataset.faultFields !== select.value;
  });
  $("#fault-inject").addEventListener("click", () => {
    const body = { type: select.value };
    const fields = $(`[data-fault-fields="${CSS.escape(select.value)}"]`);
    for (const input of $$("[data-field]", fields)) body[input.dataset.field] = Number(input.value);
    command(body);
  });
  $("#speed").addEventListener("change", async () => {
    const result = await change("PUT", "/api/clock", { speed: Number($("#speed").value) });
    $("#twin-error").textContent = result.ok ? "" : problem(result);
  });
  $("#pause").addEventListener("click", async () => {
    const paused = $("#pause").textContent === "Pause";
    const result = await change("PUT", "/api/clock", { paused });
    if (result.ok) $("#pause").textContent = result.data.paused ? "Resume" : "Pause";
    $("#twin-error").textContent = result.ok ? "" : problem(result);
  });
}

/* --- history ------------------------------------------------------------------------------ */

const charts = [];
const zoom = { zoomed: false, syncing: false };
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function pad(n) { return (n < 10 ? "0" : "") + n; }

/* The twin's clock at t seconds since the start, as smartbms.core.units.wall_clock_text writes
   it ('day 1 16:00:05', 'Fri 16:00:05'), truncated; parts: "day", "time" (hh:mm), "seconds". */
function clockParts(t) {
  const el = $("#history-clock");
  const startS = Number(el.dataset.startS);
  const weekday = el.dataset.weekday === "" ? null : Number(el.dataset.weekday);
  const total = Math.max(Math.floor(t + startS + 1e-6), 0);
  const day = Math.floor(total / 86400);
  const rest = total - day * 86400;
  return {
    day: weekday === null ? "day " + (day + 1) : DAYS[(weekday + day) % 7],
    time: pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor((rest % 3600) / 60)),
    seconds: pad(rest % 60),
  };
}

function clockText(t) {
  const p = clockParts(t);
  return p.day + " " + p.time + ":" + p.seconds;
}

const TICKS_S = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/* Ticks on round clock times (every 10 min, 1 h, 3 h ...), about one per 70 px. */
function clockSplits(u, axisIdx, min, max) {
  const width = u.bbox.width / (window.devicePixelRatio || 1);
  const startS = Number($("#history-clock").dataset.startS);
  const step = TICKS_S.find((s) => ((max - min) / s) * 70 <= width) || 86400;
  const splits = [];
  for (let t = Math.ceil((min + startS) / step) * step - startS; t <= max + 1e-9; t += step) {
    splits.push(t);
  }
  return splits;
}

/* hh:mm under each tick; the day (or weekday) under the first tick and where a day begins. */
function clockValues(u, splits) {
  let shown = null;
  return splits.map((t) => {
    const p = clockParts(t);
    const text = p.day === shown ? p.time : p.time + "\n" + p.day;
    shown = p.day;
    return text;
  });
}

function chartWidth(el) { return Math.max(280, el.clientWidth - 10); }

/* Both charts show the same stretch of time: a zoom on one is a zoom on the other. */
function linkZoom(u, key) {
  if (key !== "x" || zoom.syncing) return;
  zoom.syncing = true;
  const { min, max } = u.scales.x;
  for (const other of charts) {
    if (other && other !== u && (other.scales.x.min !== min || other.scales.x.max !== max)) {
      other.setScale("x", { min, max });
    }
  }
  zoom.syncing = false;
  const xs = u.data[0];
  zoom.zoomed = xs.length > 1 && (min > xs[0] + 1e-6 || max < xs[xs.length - 1] - 1e-6);
  $("#zoom-reset").disabled = !zoom.zoomed;
}

function showAll() {
  const u = charts[0];
  if (!u) return;
  const xs = u.data[0];
  u.setScale("x", { min: xs[0], max: xs[xs.length - 1] });
}

async function drawHistory() {
  const data = await (await fetch("/api/history")).json();
  const specs = [
    ["#chart-voltage", [data.battery_voltage_v, data.bank_soc_pct], [
      { label: "Battery voltage (V)", stroke: "#1e5aa8", scale: "V" },
      { label: "State of charge (%)", stroke: "#2f7d4f", scale: "%" },
    ], [{ scale: "V", label: "V" }, { scale: "%", side: 1, label: "%", grid: { show: false } }]],
    ["#chart-current", [data.bank_current_a, data.alternator_current_a, data.system_plus_current_a], [
      { label: "Bank (A)", stroke: "#1e5aa8" },
      { label: "Alternator (A)", stroke: "#e08a00" },
      { label: "System+ (A)", stroke: "#6b4fa0" },
    ], [{ label: "A" }]],
  ];
  specs.forEach(([sel, columns, series, axes], i) => {
    const el = $(sel);
    const aligned = [data.t_s, ...columns];
    if (charts[i]) {
      charts[i].setData(aligned, !zoom.zoomed);  // a zoomed chart keeps its window
      return;
    }
    charts[i] = new uPlot({
      width: chartWidth(el), height: 240,
      scales: { x: { time: false } },
      cursor: { sync: { key: "history", setSeries: false }, drag: { x: true, y: false } },
      plugins: [uPlotTouchZoom({ reset: showAll })],
      hooks: { setScale: [linkZoom] },
      series: [{ label: "clock", value: (u, v) => (v === null ? "—" : clockText(v)) },
        ...series.map((s) => ({ width: 2, points: { show: false }, ...s }))],
      axes: [{ splits: clockSplits, values: clockValues, size: 50, space: 70 }, ...axes],
    }, aligned, el);  // uPlot's own double-click shows all too
  });
}

function initHistory() {
  $("#zoom-reset").addEventListener("click", showAll);
  drawHistory();
  setInterval(drawHistory, 5000);
  window.addEventListener("resize", () => {
    charts.forEach((c, i) => {
      const el = $(i === 0 ? "#chart-voltage" : "#chart-current");
      c.setSize({ width: chartWidth(el), height: 240 });
    });
  });
  window.smartbmsHistory = { charts, clockText, showAll, refresh: drawHistory };
}

/* --- start -------------------------------------------------------------------------------- */

const NEEDS_PAIRING = new Set(["status", "settings", "product"]);

async function start() {
  sessionLoaded = loadSession();
  await sessionLoaded;
  if (NEEDS_PAIRING.has(page) && !session.paired) {
    if (!(await pairDialog())) { window.location.href = "/"; return; }
  }
  const open = $("#open-bms");
  if (open) {
    open.addEventListener("click", async (e) => {
      if (session.paired) return;
      e.preventDefault();
      if (await pairDialog()) window.location.href = open.href;
    });
  }
  if (page === "status") initStatus();
  if (page === "settings") initSettings();
  if (page === "product") initProduct();
  if (page === "twin") initTwin();
  if (page === "history") initHistory();
  connectStream();
  if ($("[data-battery]")) { pollBatteries(); setInterval(pollBatteries, 2000); }
  if (page === "status" && lastStatus === null) {
    renderStatus(await (await fetch("/api/status")).json());
  }
  document.body.dataset.ready = "1";
}

// After the parser has run every script: start() awaits a fetch, and if that came back before
// the page's own scripts below app.js (uPlot, the touch zoom) had loaded, they were not defined.
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
