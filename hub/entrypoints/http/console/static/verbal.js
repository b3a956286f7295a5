// A pharmacist records a telephone order: fill it in, read it back to the prescriber, record it once they
// confirmed it (only then is read_back_confirmed sent). The API turns it into the command an HL7 order makes.
"use strict";

RX.page(() => {
  const { h } = RX;
  const form = document.getElementById("verbal-form");
  const readback = document.getElementById("readback");
  const confirmForm = document.getElementById("readback-form");
  const confirmed = document.getElementById("v-confirmed");
  const dea = document.getElementById("v-dea");
  const schedule = document.getElementById("v-schedule");
  const v = (id) => document.getElementById(id).value.trim();
  const SCHEDULES = { 2: "CII", 3: "CIII", 4: "CIV", 5: "CV" };
  let order = null;

  // a controlled substance needs the prescriber's DEA number (21 CFR 1306.05); the API checks it too, also
  // for a drug the catalogue knows to be controlled when the form says it is not
  const deaRule = () => { dea.required = schedule.value !== ""; };
  schedule.addEventListener("change", deaRule);

  function coverage() {
    const c = { bin: v("v-bin"), pcn: v("v-pcn"), group_id: v("v-group"), cardholder_id: v("v-cardholder") };
    if (!Object.values(c).some(Boolean)) return null;
    for (const k of Object.keys(c)) if (!c[k]) delete c[k];
    return c;
  }

  function build() {
    const allergies = v("v-allergies").split(",").map((s) => s.trim()).filter(Boolean).map((text) => ({ text }));
    const body = {
      patient: { family_name: v("v-family"), given_name: v("v-given"), birth_date: v("v-birth") || null, allergies },
      prescriber: { family_name: v("v-p-family"), npi: v("v-npi"), dea: v("v-dea").toUpperCase() || null },
      drug: { ndc: v("v-ndc").replaceAll("-", "") || null, text: v("v-drug") || null, schedule: schedule.value || null },
      quantity: { value: v("v-qty") }, sig: v("v-sig"), refills: Number(v("v-refills") || 0),
      days_supply: v("v-days") ? Number(v("v-days")) : null, coverage: coverage(),
    };
    return body;
  }

  function summary(o) {
    const c = o.coverage;
    const rows = [
      ["Patient", o.patient.given_name + " " + o.patient.family_name + (o.patient.birth_date ? ", born " + o.patient.birth_date : "")],
      ["Allergies", o.patient.allergies.map((a) => a.text).join(", ") || "none given"],
      ["Drug", [o.drug.text, o.drug.ndc ? "NDC " + o.drug.ndc : null].filter(Boolean).join(" · ")
        + (o.drug.schedule ? " · controlled " + SCHEDULES[o.drug.schedule] : "")],
      ["Quantity", o.quantity.value + (o.days_supply ? " for " + o.days_supply + " days" : "")],
      ["Directions", o.sig], ["Refills", String(o.refills)],
      ["Prescriber", o.prescriber.family_name + " · NPI " + o.prescriber.npi
        + (o.prescriber.dea ? " · DEA " + o.prescriber.dea : "")],
      ["Coverage", c ? ["BIN " + (c.bin || "?"), c.pcn && "PCN " + c.pcn, c.group_id && "group " + c.group_id,
        "cardholder " + (c.cardholder_id || "?")].filter(Boolean).join(" · ") : "plan on file, or cash"],
    ];
    return rows.map(([k, val]) => [h("dt", {}, k), h("dd", {}, val)]);
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = build();
    if (body.coverage && (!body.coverage.bin || !body.coverage.cardholder_id)) {
      return RX.say("Coverage needs the BIN and the cardholder id (or leave every coverage field empty).", "error");
    }
    order = body;
    document.getElementById("readback-summary").replaceChildren(...summary(order).flat());
    confirmForm.querySelectorAll(".outcome").forEach((p) => p.remove());
    confirmed.checked = false;
    readback.hidden = false;
    document.getElementById("h-readback").scrollIntoView({ block: "start" });
    confirmed.focus();
  });

  // a change after the read-back is not what the prescriber confirmed: read it back again
  form.addEventListener("input", () => { readback.hidden = true; order = null; });
  document.getElementById("v-change").addEventListener("click", () => {
    readback.hidden = true;
    document.getElementById("v-family").focus();
  });

  confirmForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!order || !confirmed.checked) return RX.say("Read the order back and tick the confirmation first.", "error");
    const r = await RX.act(confirmForm, "POST", "/api/verbal-orders", { ...order, read_back_confirmed: true },
      (done) => "Verbal order recorded as Rx " + done.rx_number + ".");
    if (r.ok) {
      form.reset();
      deaRule();
      confirmed.checked = false;
      order = null;
    }
  });
});
