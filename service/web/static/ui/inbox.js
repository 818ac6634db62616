// The inbox: open tasks with what a person triages by (priority, risk, value, reference, due),
// sortable and filterable; a task with its case context, the explanation of the score and the
// routing, the four-eyes and authority preview before the form, and the server's form errors
// on the field they are about. New work is fetched every 20 seconds.
"use strict";
(() => {
  const { $, api, el, say, due, when, show, pct, words, money, caps } = UI;
  const layout = document.querySelector(".inbox-layout");
  const state = { items: [], next: null, sort: { key: "due", dir: 1 }, known: null, task: null };
  const PRIORITY = { P1: 1, P2: 2, P3: 3, P4: 4 };
  const REFRESH_MS = 20000;

  // ---- the list ----
  function query() {
    const f = new FormData($("filters"));
    const q = new URLSearchParams({ limit: "100" });
    if (f.get("group")) q.set("group", f.get("group"));
    if (f.get("overdue")) q.set("overdue", "true");
    if (f.get("mine")) q.set("mine", "true");
    return q;
  }

  async function load({ quiet } = {}) {
    try {
      const page = await api("GET", `/tasks?${query()}`);
      const before = state.known;
      state.items = page.items; state.next = page.next;
      state.known = new Set(page.items.map((t) => t.id));
      if (before && quiet) {
        const fresh = page.items.filter((t) => !before.has(t.id)).length;
        if (fresh) { $("fresh").hidden = false; $("fresh").textContent = `${fresh} new`; say(`${fresh} new task${fresh > 1 ? "s" : ""} arrived`); }
      }
      $("list-error").textContent = "";
      render();
    } catch (err) { $("list-error").textContent = err.message; }
  }

  const sortValue = {
    priority: (t) => PRIORITY[t.case.priority] ?? 9, name: (t) => (t.name || "").toLowerCase(),
    score: (t) => -(t.case.score ?? -1), value: (t) => -(t.case.value ?? -1),
    ref: (t) => t.case.external_ref || "", due: (t) => (t.due_at ? Date.parse(t.due_at) : Infinity),
  };

  function visible() {
    const f = new FormData($("filters"));
    const text = (f.get("text") || "").toLowerCase().trim(), prio = f.get("priority");
    const key = sortValue[state.sort.key];
    return state.items
      .filter((t) => !prio || t.case.priority === prio)
      .filter((t) => !text || [t.name, t.case_type, t.case.external_ref, `case ${t.case_id}`].join(" ").toLowerCase().includes(text))
      .sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : a.id - b.id) * state.sort.dir; });
  }

  function render() {
    const rows = visible();
    const body = $("tasks").tBodies[0];
    body.replaceChildren(...rows.map((t) => {
      const link = el("a", { href: `/ui/tasks/${t.id}`, onclick: (e) => { e.preventDefault(); openTask(t.id, true); } }, t.name || t.element_id);
      return el("tr", { className: t.id === state.task ? "selected" : "", "data-task": t.id },
        el("td", {}, t.case.priority ? el("span", { className: `prio ${t.case.priority}` }, t.case.priority) : "—"),
        el("td", {}, link, el("div", { className: "muted small" }, `${words(t.case_type)} · case ${t.case_id}${t.status === "claimed" ? ` · claimed by ${t.claimed_by}` : ""}`)),
        el("td", { className: "num", "data-label": "Risk" }, t.case.score == null ? "—" : pct(t.case.score)),
        el("td", { className: "num", "data-label": "Value" }, money(t.case.value)),
        el("td", { "data-label": "Ref." }, t.case.external_ref || "—"),
        el("td", { className: t.overdue ? "overdue" : "" }, due(t.due_at)));
    }));
    $("empty").hidden = rows.length > 0;
    for (const b of document.querySelectorAll("th button")) {
      const th = b.parentElement;
      th.setAttribute("aria-sort", b.dataset.sort === state.sort.key ? (state.sort.dir > 0 ? "ascending" : "descending") : "none");
    }
  }

  function groups() {
    const select = $("f-group");
    for (const g of caps.groups) select.append(el("option", { value: g }, words(g)));
  }

  // ---- one task ----
  function closeTask() {
    state.task = null;
    layout.classList.remove("showing-task");
    history.pushState({}, "", "/ui/inbox");
    $("task").replaceChildren(el("p", { className: "muted" }, "Choose a task from the inbox."));
    render();
    $("inbox-title").scrollIntoView();
  }

  async function openTask(id, push) {
    state.task = id;
    layout.classList.add("showing-task");
    if (push) history.pushState({ task: id }, "", `/ui/tasks/${id}`);
    render();
    const pane = $("task");
    pane.replaceChildren(el("p", { className: "muted" }, "Loading…"));
    try {
      const task = await api("GET", `/tasks/${id}`);
      const kase = await api("GET", `/cases/${task.case_id}`).catch(() => null);
      pane.replaceChildren(...taskView(task, kase));
      pane.focus();
    } catch (err) {
      pane.replaceChildren(el("p", { className: "error", role: "alert" }, err.status === 404 ? "This task is gone or not yours to see." : err.message));
    }
  }

  function taskView(task, kase) {
    const c = task.case;
    const head = el("header", { className: "task-head" },
      el("button", { type: "button", className: "secondary back", onclick: closeTask }, "← Back to the inbox"),
      el("h2", {}, task.name || task.element_id),
      el("p", { className: "muted" }, `${words(c.type)} · `, el("a", { href: `/ui/cases/${c.id}` }, `case ${c.id}`),
        c.external_ref ? ` · ${c.external_ref}` : "", ` · ${task.status === "completed" ? `completed by ${task.completed_by}` : due(task.due_at)}`));
    const context = el("section", { className: "context", "aria-label": "Case context" },
      el("dl", { className: "kv" }, Object.entries(c.data || {}).map(([k, v]) => [el("dt", {}, words(k)), el("dd", {}, show(v))])),
      kase ? explanation(kase) : null,
      task.properties && task.properties.action ? el("p", { className: "note" }, `This approves a ${words(task.properties.action)} of ${money(task.properties.amount)}.`) : null);
    return [head, policyNote(task), context, actions(task)].filter(Boolean);
  }

  function explanation(kase) {
    const parts = [];
    const score = kase.decisions.find((d) => d.kind === "score");
    if (score && score.contributions) {
      parts.push(el("h3", {}, `Why the risk is ${pct(score.score)}`),
        el("p", { className: "muted small" }, `${words(score.model)} v${score.model_version}: what pushed the score up (right) or down (left)`),
        UI.divergingChart(score.contributions.map((x) => ({ label: `${words(x.feature)} = ${show(x.value)}`, value: x.contribution })), { format: (v) => (v > 0 ? "+" : "") + v.toFixed(2) }));
    }
    for (const d of kase.decisions.filter((x) => x.kind === "decision")) {
      const rules = Object.values(d.matched_rules || {}).flat().map((r) => `rule ${r.row}`).join(", ");
      parts.push(el("p", { className: "decision-line" }, el("strong", {}, `${words(d.definition_key)} v${d.definition_version}`), rules ? `, ${rules}: ` : ": ",
        Object.entries(d.outputs || {}).map(([k, v]) => `${words(k)} ${show(v)}`).join(", ")));
    }
    return parts.length ? el("div", { className: "explanation" }, el("h3", { className: "sr-only" }, "Explanation"), parts) : null;
  }

  function policyNote(task) {
    if (task.status === "completed") return el("p", { className: "note" }, `Done: ${show(task.result)}`);
    if (!caps.work_tasks) return el("p", { className: "note" }, "You can read this task; your role does not work tasks.");
    const p = task.policy || {};
    if (p.allowed) return null;
    const why = p.rule === "four-eyes" ? "Four-eyes rule" : p.rule === "authority" ? "Authority limit" : "Read only";
    return el("p", { className: "note warn", role: "note" }, el("strong", {}, `${why}: `), p.detail || "you cannot complete this task", ". Someone else has to do it.");
  }

  function actions(task) {
    if (task.status === "completed" || !caps.work_tasks || !(task.policy || {}).allowed) return null;
    const mine = task.status === "claimed" && task.claimed_by === caps.name;
    const claimedByOther = task.status === "claimed" && !mine;
    const box = el("div", { className: "actions" });
    if (claimedByOther) {
      box.append(el("p", { className: "note" }, `Claimed by ${task.claimed_by}.`));
      return box;
    }
    if (!mine) {
      box.append(el("button", { type: "button", onclick: () => act(task.id, "claim") }, "Claim"));
      return box;
    }
    box.append(form(task), el("button", { type: "button", className: "secondary", onclick: () => act(task.id, "unclaim") }, "Unclaim"));
    return box;
  }

  async function act(id, what) {
    try {
      await api("POST", `/tasks/${id}/${what}`);
      say(what === "claim" ? "Claimed: it is yours now." : "Released back to the group.");
      await load(); await openTask(id, false);
    } catch (err) { say(err.message); await openTask(id, false); }
  }

  // ---- the form, from the task's JSON Schema ----
  function form(task) {
    const schema = task.form || {};
    const props = schema.properties || {};
    const required = new Set(schema.required || []);
    const f = el("form", { className: "task-form", noValidate: true });
    const err = el("p", { className: "error", role: "alert", id: "form-error" });
    for (const [name, p] of Object.entries(props)) f.append(field(name, p, required.has(name)));
    const generic = schema["x-omniflow-form"] === "generic";
    const extra = el("div", { className: "extra-variables" });
    if (generic) {
      // A modeler's form kept outside the file: any variables, as Camunda's tasklist sends them.
      f.append(el("fieldset", { className: "field" }, el("legend", {}, "Other variables"),
        el("p", { className: "muted small" }, "This step's form is not in the process file; add the variables it asks for. Values are read as numbers, true/false or JSON when they look like one, else as text."),
        extra, el("button", { type: "button", className: "secondary", onclick: () => extra.append(variableRow()) }, "Add a variable")));
    }
    f.append(err, el("button", { type: "submit" }, "Complete"));
    f.onsubmit = async (e) => {
      e.preventDefault();
      clearErrors(f); err.textContent = "";
      const data = Object.assign(generic ? collectExtra(extra) : {}, collect(f, props));
      const button = f.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const done = await api("POST", `/tasks/${task.id}/complete`, { data });
        say(`Completed. The case is ${done.case_status}.`);
        state.task = null; history.pushState({}, "", "/ui/inbox"); layout.classList.remove("showing-task");
        $("task").replaceChildren(el("p", { className: "note ok" }, `Task completed; `, el("a", { href: `/ui/cases/${task.case_id}` }, `see case ${task.case_id}`), "."));
        await load();
      } catch (problem) {
        button.disabled = false;
        showProblem(f, err, problem, props);
      }
    };
    return f;
  }

  function field(name, p, required) {
    const id = `fld-${name}`, label = (p.title || words(name)) + (required ? " (required)" : "");
    const hint = el("p", { className: "field-error", id: `${id}-error` });
    let input;
    if (p.type === "boolean") {
      const group = el("fieldset", { className: "field radios", "data-field": name },
        el("legend", {}, label),
        el("label", {}, el("input", { type: "radio", name, value: "true", required }), " Yes"),
        el("label", {}, el("input", { type: "radio", name, value: "false" }), " No"), hint);
      return group;
    }
    if (p.enum) {
      input = el("select", { id, name, required, "aria-describedby": hint.id },
        el("option", { value: "" }, "Choose…"),
        p.enum.map((v, i) => el("option", { value: String(v) }, (p["x-enumNames"] || [])[i] || words(v))));
    } else if (p.type === "integer" || p.type === "number") {
      input = el("input", { id, name, type: "number", inputMode: p.type === "integer" ? "numeric" : "decimal", step: p.type === "integer" ? "1" : "any", required, "aria-describedby": hint.id });
      if (p.minimum !== undefined && Math.abs(p.minimum) < 1e15) input.min = p.minimum;
      if (p.maximum !== undefined && Math.abs(p.maximum) < 1e15) input.max = p.maximum;
    } else if ((p.maxLength || 0) > 200 || name === "note" || name === "comment") {
      input = el("textarea", { id, name, rows: 3, required, "aria-describedby": hint.id });
    } else {
      input = el("input", { id, name, type: p.format === "date" ? "date" : "text", required, "aria-describedby": hint.id });
    }
    const range = [p.minimum, p.maximum].every((x) => x !== undefined && Math.abs(x) < 1e15) ? `${money(p.minimum)} to ${money(p.maximum)}` : null;
    return el("div", { className: "field", "data-field": name }, el("label", { for: id }, label), input,
      range ? el("p", { className: "muted small" }, `From ${range}.`) : null, hint);
  }

  function variableRow() {
    const n = document.querySelectorAll(".extra-variables .variable").length + 1;
    return el("div", { className: "variable" },
      el("label", { for: `var-name-${n}` }, "Name"), el("input", { id: `var-name-${n}`, className: "var-name", type: "text", autocomplete: "off" }),
      el("label", { for: `var-value-${n}` }, "Value"), el("input", { id: `var-value-${n}`, className: "var-value", type: "text", autocomplete: "off" }));
  }

  function typed(raw) {
    if (/^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)$/.test(raw) || /^[\[{"]/.test(raw)) {
      try { return JSON.parse(raw); } catch (e) { return raw; }
    }
    return raw;
  }

  function collectExtra(box) {
    const data = {};
    for (const row of box.querySelectorAll(".variable")) {
      const name = row.querySelector(".var-name").value.trim();
      if (name) data[name] = typed(row.querySelector(".var-value").value.trim());
    }
    return data;
  }

  function collect(f, props) {
    const data = {};
    for (const [name, p] of Object.entries(props)) {
      if (p.type === "boolean") {
        const checked = f.querySelector(`input[name="${CSS.escape(name)}"]:checked`);
        if (checked) data[name] = checked.value === "true";
        continue;
      }
      const raw = f.elements[name] ? f.elements[name].value.trim() : "";
      if (raw === "") continue;
      data[name] = p.type === "integer" || p.type === "number" ? Number(raw) : raw;
    }
    return data;
  }

  function clearErrors(f) {
    for (const n of f.querySelectorAll(".field-error")) n.textContent = "";
    for (const n of f.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
  }

  // jsonschema's messages, said for people.
  function inWords(message, title) {
    let m;
    if ((m = /is a required property/.exec(message))) return `${title} is needed.`;
    if ((m = /is less than the minimum of (\S+)/.exec(message))) return `${title} must be at least ${m[1]}.`;
    if ((m = /is greater than the maximum of (\S+)/.exec(message))) return `${title} can be at most ${m[1]}.`;
    if (/is not one of/.exec(message)) return `Choose one of the offered values for ${title}.`;
    if (/is not of type/.exec(message)) return `${title} has the wrong kind of value.`;
    if (/should not be valid|is not allowed for/.exec(message)) return `${title} cannot be accepted now.`;
    return message;
  }

  function showProblem(f, err, problem, props) {
    const list = problem.errors && problem.errors.length ? problem.errors : problem.field ? [{ field: problem.field, message: problem.detail }] : [];
    let placed = false;
    for (const e of list) {
      const name = (e.field || "").split(".").pop();
      const box = f.querySelector(`[data-field="${CSS.escape(name)}"]`);
      if (!box) continue;
      const title = (props[name] && props[name].title) || words(name);
      const text = e === list[0] && problem.errors ? inWords(e.message, title) : e.message;
      box.querySelector(".field-error").textContent = problem.errors ? inWords(e.message, title) : text;
      const input = box.querySelector("input, select, textarea");
      if (input) { input.setAttribute("aria-invalid", "true"); if (!placed) input.focus(); }
      placed = true;
    }
    if (!placed) err.textContent = problem.status === 403 ? problem.detail : problem.detail || "That did not work; try again.";
    else err.textContent = "Please correct the marked field.";
  }

  // ---- wiring ----
  document.querySelector("#tasks thead").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-sort]");
    if (!b) return;
    state.sort = { key: b.dataset.sort, dir: state.sort.key === b.dataset.sort ? -state.sort.dir : 1 };
    render();
  });
  $("filters").addEventListener("input", (e) => { if (["text", "priority"].includes(e.target.name)) render(); else load(); });
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  $("fresh").addEventListener("click", () => { $("fresh").hidden = true; });
  window.addEventListener("popstate", () => {
    const m = /\/ui\/tasks\/(\d+)/.exec(location.pathname);
    if (m) openTask(Number(m[1]), false); else { state.task = null; layout.classList.remove("showing-task"); $("task").replaceChildren(el("p", { className: "muted" }, "Choose a task from the inbox.")); render(); }
  });
  groups();
  load().then(() => { if (layout.dataset.task) openTask(Number(layout.dataset.task), false); });
  setInterval(() => { if (!document.hidden) load({ quiet: true }); }, REFRESH_MS);
})();
