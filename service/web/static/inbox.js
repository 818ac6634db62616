// The approvers' inbox: a thin client of /api/v1 with a bearer token kept in sessionStorage.
// Every value from the API is put in the page with textContent (never innerHTML): case data
// comes from outside systems and must not become markup.
"use strict";

const KEY = "omniflow.token";
const $ = (id) => document.getElementById(id);
const PAGE = 20;
const state = { me: null, next: null, task: null, caseTypes: new Set() };

class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `HTTP ${status}`);
    Object.assign(this, body, { status });
  }
  get isPolicy() { return (this.type || "").endsWith("/problems/policy-violation"); }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`/api/v1${path}`, { method, headers,
    body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const problem = new Problem(res.status, data);
    if (res.status === 401) signOut("Your token is not valid (any more); sign in again.");
    throw problem;
  }
  return data;
}

// el("p", {className: "x"}, "text", child) builds an element; null children are skipped.
// role and aria-* are attributes; everything else is set as a property (onclick, textContent...).
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "role" || k.startsWith("aria-")) node.setAttribute(k, v); else node[k] = v;
  }
  for (const c of children.flat(Infinity)) if (c != null) node.append(c);
  return node;
}

function say(text) { $("status").textContent = text; }

// Disable the task's buttons while a request runs, so a double click cannot send it twice.
async function busy(request) {
  const buttons = [...document.querySelectorAll("#task button")];
  for (const b of buttons) b.disabled = true;
  try { return await request; } finally { for (const b of buttons) b.disabled = false; }
}

function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

function due(iso) {
  if (!iso) return "no due time";
  const mins = Math.round((new Date(iso) - Date.now()) / 60000);
  const span = Math.abs(mins) < 90 ? `${Math.abs(mins)} min` : Math.abs(mins) < 2880
    ? `${Math.round(Math.abs(mins) / 60)} h` : `${Math.round(Math.abs(mins) / 1440)} d`;
  return mins < 0 ? `overdue by ${span}` : `due in ${span}`;
}

function show(text) {
  if (text === null || text === undefined || text === "") return "—";
  return typeof text === "object" ? JSON.stringify(text) : String(text);
}

// ---- sign-in ----
async function signIn(token) {
  sessionStorage.setItem(KEY, token);
  try {
    state.me = await api("GET", "/users/me");
  } catch (err) {
    sessionStorage.removeItem(KEY);
    $("sign-in-error").textContent = err.status === 401 ? "That token is not valid." : err.message;
    return;
  }
  $("sign-in").hidden = true;
  $("sign-in-error").textContent = "";
  $("app").hidden = $("who").hidden = false;
  $("who-name").textContent = `Signed in as ${state.me.name}`;
  $("who-groups").textContent = `(${state.me.groups.join(", ") || "no groups"})`;
  const group = $("f-group");
  group.replaceChildren(el("option", { value: "", textContent: "any of mine" }),
    ...state.me.groups.map((g) => el("option", { value: g, textContent: g })));
  await loadTasks();
  route();
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  Object.assign(state, { me: null, next: null, task: null });
  $("app").hidden = $("who").hidden = true;
  $("sign-in").hidden = false;
  $("tasks").replaceChildren();
  $("task").replaceChildren(el("p", { className: "muted", textContent: "Choose a task from the inbox." }));
  $("sign-in-error").textContent = message || "";
  $("token").value = "";
  $("token").focus();
  if (message && location.hash) history.replaceState(null, "", location.pathname);
}

// ---- the inbox list ----
function query(cursor) {
  const form = new FormData($("filters"));
  const q = new URLSearchParams({ limit: PAGE });
  for (const name of ["case_type", "group"]) if (form.get(name)) q.set(name, form.get(name).trim());
  for (const name of ["overdue", "mine"]) if (form.get(name)) q.set(name, "true");
  if (cursor) q.set("cursor", cursor);
  return q.toString();
}

async function loadTasks(more) {
  $("list-error").textContent = "";
  let page;
  try {
    page = await api("GET", `/tasks?${query(more ? state.next : null)}`);
  } catch (err) {
    $("list-error").textContent = err.message;
    return;
  }
  if (!more) $("tasks").replaceChildren();
  for (const t of page.items) $("tasks").append(taskItem(t));
  state.next = page.next;
  $("more").hidden = !page.next;
  $("empty").hidden = $("tasks").children.length > 0;
  for (const t of page.items) state.caseTypes.add(t.case_type);
  $("case-types").replaceChildren(...[...state.caseTypes].sort().map((v) => el("option", { value: v })));
  markCurrent();
}

