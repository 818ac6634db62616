// The analysts' workbench: open any deployed version of a process (bpmn-js modeler with
// Camunda's properties panel) or a decision file (dmn-js), validate it on the server (the fault
// drawn on its element), compare it with another version, see what a changed table would have
// decided for past cases (POST /decisions/{key}/what-if), and deploy it.
"use strict";
(() => {
  const { $, api, el, say, when, words, show, pct, caps } = UI;
  const key = document.querySelector(".workbench").dataset.key;
  const params = new URLSearchParams(location.search);
  const state = { kind: params.get("kind"), def: null, editor: null, dirty: false, overlays: [] };

  function message(text, kind = "") { $("wb-message").textContent = text; $("wb-message").className = `message ${kind}`; }
  function error(text) { $("wb-error").textContent = text || ""; }

  async function definition(version) {
    const q = new URLSearchParams();
    if (state.kind) q.set("kind", state.kind);
    if (version) q.set("version", version);
    try { return await api("GET", `/definitions/${encodeURIComponent(key)}?${q}`); } catch (err) {
      if (err.status === 404 && !state.kind) { state.kind = "dmn"; return definition(version); }
      throw err;
    }
  }

  async function open(version) {
    error("");
    let def;
    try { def = await definition(version); } catch (err) { error(err.status === 404 ? `Nothing named ${key} is deployed.` : err.message); return; }
    state.def = def; state.kind = def.kind;
    $("wb-title").textContent = `${def.name || words(def.key)} (${def.kind === "bpmn" ? "process" : "decisions"})`;
    $("version").replaceChildren(...def.versions.slice().reverse().map((v) => el("option", { value: v.version, selected: v.version === def.version },
      `v${v.version}${v.version === def.versions.at(-1).version ? " (live)" : ""} · ${when(v.deployed_at)} · ${v.deployed_by}`)));
    $("compare-with").replaceChildren(el("option", { value: "" }, "—"), ...def.versions.filter((v) => v.version !== def.version).reverse()
      .map((v) => el("option", { value: v.version }, `v${v.version}`)));
    $("impact").hidden = !(caps.deploy && def.kind === "dmn");
    $("deploy").hidden = !caps.deploy;
    $("validate").hidden = !caps.workbench;
    $("properties").hidden = def.kind !== "bpmn";
    await load(def.source);
    state.dirty = false;
    message(`Version ${def.version} of ${def.file}, deployed ${when(def.deployed_at)} by ${def.deployed_by}.` +
      (state.laidOut ? " The file had no layout; this one was drawn automatically and is saved with your next deploy." : "") +
      ((def.notes || []).length ? ` Not run by the engine: ${def.notes.join("; ")}.` : ""));
  }

  async function load(xml) {
    const first = !state.editor;
    if (first) {
      state.editor = state.kind === "bpmn" ? OmniflowBpmn.modeler($("canvas"), $("properties")) : OmniflowDmn.editor($("canvas"));
    }
    clearFaults();
    if (state.kind === "bpmn") {
      const drawn = await OmniflowBpmn.withLayout(xml);
      await state.editor.importXML(drawn.xml);
      state.laidOut = drawn.laidOut;
      const canvas = state.editor.get("canvas");
      canvas.zoom("fit-viewport");
      canvas.scroll({ dx: 70, dy: 0 });        // clear of the palette on the left
      if (first) state.editor.on("commandStack.changed", changed);
    } else {
      await state.editor.importXML(xml);
      views();
    }
  }

  function changed() {
    if (!state.dirty) { state.dirty = true; message("Changed, not deployed yet. Validate, check the impact, then deploy.", "warn"); }
  }

  // dmn-js: one view per decision table (and the DRD); open the first table, offer the others.
  function views() {
    const modeler = state.editor;
    const all = modeler.getViews();
    const tables = all.filter((v) => v.type === "decisionTable" || v.type === "literalExpression");
    const bar = el("nav", { className: "views", "aria-label": "Decisions in this file" }, all.map((v) =>
      el("button", { type: "button", className: "secondary", "aria-pressed": String(v === modeler.getActiveView()),
        onclick: async () => { await modeler.open(v); views(); } }, v.type === "drd" ? "Diagram (DRD)" : v.element.name || v.element.id)));
    const old = document.querySelector(".views");
    if (old) old.replaceWith(bar); else $("canvas").before(bar);
    if (modeler.getActiveView().type === "drd" && tables.length) { modeler.open(tables[0]).then(views); }
    const viewer = modeler.getActiveViewer();
    if (viewer && !viewer.__omniflowWatched) {
      viewer.__omniflowWatched = true;
      viewer.on("elements.changed", changed);
    }
  }

  async function xmlNow() { return (await state.editor.saveXML({ format: true })).xml; }

  function files(xml) {
    const form = new FormData();
    form.append("files", new Blob([xml], { type: "application/xml" }), state.def.file);
    return form;
  }

  // ---- validate, with the fault drawn on its element ----
  function clearFaults() {
    if (state.kind === "bpmn" && state.editor) {
      const canvas = state.editor.get("canvas"), overlays = state.editor.get("overlays");
      for (const { id, overlay } of state.overlays) { canvas.removeMarker(id, "state-incident"); overlays.remove(overlay); }
    }
    for (const n of document.querySelectorAll(".fault")) n.classList.remove("fault");
    state.overlays = [];
  }

  function drawFault(problem) {
    const element = problem.element;
    if (!element) return false;
    if (state.kind === "bpmn") {
      const registry = state.editor.get("elementRegistry");
      if (!registry.get(element)) return false;
      state.editor.get("canvas").addMarker(element, "state-incident");
      const overlay = state.editor.get("overlays").add(element, { position: { bottom: 8, left: 0 },
        html: el("div", { className: "fault-note", role: "note" }, problem.detail) });
      state.overlays.push({ id: element, overlay });
      return true;
    }
    const cells = document.querySelectorAll(`[data-row-id="${CSS.escape(element)}"], [data-col-id="${CSS.escape(element)}"], [data-element-id="${CSS.escape(element)}"]`);
    for (const c of cells) c.classList.add("fault");
    return cells.length > 0;
  }

  async function validate() {
    clearFaults(); error("");
    try {
      const r = await api("POST", "/validations", undefined, { form: files(await xmlNow()) });
      message(`Valid: ${r.definitions.map((d) => `${d.kind} ${d.key}`).join(", ")}.`, "ok");
      return true;
    } catch (problem) {
      const drawn = drawFault(problem);
      error(`${problem.detail}${drawn ? " (marked on the diagram)" : ""}`);
      return false;
    }
  }

  // ---- compare two versions ----
  async function compare() {
    const other = $("compare-with").value;
    clearCompare();
    if (!other) return;
    const theirs = await definition(other);
    const mine = await xmlNow();
    $("compare").hidden = false;
    if (state.kind === "bpmn") {
      const moddle = state.editor.get("moddle");
      const [a, b] = await Promise.all([moddle.fromXML(theirs.source), moddle.fromXML(mine)]);
      const d = OmniflowBpmn.diff(a.rootElement, b.rootElement);
      const canvas = state.editor.get("canvas"), registry = state.editor.get("elementRegistry");
      const list = [];
      for (const [kind, items] of [["added", d._added], ["changed", d._changed], ["removed", d._removed], ["moved", d._layoutChanged]]) {
        for (const id of Object.keys(items || {})) {
          if (registry.get(id) && kind !== "removed") canvas.addMarker(id, `diff-${kind}`);
          const name = (items[id].model || items[id]).name || "";
          list.push(el("li", { className: `diff-${kind}` }, `${kind}: ${name ? `${name} ` : ""}(${id})`,
            kind === "changed" ? ` — ${Object.keys(items[id].attrs || {}).join(", ")}` : ""));
        }
      }
      $("compare-body").replaceChildren(el("p", {}, `This version against v${other}: ${list.length || "no"} difference${list.length === 1 ? "" : "s"}.`), el("ul", { className: "diff" }, list));
    } else {
      $("compare-body").replaceChildren(...dmnDiff(parseRules(theirs.source), parseRules(mine), other, columns(mine)));
    }
  }

  function clearCompare() {
    $("compare").hidden = true;
    if (state.kind === "bpmn" && state.editor) {
      const canvas = state.editor.get("canvas");
      for (const e of state.editor.get("elementRegistry").getAll()) for (const k of ["added", "changed", "moved"]) canvas.removeMarker(e.id, `diff-${k}`);
    }
  }

  function parseRules(xml) {
    const doc = new DOMParser().parseFromString(xml, "application/xml");
    const out = {};
    for (const rule of doc.getElementsByTagNameNS("*", "rule")) {
      const table = rule.closest("decision");
      out[rule.getAttribute("id")] = { decision: table ? table.getAttribute("name") || table.getAttribute("id") : "",
        cells: [...rule.children].filter((c) => /inputEntry|outputEntry/.test(c.localName)).map((c) => c.textContent.trim()) };
    }
    return out;
  }

  // Column titles of the decision tables of a file, by rule id's table.
  function columns(xml) {
    const doc = new DOMParser().parseFromString(xml, "application/xml");
    const table = doc.getElementsByTagNameNS("*", "decisionTable")[0];
    if (!table) return [];
    return [...table.children].filter((c) => c.localName === "input" || c.localName === "output")
      .map((c) => c.getAttribute("label") || c.getAttribute("name") || c.textContent.trim());
  }

  function dmnDiff(before, after, other, titles = []) {
    const rows = [];
    for (const [id, r] of Object.entries(after)) {
      const b = before[id];
      if (!b) rows.push(el("tr", { className: "diff-added" }, el("th", { scope: "row" }, `added ${id}`), r.cells.map((c) => el("td", {}, c))));
      else if (b.cells.join("\u0000") !== r.cells.join("\u0000")) rows.push(el("tr", { className: "diff-changed" }, el("th", { scope: "row" }, `changed ${id}`),
        r.cells.map((c, i) => el("td", { className: c !== b.cells[i] ? "changed-cell" : "" }, c !== b.cells[i] ? [el("del", {}, b.cells[i] ?? ""), " → ", el("ins", {}, c)] : c))));
    }
    for (const [id, b] of Object.entries(before)) if (!after[id]) rows.push(el("tr", { className: "diff-removed" }, el("th", { scope: "row" }, `removed ${id}`), b.cells.map((c) => el("td", {}, c))));
    return [el("p", {}, `This version against v${other}: ${rows.length || "no"} rule${rows.length === 1 ? "" : "s"} differ.`),
      rows.length ? el("div", { className: "table-wrap" }, el("table", { className: "dmn diff" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Rule"), titles.map((t) => el("th", { scope: "col" }, t)))),
        el("tbody", {}, rows))) : null];
  }

  // ---- impact of a changed table on past cases (issue 14's what-if replay) ----
  async function impact() {
    const panel = $("impact-panel"), body = $("impact-body");
    panel.hidden = false;
    body.replaceChildren(el("p", { className: "muted" }, "Replaying past decisions against this version…"));
    try {
      const r = await api("POST", `/decisions/${encodeURIComponent(key)}/what-if`, undefined, { form: files(await xmlNow()) });
      body.replaceChildren(...impactView(r));
      panel.scrollIntoView({ block: "nearest" });
    } catch (problem) {
      if (problem.status === 404 && /not found/i.test(problem.title || "") && !problem.element && problem.type === "/problems/http-404") {
        body.replaceChildren(el("p", { className: "note" }, "The impact replay is not available on this server yet."));
      } else {
        drawFault(problem);
        body.replaceChildren(el("p", { className: "error" }, problem.detail || problem.message));
      }
    }
  }

  // The answer of POST /decisions/{key}/what-if (issue 14): replayed, changed, transitions
  // by output and from -> to, rules that start or stop matching, examples (case ids).
  function caseLinks(ids) {
    return (ids || []).slice(0, 5).flatMap((id, i) => [i ? ", " : "", el("a", { href: `/ui/cases/${id}` }, `case ${id}`)]);
  }

  function impactView(r) {
    const out = [el("p", { className: "big" }, `${show(r.changed)} of ${show(r.replayed)} past decisions would change`,
      r.replayed ? el("span", { className: "muted small" }, ` (${pct(r.changed_share ?? (r.changed || 0) / r.replayed)})`) : null)];
    if (r.deployed && r.deployed.version) out.push(el("p", { className: "muted small" }, `Compared with v${r.deployed.version}, on ${show((r.history || {}).selected)} recorded decisions${(r.history || {}).truncated ? " (the newest ones; more exist)" : ""}${r.failed ? `; ${r.failed} could not be evaluated` : ""}.`));
    if ((r.transitions || []).length) {
      out.push(el("div", { className: "table-wrap" }, el("table", { className: "impact" },
        el("caption", {}, "What would change"),
        el("thead", {}, el("tr", {}, ["Output", "From", "To", "Decisions", "Examples"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, r.transitions.map((t) => el("tr", {}, el("th", { scope: "row" }, words(t.output)),
          el("td", {}, show(t.from)), el("td", {}, show(t.to)), el("td", { className: "num" }, show(t.count)), el("td", {}, caseLinks(t.case_ids))))))));
    }
    const rules = r.rules || {};
    const ruleItems = [["starts matching", rules.started_matching], ["stops matching", rules.stopped_matching]]
      .flatMap(([what, list]) => (list || []).map((x) => el("li", {}, `Rule ${x.row ?? x.rule_id} ${what} for ${show(x.count)} decision${x.count === 1 ? "" : "s"}`, x.case_ids && x.case_ids.length ? [": ", caseLinks(x.case_ids)] : "")));
    if (ruleItems.length) out.push(el("ul", { className: "rules" }, ruleItems));
    for (const w of r.warnings || []) out.push(el("p", { className: "note warn" }, `${w.message} (${w.count})`));
    return out;
  }

  // ---- deploy ----
  async function deploy() {
    if (!(await validate())) return;
    const button = $("deploy");
    button.disabled = true;
    try {
      const r = await api("POST", "/deployments", undefined, { form: files(await xmlNow()) });
      const made = r.created.filter((c) => c.key === key);
      if (!made.length) { message("Nothing changed: the deployed version is the same.", "ok"); return; }
      state.dirty = false;
      say(`Deployed ${key} version ${made[0].version}.`);
      await open(made[0].version);
      message(`Deployed as version ${made[0].version}; new cases use it now.`, "ok");
    } catch (problem) {
      drawFault(problem);
      error(problem.detail || problem.message);
    } finally { button.disabled = false; }
  }

  async function download() {
    const link = el("a", { href: URL.createObjectURL(new Blob([await xmlNow()], { type: "application/xml" })), download: state.def.file });
    document.body.append(link); link.click(); link.remove();
  }

  $("version").addEventListener("change", (e) => {
    if (state.dirty && !confirm("Discard your changes and open another version?")) { e.target.value = state.def.version; return; }
    open(Number(e.target.value));
  });
  $("compare-with").addEventListener("change", () => compare().catch((err) => error(err.message)));
  $("validate").addEventListener("click", validate);
  $("impact").addEventListener("click", impact);
  $("deploy").addEventListener("click", deploy);
  $("download").addEventListener("click", download);
  window.addEventListener("beforeunload", (e) => { if (state.dirty) e.preventDefault(); });
  open(null);
})();
