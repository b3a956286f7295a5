// The pharmacist's gate: data verification (order, profile, allergies, DUR side by side) and product check.
"use strict";

RX.page(() => {
  const { h } = RX;
  const key = (it) => it.prescription_id + ":" + it.detail.fill_number + ":" + it.state + ":" + it.waiting_since;
  const base = (item) => "/api/prescriptions/" + encodeURIComponent(item.prescription_id);
  const dl = (pairs) => h("dl", {}, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
  const name = (p) => [p.given_name, p.family_name].filter(Boolean).join(" ");
  const SCHEDULES = { 2: "CII", 3: "CIII", 4: "CIV", 5: "CV" };
  const product = (p) => (p ? [p.name, p.strength, p.form].join(" ") + " · NDC " + p.ndc
    + (p.schedule ? " · " + (SCHEDULES[p.schedule] || "C" + p.schedule) : "") : null);

  function decision(item, stage, extra) {
    const form = h("form", { class: "decision", "aria-label": "Decision for Rx " + item.rx_number },
      extra.fields || [],
      h("div", { class: "field" }, h("label", { for: "why-" + stage + item.prescription_id }, "Reason (to reject)"),
        h("input", { id: "why-" + stage + item.prescription_id, name: "reason" })),
      h("div", { class: "buttons" },
        h("button", { type: "submit", class: "primary", value: "approve" }, "Approve"),
        h("button", { type: "submit", class: "danger", value: "reject" }, "Reject")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const approve = ev.submitter && ev.submitter.value === "approve";
      const reason = form.querySelector('[name="reason"]').value.trim();
      if (!approve && !reason) return RX.say("Give a reason to reject.", "error");
      const body = { approve, reason: reason || null };
      if (approve && extra.overrides) body.overrides = extra.overrides(form);
      const verb = approve ? "Approved" : "Rejected";
      await RX.act(form, "POST", base(item) + "/" + stage + "-verification", body,
        verb + " " + stage + " verification of Rx " + item.rx_number + ".");
    });
    return form;
  }

  function alertList(alerts) {
    if (!alerts.length) return h("p", { class: "empty" }, "No DUR alerts.");
    return h("ul", { class: "alerts" }, alerts.map((a) => {
      const overridden = a.override ? " (overridden: " + a.override.reason + ")" : "";
      const input = a.severity === "high" && !a.override
        ? h("div", { class: "field" }, h("label", { for: "ov-" + a.alert_id }, "Override reason"),
          h("input", { id: "ov-" + a.alert_id, name: "override", dataset: { alert: a.alert_id } })) : null;
      return h("li", { class: "sev-" + a.severity }, h("span", { class: "tag" }, a.severity),
        " " + a.kind.replaceAll("_", " ") + ": " + a.text + overridden, input);
    }));
  }

  // the doors give severity in words; HL7 table 0128 codes are translated for records kept before they did
  const SEVERITY = { SV: "severe", MO: "moderate", MI: "mild", U: null };
  const severity = (s) => (s && s.toUpperCase() in SEVERITY ? SEVERITY[s.toUpperCase()] : s);
  const allergyText = (a) => a.text + ((a.reactions || []).length ? " - " + a.reactions.join(", ") : "")
    + (severity(a.severity) ? " (" + severity(a.severity) + ")" : "");

  // the patient's other prescriptions, for the pharmacist's review: drug, directions, last fill, days supply
  function otherRx(others) {
    if (!others.length) return h("p", { class: "empty" }, "No other prescriptions on file.");
    return h("table", { class: "history" }, h("caption", { class: "sr-only" }, "Other prescriptions"),
      h("thead", {}, h("tr", {}, ["Rx", "Drug", "Directions", "Last filled", "Days", "State"].map((t) =>
        h("th", { scope: "col" }, t)))),
      h("tbody", {}, others.map((o) => h("tr", {}, h("td", {}, o.rx_number), h("td", {}, o.drug || ""),
        h("td", {}, o.sig || ""), h("td", {}, o.last_filled ? RX.day(o.last_filled) : "not yet"),
        h("td", { class: "num" }, o.days_supply || ""), h("td", {}, o.state.replaceAll("_", " "))))));
  }

  function dataPanels(item, record) {
    const rx = record.prescription;
    const fill = rx.fills[rx.fills.length - 1];
    const who = record.patient || {};
    // the profile's allergies as they stand now (a later order may have added one), else the order's own
    const allergies = who.allergies || rx.allergies;
    const profile = h("section", { class: "panel" }, h("h3", {}, "Patient"),
      dl([["Name", rx.patient_name],
        ["Date of birth", who.birth_date ? who.birth_date + (who.age !== null ? " (age " + who.age + ")" : "") : "not on file"],
        ["Sex", who.sex || "not on file"],
        ["Identifiers", rx.patient_identifiers.map((i) => i.value + (i.type_code ? " (" + i.type_code + ")" : "")).join(", ")],
        ["Plan", rx.coverage ? [rx.coverage.bin, rx.coverage.pcn, rx.coverage.group_id].filter(Boolean).join(" / ") : "none on file"]]),
      h("h3", {}, "Allergies"),
      allergies.length ? h("ul", { class: "allergies" }, allergies.map((a) => h("li", {}, allergyText(a))))
        : h("p", { class: "empty" }, "No known allergies recorded."),
      h("h3", {}, "Other prescriptions"), h("div", { class: "history-box" }, otherRx(record.others || [])));
    const order = h("section", { class: "panel" }, h("h3", {}, "Order as received"),
      dl([["Drug ordered", rx.drug.text || rx.drug.ndc], ["Ingredients", RX.ingredients(rx.drug.compound)],
        ["NDC ordered", rx.drug.ndc],
        ["Product to dispense", product(rx.product)],
        ["Quantity", rx.quantity ? rx.quantity.value + " " + (rx.quantity.unit || "") : null],
        ["Days supply", fill && fill.days_supply && fill.days_supply !== rx.days_supply
          ? fill.days_supply + " in use (ordered " + (rx.days_supply || "none") + ")" : rx.days_supply], ["Directions", rx.sig], ["Refills", rx.refills_authorized],
        ["Prescriber", name(rx.prescriber) + (rx.prescriber.npi ? " · NPI " + rx.prescriber.npi : "")
          + (rx.prescriber.dea ? " · DEA " + rx.prescriber.dea : "")],
        ["Written", rx.written_date], ["Source", rx.source + " · order " + rx.placer_order_number],
        ["Substitution", rx.substitution_allowed ? "allowed" : "dispense as written"]]));
    const dur = h("section", { class: "panel" }, h("h3", {}, "DUR alerts"), alertList(item.detail.alerts || []));
    return h("div", { class: "panels" }, order, profile, dur);
  }

  function productPanels(item, record) {
    const rx = record.prescription;
    const fill = rx.fills[rx.fills.length - 1];
    return h("div", { class: "panels" },
      h("section", { class: "panel" }, h("h3", {}, "Product"),
        dl([["Drug", product(rx.product) || rx.drug.text], ["Ingredients", RX.ingredients(rx.drug.compound)],
          ["NDC picked", fill.ndc],
          ["Quantity", fill.quantity_dispensed + (fill.owed && fill.owed !== "0" ? " (owed " + fill.owed + ")" : "")],
          ["Lots", fill.picks.map((p) => p.lot + " exp " + p.expiry + " × " + p.quantity).join("; ")]])),
      h("section", { class: "panel" }, h("h3", {}, "Label"), Items.label(fill)));
  }

  // The records of the cards about to be shown, read in one request per poll that brings new cards: one
  // audited read per page view (and per arrival of new work), not one per card.
  const records = new Map();
  async function loadRecords(items, list) {
    const shown = new Set([...list.children].map((li) => li.dataset.key));
    const ids = items.filter((it) => !shown.has(key(it))).map((it) => it.prescription_id);
    if (!ids.length) return true;
    const r = await RX.api("GET", "/api/records?ids=" + ids.map(encodeURIComponent).join(","));
    if (!r.ok) {
      RX.say(r.error, "error");
      return false;
    }
    for (const [id, record] of Object.entries(r.data.records)) records.set(id, record);
    return true;
  }

  function details(item, panels) {
    const record = records.get(item.prescription_id);
    records.delete(item.prescription_id);
    return record ? panels(item, record) : h("p", { class: "error" }, "This order could not be read; reload the page.");
  }

  const overrides = (form) => [...form.closest("li").querySelectorAll('input[name="override"]')]
    .filter((i) => i.value.trim()).map((i) => [i.dataset.alert, i.value.trim()]);

  function dataItem(item) {
    return h("li", { class: "item" }, Items.head(item), details(item, dataPanels), decision(item, "data", { overrides }));
  }

  function productItem(item) {
    return h("li", { class: "item" }, Items.head(item), details(item, productPanels), decision(item, "product", {}));
  }

  RX.poll(async () => {
    for (const [name, render] of [["data-verification", dataItem], ["product-verification", productItem]]) {
      const r = await RX.api("GET", "/api/queues/" + name);
      if (!r.ok) return RX.say(r.error, "error");
      const list = document.getElementById("q-" + name);
      if (!(await loadRecords(r.data, list))) return;
      RX.reconcile(list, r.data, key, render);
    }
  }, 3000);
});