function taskItem(t) {
  const who = t.assignee ? `claimed by ${t.assignee}` : `for ${t.candidate_groups.join(", ") || "named users"}`;
  const link = el("a", { href: `#task/${t.id}` },
    el("strong", { textContent: t.name }),
    el("span", { className: "meta", textContent: `case ${t.case_id} · ${t.case_type}` }),
    el("span", { className: "meta" },
      el("span", { className: "due", textContent: due(t.due_at), title: t.due_at || "" }),
      ` · ${who}`));
  const li = el("li", { className: t.overdue ? "overdue" : "" }, link);
  li.dataset.id = t.id;
  return li;
}

function markCurrent() {
  for (const li of $("tasks").children) {
    const a = li.querySelector("a");
    if (state.task && String(state.task.id) === li.dataset.id) a.setAttribute("aria-current", "true");
    else a.removeAttribute("aria-current");
  }
}

// ---- one task ----
function route() {
  const m = /^#task\/(\d+)$/.exec(location.hash);
  if (m && state.me) openTask(Number(m[1]), true);
}

async function openTask(id, focus, notice) {
  const pane = $("task");
  try {
    state.task = await api("GET", `/tasks/${id}`);
  } catch (err) {
    state.task = null;
    pane.replaceChildren(el("p", { className: "error", role: "alert",
      textContent: err.status === 404 ? `Task ${id} does not exist or is not visible to you.` : err.message }));
    return;
  }
  markCurrent();
  const t = state.task;
  const heading = el("h2", { tabIndex: -1, textContent: t.name });
  const claimedByMe = t.status === "claimed" && t.assignee === state.me.name;
  const workable = t.status === "open" || claimedByMe;
  pane.replaceChildren(...[
    heading,
    el("p", { className: "muted" }, `Task ${t.id} · ${t.status}`,
      t.assignee ? ` · assigned to ${t.assignee}` : "",
      el("span", { className: t.due_at && new Date(t.due_at) < Date.now() && workable ? "due late" : "due",
        textContent: ` · ${due(t.due_at)}${t.due_at ? ` (${when(t.due_at)})` : ""}` })),
    notice ? el("p", { className: "ok", textContent: notice }) : null,
    el("div", { id: "task-error", role: "alert" }),
    caseContext(t.case, t.properties),
    actions(t, claimedByMe),
    taskForm(t, workable),
    el("h3", { textContent: "Timeline" }),
    el("label", { className: "check" }, el("input", { type: "checkbox", onchange: (e) => $("timeline").classList.toggle("quiet", !e.target.checked) }), " Show engine steps"),
    el("ol", { id: "timeline", className: "timeline quiet" })].filter(Boolean));
  if (focus) heading.focus();
  loadTimeline(t.case_id);
}

// The task's properties say what is being approved (action, amount): the approver must see them.
function caseContext(c, properties) {
  const dl = (pairs) => el("dl", null, pairs.map(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: show(v) })]));
  const props = Object.entries(properties || {});
  return el("div", { className: "context" },
    props.length ? el("div", { className: "asked" }, el("h3", { textContent: "This task" }), dl(props)) : null,
    el("div", null, el("h3", { textContent: `Case ${c.id}` }),
      dl([["Type", c.type], ["Priority", c.priority], ["Risk score", c.score == null ? null : c.score.toFixed(2)],
          ["Status", c.status], ["Submitted by", c.submitted_by]])),
    el("div", null, el("h3", { textContent: "Case data" }), dl(Object.entries(c.data || {}))));
}

function actions(t, claimedByMe) {
  const bar = el("div", { className: "actions" });
  if (t.status === "open") bar.append(el("button", { type: "button", textContent: "Claim", onclick: () => act(t, "claim") }));
  if (claimedByMe) bar.append(el("button", { type: "button", textContent: "Unclaim", onclick: () => act(t, "unclaim") }));
  if (t.status === "open" || claimedByMe) {
    const to = el("input", { id: "delegate-to", name: "to", required: true, autocomplete: "off", size: 14, "aria-describedby": "delegate-err" });
    const err = el("span", { id: "delegate-err", className: "error" });
    bar.append(el("form", { className: "delegate", onsubmit: (e) => { e.preventDefault(); act(t, "delegate", { to: to.value.trim() }); } },
      el("label", { htmlFor: "delegate-to", textContent: "Delegate to (user name)" }), to,
      el("button", { type: "submit", textContent: "Delegate" }), err));
  }
  return bar;
}

