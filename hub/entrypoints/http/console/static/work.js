// The technician's work: claim rejections, products to choose, fills waiting for stock, picks, will-call.
"use strict";

RX.page((user) => {
  const { h } = RX;
  const QUEUES = {
    "claim-exceptions": claimItem, intake: intakeItem, fill: fillItem,
    "product-verification": pickedItem, ready: readyItem,
  };
  const base = (item) => "/api/prescriptions/" + encodeURIComponent(item.prescription_id);

  function actionForm(item, title, fields, submit, build, done) {
    const form = h("form", { class: "action", "aria-label": title + " for Rx " + item.rx_number }, fields,
      h("button", { type: "submit", class: submit.startsWith("Cancel") ? "danger" : null }, submit));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      await RX.act(form, "POST", build.path, build.body(form), done + " Rx " + item.rx_number + ".");
    });
    return form;
  }

  const value = (form, name) => form.querySelector(`[name="${name}"]`).value.trim();

  function claimItem(item) {
    const claim = item.detail.claim || { reject_codes: [] };
    const codes = claim.reject_codes || [];
    const resubmitFields = [Items.field("Prior authorization number", { name: "pa" })];
    if (codes.includes("19")) resubmitFields.push(Items.field("Days supply", { name: "days", type: "number", min: 1 }));
    const choices = item.detail.clarification_choices || {};
    if (Object.keys(choices).length) resubmitFields.push(clarificationField(choices));
    resubmitFields.push(coverageField(claim));
    const url = base(item) + "/claim-resolution";
    const forms = [
      actionForm(item, "Resubmit", resubmitFields, "Resubmit claim", { path: url, body: (f) => {
        const body = { action: "resubmit" };
        if (value(f, "pa")) body.prior_auth_number = value(f, "pa");
        if (f.querySelector('[name="days"]') && value(f, "days")) body.days_supply = Number(value(f, "days"));
        const picked = [...f.querySelectorAll('[name="dk"]:checked')].map((box) => box.value);
        if (picked.length) body.clarification_codes = picked;
        const coverage = coverageCorrection(f, claim);
        if (coverage) body.coverage = coverage;
        return body;
      } }, "Resubmitted"),
    ];
    if (RX.can("pharmacist")) {
      forms.push(actionForm(item, "Resubmit with DUR/PPS codes", [
        Items.field("Reason for service (439-E4)", { name: "rs", required: true, maxlength: 2 }),
        Items.field("Professional service (440-E5)", { name: "ps", required: true, maxlength: 2 }),
        Items.field("Result of service (441-E6)", { name: "res", required: true, maxlength: 2 }),
      ], "Resubmit with DUR/PPS", { path: url, body: (f) => ({ action: "resubmit", dur_pps: {
        reason_for_service: value(f, "rs"), professional_service: value(f, "ps"), result_of_service: value(f, "res") } }) },
      "Resubmitted with DUR/PPS"));
    } else if (codes.includes("88")) {
      forms.push(h("p", { class: "note" }, "Reject 88 needs a pharmacist's DUR/PPS codes."));
    }
    if (item.detail.patient_id) forms.push(eligibilityForm(item));
    forms.push(
      cashForm(item, claim, url),
      actionForm(item, "Cancel", [Items.field("Reason", { name: "reason", required: true })], "Cancel prescription",
        { path: url, body: (f) => ({ action: "cancel", reason: value(f, "reason") }) }, "Cancelled"));
    return h("li", { class: "item" }, Items.head(item),
      h("ul", { class: "rejects", "aria-label": "Reject codes" }, codes.map((c) =>
        h("li", {}, h("code", {}, c), " ", rejectText(c)))),
      claim.payer_message ? h("p", { class: "payer" }, h("span", { class: "k" }, "Payer says: "), claim.payer_message) : null,
      h("p", { class: "meta" }, "Attempt " + (claim.attempt || 1) + (claim.bin ? " · BIN " + claim.bin : "")
        + (claim.prior_auth_number ? " · PA " + claim.prior_auth_number : "")
        + ((claim.clarification_codes || []).length ? " · 420-DK " + claim.clarification_codes.join(", ") : "")),
      h("div", { class: "actions" }, forms));
  }

  // The claim's insurance, editable before a resubmission (rejects 07 M/I cardholder, 41 submit to primary,
  // 65 not covered); only the fields the technician changed are sent as the correction.
  const COVERAGE = [
    ["bin", "BIN (101-A1)", { pattern: "[0-9]{6}", maxlength: 6, inputmode: "numeric" }],
    ["pcn", "PCN (104-A4)", { maxlength: 10 }],
    ["group_id", "Group ID (301-C1)", { maxlength: 15 }],
    ["cardholder_id", "Cardholder ID (302-C2)", { maxlength: 20 }],
    ["person_code", "Person code (303-C3)", { maxlength: 3 }],
  ];

  function coverageField(claim) {
    return h("fieldset", { class: "coverage" }, h("legend", {}, "Insurance on the claim"),
      COVERAGE.map(([name, label, attrs]) => Items.field(label, { name: "cov-" + name, value: claim[name] || "", ...attrs })));
  }

  function coverageCorrection(form, claim) {
    const changed = {};
    for (const [name] of COVERAGE) {
      const typed = value(form, "cov-" + name);
      if (typed && typed !== (claim[name] || "")) changed[name] = typed;
    }
    return Object.keys(changed).length ? changed : null;
  }

  // E1: ask the plan (as typed in the resubmit form's insurance fields) whether the patient is covered.
  function eligibilityForm(item) {
    const answer = h("p", { class: "eligibility", role: "status", "aria-label": "Eligibility answer" });
    const form = h("form", { class: "action", "aria-label": "Check eligibility for Rx " + item.rx_number },
      h("button", { type: "submit" }, "Check eligibility (E1)"), answer);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const card = form.closest("li");
      const coverage = {};
      for (const [name] of COVERAGE) {
        const input = card.querySelector(`[name="cov-${name}"]`);
        if (input && input.value.trim()) coverage[name] = input.value.trim();
      }
      answer.textContent = "Asking the plan…";
      const path = "/api/patients/" + encodeURIComponent(item.detail.patient_id) + "/eligibility";
      const sent = await RX.api("POST", path, { coverage });
      if (!sent.ok) {
        answer.textContent = sent.error;
        return;
      }
      answer.textContent = await eligibilityAnswer(sent.data.check_id);
    });
    return form;
  }

  async function eligibilityAnswer(checkId) {
    for (let tries = 0; tries < 60; tries++) {
      const r = await RX.api("GET", "/api/eligibility/" + encodeURIComponent(checkId));
      if (r.ok && r.data.status !== "pending") {
        if (r.data.eligible) return "Eligible: the plan accepted the E1.";
        if (r.data.status === "timeout") return "No answer from the plan in time: ask again.";
        return "Not eligible: rejected " + r.data.reject_codes.map((c) => c + " " + rejectText(c)).join("; ");
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return "No answer yet: ask again in a minute.";
  }

  // NCPDP 420-DK submission clarification codes (up to three), e.g. vacation supply or lost Rx for reject 79.
  function clarificationField(choices) {
    const boxes = Object.entries(choices).map(([code, text]) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "dk", value: code }), " " + code + " " + text));
    return h("fieldset", { class: "clarification" },
      h("legend", {}, "Submission clarification (420-DK, up to 3)"), boxes);
  }

  // Bill as cash: the price (the claim's, from the catalogue, or typed) is shown and must be confirmed in
  // words before anything is sent; changing the price asks again.
  function cashForm(item, claim, url) {
    const price = claim.amount_requested;
    const confirmBox = h("div", { class: "confirm", role: "group", "aria-label": "Confirm cash price", hidden: true });
    const form = h("form", { class: "action", "aria-label": "Bill as cash for Rx " + item.rx_number },
      h("p", { class: "meta cash-price" }, price != null ? "Cash price: " + Items.money(price)
        : "No catalogue price for this product: type the cash price."),
      Items.field("Cash price (USD)", { name: "cash", type: "number", min: 0, step: "0.01", required: true,
        value: price != null ? price : "" }),
      h("button", { type: "submit" }, "Bill as cash"), confirmBox);
    const input = form.querySelector('[name="cash"]');
    input.addEventListener("input", () => { confirmBox.hidden = true; confirmBox.replaceChildren(); });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const amount = value(form, "cash");
      const send = h("button", { type: "button" }, "Confirm: bill " + Items.money(amount) + " cash");
      const back = h("button", { type: "button" }, "Change price");
      confirmBox.replaceChildren(h("p", { class: "note" }, "The patient pays " + Items.money(amount)
        + " in cash for Rx " + item.rx_number + " (" + (item.drug || "no drug named") + "). Confirm?"), send, back);
      confirmBox.hidden = false;
      send.focus();
      back.addEventListener("click", () => { confirmBox.hidden = true; input.focus(); });
      send.addEventListener("click", () => RX.act(form, "POST", url, { action: "cash", cash_amount: amount },
        "Billed as cash (" + Items.money(amount) + ") Rx " + item.rx_number + "."));
    });
    return form;
  }

  function intakeItem(item) {
    return h("li", { class: "item" }, Items.head(item),
      h("p", { class: "note" }, item.detail.needs_product_reason || "The order names no product we can dispense."),
      actionForm(item, "Select product", [Items.field("NDC to dispense", { name: "ndc", required: true,
        inputmode: "numeric" })], "Select product", { path: base(item) + "/product",
        body: (f) => ({ ndc: value(f, "ndc") }) }, "Product selected for"));
  }

  function fillItem(item) {
    const short = item.detail.short_stock;
    if (!short) {
      return h("li", { class: "item" }, Items.head(item),
        h("p", { class: "note" }, "Not enough in-date stock to pick. It is picked as soon as stock arrives. ",
          h("a", { href: "/console/inventory" }, "Receive stock")));
    }
    const waiting = item.detail.partial && item.detail.partial.choice === "wait";
    const choose = (choice, label, done) => actionForm(item, label,
      [Items.field("Reason", { name: "reason", required: true, maxlength: 200 })], label,
      { path: base(item) + "/short-stock", body: (f) => ({ choice, reason: value(f, "reason") }) }, done);
    return h("li", { class: "item" }, Items.head(item),
      h("p", { class: "note short-stock" }, "Only " + Number(short.available) + " of " + Number(short.needed)
        + " in stock." + (waiting ? " Waiting for stock: it is picked when a delivery covers it." : "")),
      h("div", { class: "actions" },
        choose("partial", "Partial fill now", "Partial fill chosen for"),
        waiting ? null : choose("wait", "Wait for stock", "Waiting for stock for")));
  }

  function pickedItem(item) {
    const box = h("div", { class: "label-box" });
    return h("li", { class: "item" }, Items.head(item), Items.picks(item), box,
      h("button", { type: "button", onclick: () => Items.showLabel(item, box) }, "Show label"),
      h("p", { class: "meta" }, "Awaiting the pharmacist's product check."));
  }

  function readyItem(item) {
    const due = item.detail.amount_due;
    const cash = item.detail.claim && item.detail.claim.status === "cash";
    const returnBy = item.detail.return_by ? new Date(item.detail.return_by) : null;
    const past = returnBy !== null && returnBy < new Date();
    return h("li", { class: "item" }, Items.head(item),
      h("p", { class: "meta amount-due" }, due != null ? "Amount due: " + Items.money(due) + (cash ? " (cash)" : "")
        : "Amount due: nothing to collect"),
      returnBy === null ? null : h("p", { class: past ? "note return-window past" : "meta return-window" },
        past ? "Past the plan's return-to-stock window: return it to stock (the payer would recoup the claim)."
          : "Return to stock by " + returnBy.toLocaleString() + " unless picked up."),
      h("div", { class: "actions" },
        past ? null : actionForm(item, "Dispense", [], "Picked up", { path: base(item) + "/dispense",
          body: () => undefined }, "Dispensed"),
        actionForm(item, "Return to stock", [Items.field("Reason", { name: "reason", required: true })],
          "Return to stock", { path: base(item) + "/return-to-stock", body: (f) => ({ reason: value(f, "reason") }) },
          "Returned to stock")));
  }

  RX.poll(async () => {
    await Promise.all(Object.entries(QUEUES).map(async ([name, render]) => {
      const r = await RX.api("GET", "/api/queues/" + name);
      if (!r.ok) return RX.say(r.error, "error");
      RX.reconcile(document.getElementById("q-" + name), r.data,
        (it) => [it.prescription_id, it.detail.fill_number, it.state, it.waiting_since,
          it.detail.short_stock ? it.detail.short_stock.at : "", it.detail.partial ? it.detail.partial.choice : ""]
          .join(":"), render);
    }));
  }, 3000);
});
