// Integration engineers: find a message by control id, placer or Rx number or time, and read its story.
"use strict";

RX.page(() => {
  const { h } = RX;
  const form = document.getElementById("search-form");
  const table = document.getElementById("results");
  const story = document.getElementById("story");
  const body = document.getElementById("story-body");

  async function search(ev) {
    if (ev) ev.preventDefault();
    const params = new URLSearchParams();
    for (const el of form.elements) {
      if (!el.name || !el.value.trim()) continue;
      params.set(el.name, el.type === "datetime-local" ? RX.fromPharmacyTime(el.value) : el.value.trim());
    }
    history.replaceState(null, "", "?" + params);
    const r = await RX.api("GET", "/api/admin/messages?" + params);
    if (!r.ok) return RX.say(r.error, "error");
    table.hidden = false;
    table.tBodies[0].replaceChildren(...r.data.map((m) => h("tr", {},
      h("td", {}, RX.when(m.received_at)), h("td", {}, m.door), h("td", {}, m.sender || ""),
      h("td", {}, h("a", { href: "#story", onclick: (e) => { e.preventDefault(); open(m.id); } }, m.control_id || m.id)),
      h("td", {}, m.message_type || ""), h("td", {}, m.outcome))));
    RX.say(r.data.length + " message(s) found.", "ok");
  }

  const pre = (text, label) => h("pre", { class: "raw", tabindex: 0, "aria-label": label }, (text || "").replaceAll("\r", "\n"));
  const ms = (a, b) => (a && b ? Math.round(Date.parse(b) - Date.parse(a)) + " ms" : "");

  async function open(id, raw) {
    const r = await RX.api("GET", "/api/admin/messages/" + encodeURIComponent(id) + (raw ? "?raw=true" : ""));
    if (!r.ok) return RX.say(r.error, "error");
    const s = r.data;
    story.hidden = false;
    body.replaceChildren(
      h("dl", {}, ["door", "sender", "control_id", "message_type", "received_at", "outcome", "reason"].map((k) =>
        [h("dt", {}, k.replace("_", " ")), h("dd", {}, (k === "received_at" ? RX.when(s[k]) : s[k]) || "")])),
      h("h3", {}, "Raw message"),
      s.raw !== undefined ? pre(s.raw, "Raw message")
        : h("button", { type: "button", onclick: () => open(id, true) }, "Show raw message (patient details; this read is audited)"),
      h("h3", {}, "Answer sent"), pre(s.answer, "Answer sent"),
      h("h3", {}, "Commands"), h("ul", {}, s.commands.map((c) => h("li", {}, h("code", {}, c)))),
      ...s.prescriptions.flatMap((p) => [h("h3", {}, "Rx " + p.rx_number + " · now " + p.state),
        h("table", { class: "events" }, h("thead", {}, h("tr", {}, ["Event or command", "Target", "Created",
          "Published", "Relay delay", "Error"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, p.events.map((e) => h("tr", {}, h("td", {}, e.type), h("td", {}, e.target || ""),
            h("td", {}, RX.when(e.created_at)), h("td", {}, RX.when(e.published_at) || "not yet"),
            h("td", { class: "num" }, ms(e.created_at, e.published_at)), h("td", {}, e.error || "")))))]));
    story.focus();
  }

  story.tabIndex = -1;
  form.addEventListener("submit", search);
  const initial = new URLSearchParams(location.search);
  for (const [k, val] of initial) if (form.elements[k]) form.elements[k].value = val;
  if ([...initial].length) search();
});
