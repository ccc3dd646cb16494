// dipen LiveView: the net drawn as SVG from the `net` trait, then updated in place from the
// live traits (marking, states, firing, errors, stats, status, tokens, history, notice).
// Each region's leader and standbys come in status.candidates ({region: [[node, fence], ...]},
// leader first); transitions that runners outside the view are firing in firing.elsewhere
// ({transition: {node: firings}}), drawn with a dashed outline and "on <node>".
// Blocks by hand and waiting manual requests come in `controls` ({transitions, regions: {name:
// {by, why, time}}, held: {transition: reason}, requests: {transition: n}}); manual transitions
// (net.transitions[i].manual) get rounded corners and a "✋ manual" label.
// Commands go to Python with model.send({action, ...}); data typed in the side panel goes as
// JSON text ({json: "..."}: Python parses it and says what is wrong). The selected place, the
// speed and the history position are traits the view sets; a past position shows a banner
// ("history at revision N, t = T") with a way back to live. The state graph panel is in
// view_states.js (dipen.viz.esm.bundle inlines it: anywidget loads one module).
import { mountStateGraph } from "./view_states.js";

const NS = "http://www.w3.org/2000/svg";
const UNIT = 64; // pixels per layout unit
const RADIUS = 0.3; // place circle, in layout units (as in dipen.viz.draw)
const BOX = [0.3, 0.6]; // transition width and height
const MARGIN = 0.8;
const SPEEDS = [0.1, 0.5, 1, 2, 5, 10, 100, 1000];
const ELSEWHERE = "#b35806"; // the outline of a transition another runner is firing
const DOTS = { 1: [[0, 0]], 2: [[-1, 0], [1, 0]], 3: [[-1, 0.8], [1, 0.8], [0, -0.9]],
  4: [[-1, -1], [1, -1], [-1, 1], [1, 1]] };
let views = 0; // numbers each view, so that SVG ids (arrow markers) stay unique on a page

const CSS = `
.dipen-live { font: 12px/1.4 system-ui, sans-serif; color: #222; border: 1px solid #ddd;
  border-radius: 4px; background: #fff; }
.dipen-live button { font: inherit; padding: 1px 8px; cursor: pointer; }
.dipen-live .dl-bar, .dipen-live .dl-foot, .dipen-live .dl-history { display: flex; gap: 6px;
  align-items: center; flex-wrap: wrap; padding: 4px 6px; }
.dipen-live .dl-bar { border-bottom: 1px solid #eee; }
.dipen-live .dl-foot { border-top: 1px solid #eee; color: #444; }
.dipen-live .dl-history input { flex: 1 1 200px; }
.dipen-live .dl-status { margin-left: auto; color: #555; }
.dipen-live .dl-main { display: flex; min-height: 160px; }
.dipen-live .dl-net { flex: 1 1 auto; overflow: auto; max-height: 640px; }
.dipen-live .dl-side { flex: 0 0 270px; border-left: 1px solid #eee; padding: 6px;
  overflow: auto; max-height: 640px; }
.dipen-live .dl-side h4 { margin: 0 0 4px; font-size: 13px; }
.dipen-live .dl-side textarea { width: 100%; box-sizing: border-box; font-family: monospace; }
.dipen-live .dl-side input.dl-why { width: 100%; box-sizing: border-box; margin: 3px 0; }
.dipen-live .dl-side .dl-row { display: flex; gap: 4px; flex-wrap: wrap; margin: 3px 0; }
.dipen-live .dl-tag { background: #fee08b; border-radius: 3px; padding: 0 4px; font-size: 11px; }
.dipen-live .dl-side ol { padding-left: 18px; margin: 4px 0; }
.dipen-live code { white-space: pre-wrap; word-break: break-all; font-size: 11px; }
.dipen-live .dl-bad { color: #b2182b; }
.dipen-live .dl-good { color: #1b7837; }
.dipen-live .dl-muted { color: #777; }
.dipen-live .dl-node { cursor: pointer; }
.dipen-live .dl-selected circle.dl-shape, .dipen-live .dl-selected rect.dl-shape {
  stroke: #2166ac; stroke-width: 3.5px; }
.dipen-live .dl-running rect.dl-shape { animation: dl-pulse 0.6s infinite alternate; }
@keyframes dl-pulse { to { stroke-width: 4.5px; } }
.dipen-live .dl-past .dl-transition rect.dl-shape { opacity: 0.35; }
.dipen-live .dl-past .dl-net svg { background: #f7f4ea; }
.dipen-live .dl-past-banner { background: #fee08b; padding: 3px 6px; display: flex; gap: 8px; align-items: center; }
.dipen-live table { border-collapse: collapse; width: 100%; }
.dipen-live td { padding: 0 4px; }
.dipen-live td.dl-num { text-align: right; font-variant-numeric: tabular-nums; }
.dipen-live .dl-regions { margin-top: 8px; }
.dipen-live .dl-regions div { margin: 1px 0; }
`;

