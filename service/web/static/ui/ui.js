// Shared by every page: calling /api/v1 with the session cookie (and its CSRF token for
// changes), building elements safely, words for times and amounts, and small SVG charts.
// Every value from the API goes into the page with textContent (never innerHTML): case data
// comes from outside systems and must not become markup.
"use strict";

const UI = (() => {
  const $ = (id) => document.getElementById(id);
  const caps = JSON.parse(($("caps") || { textContent: "{}" }).textContent);
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  class Problem extends Error {
    constructor(status, body) {
      super(body.detail || body.title || `HTTP ${status}`);
      Object.assign(this, body, { status });
    }
  }

  async function api(method, path, body, { form } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    let payload;
    if (form) payload = form;
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    const res = await fetch(`/api/v1${path}`, { method, headers, body: payload, credentials: "same-origin" });
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) {
      location.assign(`/ui/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
    if (!res.ok) throw new Problem(res.status, data);
    return data;
  }

  // el("p", {className: "x"}, "text", child): null children are skipped; role, aria-*, data-*
  // and for are attributes, everything else a property (onclick, textContent, hidden...).
  function el(tag, attrs, ...children) {
    const svg = ["svg", "g", "rect", "text", "line", "title", "path"].includes(tag);
    const node = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (svg || k === "role" || k === "for" || k.startsWith("aria-") || k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children.flat(Infinity)) if (c != null && c !== false) node.append(c);
    return node;
  }

  function say(text) { $("status").textContent = text; }

  function when(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  function span(mins) {
    const m = Math.abs(mins);
    return m < 90 ? `${Math.round(m)} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} d`;
  }

  function due(iso) {
    if (!iso) return "no due time";
    const mins = (new Date(iso) - Date.now()) / 60000;
    return mins < 0 ? `overdue by ${span(mins)}` : `due in ${span(mins)}`;
  }

  function ago(iso) { return iso ? `${span((Date.now() - new Date(iso)) / 60000)} ago` : "—"; }

  function show(value) {
    if (value === null || value === undefined || value === "") return "—";
    if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString() : value.toLocaleString(undefined, { maximumFractionDigits: 3 });
    if (typeof value === "boolean") return value ? "yes" : "no";
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  const pct = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 1000) / 10} %`);
  const words = (name) => String(name || "").replace(/_/g, " ");
  const money = (x) => (x === null || x === undefined ? "—" : Number(x).toLocaleString(undefined, { maximumFractionDigits: 2 }));

  // A horizontal bar chart: rows [{label, values: [numbers], note}], one colour per series.
  // Drawn as SVG with a <title> per bar and a visually hidden table for screen readers.
  function barChart(rows, { series, max, format = show, width = 520 } = {}) {
    const names = series || ["value"];
    const top = max ?? Math.max(1e-9, ...rows.flatMap((r) => r.values.filter((v) => v != null)));
    const labelW = 190, barH = 18, gap = 8, rowH = names.length * (barH + 3) + gap * 2;
    const plot = width - labelW - 95;
    const svg = el("svg", { viewBox: `0 0 ${width} ${Math.max(rowH * rows.length, 20)}`, class: "chart", role: "img", "aria-hidden": "true", preserveAspectRatio: "xMinYMin meet" });
    rows.forEach((row, i) => {
      const y0 = i * rowH + gap;
      svg.append(el("text", { x: labelW - 8, y: y0 + rowH / 2 + 4, "text-anchor": "end", class: "label" }, row.label));
      row.values.forEach((v, s) => {
        const y = y0 + s * (barH + 3);
        const w = v == null ? 0 : Math.max(1, (v / top) * plot);
        svg.append(el("rect", { x: labelW, y, width: w, height: barH, class: `bar s${s}` }, el("title", {}, `${row.label} · ${names[s]}: ${format(v)}`)));
        svg.append(el("text", { x: labelW + w + 5, y: y + barH - 4, class: "value" }, format(v)));
      });
    });
    const table = el("div", { className: "sr-only" }, el("table", {},
      el("thead", {}, el("tr", {}, el("th", {}, ""), names.map((n) => el("th", {}, n)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, el("th", {}, r.label), r.values.map((v) => el("td", {}, format(v))))))));
    const legend = names.length > 1 ? el("ul", { className: "legend" }, names.map((n, s) => el("li", {}, el("span", { className: `swatch s${s}` }), ` ${n}`))) : null;
    return el("figure", { className: "figure" }, legend, svg, table);
  }

  // Signed contributions (e.g. a score's features): bars left or right of a zero line.
  function divergingChart(rows, { format = show, width = 560 } = {}) {
    const top = Math.max(1e-9, ...rows.map((r) => Math.abs(r.value)));
    const labelW = 220, barH = 18, gap = 8, mid = labelW + (width - labelW) / 2, half = (width - labelW) / 2 - 50;
    const svg = el("svg", { viewBox: `0 0 ${width} ${rows.length * (barH + gap) + gap}`, class: "chart", role: "img", "aria-hidden": "true" });
    svg.append(el("line", { x1: mid, x2: mid, y1: 0, y2: rows.length * (barH + gap) + gap, class: "axis" }));
    rows.forEach((r, i) => {
      const y = gap + i * (barH + gap), w = (Math.abs(r.value) / top) * half;
      const x = r.value >= 0 ? mid : mid - w;
      svg.append(el("text", { x: labelW - 8, y: y + barH - 3, "text-anchor": "end", class: "label" }, r.label));
      svg.append(el("rect", { x, y, width: Math.max(1, w), height: barH, class: r.value >= 0 ? "bar up" : "bar down" }, el("title", {}, `${r.label}: ${format(r.value)}`)));
      svg.append(el("text", { x: r.value >= 0 ? x + w + 4 : x - 4, y: y + barH - 3, "text-anchor": r.value >= 0 ? "start" : "end", class: "value" }, format(r.value)));
    });
    const table = el("div", { className: "sr-only" }, el("table", {}, el("tbody", {}, rows.map((r) => el("tr", {}, el("th", {}, r.label), el("td", {}, format(r.value)))))));
    return el("figure", { className: "figure" }, svg, table);
  }

  // Mark elements of a bpmn-js diagram with a CSS class per state.
  function mark(viewer, states) {
    const canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
    for (const [id, state] of Object.entries(states)) if (registry.get(id)) canvas.addMarker(id, `state-${state}`);
  }

  return { $, api, el, say, when, due, ago, show, pct, words, money, caps, csrf, Problem, barChart, divergingChart, mark };
})();
