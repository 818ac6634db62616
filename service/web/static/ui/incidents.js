// Incidents: what failed, where on the diagram, the error, and retry (offered only to those
// who may retry incidents of that case type).
"use strict";
(() => {
  const { $, api, el, say, when, words, caps, mark } = UI;
  let viewer = null;

  async function load() {
    try {
      const page = await api("GET", `/incidents?status=${$("f-status").value}&limit=100`);
      $("list-error").textContent = "";
      $("incidents").replaceChildren(...page.items.map(item));
      $("empty").hidden = page.items.length > 0;
    } catch (err) { $("list-error").textContent = err.message; }
  }

  function item(i) {
    const mayRetry = i.status === "open" && caps.retry_case_types.includes(i.case_type);
    return el("li", { className: `card incident ${i.status}` },
      el("h2", {}, `${words(i.kind === "outbox" ? "delivery to another system" : "process step")} failed at `, el("code", {}, i.element_id || "?")),
      el("p", {}, el("a", { href: `/ui/cases/${i.case_id}` }, `${words(i.case_type)} · case ${i.case_id}`), ` · ${i.status} · opened ${when(i.created_at)}`, i.resolved_at ? ` · resolved ${when(i.resolved_at)}` : ""),
      el("p", { className: "error-text" }, i.message),
      el("div", { className: "actions" },
        el("button", { type: "button", className: "secondary", onclick: () => showWhere(i) }, "Show on diagram"),
        mayRetry ? el("button", { type: "button", onclick: (e) => retry(i, e.target) }, "Retry") : null,
        i.status === "open" && !mayRetry ? el("span", { className: "muted small" }, "Retrying needs one of the case type's owner groups.") : null));
  }

  async function retry(i, button) {
    button.disabled = true;
    try {
      const r = await api("POST", `/incidents/${i.id}/retry`);
      say(`Incident ${i.id} retried: it is ${r.status}; the case is ${r.case_status}.`);
    } catch (err) { say(`Retry refused: ${err.message}`); }
    await load();
  }

  async function showWhere(i) {
    const d = await api("GET", `/cases/${i.case_id}/diagram`);
    $("incident").hidden = false;
    $("incident-title").textContent = `Case ${i.case_id}: ${d.names[i.element_id] || i.element_id}`;
    if (!viewer) viewer = OmniflowViewer.viewer($("incident-diagram"));
    await viewer.importXML((await OmniflowViewer.withLayout(d.xml)).xml);
    viewer.get("canvas").zoom("fit-viewport");
    mark(viewer, { ...d.elements, ...(i.element_id ? { [i.element_id]: "incident" } : {}) });
    $("incident").scrollIntoView({ block: "nearest" });
  }

  $("f-status").addEventListener("change", load);
  load();
})();
