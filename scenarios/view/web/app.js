// app.js: the viewer's state (one step cursor), its controls and panels.
// Everything is read from the embedded document; nothing is fetched.
"use strict";
const doc = JSON.parse(document.getElementById("doc").textContent);
for (const k of ["bgw", "events", "cmds", "stages", "lanes", "notes", "nodes", "frames", "parts"]) doc[k] = doc[k] || [];
const $ = id => document.getElementById(id);
const V = { step: doc.first, timer: null, lane: 0, urlTimer: null };
window.viewer = V; // for tests and the curious

// Events are in step order: eventsBefore(s) is the index of the first
// event at step >= s (binary search), so a window costs its own size.
function eventsBefore(s) {
  let lo = 0, hi = doc.events.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (doc.events[m].s < s) lo = m + 1; else hi = m; }
  return lo;
}
function eventsIn(lo, hi) { return doc.events.slice(eventsBefore(lo), eventsBefore(hi + 1)); }
// byLane[i] lists lane i's events' indexes, in step order, so a process's
// last event at or before the cursor is one binary search away.
const byLane = doc.lanes.map(() => []);
doc.events.forEach((e, i) => byLane[e.n].push(i));
const laneIndex = {};
doc.lanes.forEach((ln, i) => { laneIndex[ln.node + "/" + ln.name] = i; });
function lastEvent(lane, s) {
  const l = byLane[lane] || [];
  let lo = 0, hi = l.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (doc.events[l[m]].s <= s) lo = m + 1; else hi = m; }
  return lo > 0 ? doc.events[l[lo - 1]] : null;
}

function frame(s) { return doc.frames[Math.max(0, Math.min(doc.frames.length - 1, s - doc.first))]; }
function part(i) { return doc.parts[i]; }
function cmdAt(s) {
  for (const c of doc.cmds) if (c.from < s && s <= c.to) return c;
  let last = doc.cmds[0];
  for (const c of doc.cmds) if (c.to <= s) last = c;
  return last;
}

function nodeView(f, i) {
  const b = 5 + 5 * i;
  return { head: part(f[b]), lsn: part(f[b + 1]), procs: part(f[b + 2]) || [], flush: part(f[b + 3]) || [], slots: part(f[b + 4]) || [] };
}

function setStep(s) {
  V.step = Math.max(doc.first, Math.min(doc.last, s));
  render();
}

function render() {
  const s = V.step, f = frame(s), c = cmdAt(s);
  $("slider").value = s;
  $("cursor").textContent = `step ${s} / ${doc.last}  t ${f[0]}`;
  $("stage").textContent = doc.stages[c.stage] || "";
  // The command this step belongs to, and the ones that ran at it without
  // taking a step (a crash, a status).
  const shown = doc.cmds.filter(x => x === c || x.from === s && x.to === s && x !== c);
  $("command").textContent = shown.map(x => "$ " + x.text + (x.from < s && s < x.to ? `   (step ${s - x.from} of ${x.to - x.from})` : "") + (x.out ? "\n" + x.out : "")).join("\n");
  const states = {}, views = doc.nodes.map((_, i) => nodeView(f, i));
  views.forEach(v => v.procs.forEach(p => { states[v.head.name + "/" + p.name] = p.state; }));
  drawLanes($("lanes"), doc, s, states, eventsIn, setStep);
  renderEvents(s);
  renderNodes(views, f, s);
  renderPages(f);
  renderForks(views, f, s);
  noteStep(s);
}

// noteStep keeps the cursor in the URL (#step=N, so a reload or a link
// returns to it), but at most once per URL_DELAY ms after the stepping
// stops. Chromium counts every history.replaceState and navigation of a
// frame and, past 200 in 10 s, drops the rest ("Throttling navigation to
// prevent the browser from hanging", crbug.com/1038223): one replaceState
// per render let a scrub of the slider or a held key use that budget up,
// and then a fork button's navigation was silently ignored.
const URL_DELAY = 300;
function noteStep(s) {
  clearTimeout(V.urlTimer);
  V.urlTimer = setTimeout(() => { V.urlTimer = null; writeStep(s); }, URL_DELAY);
}
function writeStep(s) {
  if (location.hash !== "#step=" + s) history.replaceState(null, "", location.search + "#step=" + s);
}

