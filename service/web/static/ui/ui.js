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
    const svg = ["svg", "g", "rect", "text", "line", "path"].includes(tag);
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

  // A horizontal bar chart in HTML (it reflows on a phone and reads as a list): rows
  // [{label, values: [numbers]}], one colour per series, the figure written beside each bar.
  function barChart(rows, { series, max, format = show } = {}) {
    const names = series || ["value"];
    const top = max ?? Math.max(1e-9, ...rows.flatMap((r) => r.values.filter((v) => v != null)));
    const legend = names.length > 1 ? el("ul", { className: "legend" }, names.map((n, s) => el("li", {}, el("span", { className: `swatch s${s}` }), ` ${n}`))) : null;
    return el("figure", { className: "figure" }, legend, el("dl", { className: "bars" }, rows.map((row) => [
      el("dt", {}, row.label),
      el("dd", {}, row.values.map((v, s) => el("div", { className: "bar-row", title: `${row.label} · ${names[s]}: ${format(v)}` },
        el("span", { className: `bar s${s}`, style: `width: ${v == null ? 0 : Math.max(0.5, (100 * v) / top)}%` }),
        el("span", { className: "bar-value" }, names.length > 1 ? `${format(v)} ${names[s]}` : format(v)))))])));
  }

  // Signed contributions (a score's features): bars right of the axis raise it, left lower it.
  function divergingChart(rows, { format = show } = {}) {
    const top = Math.max(1e-9, ...rows.map((r) => Math.abs(r.value)));
    return el("figure", { className: "figure" }, el("dl", { className: "bars diverging" }, rows.map((r) => [
      el("dt", {}, r.label),
      el("dd", { title: `${r.label}: ${format(r.value)}` },
        el("span", { className: "half down" }, r.value < 0 ? el("span", { className: "bar down", style: `width: ${(100 * -r.value) / top}%` }) : null),
        el("span", { className: "half up" }, r.value >= 0 ? el("span", { className: "bar up", style: `width: ${(100 * r.value) / top}%` }) : null),
        el("span", { className: "bar-value" }, `${format(r.value)} ${r.value >= 0 ? "raises" : "lowers"}`))])));
  }

  // Mark elements of a bpmn-js diagram with a CSS class per state.
  function mark(viewer, states) {
    const canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
    for (const [id, state] of Object.entries(states)) if (registry.get(id)) canvas.addMarker(id, `state-${state}`);
  }

  return { $, api, el, say, when, due, ago, show, pct, words, money, caps, csrf, Problem, barChart, divergingChart, mark };
})();