// who leads a region and who stands by, as the store last told ([] if nobody campaigns);
// null if the store has not been asked yet (then only status.leaders, from the events, tells)
function candidatesOf(status, region) {
  if (!status.candidates) return null;
  return (status.candidates[region] || []).map((pair) => pair[0]);
}

function leaderText(region, nodes, guess) {
  if (nodes === null) return guess ? `${region} · ${guess}` : `${region} · no runner`;
  if (!nodes.length) return `${region} · no leader`;
  const standbys = nodes.slice(1);
  return `${region} · leader ${nodes[0]}` +
    (standbys.length ? ` · standby${standbys.length > 1 ? "s" : ""} ${standbys.join(", ")}` : "");
}

function html(tag, attrs = {}, parent = null, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function svg(tag, attrs = {}, parent = null, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function button(parent, label, onClick, title = "", action = "") {
  const node = html("button", { type: "button", title, "data-action": action || label.toLowerCase() }, parent, label);
  node.addEventListener("click", onClick);
  return node;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function shorten(value) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

// how far from a node's centre (layout units) its outline is, seen in direction (dx, dy)
function reach(kind, dx, dy) {
  if (kind === "place") return RADIUS;
  const [w, h] = [BOX[0] / 2, BOX[1] / 2];
  return Math.min(dx ? w / Math.abs(dx) : Infinity, dy ? h / Math.abs(dy) : Infinity);
}

function trim(from, toward, kind) {
  const [dx, dy] = [toward[0] - from[0], toward[1] - from[1]];
  const length = Math.hypot(dx, dy) || 1;
  const [ux, uy] = [dx / length, dy / length];
  const r = reach(kind, ux, uy) + 0.03;
  return [from[0] + ux * r, from[1] + uy * r];
}

function render({ model, el }) {
  const id = `dl${++views}`;
  const root = html("div", { class: "dipen-live" }, el);
  html("style", {}, root, CSS);
  const bar = html("div", { class: "dl-bar" }, root);
  const send = (message) => model.send(message);
  button(bar, "Step", () => send({ action: "step" }), "fire the first enabled transition");
  button(bar, "Run", () => send({ action: "run" }), "runner.start()");
  button(bar, "Pause", () => send({ action: "pause" }), "runner.pause()");
  button(bar, "Reset", () => send({ action: "reset" }), "back to the initial marking");
  const speedLabel = html("label", {}, bar, "speed ");
  const speed = html("select", {}, speedLabel);
  for (const value of [...SPEEDS, "max"]) html("option", { value }, speed, value === "max" ? "max" : `${value}×`);
  speed.addEventListener("change", () => {
    model.set("speed", speed.value === "max" ? null : Number(speed.value));
    model.save_changes();
  });
  const historyButton = button(bar, "History", () => toggleHistory(), "time travel through the store's revisions");
  const stateGraph = mountStateGraph({ model, bar, id, html, svg, button });
  const statusText = html("span", { class: "dl-status" }, bar);

  const historyRow = html("div", { class: "dl-history" }, root);
  historyRow.style.display = "none";
  const slider = html("input", { type: "range", min: 0, max: 0, step: 1, value: 0 }, historyRow);
  const historyLabel = html("span", {}, historyRow, "live");
  button(historyRow, "Live", () => setPosition(null), "back to the live marking");
  button(historyRow, "↻", () => send({ action: "history" }), "load the newest revisions");

  const banner = html("div", { class: "dl-past-banner" }, root);
  const bannerText = html("span", {}, banner);
  button(banner, "Back to live", () => setPosition(null), "show the live marking again", "live");
  const main = html("div", { class: "dl-main" }, root);
  root.appendChild(stateGraph.panel);
  const canvas = html("div", { class: "dl-net" }, main);
  const side = html("div", { class: "dl-side" }, main);
  const sideBody = html("div", {}, side);
  const noticeLine = html("div", { class: "dl-notice" }, side);
  const foot = html("div", { class: "dl-foot" }, root);
  const totals = html("span", {}, foot);
  const spark = svg("svg", { width: 160, height: 24, viewBox: "0 0 160 24" }, foot);
  const sparkLine = svg("polyline", { fill: "none", stroke: "#b35806", "stroke-width": 1.5 }, spark);

  // {kind: "place" | "transition", name}; a place selected in another view of this model stays
  let selected = model.get("selected_place") ? { kind: "place", name: model.get("selected_place") } : null;
  let nodes = { place: {}, transition: {}, region: {} };
  let shownCounts = {};
  let sliderTimer = null;
  let panel = null; // the dynamic parts of the side panel

  // -- the drawing ---------------------------------------------------------------------------
  function build() {
    canvas.textContent = "";
    nodes = { place: {}, transition: {}, region: {} };
    shownCounts = {};
    const net = model.get("net") || {};
    const places = net.places || [], transitions = net.transitions || [];
    const points = [...places, ...transitions].map((n) => n.at);
    for (const region of net.regions || []) for (const hull of region.hulls) points.push(...hull);
    if (!points.length) points.push([0, 0]);
    const x0 = Math.min(...points.map((p) => p[0])) - MARGIN, x1 = Math.max(...points.map((p) => p[0])) + MARGIN;
    const y0 = Math.min(...points.map((p) => p[1])) - MARGIN, y1 = Math.max(...points.map((p) => p[1])) + MARGIN;
    const X = (x) => (x - x0) * UNIT, Y = (y) => (y1 - y) * UNIT;
    const width = (x1 - x0) * UNIT, height = (y1 - y0) * UNIT;
    const drawing = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`,
      "font-family": "system-ui, sans-serif", "font-size": 11 }, canvas);
    drawing.addEventListener("click", (event) => { if (event.target === drawing) select(null); });
    const defs = svg("defs", {}, drawing);
    for (const [name, orient] of [["end", "auto"], ["start", "auto-start-reverse"]]) {
      const marker = svg("marker", { id: `${id}-${name}`, viewBox: "0 0 10 10", refX: 10, refY: 5,
        markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient }, defs);
      svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#333" }, marker);
    }
    for (const region of net.regions || []) {
      if (!region.hulls.length) continue;
      const d = region.hulls.map((hull) => "M" + hull.map((p) => `${X(p[0])},${Y(p[1])}`).join(" L") + " Z").join(" ");
      svg("path", { d, fill: region.colour, "fill-opacity": 0.08, stroke: region.colour,
        "stroke-opacity": 0.6 }, drawing);
      const top = region.hulls[0].reduce((a, b) => (b[1] > a[1] || (b[1] === a[1] && b[0] < a[0]) ? b : a));
      nodes.region[region.name] = svg("text", { x: X(top[0]) + 3, y: Y(top[1]) - 4, fill: region.colour,
        "font-style": "italic" }, drawing, region.name);
    }
    const at = {}, kind = {};
    for (const p of places) { at[p.name] = p.at; kind[p.name] = "place"; }
    for (const t of transitions) { at[t.name] = t.at; kind[t.name] = "transition"; }
    for (const arc of net.arcs || []) {
      const s = at[arc.source], t = at[arc.target], c = arc.bend;
      const a = trim(s, c || t, kind[arc.source]), b = trim(t, c || s, kind[arc.target]);
      const d = c ? `M${X(a[0])},${Y(a[1])} Q${X(c[0])},${Y(c[1])} ${X(b[0])},${Y(b[1])}`
        : `M${X(a[0])},${Y(a[1])} L${X(b[0])},${Y(b[1])}`;
      const path = svg("path", { d, fill: "none", stroke: "#333", "stroke-width": 1.2,
        "marker-end": `url(#${id}-end)` }, drawing);
      if (arc.kind === "cond" || arc.kind === "out_cond") path.setAttribute("stroke-dasharray", "5 3");
      if (arc.kind === "in_out" || arc.kind === "out_cond") path.setAttribute("marker-start", `url(#${id}-start)`);
      svg("title", {}, path, `${arc.kind} arc ${arc.place} – ${arc.transition}` + (arc.name ? ` (${arc.name})` : ""));
      if (arc.weight > 1) {
        svg("text", { x: X(arc.middle[0]), y: Y(arc.middle[1]) + 4, "text-anchor": "middle",
          "paint-order": "stroke", stroke: "#fff", "stroke-width": 3 }, drawing, String(arc.weight));
      }
    }
    for (const p of places) {
      const [x, y] = [X(p.at[0]), Y(p.at[1])];
      const g = svg("g", { class: "dl-node dl-place", "data-place": p.name, "data-tokens": 0, "data-taken": 0 }, drawing);
      svg("circle", { class: "dl-shape", cx: x, cy: y, r: RADIUS * UNIT, fill: "#fff", stroke: "#222",
        "stroke-width": 1.4 }, g);
      const dots = svg("g", {}, g);
      const count = svg("text", { x, y: y + 5, "text-anchor": "middle", "font-size": 14, "font-weight": "bold" }, g);
      const capacity = p.capacity === null ? null
        : svg("text", { x: x + RADIUS * UNIT * 0.75, y: y - RADIUS * UNIT * 0.8, "font-size": 10 }, g);
      svg("text", { x, y: y + RADIUS * UNIT + 13, "text-anchor": "middle" }, g, p.name);
      g.addEventListener("click", () => select({ kind: "place", name: p.name }));
      nodes.place[p.name] = { g, dots, count, capacity, x, y, limit: p.capacity };
    }
    for (const t of transitions) {
      const [x, y] = [X(t.at[0]), Y(t.at[1])];
      const [w, h] = [BOX[0] * UNIT, BOX[1] * UNIT];
      const g = svg("g", { class: "dl-node dl-transition" + (t.manual ? " dl-manual" : ""),
        "data-transition": t.name, "data-state": "idle", "data-manual": t.manual ? "true" : "false" }, drawing);
      const rect = svg("rect", { class: "dl-shape", x: x - w / 2, y: y - h / 2, width: w, height: h,
        rx: t.manual ? 7 : 0 }, g);
      const tip = svg("title", {}, rect);
      svg("text", { x, y: y + h / 2 + 13, "text-anchor": "middle" }, g, t.name);
      if (t.manual) {
        svg("text", { class: "dl-manual-label", x, y: y - h / 2 - 5, "text-anchor": "middle", "font-size": 10,
          fill: "#8c510a" }, g, "✋ manual");
      }
      const outline = svg("rect", { class: "dl-elsewhere", x: x - w / 2 - 4, y: y - h / 2 - 4, width: w + 8,
        height: h + 8, fill: "none", stroke: ELSEWHERE, "stroke-width": 1.6, "stroke-dasharray": "4 3",
        visibility: "hidden" }, g);
      const where = svg("text", { x, y: y + h / 2 + 26, "text-anchor": "middle", fill: ELSEWHERE,
        "font-size": 10 }, g);
      const badge = svg("g", { visibility: "hidden" }, g);
      svg("circle", { cx: x + w / 2, cy: y - h / 2, r: 8, fill: "#b35806" }, badge);
      const running = svg("text", { x: x + w / 2, y: y - h / 2 + 4, "text-anchor": "middle", fill: "#fff",
        "font-size": 10 }, badge);
      const error = svg("g", { visibility: "hidden" }, g);
      svg("circle", { cx: x - w / 2, cy: y - h / 2, r: 8, fill: "#b2182b" }, error);
      svg("text", { x: x - w / 2, y: y - h / 2 + 4, "text-anchor": "middle", fill: "#fff",
        "font-weight": "bold" }, error, "!");
      const errorTip = svg("title", {}, error);
      g.addEventListener("click", () => select({ kind: "transition", name: t.name }));
      nodes.transition[t.name] = { g, rect, tip, badge, running, error, errorTip, outline, where,
        region: t.region, manual: !!t.manual };
    }
    markSelected();
  }

  function updateMarking() {
    const marking = model.get("marking") || {};
    const taken = (model.get("firing") || {}).taken || {};
    for (const [name, node] of Object.entries(nodes.place)) {
      const n = marking[name] || 0, free = n - (taken[name] || 0);
      const key = `${n}/${free}`;
      if (shownCounts[name] === key) continue;
      shownCounts[name] = key;
      node.g.setAttribute("data-tokens", n);
      node.g.setAttribute("data-taken", n - free);
      node.dots.textContent = "";
      const spots = DOTS[n];
      if (spots) {
        spots.forEach(([dx, dy], i) => svg("circle", { cx: node.x + dx * 0.09 * UNIT, cy: node.y + dy * 0.09 * UNIT,
          r: 0.055 * UNIT, stroke: "#222", fill: i >= free ? "#fff" : "#222" }, node.dots));
      }
      node.count.textContent = spots || n === 0 ? "" : (n === free ? String(n) : `${n} (${n - free} taken)`);
      if (node.capacity) {
        node.capacity.textContent = `${n}/${node.limit}`;
        node.capacity.setAttribute("fill", n >= node.limit ? "#b2182b" : "#555");
      }
    }
    refreshSide();
  }

  function updateTransitions() {
    const states = model.get("states") || {}, firing = (model.get("firing") || {}).transitions || {};
    const elsewhere = (model.get("firing") || {}).elsewhere || {};
    const errors = model.get("errors") || {};
    const controls = model.get("controls") || {};
    const held = controls.held || {}, requests = controls.requests || {};
    const colours = (model.get("net") || {}).colours || {};
    for (const [name, node] of Object.entries(nodes.transition)) {
      const state = states[name] || "idle";
      const [fill, edge] = colours[state] || ["#eee", "#555"];
      node.rect.setAttribute("fill", fill);
      node.rect.setAttribute("stroke", edge);
      node.rect.setAttribute("stroke-width", state === "idle" ? 1.4 : 2.2);
      node.tip.textContent = `${name}: ${state}` + (held[name] ? ` (${held[name]})` : "") +
        (node.manual ? ` · manual, ${plural(requests[name] || 0, "request")} waiting` : "");
      node.g.setAttribute("data-state", state);
      node.g.setAttribute("data-held", held[name] || "");
      const running = firing[name] || 0;
      node.g.classList.toggle("dl-running", running > 0);
      node.badge.setAttribute("visibility", running ? "visible" : "hidden");
      node.running.textContent = String(running);
      const others = Object.keys(elsewhere[name] || {}).sort();
      node.g.classList.toggle("dl-firing-elsewhere", others.length > 0);
      node.g.setAttribute("data-elsewhere", others.join(" "));
      node.outline.setAttribute("visibility", others.length ? "visible" : "hidden");
      node.where.textContent = others.length ? `on ${others.join(", ")}` : "";
      if (others.length) node.tip.textContent += ` (firing on ${others.join(", ")})`;
      node.error.setAttribute("visibility", errors[name] ? "visible" : "hidden");
      node.errorTip.textContent = errors[name] || "";
    }
    refreshSide();
  }

  function updateStatus() {
    const status = model.get("status") || {};
    const simulated = status.clock === "simulated";
    speedLabel.style.display = simulated ? "" : "none";
    const value = model.get("speed");
    const wanted = value === null || value === undefined ? "max" : String(value);
    if (![...speed.options].some((o) => o.value === wanted)) html("option", { value: wanted }, speed, `${wanted}×`);
    speed.value = wanted;
    const time = simulated ? `t = ${Number(status.now).toFixed(2)}`
      : new Date(status.now * 1000).toLocaleTimeString();
    const parts = [time, `revision ${status.revision ?? "?"}`, status.running ? "running" : "idle"];
    if (status.connected === false) parts.push("connecting…");
    statusText.textContent = parts.join(" · ");
    const past = status.position !== null && status.position !== undefined;
    root.classList.toggle("dl-past", past);
    const then = status.time ? ` (${describeTime(status.time, simulated)})` : "";
    if (!sliderTimer) historyLabel.textContent = past ? `revision ${status.position}${then}` : "live";
    banner.style.display = past ? "" : "none"; // the net itself runs on, unseen till "live"
    bannerText.textContent = past ? `history at revision ${status.position}${status.time ? `, ${describeTime(status.time, simulated)}` : ""}` +
      ` · live: revision ${status.revision ?? "?"}` : "";
    for (const [region, label] of Object.entries(nodes.region)) {
      label.textContent = leaderText(region, candidatesOf(status, region), (status.leaders || {})[region]);
    }
    refreshSide();
  }

  function describeTime(time, simulated) {
    return simulated ? `t = ${Number(time).toFixed(2)}` : new Date(time * 1000).toLocaleTimeString();
  }

  function updateStats() {
    const stats = model.get("stats") || {};
    const failures = Object.values(stats.failures || {}).reduce((a, b) => a + b, 0);
    totals.textContent = `${plural(stats.total || 0, "firing")} · ${stats.rate || 0} firings/s` +
      (failures ? ` · ${failures} failed` : "");
    const rates = stats.rates || [];
    const top = Math.max(1, ...rates);
    const step = 160 / Math.max(1, rates.length - 1);
    sparkLine.setAttribute("points", rates.map((r, i) => `${i * step},${22 - (r / top) * 20}`).join(" "));
    refreshSide();
  }

  // -- history ---------------------------------------------------------------------------------
  function toggleHistory() {
    const open = historyRow.style.display === "none";
    historyRow.style.display = open ? "" : "none";
    historyButton.textContent = open ? "Hide history" : "History";
    if (open) send({ action: "history" });
    else setPosition(null);
  }

  function setPosition(revision) {
    model.set("position", revision);
    model.save_changes();
    updateHistory();
  }

  function updateHistory() {
    const revisions = (model.get("history") || {}).revisions || [];
    slider.max = revisions.length; // the last stop is "live"
    const position = model.get("position");
    const index = position === null || position === undefined ? revisions.length
      : Math.max(0, revisions.findIndex((r) => r >= position));
    slider.value = index;
  }

  slider.addEventListener("input", () => {
    const revisions = (model.get("history") || {}).revisions || [];
    const index = Number(slider.value);
    historyLabel.textContent = index >= revisions.length ? "live" : `revision ${revisions[index]}`;
    clearTimeout(sliderTimer);
    sliderTimer = setTimeout(() => {
      sliderTimer = null;
      setPosition(index >= revisions.length ? null : revisions[index]);
    }, 120);
  });

  // -- selection and the side panel ------------------------------------------------------------
  function select(what) {
    selected = what;
    model.set("selected_place", what && what.kind === "place" ? what.name : "");
    model.save_changes();
    markSelected();
    buildSide();
  }

  function markSelected() {
    for (const kind of ["place", "transition"]) {
      for (const [name, node] of Object.entries(nodes[kind])) {
        node.g.classList.toggle("dl-selected", !!selected && selected.kind === kind && selected.name === name);
      }
    }
  }

  function buildSide() {
    sideBody.textContent = "";
    panel = { kind: selected ? selected.kind : "stats" };
    if (!selected) {
      html("h4", {}, sideBody, "Firings per transition");
      panel.table = html("table", {}, sideBody);
      panel.regions = html("div", { class: "dl-regions" }, sideBody);
    } else if (selected.kind === "place") {
      const name = selected.name;
      html("h4", {}, sideBody, `place ${name}`);
      panel.info = html("div", {}, sideBody);
      panel.list = html("ol", {}, sideBody);
      panel.more = html("div", { class: "dl-muted" }, sideBody);
      html("div", {}, sideBody, "add a token by hand, with data (JSON, optional):");
      panel.data = html("textarea", { rows: 2, placeholder: '{"n": 1}' }, sideBody);
      panel.why = html("input", { type: "text", class: "dl-why", placeholder: "why (recorded with the edit)" }, sideBody);
      button(sideBody, "Add token", () => send({ action: "add", place: name, json: panel.data.value,
        why: panel.why.value }), "an audited edit through the store", "add");
    } else {
      buildTransitionSide(selected.name);
    }
    refreshSide();
  }

  // the side panel of a transition: blocks by hand (of it and of its region), cancel, explain,
  // fire by hand with data (a manual transition: a request that its region's leader serves)
  function buildTransitionSide(name) {
    const node = nodes.transition[name] || {};
    const title = html("h4", {}, sideBody, `transition ${name} `);
    if (node.manual) html("span", { class: "dl-tag", title: "fires only when asked, with data" }, title, "✋ manual");
    panel.info = html("div", {}, sideBody);
    panel.held = html("div", { class: "dl-bad dl-held" }, sideBody);
    panel.requests = html("div", { class: "dl-muted" }, sideBody);
    panel.error = html("div", { class: "dl-bad" }, sideBody);
    panel.why = html("input", { type: "text", class: "dl-why", placeholder: "why (recorded with a block or cancel)" }, sideBody);
    const reason = () => panel.why.value.trim();
    const row = html("div", { class: "dl-row" }, sideBody);
    panel.block = button(row, "Block", () => send({ action: panel.blocked ? "unblock" : "block", transition: name,
      why: reason() }), "block it for every runner of the store");
    button(row, "Cancel firings", () => send({ action: "cancel", transition: name, why: reason() }),
      "cancel its running firings (on every runner); their tokens go back", "cancel");
    button(row, "Why (not) enabled?", () => send({ action: "explain", transition: name }), "", "explain");
    const regionRow = html("div", { class: "dl-row" }, sideBody);
    html("span", {}, regionRow, `region ${node.region}:`);
    panel.region = button(regionRow, "Block region", () => send({ action: panel.regionBlocked ? "unblock" : "block",
      region: node.region, why: reason() }), "block every transition of the region", "block-region");
    panel.explanation = html("div", { class: "dl-muted" }, sideBody);
    html("div", {}, sideBody, node.manual
      ? `request a firing with data (JSON, optional); the leader of region ${node.region} fires it when enabled:`
      : "fire by hand with data (JSON, optional):");
    panel.data = html("textarea", { rows: 3, placeholder: '{"n": 1}' }, sideBody);
    button(sideBody, "Fire", () => send({ action: "fire", transition: name, json: panel.data.value }),
      node.manual ? "Control.fire: waits for the answer" : "runner.step with this data");
  }

  function refreshSide() {
    if (!panel) return;
    const stats = model.get("stats") || {};
    if (panel.kind === "stats") {
      const firings = Object.entries(stats.firings || {}).sort((a, b) => b[1] - a[1]).slice(0, 15);
      panel.table.textContent = "";
      if (!firings.length) html("tr", {}, panel.table, "no firings yet; click a place or a transition");
      for (const [name, count] of firings) {
        const row = html("tr", {}, panel.table);
        html("td", {}, row, name);
        html("td", { class: "dl-num" }, row, String(count));
      }
      const status = model.get("status") || {};
      panel.regions.textContent = "";
      if (status.candidates) {
        html("h4", {}, panel.regions, "Leaders and standbys");
        for (const region of (model.get("net") || {}).regions || []) {
          const pairs = status.candidates[region.name] || [];
          const line = html("div", { "data-region": region.name }, panel.regions);
          html("span", { style: `color: ${region.colour}` }, line, `${region.name}: `);
          html("span", {}, line, pairs.length ? `${pairs[0][0]} (fence ${pairs[0][1]})` : "no leader");
          if (pairs.length > 1) html("span", { class: "dl-muted" }, line, `; standbys: ${pairs.slice(1).map((p) => p[0]).join(", ")}`);
        }
      }
      const held = Object.entries((model.get("controls") || {}).held || {});
      if (held.length) {
        html("h4", {}, panel.regions, "Blocked by hand");
        for (const [name, reason] of held) html("div", { class: "dl-bad", "data-held": name }, panel.regions, `${name}: ${reason}`);
      }
    } else if (panel.kind === "place") {
      const name = selected.name;
      const n = (model.get("marking") || {})[name] || 0;
      const free = n - (((model.get("firing") || {}).taken || {})[name] || 0);
      const node = nodes.place[name];
      panel.info.textContent = `${n} tokens, ${free} free` + (node && node.limit !== null ? `, capacity ${node.limit}` : "");
      const tokens = model.get("tokens") || {};
      panel.list.textContent = "";
      if (tokens.place !== name) return;
      for (const token of tokens.shown || []) {
        const item = html("li", {}, panel.list);
        html("span", { class: "dl-muted" }, item, `${token.id}${token.firing ? ` (taken by ${token.firing})` : ""} `);
        html("code", {}, item, token.data === null ? "" : shorten(token.data));
      }
      panel.more.textContent = tokens.total > (tokens.shown || []).length
        ? `first ${tokens.shown.length} of ${tokens.total} tokens` : "";
    } else {
      const name = selected.name;
      const state = (model.get("states") || {})[name] || "idle";
      const node = nodes.transition[name] || {};
      const status = model.get("status") || {};
      const known = candidatesOf(status, node.region);
      const leader = known === null ? (status.leaders || {})[node.region] : known[0];
      const standbys = known === null ? [] : known.slice(1);
      const running = ((model.get("firing") || {}).transitions || {})[name] || 0;
      const others = Object.entries(((model.get("firing") || {}).elsewhere || {})[name] || {});
      const failures = (stats.failures || {})[name] || 0;
      panel.info.textContent = `${state}` + (running ? ` (${running} running)` : "") +
        (others.length ? ` · firing on ${others.map(([n, c]) => (c > 1 ? `${n} (${c})` : n)).join(", ")}` : "") +
        ` · region ${node.region}` + (leader ? ` led by ${leader}` : known === null ? " (no runner here)" : " (no leader)") +
        (standbys.length ? `, standbys ${standbys.join(", ")}` : "") +
        ` · ${plural((stats.firings || {})[name] || 0, "firing")}` + (failures ? `, ${failures} failed` : "");
      panel.error.textContent = (model.get("errors") || {})[name] || "";
      if (panel.explainedState && panel.explainedState !== state) {  // the answer went stale
        panel.explanation.textContent = "";
        panel.explainedState = null;
      }
      const controls = model.get("controls") || {};
      const held = (controls.held || {})[name], regionBlock = (controls.regions || {})[node.region];
      panel.held.textContent = held || "";
      panel.requests.textContent = node.manual
        ? `manual: ${plural((controls.requests || {})[name] || 0, "request")} waiting` : "";
      // blocked by hand (through the store), or here by its error policy (or runner.block)
      panel.blocked = !!(controls.transitions || {})[name] || state === "failed" || (state === "blocked" && !held);
      panel.block.textContent = panel.blocked ? "Unblock" : "Block";
      panel.block.setAttribute("data-action", panel.blocked ? "unblock" : "block");
      panel.regionBlocked = !!regionBlock;
      panel.region.textContent = regionBlock ? "Unblock region" : "Block region";
      panel.region.setAttribute("data-action", regionBlock ? "unblock-region" : "block-region");
    }
  }

  function updateNotice() {
    const notice = model.get("notice") || {};
    const explained = panel && panel.kind === "transition" && notice.transition === selected.name &&
      (notice.action === "explain" || notice.ok === false);
    // an explanation shows once, in the transition's panel; other notices in the notice line
    noticeLine.textContent = explained ? "" : notice.text || "";
    const bad = notice.ok === false || (notice.action === "explain" && /is not enabled/.test(notice.text || ""));
    noticeLine.className = `dl-notice ${bad ? "dl-bad" : "dl-good"}`;
    if (explained) {
      panel.explanation.textContent = notice.text;
      panel.explanation.className = bad ? "dl-bad" : "dl-muted";
      panel.explainedState = ((model.get("states") || {})[selected.name]) || "idle";
    }
  }

  // -- wiring ----------------------------------------------------------------------------------
  const listeners = [
    ["net", () => { build(); updateAll(); }],
    ["marking", updateMarking], ["states", updateTransitions],
    ["firing", () => { updateMarking(); updateTransitions(); }],
    ["errors", updateTransitions], ["status", updateStatus], ["speed", updateStatus],
    ["stats", updateStats], ["tokens", refreshSide], ["history", updateHistory],
    ["controls", updateTransitions],
    ["position", updateHistory], ["notice", updateNotice],
  ];
  function updateAll() {
    updateMarking(); updateTransitions(); updateStatus(); updateStats(); updateHistory();
  }
  for (const [name, callback] of listeners) model.on(`change:${name}`, callback);
  build();
  buildSide();
  updateAll();
  return () => {
    clearTimeout(sliderTimer);
    stateGraph.cleanup();
    for (const [name, callback] of listeners) model.off(`change:${name}`, callback);
  };
}

export default { render };