async function act(t, action, body) {
  clearErrors();
  try {
    await busy(api("POST", `/tasks/${t.id}/${action}`, body === undefined ? {} : body));
  } catch (err) {
    if (action === "delegate" && err.field === "to") return fieldError("delegate-to", "delegate-err", err.detail) && focusFirstInvalid();
    return report(err);
  }
  const done = { claim: "Claimed.", unclaim: "Released to the group.", delegate: `Delegated to ${body && body.to}.` }[action];
  say(done);
  await loadTasks();
  await openTask(t.id, false, done);
}

// ---- the form, from the task's JSON Schema ----
function options(prop) {
  if (Array.isArray(prop.enum)) {
    const names = prop["x-enumNames"] || prop.enumNames || [];
    return prop.enum.map((v, i) => [v, names[i] || String(v)]);
  }
  const choices = prop.oneOf || prop.anyOf;
  if (Array.isArray(choices) && choices.every((c) => "const" in c)) return choices.map((c) => [c.const, c.title || String(c.const)]);
  return null;
}

function field(name, prop, required) {
  const id = `field-${name}`, hint = `hint-${name}`, err = `err-${name}`;
  const label = `${prop.title || name}${required ? " (required)" : ""}`;
  const described = [prop.description ? hint : null, err].filter(Boolean).join(" ");
  const extra = [prop.description ? el("span", { id: hint, className: "hint", textContent: prop.description }) : null,
    el("span", { id: err, className: "error" })];
  const choices = options(prop);
  if (prop.type === "boolean") {
    const radio = (value, text) => el("label", { className: "check" }, el("input", { type: "radio", name, value,
      checked: prop.default === (value === "true"), disabled: !!prop.readOnly }), ` ${text}`);
    return el("fieldset", { className: "field", "aria-describedby": described },
      el("legend", { textContent: label }), radio("true", "Yes"), radio("false", "No"), extra);
  }
  let input;
  if (choices) {
    input = el("select", { id, name }, el("option", { value: "", textContent: "Choose…" }),
      choices.map(([v, text], i) => el("option", { value: String(i), textContent: text, selected: prop.default === v })));
  } else if (prop.type === "integer" || prop.type === "number") {
    input = el("input", { id, name, type: "number", step: prop.type === "integer" ? "1" : "any", inputMode: prop.type === "integer" ? "numeric" : "decimal" });
    if (prop.minimum !== undefined) input.min = prop.minimum;
    if (prop.maximum !== undefined) input.max = prop.maximum;
  } else if (prop.format === "date") {
    input = el("input", { id, name, type: "date" });
  } else {
    input = prop.maxLength && prop.maxLength <= 120 ? el("input", { id, name }) : el("textarea", { id, name, rows: 2 });
    if (prop.maxLength) input.maxLength = prop.maxLength;
  }
  if (prop.default !== undefined && !choices) input.value = prop.default;
  input.required = required;
  input.disabled = !!prop.readOnly;
  input.setAttribute("aria-describedby", described);
  return el("div", { className: "field" }, el("label", { htmlFor: id, textContent: label }), input, extra);
}

function taskForm(t, workable) {
  const schema = t.form || {};
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  if (!workable) {
    return el("p", { className: "muted", textContent: t.status === "completed" ? `Completed by ${t.completed_by} at ${when(t.completed_at)}.`
      : t.status === "claimed" ? `Claimed by ${t.assignee}: only they can complete it.` : `This task is ${t.status}.` });
  }
  const form = el("form", { className: "card", noValidate: true, onsubmit: (e) => { e.preventDefault(); complete(t, form); } },
    el("h3", { textContent: "Complete the task" }),
    Object.entries(props).map(([name, prop]) => field(name, prop, required.has(name))),
    el("button", { type: "submit", className: "primary", textContent: "Complete" }));
  return form;
}

// Collect only the form's fields, typed as the schema says; empty optional fields are left out.
function collect(t, form) {
  const schema = t.form || {}, required = new Set(schema.required || []), data = {}, errors = {};
  for (const [name, prop] of Object.entries(schema.properties || {})) {
    if (prop.readOnly) continue;
    const choices = options(prop);
    let raw;
    if (prop.type === "boolean") raw = (form.querySelector(`input[name="${CSS.escape(name)}"]:checked`) || {}).value || "";
    else if ($(`field-${name}`).validity.badInput) { errors[name] = "Enter a number."; continue; }
    else raw = $(`field-${name}`).value.trim();
    if (raw === "") { if (required.has(name)) errors[name] = "Required."; continue; }
    if (choices) data[name] = choices[Number(raw)][0];
    else if (prop.type === "boolean") data[name] = raw === "true";
    else if (prop.type === "integer" || prop.type === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n) || (prop.type === "integer" && !Number.isInteger(n))) errors[name] = prop.type === "integer" ? "Enter a whole number." : "Enter a number.";
      else data[name] = n;
    } else data[name] = raw;
  }
  return { data, errors };
}

