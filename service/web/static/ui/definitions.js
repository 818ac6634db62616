// The deployed definitions an analyst can open in the workbench.
"use strict";
(() => {
  const { $, api, el, when, words } = UI;
  api("GET", "/definitions").then((page) => {
    const items = page.items.filter((d) => d.kind === "bpmn" || d.kind === "dmn");
    $("defs").tBodies[0].replaceChildren(...items.map((d) => el("tr", {},
      el("td", {}, el("a", { href: `/ui/definitions/${encodeURIComponent(d.key)}?kind=${d.kind}` }, d.name || words(d.key)), el("div", { className: "muted small" }, d.file)),
      el("td", {}, d.kind === "bpmn" ? "process" : "decisions"),
      el("td", { className: "num" }, `v${d.version}`),
      el("td", {}, `${when(d.deployed_at)} by ${d.deployed_by}`))));
  }).catch((err) => { $("list-error").textContent = err.message; });
})();
