// Identity conflicts: compare the two profiles side by side, then link them or keep them apart.
// Read on demand, not polled: every read of the list is an audited read of patient details.
"use strict";

RX.page(() => {
  const { h } = RX;
  const list = document.getElementById("q-identity-conflicts");
  const ROWS = [["Family name", "family_name", "name"], ["Given name", "given_name", "name"],
    ["Birth date", "birth_date", "birth_date"], ["Sex", "sex", "sex"], ["Address", "address", null],
    ["Phone", "phone", null]];
  const ids = (p) => (p ? p.identifiers : []).map((i) => i.value + (i.system ? " (" + i.system + ")" : "")).join(", ");
  const value = (p, key) => (p && p[key]) || "—";

  function compare(item) {
    const rows = ROWS.map(([label, key, field]) =>
      h("tr", { class: item.fields.includes(field) ? "differs" : null }, h("th", { scope: "row" }, label),
        h("td", {}, value(item.existing_patient, key)), h("td", {}, value(item.new_patient, key))));
    rows.push(h("tr", {}, h("th", { scope: "row" }, "Identifiers"), h("td", {}, ids(item.existing_patient)),
      h("td", {}, ids(item.new_patient))));
    return h("table", { class: "compare" }, h("thead", {}, h("tr", {}, h("td", {}),
      h("th", { scope: "col" }, "Profile on file"), h("th", { scope: "col" }, "Profile of the new order"))),
      h("tbody", {}, rows));
  }

  function render(item) {
    const reasonId = "reason-" + item.id;
    const form = h("form", { class: "actions" },
      h("div", {}, h("label", { for: reasonId }, "Reason"), h("input", { id: reasonId, required: true, maxlength: 500 })),
      h("button", { type: "submit", value: "link", class: "primary" }, "Link: one person"),
      h("button", { type: "submit", value: "keep_apart" }, "Keep apart: two people"));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const decision = ev.submitter ? ev.submitter.value : "keep_apart";
      const body = { decision, reason: document.getElementById(reasonId).value.trim() };
      const r = await RX.act(form, "POST", "/api/identity-conflicts/" + encodeURIComponent(item.id) + "/decision",
        body, decision === "link" ? "Linked the two profiles." : "Kept the two profiles apart.");
      if (r.ok || r.status === 409) refresh();
    });
    const from = item.principal || item.source;
    return h("li", { class: "item" },
      h("div", { class: "item-head" }, h("strong", {}, "Differs: " + item.fields.join(", ").replaceAll("_", " ")),
        h("span", {}, "from " + from), item.identifier ? h("span", {}, "number " + item.identifier.value) : null,
        h("span", { class: "age", title: RX.when(item.created_at) }, RX.since(item.created_at))),
      compare(item), form);
  }

  async function refresh() {
    const r = await RX.api("GET", "/api/identity-conflicts?status=open");
    if (!r.ok) return RX.say(r.error, "error");
    RX.reconcile(list, r.data, (i) => i.id, render);
  }

  document.getElementById("identity-refresh").addEventListener("click", refresh);
  refresh();
});