async function complete(t, form) {
  clearErrors();
  const { data, errors } = collect(t, form);
  if (Object.keys(errors).length) {
    for (const [name, message] of Object.entries(errors)) fieldError(`field-${name}`, `err-${name}`, message);
    return focusFirstInvalid();
  }
  let out;
  try {
    out = await busy(api("POST", `/tasks/${t.id}/complete`, { data }));
  } catch (err) {
    return report(err);
  }
  const done = `Task completed; the case is now ${out.case_status || "updated"}.`;
  say(done);
  await loadTasks();
  await openTask(t.id, false, done);
}

// ---- errors ----
function clearErrors() {
  for (const e of document.querySelectorAll("#task .ok")) e.remove();
  const box = $("task-error");
  if (box) { box.replaceChildren(); box.className = ""; }
  for (const e of document.querySelectorAll("#task .error")) e.textContent = "";
  for (const e of document.querySelectorAll("#task [aria-invalid]")) e.removeAttribute("aria-invalid");
}

// Show a message under one input; a form field's ids are field-<name> and err-<name>.
function fieldError(inputId, slotId, message) {
  const slot = $(slotId);
  if (!slot) return false;
  slot.textContent = message;
  const input = $(inputId) || slot.closest("fieldset");
  if (input) input.setAttribute("aria-invalid", "true");
  return true;
}

function focusFirstInvalid() {
  const first = document.querySelector("#task [aria-invalid]");
  if (first) (first.querySelector("input") || first).focus();
}

function report(err) {
  const box = $("task-error");
  if (err.status === 401) return;
  // Completion errors name the field as "data.<name>"; show each next to its input.
  const name = (f) => (f || "").replace(/^data\./, "");
  const shown = Array.isArray(err.errors) ? err.errors.filter((e) => fieldError(`field-${name(e.field)}`, `err-${name(e.field)}`, e.message)) : [];
  if (shown.length || (err.field && fieldError(`field-${name(err.field)}`, `err-${name(err.field)}`, err.detail))) return focusFirstInvalid();
  if (err.isPolicy) {
    if (state.task) loadTimeline(state.task.case_id);   // the denial is audited: show it
    box.className = "policy";
    box.replaceChildren(el("strong", { textContent: "Not allowed by policy" }),
      el("p", { textContent: err.detail }),
      err.rule ? el("p", { className: "muted", textContent: `Rule: ${err.rule}${err.limit !== undefined ? ` · your limit ${show(err.limit)}, amount ${show(err.amount)}` : ""}` }) : null);
  } else {
    box.className = "error-box";
    box.replaceChildren(el("strong", { textContent: err.title || "Error" }), el("p", { textContent: err.detail || err.message }));
  }
  box.tabIndex = -1;
  box.focus();
}

// ---- the case timeline ----
async function loadTimeline(caseId) {
  const list = $("timeline");
  try {
    const page = await api("GET", `/cases/${caseId}/timeline`);
    list.replaceChildren(...page.items.map((e) => el("li", { className: e.kind.startsWith("engine.") ? "engine" : "" },
      el("time", { dateTime: e.at, textContent: when(e.at) }),
      el("span", { className: "actor", textContent: e.actor }),
      el("span", null, el("code", { textContent: e.kind }), el("span", { className: "muted", textContent: summary(e) })))));
  } catch (err) {
    list.replaceChildren(el("li", { className: "muted", textContent: `Timeline not available: ${err.message}` }));
  }
}

// What a person did, in a few words: the data they submitted, or the reason given.
function summary(e) {
  const d = e.detail || {};
  if (e.kind === "task.completed" && d.data) return ` ${Object.entries(d.data).map(([k, v]) => `${k}=${show(v)}`).join(", ")}`;
  if (e.kind === "task.delegated" && d.after) return ` to ${d.after.assignee}`;
  return d.reason ? ` ${d.reason}` : "";
}

// ---- wiring ----
document.addEventListener("DOMContentLoaded", () => {
  $("sign-in").addEventListener("submit", (e) => { e.preventDefault(); signIn($("token").value.trim()); });
  $("sign-out").addEventListener("click", () => signOut("Signed out."));
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); loadTasks(); });
  $("filters").addEventListener("change", (e) => { if (e.target.type === "checkbox" || e.target.tagName === "SELECT") loadTasks(); });
  $("more").addEventListener("click", () => loadTasks(true));
  window.addEventListener("hashchange", route);
  if (sessionStorage.getItem(KEY)) signIn(sessionStorage.getItem(KEY));
  else signOut("");
});
