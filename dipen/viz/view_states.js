// The state graph panel of the dipen LiveView (issue 6): the net's reachability graph from the
// `state_graph` trait ({states: [{label, at, deadlock, loops}], edges: [{source, target,
// transitions, both}], count, incomplete, max_states, message}), drawn once, and the state the
// run is in from `state_now` ({live, shown, position, text}): the live state outlined in blue,
// the state of a history position in dashed orange; deadlocks are red. The "States" button sets
// `show_state_graph`. view.js imports this module; dipen.viz.esm.bundle inlines it.

const SCALE = 80; // pixels per layout unit of dipen.viz.state_graph.layout
const HALF = [0.95, 0.25]; // half a state's box, in layout units
const PAD = 0.5;
const LABEL = 26; // characters of a label that fit in a box
const LIVE = "#2166ac", PAST = "#b35806", DEADLOCK = ["#f4a582", "#b2182b"], PLAIN = ["#eeeeee", "#555555"];
const STATES_CSS = `
.dipen-live .dl-states { border-top: 1px solid #eee; padding: 4px 6px; }
.dipen-live .dl-states-head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
.dipen-live .dl-states-canvas { overflow: auto; max-height: 360px; }
`;

// where the line from a box's centre toward `toward` leaves the box
function border(from, toward) {
  const [dx, dy] = [toward[0] - from[0], toward[1] - from[1]];
  const scale = Math.min(dx ? HALF[0] / Math.abs(dx) : Infinity, dy ? HALF[1] / Math.abs(dy) : Infinity);
  return [from[0] + dx * scale, from[1] + dy * scale];
}

