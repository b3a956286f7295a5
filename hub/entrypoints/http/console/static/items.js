// Building blocks shared by the work and verification pages: a queue item's header, form fields, picks, label.
"use strict";

const Items = (() => {
  const { h } = RX;
  let serial = 0;

  function field(labelText, attrs) {
    const id = "f" + ++serial;
    return h("div", { class: "field" }, h("label", { for: id }, labelText), h("input", { id, ...attrs }));
  }

  function head(item) {
    return h("div", { class: "item-head" },
      h("strong", { class: "rx" }, "Rx " + item.rx_number),
      h("span", { class: "drug" }, item.drug || "(no drug named)"),
      item.quantity ? h("span", { class: "qty" }, "qty " + item.quantity) : null,
      h("span", { class: "patient" }, item.patient),
      item.setting === "inpatient" ? h("span", { class: "tag" }, "inpatient") : null,
      h("span", { class: "age", title: RX.when(item.waiting_since) }, "waiting " + RX.since(item.waiting_since)));
  }

  function picks(item) {
    const rows = (item.detail.picks || []).map((p) =>
      h("tr", {}, h("td", {}, p.lot), h("td", {}, p.expiry), h("td", {}, p.quantity)));
    if (!rows.length) return null;
    return h("table", { class: "picks" }, h("caption", {}, "Lots picked"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Lot"), h("th", { scope: "col" }, "Expiry"),
        h("th", { scope: "col" }, "Quantity"))), h("tbody", {}, rows));
  }

  // The printed label as the domain built it (name, directions, lots, discard date, pharmacy).
  function label(fill) {
    const l = fill.label;
    if (!l) return h("p", { class: "empty" }, "No label yet.");
    return h("div", { class: "label-print", role: "group", "aria-label": "Label for Rx " + l.rx_number },
      h("div", { class: "label-pharmacy" }, l.pharmacy_name, " · ", l.pharmacy_address, " · ", l.pharmacy_phone),
      h("div", { class: "label-rx" }, "Rx " + l.rx_number + "  fill " + l.fill_number + "  " + l.fill_date),
      h("div", { class: "label-patient" }, l.patient_name),
      h("div", { class: "label-directions" }, l.directions),
      h("div", {}, l.drug_name + " " + l.strength + " " + l.form + "  qty " + l.quantity + " " + l.unit),
      h("div", {}, "NDC " + l.ndc + " · " + l.manufacturer + " · lot " + l.lots.join(", ")),
      h("div", {}, "Prescriber: " + l.prescriber_name + " · refills left " + l.refills_remaining
        + " · discard after " + l.discard_date),
      (l.auxiliary_warnings || []).map((w) => h("div", { class: "label-warning" }, w)));
  }

  const dollars = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
  // A price for people: "$6,900.00" (the API sends decimals as strings).
  const money = (value) => dollars.format(Number(value));

  async function showLabel(item, into) {
    const r = await RX.api("GET", "/api/prescriptions/" + encodeURIComponent(item.prescription_id));
    if (!r.ok) return RX.say(r.error, "error");
    const fills = r.data.prescription.fills;
    const fill = fills[fills.length - 1];
    into.replaceChildren(label(fill), h("button", { type: "button", onclick: () => printLabel(into) }, "Print label"));
  }

  function printLabel(box) {
    document.querySelectorAll(".printing").forEach((el) => el.classList.remove("printing"));
    box.classList.add("printing");
    window.print();
  }

  return { field, head, picks, label, showLabel, money };
})();
