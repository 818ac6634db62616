// Operations: the KPIs of GET /kpis as charts, and the same figures as a CSV download.
"use strict";
(() => {
  const { $, api, el, pct, words, show } = UI;
  let data = null;

  async function load() {
    try {
      data = await api("GET", `/kpis?days=${$("days").value}`);
      $("kpi-error").textContent = "";
      draw();
    } catch (err) { $("kpi-error").textContent = err.message; }
  }

  function total(list, key) { return list.reduce((s, x) => s + (x[key] || 0), 0); }

  function draw() {
    const closed = total(data.cycle_time, "closed");
    const met = total(data.sla, "met"), missed = total(data.sla, "missed");
    const autoClosed = total(data.auto_resolution, "closed"), auto = total(data.auto_resolution, "automatic");
    const open = total(data.open_tasks, "total"), esc = total(data.escalations, "escalations");
    $("tiles").replaceChildren(
      tile("Cases closed", show(closed)), tile("SLA met", met + missed ? pct(met / (met + missed)) : "—"),
      tile("Resolved automatically", autoClosed ? pct(auto / autoClosed) : "—"),
      tile("Escalations", show(esc)), tile("Open tasks", show(open)));
    const empty = (box, rows, chart) => $(box).replaceChildren(rows.length ? chart() : el("p", { className: "muted" }, "Nothing in this window."));
    empty("chart-cycle", data.cycle_time.filter((r) => r.closed), () => UI.barChart(
      data.cycle_time.filter((r) => r.closed).map((r) => ({ label: words(r.case_type), values: [r.p50_hours, r.p90_hours] })),
      { series: ["p50", "p90"], format: (v) => (v == null ? "—" : `${v.toFixed(1)} h`) }));
    empty("chart-sla", data.sla.filter((r) => r.attainment !== null), () => UI.barChart(
      data.sla.filter((r) => r.attainment !== null).map((r) => ({ label: words(r.case_type), values: [r.attainment] })),
      { max: 1, format: pct }));
    empty("chart-auto", data.auto_resolution.filter((r) => r.closed), () => UI.barChart(
      data.auto_resolution.filter((r) => r.closed).map((r) => ({ label: words(r.case_type), values: [r.rate] })), { max: 1, format: pct }));
    empty("chart-esc", data.escalations.filter((r) => r.cases_opened), () => UI.barChart(
      data.escalations.filter((r) => r.cases_opened).map((r) => ({ label: words(r.case_type), values: [r.escalations] })), { format: show }));
    const bands = data.open_tasks.length ? Object.keys(data.open_tasks[0].by_age) : [];
    empty("chart-open", data.open_tasks, () => UI.barChart(
      data.open_tasks.map((r) => ({ label: words(r.group), values: bands.map((b) => r.by_age[b]) })), { series: bands, format: show }));
    empty("chart-drift", data.model_drift, () => el("div", {}, UI.barChart(
      data.model_drift.map((r) => ({ label: words(r.model), values: [r.score_psi, r.worst_feature_psi] })),
      { series: ["score", "worst feature"], max: Math.max(0.3, ...data.model_drift.flatMap((r) => [r.score_psi || 0, r.worst_feature_psi || 0])), format: (v) => (v == null ? "not enough data" : v.toFixed(3)) }),
      el("p", { className: "muted small" }, "Above 0.2 the population has shifted: retrain or review the model.")));
  }

  function tile(label, value) { return el("div", { className: "tile" }, el("span", { className: "tile-value" }, value), el("span", { className: "tile-label" }, label)); }

  function csv() {
    const rows = [["kpi", "case_type_or_group", "measure", "value"]];
    const add = (kpi, list, key, fields) => list.forEach((r) => fields.forEach((f) => rows.push([kpi, r[key], f, r[f]])));
    add("cycle_time", data.cycle_time, "case_type", ["closed", "p50_hours", "p90_hours"]);
    add("sla", data.sla, "case_type", ["met", "missed", "open_overdue", "attainment"]);
    add("auto_resolution", data.auto_resolution, "case_type", ["closed", "automatic", "rate"]);
    add("escalations", data.escalations, "case_type", ["escalations", "cases_escalated", "cases_opened", "rate"]);
    data.open_tasks.forEach((r) => Object.entries(r.by_age).forEach(([band, n]) => rows.push(["open_tasks", r.group, band, n])));
    add("model_drift", data.model_drift, "model", ["version", "rows", "score_psi", "worst_feature_psi"]);
    const text = rows.map((r) => r.map((v) => { const s = v === null || v === undefined ? "" : String(v); return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; }).join(",")).join("\r\n") + "\r\n";
    const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `omniflow-kpis-${data.window.days}d-${data.window.until.slice(0, 10)}.csv` });
    document.body.append(link); link.click(); link.remove();
  }

  $("days").addEventListener("change", load);
  $("csv").addEventListener("click", () => data && csv());
  load();
})();
