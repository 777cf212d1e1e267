// hookline dashboard: the few things that need a script. Values are put
// into the page with textContent and SVG attributes only (never innerHTML).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
  "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1b9e77", "#d95f02"];

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmtMs(v) { return v === null || v === undefined ? "-" : Math.round(v) + " ms"; }
function triple(p) { return fmtMs(p.p50) + " / " + fmtMs(p.p95) + " / " + fmtMs(p.p99); }
function setText(id, v) { const e = document.getElementById(id); if (e) e.textContent = v; }

// Stacked bars: events per minute, one colour per event type.
function drawPerMinute(box, perMinute) {
  const types = [...new Set(perMinute.flatMap(([, m]) => Object.keys(m)))].sort();
  const colour = (t) => PALETTE[types.indexOf(t) % PALETTE.length];
  const W = 900, H = 220, L = 40, B = 24, T = 10;
  const max = Math.max(1, ...perMinute.map(([, m]) => Object.values(m).reduce((a, b) => a + b, 0)));
  // Legend rows: as many as the type names need.
  const rows = [];
  let row = [], width = L;
  for (const t of types) {
    const w = 24 + t.length * 7;
    if (width + w > W && row.length) { rows.push(row); row = []; width = L; }
    row.push([t, width]);
    width += w;
  }
  if (row.length) rows.push(row);
  const svg = el("svg", { viewBox: `0 0 ${W} ${H + 8 + rows.length * 16}`, role: "img", "aria-label": "events per minute by type" });
  const bw = (W - L) / Math.max(1, perMinute.length);
  for (let i = 0; i <= 4; i++) {
    const y = T + (H - B - T) * (1 - i / 4);
    svg.append(el("line", { x1: L, x2: W, y1: y, y2: y, class: "grid" }));
    svg.append(el("text", { x: L - 4, y: y + 4, "text-anchor": "end", class: "axis" }, String(Math.round(max * i / 4))));
  }
  perMinute.forEach(([minute, m], i) => {
    let y = H - B;
    for (const t of types) {
      const n = m[t] || 0;
      if (!n) continue;
      const h = (H - B - T) * n / max;
      y -= h;
      const r = el("rect", { x: L + i * bw + 1, y, width: Math.max(1, bw - 2), height: h, fill: colour(t) });
      r.append(el("title", {}, `${minute.slice(11, 16)} ${t}: ${n}`));
      svg.append(r);
    }
    if (i % 5 === 0) svg.append(el("text", { x: L + i * bw, y: H - 6, class: "axis" }, minute.slice(11, 16)));
  });
  rows.forEach((r, i) => {
    for (const [t, x] of r) {
      svg.append(el("rect", { x, y: H + 2 + i * 16, width: 10, height: 10, fill: colour(t) }));
      svg.append(el("text", { x: x + 14, y: H + 11 + i * 16, class: "axis" }, t));
    }
  });
  box.replaceChildren(svg);
}

// Lines: queue and DLQ depth samples taken while the page is open.
function drawDepths(box, samples) {
  const W = 900, H = 160, L = 40, T = 10, B = 20;
  const max = Math.max(2, ...samples.flatMap((s) => [s.q || 0, s.d || 0]));
  const svg = el("svg", { viewBox: `0 0 ${W} ${H + 20}`, role: "img", "aria-label": "queue and DLQ depth" });
  for (let i = 0; i <= 2; i++) {
    const y = T + (H - B - T) * (1 - i / 2);
    svg.append(el("line", { x1: L, x2: W, y1: y, y2: y, class: "grid" }));
    svg.append(el("text", { x: L - 4, y: y + 4, "text-anchor": "end", class: "axis" }, String(Math.round(max * i / 2))));
  }
  const step = (W - L) / Math.max(1, samples.length - 1);
  for (const [key, cls, label, lx] of [["q", "line-queue", "queue", L], ["d", "line-dlq", "DLQ", L + 80]]) {
    const pts = samples.map((s, i) => `${L + i * step},${T + (H - B - T) * (1 - (s[key] || 0) / max)}`).join(" ");
    svg.append(el("polyline", { points: pts, class: cls }));
    svg.append(el("line", { x1: lx, x2: lx + 16, y1: H + 10, y2: H + 10, class: cls }));
    svg.append(el("text", { x: lx + 20, y: H + 14, class: "axis" }, label));
  }
  box.replaceChildren(svg);
}

function startHealth(root) {
  const minutes = root.dataset.minutes || "30";
  const samples = [];
  async function tick() {
    try {
      const r = await fetch(`/ui/api/health?minutes=${encodeURIComponent(minutes)}`, { credentials: "same-origin" });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const h = await r.json();
      setText("total", String(h.total));
      setText("success-rate", h.success_rate === null ? "-" : h.success_rate.toFixed(1) + "%");
      setText("processing", triple(h.processing_ms));
      setText("e2e", triple(h.end_to_end_ms));
      setText("queue-depth", h.queue_depth === null ? "-" : String(h.queue_depth));
      setText("dlq-depth", h.dlq_depth === null ? "-" : String(h.dlq_depth));
      setText("updated", "updated " + h.now.slice(11, 19) + " UTC");
      samples.push({ q: h.queue_depth, d: h.dlq_depth });
      if (samples.length > 120) samples.shift();
      drawPerMinute(document.getElementById("per-minute"), h.per_minute);
      drawDepths(document.getElementById("depths"), samples);
    } catch (e) {
      setText("updated", "update failed: " + e.message);
    }
  }
  tick();
  setInterval(tick, 5000);
}

document.addEventListener("DOMContentLoaded", () => {
  const health = document.getElementById("health");
  if (health) startHealth(health);
  for (const b of document.querySelectorAll("button.toggle-all")) {
    b.addEventListener("click", () => {
      const all = [...document.querySelectorAll("ol.conversation details")];
      const open = !all.every((d) => d.open);
      all.forEach((d) => { d.open = open; });
      b.textContent = open ? "collapse all tool calls" : "expand all tool calls";
    });
  }
});

// A search hit links to its row (#msg-… or #tool-…): open the folded tool
// call it points at.
function openTarget() {
  if (!location.hash) return;
  const t = document.getElementById(decodeURIComponent(location.hash.slice(1)));
  const d = t && t.querySelector("details");
  if (d) { d.open = true; t.scrollIntoView({ block: "center" }); }
}
window.addEventListener("hashchange", openTarget);
document.addEventListener("DOMContentLoaded", openTarget);