export function mountStateGraph({ model, bar, id, html, svg, button }) {
  const panel = html("div", { class: "dl-states" });
  html("style", {}, panel, STATES_CSS);
  const head = html("div", { class: "dl-states-head" }, panel);
  html("b", {}, head, "State graph");
  const info = html("span", { class: "dl-muted" }, head);
  const where = html("div", { class: "dl-states-now" }, panel);
  const canvas = html("div", { class: "dl-states-canvas" }, panel);
  const toggle = button(bar, "States", () => {
    model.set("show_state_graph", !model.get("show_state_graph"));
    model.save_changes();
  }, "the reachability graph of the net and the state the run is in", "states");
  let boxes = [];

  function build() {
    canvas.textContent = "";
    boxes = [];
    const graph = model.get("state_graph") || {};
    const states = graph.states || [];
    info.textContent = "";
    if (graph.message || !states.length) {
      html("div", { class: "dl-muted dl-states-message" }, canvas, graph.message || "no state graph yet");
      return;
    }
    const deadlocks = states.filter((s) => s.deadlock).length;
    info.textContent = `${graph.count} states` + (graph.incomplete ? ` (stopped at max_states=${graph.max_states})` : "") +
      ` · ${deadlocks} deadlock${deadlocks === 1 ? "" : "s"}`;
    const xs = states.map((s) => s.at[0]), ys = states.map((s) => s.at[1]);
    const x0 = Math.min(...xs) - HALF[0] - PAD, x1 = Math.max(...xs) + HALF[0] + PAD;
    const y0 = Math.min(...ys) - HALF[1] - PAD, y1 = Math.max(...ys) + HALF[1] + PAD;
    const X = (x) => (x - x0) * SCALE, Y = (y) => (y1 - y) * SCALE;
    const width = (x1 - x0) * SCALE, height = (y1 - y0) * SCALE;
    const drawing = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "dl-states-svg",
      "font-family": "system-ui, sans-serif", "font-size": 11 }, canvas);
    const marker = svg("marker", { id: `${id}-state-end`, viewBox: "0 0 10 10", refX: 10, refY: 5,
      markerWidth: 8, markerHeight: 8, markerUnits: "userSpaceOnUse", orient: "auto" }, svg("defs", {}, drawing));
    svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#555" }, marker);
    for (const edge of graph.edges || []) {
      const from = states[edge.source].at, to = states[edge.target].at;
      const [dx, dy] = [to[0] - from[0], to[1] - from[1]];
      const length = Math.hypot(dx, dy) || 1;
      const bend = edge.both ? 0.25 : 0; // two states that reach each other: two bent arrows
      const c = [(from[0] + to[0]) / 2 - (dy / length) * bend, (from[1] + to[1]) / 2 + (dx / length) * bend];
      const a = border(from, bend ? c : to), b = border(to, bend ? c : from);
      svg("path", { d: `M${X(a[0])},${Y(a[1])} Q${X(c[0])},${Y(c[1])} ${X(b[0])},${Y(b[1])}`, fill: "none",
        stroke: "#777", "stroke-width": 1.1, "marker-end": `url(#${id}-state-end)`, class: "dl-state-edge",
        "data-edge": `${edge.source}:${edge.target}` }, drawing);
      svg("text", { x: X(c[0]), y: Y(c[1]) - 2, "text-anchor": "middle", fill: "#555", "font-size": 10,
        "paint-order": "stroke", stroke: "#fff", "stroke-width": 3 }, drawing, edge.transitions.join(", "));
    }
    states.forEach((state, index) => {
      const [x, y] = [X(state.at[0]), Y(state.at[1])];
      const [fill, edge] = state.deadlock ? DEADLOCK : PLAIN;
      const g = svg("g", { class: "dl-state", "data-state": index, "data-deadlock": String(state.deadlock),
        "data-live": "false", "data-shown": "false" }, drawing);
      const rect = svg("rect", { x: x - HALF[0] * SCALE, y: y - HALF[1] * SCALE, width: 2 * HALF[0] * SCALE,
        height: 2 * HALF[1] * SCALE, rx: 6, fill, stroke: edge }, g);
      svg("title", {}, g, `state ${index}: ${state.label}` + (state.deadlock ? " (deadlock)" : "") +
        (index === 0 ? " (initial)" : ""));
      const label = state.label.length > LABEL ? state.label.slice(0, LABEL - 1) + "…" : state.label;
      svg("text", { x, y: y + 4, "text-anchor": "middle" }, g, label);
      if (state.loops.length) {
        svg("text", { x, y: y + HALF[1] * SCALE + 11, "text-anchor": "middle", fill: "#555", "font-size": 10 },
          g, `↺ ${state.loops.join(", ")}`);
      }
      boxes.push({ g, rect, edge, x, y, initial: index === 0 });
    });
    highlight();
  }

  function highlight() {
    const now = model.get("state_now") || {};
    const past = now.position !== null && now.position !== undefined;
    where.textContent = now.text || "";
    boxes.forEach((box, index) => {
      const live = index === now.live, shown = past && index === now.shown;
      box.g.setAttribute("data-live", String(live));
      box.g.setAttribute("data-shown", String(shown));
      box.rect.setAttribute("stroke", live ? LIVE : shown ? PAST : box.edge);
      box.rect.setAttribute("stroke-width", live || shown ? 3.5 : box.initial ? 2.2 : 1.2);
      box.rect.setAttribute("stroke-dasharray", shown && !live ? "6 3" : "none");
    });
    const box = boxes[past ? now.shown : now.live];
    if (box && canvas.clientWidth) { // keep the highlighted state in sight
      if (box.x < canvas.scrollLeft || box.x > canvas.scrollLeft + canvas.clientWidth) canvas.scrollLeft = box.x - canvas.clientWidth / 2;
      if (box.y < canvas.scrollTop || box.y > canvas.scrollTop + canvas.clientHeight) canvas.scrollTop = box.y - canvas.clientHeight / 2;
    }
  }

  function show() {
    const on = !!model.get("show_state_graph");
    panel.style.display = on ? "" : "none";
    toggle.textContent = on ? "Hide states" : "States";
  }

  const listeners = [["state_graph", build], ["state_now", highlight], ["show_state_graph", show]];
  for (const [name, callback] of listeners) model.on(`change:${name}`, callback);
  build();
  show();
  return {
    panel,
    cleanup: () => { for (const [name, callback] of listeners) model.off(`change:${name}`, callback); },
  };
}