function renderEvents(s) {
  const t = $("events"), i = eventsBefore(s + 1), from = Math.max(0, i - 14);
  t.replaceChildren();
  const head = t.insertRow(); ["step", "t", "process", "event", "fields"].forEach(h => { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
  for (const e of doc.events.slice(from, i)) {
    const r = t.insertRow(); if (e.s === s) r.className = "now";
    const ln = doc.lanes[e.n];
    [e.s, e.t, ln.node + "/" + ln.name, e.v, e.f].forEach(v => { r.insertCell().textContent = v; });
  }
}

function renderNodes(views, f, s) {
  const box = $("nodes"), walEnd = part(f[4]);
  let max = 0;
  const endNum = lsnNum(walEnd);
  views.forEach(v => { for (const k in v.lsn) max = Math.max(max, v.lsn[k]); });
  max = Math.max(max, endNum) * 1.05;
  if (box.children.length !== views.length) {
    box.replaceChildren();
    views.forEach(v => {
      const d = document.createElement("div"); d.className = "node"; d.id = "node-" + v.head.name;
      d.innerHTML = `<h3></h3><svg class="axis"></svg><svg class="bgw"></svg><table class="procs"></table><div class="flush"></div><div class="slots"></div>`;
      box.appendChild(d);
    });
  }
  views.forEach((v, i) => {
    const d = box.children[i], h = v.head;
    d.querySelector("h3").textContent = h.up ? `${h.name} ${h.role} mount=${h.mount} service=${h.service} bgw=${h.bgw}` : `${h.name} down (its last memory: bgw=${h.bgw})`;
    d.style.opacity = h.up ? 1 : 0.55;
    d.dataset.bgw = h.bgw;
    drawAxis(d.querySelector(".axis"), v.lsn, endNum, max);
    drawBGW(d.querySelector(".bgw"), doc, h.name, h.bgw, s);
    renderProcs(d.querySelector(".procs"), v, s);
    d.querySelector(".flush").innerHTML = "<b>flush list</b> " + (v.flush.length ? v.flush.map(e => `page ${e.page} oldest=${lsnText(e.oldest)}`).join(" &rarr; ") : "(empty)");
    const rows = v.slots.map(x => `${x.name} restart_lsn=${lsnText(x.restart)} active=${x.active}`);
    d.querySelector(".slots").innerHTML = "<b>slots</b> " + (rows.length ? rows.join("; ") : "(none)") + (h.statRepl ? "<br><b>pg_stat_replication</b> " + esc(h.statRepl.replace(/^n\d+ pg_stat_replication: /, "")) : "");
  });
}

// renderProcs lists the node's processes: can it run now, and what it
// last did (its latest event at or before the cursor).
function renderProcs(t, v, s) {
  t.replaceChildren();
  for (const p of v.procs) {
    const e = lastEvent(laneIndex[v.head.name + "/" + p.name], s);
    const r = t.insertRow();
    r.insertCell().textContent = p.name;
    const st = r.insertCell(); st.textContent = p.state; st.className = "st-" + p.state;
    r.insertCell().textContent = e ? `${e.v} @${e.s}` : "";
  }
}

function lsnNum(t) { const [a, b] = t.split("/"); return parseInt(a, 16) * 4294967296 + parseInt(b, 16); }
function esc(t) { return t.replace(/[&<>]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]); }

function renderPages(f) {
  $("walend").textContent = part(f[4]);
  const t = $("pages"), pages = part(f[3]) || [];
  t.replaceChildren();
  const head = t.insertRow(); ["page", "on storage", "oracle", ""].forEach(h => { head.insertCell().textContent = h; });
  for (const p of pages) {
    const r = t.insertRow();
    [p.page, lsnText(p.storage), lsnText(p.oracle), p.cmp].forEach(v => { r.insertCell().textContent = v; });
    r.className = "cmp-" + p.cmp;
  }
}

// Forks: the enabled steps (another scheduler choice) and the faults one
// could inject here. In server mode each is a link to the branch's URL.
function renderForks(views, f, s) {
  const box = $("forks"), cands = part(f[2]) || [];
  box.replaceChildren();
  const server = doc.mode === "server";
  $("forknote").textContent = server ? "" : "This is a saved page: forking re-simulates, which needs the server (promotesim view).";
  const add = (label, action, refuse) => {
    const b = document.createElement("button");
    b.textContent = label; b.dataset.action = action; b.disabled = !server || !!refuse;
    if (refuse) b.title = refuse;
    b.addEventListener("click", () => {
      const path = (doc.path ? doc.path + "," : "") + s + ":" + action;
      clearTimeout(V.urlTimer); // "back" returns to this step of this page
      writeStep(s);
      location.href = "?path=" + encodeURIComponent(path) + "#step=" + s;
    });
    box.appendChild(b);
  };
  const h = document.createElement("div"); h.innerHTML = "<b>enabled steps</b> (run another one next):"; box.appendChild(h);
  if (cands.length < 2) box.appendChild(document.createTextNode(cands.length ? " only " + cands[0] + " " : " none "));
  else {
    // As view.Branch: a pick must cut the command running at s, and a
    // script can cut only a run or run-until.
    const inside = doc.cmds.find(c => c.from < s && s < c.to);
    const refuse = inside && !/^run(-until)?( |$)/.test(inside.text) ? `inside "${inside.text}", which a script cannot cut: pick at a command's end or inside a run` : "";
    if (refuse) box.appendChild(document.createTextNode(" (" + refuse + ")"));
    cands.forEach((c, i) => add(c.trim(), "pick." + i, refuse));
  }
  const h2 = document.createElement("div"); h2.innerHTML = "<b>faults</b>:"; box.appendChild(h2);
  views.forEach(v => {
    if (!v.head.up) return;
    const n = v.head.name;
    add("crash " + n, "crash." + n); add("stop " + n, "stop." + n); add("stop " + n + " immediate", "stopi." + n);
    ["write", "sync", "read"].forEach(op => add(`I/O error ${n} ${op}`, `io.${n}.${op}`));
    v.procs.filter(p => p.state !== "dead" && ["bgw", "startup", "bgwriter", "checkpointer", "walwriter", "walreceiver", "postmaster"].includes(p.name))
      .forEach(p => add(`pause ${n}/${p.name}`, `pause.${n}.${p.name}`));
  });
}

function renderBranch() {
  const b = $("branch");
  if (!doc.path) { b.textContent = "root run (no forks)"; return; }
  const forks = doc.path.split(",");
  let html = `<a href="?">root</a>`, acc = [];
  for (const fk of forks) { acc.push(fk); html += ` &rarr; <a href="?path=${encodeURIComponent(acc.join(","))}#step=${fk.split(":")[0]}">${esc(fk)}</a>`; }
  b.innerHTML = "<b>branch</b> " + html + (doc.notes && doc.notes.length ? "<br>" + doc.notes.map(esc).join("<br>") : "") + `<br><svg id="branchsvg"></svg>`;
  if (doc.parent) drawBranch($("branchsvg"), doc);
}

function nextEvent(dir) {
  const lane = +$("lane").value;
  if (dir > 0) {
    for (let i = eventsBefore(V.step + 1); i < doc.events.length; i++) if (doc.events[i].n === lane) return setStep(doc.events[i].s);
  } else {
    for (let i = eventsBefore(V.step) - 1; i >= 0; i--) if (doc.events[i].n === lane) return setStep(doc.events[i].s);
  }
}

function nextCmd(dir) {
  const c = cmdAt(V.step), i = doc.cmds.indexOf(c);
  const j = Math.max(0, Math.min(doc.cmds.length - 1, i + dir));
  setStep(dir > 0 ? doc.cmds[j].to : doc.cmds[j].from + 1);
}

function play() {
  if (V.timer) { clearInterval(V.timer); V.timer = null; $("play").textContent = "play"; return; }
  $("play").textContent = "pause";
  V.timer = setInterval(() => {
    if (V.step >= doc.last) return play();
    setStep(V.step + +$("speed").value);
  }, 100);
}

function exportScript() {
  const blob = new Blob([doc.script], { type: "text/plain" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "promotesim-" + (doc.path ? "branch" : "run") + ".txt";
  a.click();
}

function init() {
  $("title").textContent = doc.title;
  $("source").textContent = doc.source + "  (model " + doc.model + ", seed " + doc.seed + ")";
  const sl = $("slider"); sl.min = doc.first; sl.max = doc.last;
  sl.addEventListener("input", () => setStep(+sl.value));
  doc.lanes.forEach((ln, i) => { const o = document.createElement("option"); o.value = i; o.textContent = ln.node + "/" + ln.name; $("lane").appendChild(o); });
  $("first").onclick = () => setStep(doc.first);
  $("last").onclick = () => setStep(doc.last);
  $("back").onclick = () => setStep(V.step - 1);
  $("fwd").onclick = () => setStep(V.step + 1);
  $("play").onclick = play;
  $("nextev").onclick = () => nextEvent(1);
  $("prevev").onclick = () => nextEvent(-1);
  $("export").onclick = exportScript;
  const vb = $("violation");
  if (doc.violation) {
    $("violationbox").textContent = `VIOLATION of ${doc.violation.checker} at step ${doc.violation.step}: ${doc.violation.text}`;
    vb.onclick = () => setStep(doc.violation.step);
  } else { vb.disabled = true; vb.title = "this run has no violation"; }
  document.addEventListener("keydown", e => {
    if (e.target.tagName === "SELECT" || e.target.tagName === "INPUT" && e.target.type !== "range") return;
    const k = { ArrowRight: () => setStep(V.step + 1), l: () => setStep(V.step + 1), ArrowLeft: () => setStep(V.step - 1), h: () => setStep(V.step - 1),
      " ": play, n: () => nextEvent(1), p: () => nextEvent(-1), v: () => doc.violation && setStep(doc.violation.step),
      Home: () => setStep(doc.first), End: () => setStep(doc.last), "]": () => nextCmd(1), "[": () => nextCmd(-1) }[e.key];
    if (k) { e.preventDefault(); k(); }
  });
  renderBranch();
  const m = /step=(\d+)/.exec(location.hash);
  setStep(m ? +m[1] : doc.first);
  window.viewerReadyAt = performance.now();
  window.viewerReady = true;
}
init();
