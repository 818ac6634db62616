// The case view: the process diagram with the path taken (completed, waiting, failed), the
// timeline in words, each decision with its matched rows shown in the table, and the risk
// score's contributions as a chart.
"use strict";
(() => {
  const { $, api, el, show, pct, words, money, when, mark } = UI;
  const caseId = Number(document.querySelector(".case-page").dataset.case);

  async function main() {
    let kase;
    try { kase = await api("GET", `/cases/${caseId}`); } catch (err) {
      $("case-error").textContent = err.status === 404 ? "This case does not exist or is not yours to see." : err.message;
      return;
    }
    $("case-title").textContent = `${words(kase.type)} · case ${kase.id}`;
    $("case-status").textContent = kase.status;
    $("case-status").className = `badge status-${kase.status}`;
    $("case-summary").textContent = [kase.priority && `priority ${kase.priority}`, kase.external_ref,
      `submitted by ${kase.submitted_by} ${when(kase.created_at)}`, kase.closed_at && `closed ${when(kase.closed_at)}`].filter(Boolean).join(" · ");
    $("case-data").replaceChildren(...Object.entries(kase.data || {}).flatMap(([k, v]) => [el("dt", {}, words(k)), el("dd", {}, show(v))]));
    score(kase);
    const [diagram, timeline] = await Promise.all([
      api("GET", `/cases/${caseId}/diagram`).catch((e) => ({ error: e })),
      api("GET", `/cases/${caseId}/timeline`).catch((e) => ({ error: e, items: [] }))]);
    drawDiagram(diagram);
    drawTimeline(timeline.items || []);
    await decisions(kase);
  }

  function score(kase) {
    const s = kase.decisions.find((d) => d.kind === "score");
    if (!s) { $("score").replaceChildren(el("p", { className: "muted" }, "This case type is not scored.")); return; }
    $("score").replaceChildren(
      el("p", { className: "big" }, pct(s.score), el("span", { className: "muted small" }, ` ${words(s.model)} v${s.model_version}`)),
      el("p", { className: "muted small" }, "Contributions of each feature (log-odds): right raises the risk, left lowers it."),
      UI.divergingChart((s.contributions || []).map((c) => ({ label: `${words(c.feature)} = ${show(c.value)}`, value: c.contribution })), { format: (v) => (v > 0 ? "+" : "") + v.toFixed(2) }));
  }

  async function drawDiagram(d) {
    if (d.error) { $("diagram").replaceChildren(el("p", { className: "error" }, d.error.message)); return; }
    const viewer = OmniflowViewer.viewer($("diagram"));
    try {
      const drawn = await OmniflowViewer.withLayout(d.xml);
      await viewer.importXML(drawn.xml);
      if (drawn.laidOut) $("diagram").after(el("p", { className: "muted small" }, "The process file has no layout of its own; this one was drawn automatically."));
      viewer.get("canvas").zoom("fit-viewport");
      mark(viewer, d.elements);
    } catch (err) { $("diagram").append(el("p", { className: "error" }, `The diagram cannot be drawn: ${err.message}`)); }
    $("diagram").setAttribute("aria-label", `Process ${d.definition.key} version ${d.definition.version}: ` +
      d.path.map((id) => d.names[id] || id).join(", then "));
    $("path").replaceChildren(...d.path.map((id) => el("li", { className: `state-${d.elements[id] || "completed"}` }, d.names[id] || words(id),
      d.elements[id] && d.elements[id] !== "completed" ? ` (${d.elements[id] === "active" ? "waiting now" : "failed"})` : "")));
    for (const [id, s] of Object.entries(d.elements)) if (s !== "completed" && !d.path.includes(id)) {
      $("path").append(el("li", { className: `state-${s}` }, `${d.names[id] || words(id)} (${s === "active" ? "waiting now" : "failed"})`));
    }
  }

  // ---- timeline in words ----
  const taskNames = {};
  function sentence(e) {
    const d = e.detail || {};
    switch (e.kind) {
      case "case.submitted": return d.timer_start || d.due
        ? `Started by its timer${d.timer_start ? ` “${d.timer_start}”` : ""}, due ${when(d.due)}, process version ${d.definition_version}`
        : `Submitted by ${e.actor}${d.external_ref ? ` (${d.external_ref})` : ""}, process version ${d.definition_version}`;
      case "case.scored": return `Risk scored ${pct(d.probability)} by ${words(d.model)} v${d.version}`;
      case "engine.decision_evaluated": {
        const r = d.record || {};
        const rows = Object.values(r.matched_rules || {}).flat().map((m) => m.row);
        const out = Object.entries(d.result || r.outputs || {}).map(([k, v]) => (/_hours$/.test(k) ? `${show(v)} h` : words(show(v))));
        return `${r.definition_key || d.decision} v${r.definition_version ?? "?"}, ${rows.length ? `rule ${rows.join(", ")}` : "no rule matched"}: ${out.join(", ")}`;
      }
      case "engine.gateway_taken": return `${d.element_name || d.element_id}: ${d.flow_name ? `“${d.flow_name}”` : `went to ${d.target}`}`;
      case "engine.script_run": return `Ran “${d.element_name || d.element_id}”`;
      case "engine.task_ready": return null;
      case "engine.task_completed": return null;
      case "engine.timer_set": return `Timer “${d.timer || d.element_name}” set for ${when(d.due)}`;
      case "engine.timer_fired": return `Timer “${d.timer || d.element_name}” fired`;
      case "engine.message_waiting": return `Waiting for message “${d.message}”`;
      case "engine.message_received": return `Message “${d.message}” received`;
      case "engine.connector_called": return `Called ${d.connector} (${d.element_name || d.element_id})`;
      case "engine.process_completed": return "Process finished";
      case "engine.process_cancelled": return "Process cancelled";
      case "engine.message_sent": return `Message “${d.message}” sent (${d.element_name || d.element_id})`;
      case "engine.external_task_created": return `Waiting for a worker on “${d.topic}” (${d.element_name || d.element_id})`;
      case "engine.external_task_completed": return `A worker completed “${d.element_name || d.element_id}”${d.worker ? ` (${d.worker})` : ""}`;
      case "engine.bpmn_error_thrown": return `Error “${d.code || d.error_code || "?"}” thrown at ${d.element_name || d.element_id}${d.message ? `: ${d.message}` : ""}`;
      case "engine.compensation_started": return `Compensation started at “${d.element_name || d.element_id}”`;
      case "engine.signal_waiting": return `Waiting for signal “${d.signal}”`;
      case "engine.condition_waiting": return `Waiting until ${d.condition} (${d.element_name || d.element_id})`;
      case "engine.task_cancelled": return `“${d.element_name || d.element_id}” cancelled`;
      case "engine.error": return `Failed at ${d.element_name || d.element_id || "the process"}: ${d.message || d.error || d.detail || ""}`;
      case "task.created": taskNames[d.task] = d.name; return `Task “${d.name}” for ${(d.candidate_groups || []).map(words).join(", ") || (d.candidate_users || []).join(", ") || "—"}`;
      case "task.claimed": return `Claimed by ${e.actor}`;
      case "task.unclaimed": return `Released by ${e.actor}`;
      case "task.delegated": return `Delegated by ${e.actor} to ${(d.after || {}).assignee}`;
      case "task.completed": return `${e.actor} completed “${taskNames[d.task] || d.element_id}”: ${Object.entries(d.data || {}).map(([k, v]) => `${words(k)} ${show(v)}`).join(", ") || "no data"}`;
      case "task.withdrawn": return `Task “${taskNames[d.task] || d.element_id}” withdrawn`;
      case "policy.denied": return `Refused to ${e.actor}: ${d.reason}`;
      case "incident.opened": return `Incident: ${d.message || d.error || "a step failed"}`;
      case "incident.resolved": return `Incident resolved by ${e.actor}`;
      case "case.completed": return "Case completed";
      case "case.cancelled": return `Cancelled by ${e.actor}: ${d.reason}`;
      case "connector.delivered": return `Delivered to ${d.connector || "the other system"}`;
      case "connector.failed": return `Delivery failed: ${d.error || ""}`;
      default: return words(e.kind);
    }
  }

  function drawTimeline(items) {
    const list = $("timeline");
    list.replaceChildren(...items.map((e) => {
      const text = sentence(e);
      return text === null ? null : el("li", {}, el("time", { dateTime: e.at }, when(e.at)), el("span", { className: "actor" }, e.actor), el("span", {}, text));
    }).filter(Boolean));
  }

  // ---- decisions with the matched rows shown in the table ----
  const tables = {};
  async function table(key, version) {
    const id = `${key}@${version}`;
    if (!tables[id]) tables[id] = api("GET", `/definitions/${encodeURIComponent(key)}?kind=dmn&version=${version}`).then((d) => parseDmn(d.source));
    return tables[id];
  }

  function parseDmn(xml) {
    const doc = new DOMParser().parseFromString(xml, "application/xml");
    const out = {};
    for (const dt of doc.getElementsByTagNameNS("*", "decisionTable")) {
      const decision = dt.parentElement;
      const text = (n) => (n ? n.textContent.trim() : "");
      const inputs = [...dt.getElementsByTagNameNS("*", "input")].map((i) => i.getAttribute("label") || text(i.getElementsByTagNameNS("*", "text")[0]));
      const outputs = [...dt.getElementsByTagNameNS("*", "output")].map((o) => o.getAttribute("label") || o.getAttribute("name"));
      const rules = [...dt.getElementsByTagNameNS("*", "rule")].map((r) => ({
        id: r.getAttribute("id"),
        cells: [...r.children].filter((c) => /inputEntry|outputEntry/.test(c.localName)).map((c) => text(c.getElementsByTagNameNS("*", "text")[0])),
        note: text([...r.children].find((c) => c.localName === "description")),
      }));
      out[dt.getAttribute("id")] = { name: decision.getAttribute("name") || decision.getAttribute("id"), inputs, outputs, rules, hitPolicy: dt.getAttribute("hitPolicy") || "UNIQUE" };
    }
    return out;
  }

  async function decisions(kase) {
    const box = $("decisions");
    const list = kase.decisions.filter((d) => d.kind === "decision");
    if (!list.length) { box.replaceChildren(el("p", { className: "muted" }, "No decision tables were evaluated.")); return; }
    box.replaceChildren();
    for (const d of list) {
      const section = el("article", { className: "decision" },
        el("h3", {}, `${words(d.definition_key)} v${d.definition_version}`),
        el("p", {}, "Inputs: ", Object.entries(d.inputs || {}).map(([k, v]) => `${words(k)} ${show(v)}`).join(", ")),
        el("p", {}, "Outputs: ", el("strong", {}, Object.entries(d.outputs || {}).map(([k, v]) => `${words(k)} ${show(v)}`).join(", "))));
      box.append(section);
      try {
        const parsed = await table(d.definition_key, d.definition_version);
        for (const [tableId, matches] of Object.entries(d.matched_rules || {})) {
          const t = parsed[tableId];
          if (!t) continue;
          const hit = new Set(matches.map((m) => m.rule_id));
          section.append(el("div", { className: "table-wrap" }, el("table", { className: "dmn" },
            el("caption", {}, `${t.name} (hit policy ${t.hitPolicy}); matched: ${matches.map((m) => `rule ${m.row}`).join(", ") || "none"}`),
            el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "#"), t.inputs.map((i) => el("th", { scope: "col", className: "in" }, i)), t.outputs.map((o) => el("th", { scope: "col", className: "out" }, o)))),
            el("tbody", {}, t.rules.map((r, i) => el("tr", { className: hit.has(r.id) ? "matched" : "", "aria-label": hit.has(r.id) ? `rule ${i + 1}, matched` : undefined },
              el("th", { scope: "row" }, hit.has(r.id) ? `▶ ${i + 1}` : String(i + 1)), r.cells.map((c) => el("td", {}, c || "-"))))))));
        }
      } catch (err) { section.append(el("p", { className: "muted" }, `The table cannot be shown: ${err.message}`)); }
    }
  }

  main();
})();
