// One prescription: the order, every fill (dispensed ones included) with its history, who did what, and the
// actions its state allows: refill (after a fill came to rest), return to stock (from will-call) and the completion
// of a partial fill whose rest is owed (the API says whether it may start: a refusal is shown in its words).
"use strict";

RX.page(() => {
  const { h } = RX;
  const id = new URLSearchParams(location.search).get("id");
  const words = (state) => String(state).replace(/_/g, " ");
  const when = (iso) => RX.when(iso) || "—";
  const url = "/api/prescriptions/" + encodeURIComponent(id || "");
  const fillName = (n) => (n === 0 ? "original" : "refill " + n);
  const plans = document.getElementById("plans-link");  // named at once: a click must not wait for the load
  if (plans && id) plans.href = "/console/plans?id=" + encodeURIComponent(id);

  function amountDue(fill) {
    const c = fill.claim;
    if (!c) return "—";
    const due = c.status === "cash" ? c.amount_requested : c.patient_pay;
    return due != null ? new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(Number(due))
      : "—";
  }

  const amount = (q) => Number(q).toLocaleString("en-US");

  // "12 owed (8 of 20 dispensed)", and a schedule II rest's 21 CFR 1306.13 deadline in the pharmacy's time
  function restText(rest) {
    return amount(rest.owed) + " owed (" + amount(rest.quantity_dispensed) + " of " + amount(rest.quantity_intended)
      + " dispensed)" + (rest.complete_by ? "; schedule II: dispense the rest by " + when(rest.complete_by) : "");
  }

  function completionForm(rx, rest) {
    const form = h("form", { class: "action", "aria-label": "Complete the partial fill of Rx " + rx.rx_number },
      h("p", { class: "meta rest-owed" }, "Rest owed: " + restText(rest)),
      h("button", { type: "submit" }, "Start completion"));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = await RX.act(form, "POST", url + "/completion", undefined,
        "Completion started for Rx " + rx.rx_number + ".");
      if (r.ok) return load();
      pharmacyTimes(form.querySelector(".outcome"));
    });
    return form;
  }

  // a refusal (the API's 409 or the worker's) names its deadline as an ISO instant: shown, like every time
  // here, in the pharmacy's zone
  function pharmacyTimes(box) {
    const iso = /\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})/g;
    if (!box || !iso.test(box.textContent)) return;
    box.textContent = box.textContent.replace(iso, (at) => when(at));
    RX.say(box.textContent, box.classList.contains("error") ? "error" : "info");
  }

  function actions(rx, state, rest) {
    const box = document.getElementById("rx-actions");
    const forms = [];
    if (RX.can("technician", "pharmacist") && rest) forms.push(completionForm(rx, rest));
    // no refill while a partial fill's rest is owed: the API refuses it, the completion comes first
    const refillable = (state === "dispensed" || state === "returned_to_stock") && !rx.closed_reason && !rest;
    if (RX.can("technician", "pharmacist") && refillable) {
      const form = h("form", { class: "action", "aria-label": "Refill Rx " + rx.rx_number },
        h("p", { class: "meta" }, rx.refills_remaining + " refill(s) left"),
        h("button", { type: "submit" }, "Refill"));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const r = await RX.act(form, "POST", url + "/refill", undefined, "Refill started for Rx " + rx.rx_number + ".");
        if (r.ok) load();
      });
      forms.push(form);
    }
    if (RX.can("technician", "pharmacist") && state === "ready") {
      const fieldId = "rts-reason";
      const form = h("form", { class: "action", "aria-label": "Return Rx " + rx.rx_number + " to stock" },
        h("div", { class: "field" }, h("label", { for: fieldId }, "Reason"),
          h("input", { id: fieldId, name: "reason", required: true })),
        h("button", { type: "submit" }, "Return to stock"));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const r = await RX.act(form, "POST", url + "/return-to-stock", { reason: form.elements.reason.value.trim() },
          "Returned to stock Rx " + rx.rx_number + ".");
        if (r.ok) load();
      });
      forms.push(form);
    }
    box.replaceChildren(...(forms.length ? forms : [h("p", { class: "empty" }, "No action for this state.")]));
  }

  async function load() {
    if (!id) return RX.say("No prescription named: find one first.", "error");
    const r = await RX.api("GET", url);
    if (!r.ok) return RX.say(r.error, "error");
    const rx = r.data.prescription;
    document.querySelector("h1").textContent = "Rx " + rx.rx_number;
    const drug = rx.product ? rx.product.display_name : (rx.drug.text || rx.drug.ndc);
    const dl = h("dl", { class: "facts" },
      [["Patient", rx.patient_name], ["Drug", drug],
       rx.drug.compound ? ["Ingredients", RX.ingredients(rx.drug.compound)] : null,
       ["Directions", rx.sig || "—"], ["State", words(r.data.state)],
       ["Written", rx.written_date], ["Expires", rx.expires_on],
       ["Refills", rx.refills_remaining + " of " + rx.refills_authorized + " left"],
       ["Placer order number", rx.placer_order_number], ["Source", rx.source],
       rx.closed_reason ? ["Closed", rx.closed_reason] : null,
       r.data.rest_owed ? ["Rest owed", restText(r.data.rest_owed)] : null]
        .filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    document.getElementById("rx-summary").replaceChildren(dl);
    document.querySelector("#fills tbody").replaceChildren(...rx.fills.map((f) => h("tr", {},
      h("td", {}, fillName(f.fill_number)), h("td", {}, words(f.state)), h("td", {}, f.quantity || "—"),
      h("td", {}, f.days_supply || "—"), h("td", {}, when(f.filled_at)),
      h("td", {}, f.claim ? words(f.claim.status) : "—"), h("td", {}, amountDue(f)))));
    const steps = rx.fills.flatMap((f) => f.history.map((s) => ({ ...s, fill: f.fill_number })))
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    document.querySelector("#history tbody").replaceChildren(...steps.map((s) => h("tr", {},
      h("td", {}, when(s.at)), h("td", {}, fillName(s.fill)), h("td", {}, words(s.action)), h("td", {}, words(s.source)),
      h("td", {}, words(s.target)), h("td", {}, s.note || ""))));
    const entries = r.data.audit || r.data.actions || [];  // a technician is shown the actions, not the audit
    document.querySelector("#audit tbody").replaceChildren(...entries.map((e) => h("tr", {},
      h("td", {}, when(e.at)), h("td", {}, e.actor), h("td", {}, e.action), h("td", {}, e.outcome))));
    actions(rx, r.data.state, r.data.rest_owed);
  }

  load();
});
