// draw.js: the SVG pictures of the viewer (process lanes, LSN axes, the BGW
// state machine). Pure functions of the document and a step; app.js calls them.
"use strict";
const SVGNS = "http://www.w3.org/2000/svg";

function el(name, attrs, text) {
  const e = document.createElementNS(SVGNS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

function lsnText(v) { return (Math.floor(v / 4294967296)).toString(16).toUpperCase() + "/" + (v % 4294967296).toString(16).toUpperCase(); }

const LEVEL_COLOUR = { 1: "#1d4f91", 2: "#3a9a3a", 3: "#b0b0b0" };
const LANE_H = 15, LABEL_W = 190, WINDOW = 120;

// drawLanes draws one row per process with the events of the steps around
// the cursor; clicking an event moves the cursor to its step.
function drawLanes(svg, doc, step, procStates, eventsIn, onPick) {
  svg.replaceChildren();
  const width = 960, px = (width - LABEL_W) / WINDOW;
  const lo = step - WINDOW / 2, hi = step + WINDOW / 2;
  svg.setAttribute("height", doc.lanes.length * LANE_H + 28);
  const x = s => LABEL_W + (s - lo) * px;
  for (let s = Math.max(0, Math.ceil(lo / 10) * 10); s <= hi; s += 10) {
    svg.appendChild(el("line", { x1: x(s), x2: x(s), y1: 12, y2: doc.lanes.length * LANE_H + 14, stroke: "#eee" }));
    svg.appendChild(el("text", { x: x(s) - 8, y: 10, fill: "#999" }, String(s)));
  }
  // Stage boundaries: where each stage's first command starts.
  let stage = -1;
  for (const c of doc.cmds) {
    if (c.stage === stage) continue;
    stage = c.stage;
    if (c.from + 0.5 < lo || c.from + 0.5 > hi) continue;
    const sx = x(c.from + 0.5);
    svg.appendChild(el("line", { x1: sx, x2: sx, y1: 12, y2: doc.lanes.length * LANE_H + 14, stroke: "#7aa0d0", "stroke-dasharray": "2 3", class: "stage-line" }));
    svg.appendChild(el("text", { x: sx + 2, y: doc.lanes.length * LANE_H + 23, fill: "#1d4f91" }, "stage " + (stage + 1)));
  }
  let prevNode = "";
  doc.lanes.forEach((ln, i) => {
    const y = 14 + i * LANE_H;
    if (ln.node !== prevNode) {
      svg.appendChild(el("line", { x1: 0, x2: width, y1: y, y2: y, stroke: "#ccc" }));
      prevNode = ln.node;
    }
    const st = procStates[ln.node + "/" + ln.name] || (ln.name === "operator" ? "idle" : "dead");
    const t = el("text", { x: 4, y: y + 11, class: "lane st-" + st, "data-lane": ln.node + "/" + ln.name }, ln.node + "/" + ln.name);
    svg.appendChild(t);
  });
  for (const e of eventsIn(lo, hi)) {
    const c = el("circle", { cx: x(e.s), cy: 14 + e.n * LANE_H + 7, r: e.l === 1 ? 4.5 : 3, fill: LEVEL_COLOUR[e.l] || "#888", class: "ev" });
    c.appendChild(el("title", {}, "step " + e.s + " t " + e.t + ": " + e.v + " " + e.f));
    c.addEventListener("click", () => onPick(e.s));
    svg.appendChild(c);
  }
  svg.appendChild(el("line", { x1: x(step), x2: x(step), y1: 12, y2: doc.lanes.length * LANE_H + 14, stroke: "#e08000", "stroke-width": 2, id: "cursorline" }));
  if (doc.violation && doc.violation.step >= lo && doc.violation.step <= hi) {
    const vx = x(doc.violation.step);
    svg.appendChild(el("line", { x1: vx, x2: vx, y1: 12, y2: doc.lanes.length * LANE_H + 14, stroke: "#c00", "stroke-dasharray": "4 2", "stroke-width": 2 }));
  }
}

const MARKERS = [
  ["insert", "insert", "#1d4f91"], ["flushed", "flushed", "#3a7ad0"], ["consistent", "consistent", "#0a7a20"],
  ["replayPoint", "bgw replay", "#b06000"], ["fakeOldest", "fake oldest", "#8a4aa0"], ["redo", "ckpt redo", "#555"],
  ["replayed", "replayed", "#c02060"], ["received", "received", "#e07aa0"],
];

// drawAxis draws one node's LSN axis with its markers and the end of
// valid WAL on storage; max is shared by every node so axes line up.
function drawAxis(svg, lsn, walEnd, max) {
  svg.replaceChildren();
  const w = 420, pad = 10, cw = 6.6, x = v => pad + (max ? v / max : 0) * (w - 2 * pad);
  svg.appendChild(el("line", { x1: pad, x2: w - pad, y1: 20, y2: 20, stroke: "#888" }));
  const marks = MARKERS.filter(m => lsn[m[0]] > 0).map(m => [lsn[m[0]], m[1], m[2]]);
  marks.push([walEnd, "end of WAL", "#c00"]);
  marks.sort((a, b) => a[0] - b[0]);
  // Markers at one LSN share a label, so equal positions read as equal.
  const groups = [];
  for (const m of marks) {
    const g = groups[groups.length - 1];
    if (g && g[0] === m[0]) g[1].push(m[1]); else groups.push([m[0], [m[1]], m[2]]);
  }
  // A group's label is cut into lines that fit the axis (a standby or a
  // caught-up replica has most markers at one LSN), each on its own row;
  // the groups take rows in turn and the picture grows to hold them.
  let row = 0;
  groups.forEach(g => {
    const mx = x(g[0]), lines = [];
    for (const name of g[1].concat(lsnText(g[0]))) {
      const last = lines.length - 1;
      if (last >= 0 && (lines[last] + " " + name).length * cw <= w) lines[last] += (name === lsnText(g[0]) ? " " : ", ") + name;
      else lines.push(name);
    }
    svg.appendChild(el("line", { x1: mx, x2: mx, y1: 14, y2: 26 + row * 13, stroke: g[2], "stroke-width": 2 }));
    lines.forEach(label => {
      const tx = mx + 2 + label.length * cw > w ? Math.max(0, mx - 2 - label.length * cw) : mx + 2;
      svg.appendChild(el("text", { x: tx, y: 36 + row * 13, fill: g[2], class: "marker" }, label));
      row++;
    });
  });
  svg.setAttribute("width", w); svg.setAttribute("height", 30 + 13 * Math.max(4, row));
}

const BGW_POS = {
  REDO_NOT_START: [10, 40], REPLICA_BUF_REPLAYING: [150, 6], PARALLEL_REPLAYING: [150, 74],
  WAITING_RESET: [290, 40], ONLINE_PROMOTE: [290, 108],
};
const BOX_W = 130, BOX_H = 22;

// drawBGW draws the state machine: every legal transition, the ones this
// node took up to the cursor thick with their count, its state lit.
function drawBGW(svg, doc, node, state, step) {
  svg.replaceChildren();
  svg.setAttribute("width", 430); svg.setAttribute("height", 138);
  const defs = el("defs", {});
  const mk = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
  mk.appendChild(el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#777" }));
  defs.appendChild(mk); svg.appendChild(defs);
  const taken = {};
  for (const t of doc.bgw) if (t.node === node && t.step <= step) taken[t.from + ">" + t.to] = (taken[t.from + ">" + t.to] || 0) + 1;
  const centre = s => [BGW_POS[s][0] + BOX_W / 2, BGW_POS[s][1] + BOX_H / 2];
  for (const [a, b] of doc.edges) {
    const [x1, y1] = centre(a), [x2, y2] = centre(b);
    const back = a === "ONLINE_PROMOTE" && b === "REDO_NOT_START";
    const n = taken[a + ">" + b] || 0;
    const d = back ? `M${x1 - 40},${y1 + 11} Q${x1 - 160},${y1 + 30} ${x2},${y2 + 11}` : `M${x1},${y1} L${x2},${y2}`;
    const p = el("path", { d: d, class: "bgw-edge" + (n ? " taken" : ""), "data-edge": a + ">" + b });
    svg.appendChild(p);
    if (n) svg.appendChild(el("text", { x: (x1 + x2) / 2 + (back ? -90 : 0), y: (y1 + y2) / 2 + (back ? 30 : -3), fill: "#1d4f91" }, "x" + n));
  }
  // A transition SPEC §6 does not allow (a hazard's doing) is drawn red.
  const legal = new Set(doc.edges.map(e => e[0] + ">" + e[1]));
  for (const k in taken) {
    if (legal.has(k)) continue;
    const [a, b] = k.split(">");
    if (!BGW_POS[a] || !BGW_POS[b]) continue;
    const [x1, y1] = centre(a), [x2, y2] = centre(b);
    svg.appendChild(el("path", { d: `M${x1},${y1} L${x2},${y2}`, class: "bgw-edge illegal", "data-edge": k }));
    svg.appendChild(el("text", { x: (x1 + x2) / 2 + 4, y: (y1 + y2) / 2 + 12, fill: "#c00" }, "illegal x" + taken[k]));
  }
  for (const s of doc.states) {
    const g = el("g", { class: "bgw-state" + (s === state ? " lit" : ""), "data-state": s });
    g.appendChild(el("rect", { x: BGW_POS[s][0], y: BGW_POS[s][1], width: BOX_W, height: BOX_H, rx: 4 }));
    g.appendChild(el("text", { x: BGW_POS[s][0] + 4, y: BGW_POS[s][1] + 15 }, s));
    svg.appendChild(g);
  }
}

// drawBranch draws the parent run and this branch as two bars on one step
// axis, the fork marked.
function drawBranch(svg, doc) {
  svg.replaceChildren();
  const p = doc.parent, w = 720, max = Math.max(p.last, doc.last), x = s => 90 + (s / max) * (w - 150);
  svg.setAttribute("width", w); svg.setAttribute("height", 50);
  const fork = doc.path.split(",").pop().split(":")[0];
  [[p, 12, "parent"], [doc, 32, "this branch"]].forEach(([r, y, name]) => {
    svg.appendChild(el("text", { x: 2, y: y + 4 }, name));
    svg.appendChild(el("line", { x1: x(r.first), x2: x(r.last), y1: y, y2: y, stroke: name === "parent" ? "#999" : "#1d4f91", "stroke-width": 6 }));
    if (r.violation) svg.appendChild(el("circle", { cx: x(r.violation.step), cy: y, r: 5, fill: "#c00" }));
    svg.appendChild(el("text", { x: x(r.last) + 3, y: y + 4, fill: "#666" }, String(r.last)));
  });
  svg.appendChild(el("line", { x1: x(+fork), x2: x(+fork), y1: 4, y2: 40, stroke: "#e08000", "stroke-width": 2 }));
}
