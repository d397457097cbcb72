// Small DOM and API helpers for the inspector page. Text only ever goes in through textContent
// (request paths, headers and logs come from whoever sends requests to the edge).
"use strict";

const TOKEN = document.querySelector('meta[name="edgesim-token"]').content;
const SVG_NS = "http://www.w3.org/2000/svg";

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

async function api(path, options = {}) {
  const opts = { ...options, headers: { ...(options.headers || {}) } };
  if (opts.method && opts.method !== "GET") opts.headers["X-Edgesim-Token"] = TOKEN;
  if (opts.json !== undefined) {
    opts.body = JSON.stringify(opts.json);
    opts.headers["Content-Type"] = "application/json";
    delete opts.json;
  }
  const response = await fetch(path, opts);
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = text; }
  if (!response.ok) {
    const message = (body && (body.Message || body.message || (body.error && body.error.message))) || text;
    const error = new Error(`${response.status}: ${message}`);
    error.status = response.status;
    throw error;
  }
  return { body, headers: response.headers };
}

function table(columns, rows, rowAttrs) {
  return h("table", null,
    h("thead", null, h("tr", null, columns.map((c) => h("th", { class: c.num ? "num" : null, scope: "col" }, c.title)))),
    h("tbody", null, rows.map((row, i) => h("tr", rowAttrs ? rowAttrs(row, i) : null,
      columns.map((c) => h("td", { class: [c.num ? "num" : "", c.cls ? c.cls(row) : ""].join(" ").trim() || null }, c.cell(row)))))));
}

function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.filter((p) => p).map(([k, v]) => [h("dt", null, k), h("dd", null, v === null || v === undefined ? "—" : v)]));
}

function card(title, ...content) {
  return h("section", { class: "card", "aria-label": title }, h("h3", null, title), ...content);
}

function message(text, isError) {
  return h("div", { class: "message" + (isError ? " error" : ""), role: isError ? "alert" : "status" }, text);
}

function pretty(value) {
  return h("pre", null, value === null || value === undefined ? "—" : JSON.stringify(value, null, 2));
}

function time(ms) {
  if (!ms) return "—";
  const d = new Date(ms);
  return d.toISOString().slice(11, 23);
}

function statusClass(status) { return "s" + String(status)[0]; }

function fmtMs(ms) { return ms === null || ms === undefined ? "—" : (ms < 10 ? ms.toFixed(2) : ms.toFixed(1)) + " ms"; }

// A horizontal bar chart as SVG: [{label, value, title}], values ≥ 0.
function bars(items, { width = 520, row = 18, unit = "" } = {}) {
  const max = Math.max(1, ...items.map((i) => i.value));
  const labelW = 110, chartW = width - labelW - 60;
  const svg = s("svg", { width, height: items.length * row + 4, role: "img", "aria-label": items.map((i) => `${i.label}: ${i.value}${unit}`).join(", ") });
  items.forEach((item, i) => {
    const y = i * row + 2;
    const w = Math.max(item.value > 0 ? 1 : 0, (item.value / max) * chartW);
    svg.append(s("text", { x: 0, y: y + row - 6 }, item.label));
    svg.append(s("rect", { x: labelW, y: y + 2, width: w, height: row - 6, fill: "#5b8def", rx: 2 }, s("title", null, item.title || `${item.label}: ${item.value}${unit}`)));
    svg.append(s("text", { x: labelW + w + 4, y: y + row - 6 }, `${item.value}${unit}`));
  });
  return svg;
}
