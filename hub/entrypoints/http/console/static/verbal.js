// A pharmacist records a telephone order; the API turns it into the same command an HL7 order makes.
"use strict";

RX.page(() => {
  const form = document.getElementById("verbal-form");
  const v = (id) => document.getElementById(id).value.trim();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const allergies = v("v-allergies").split(",").map((s) => s.trim()).filter(Boolean).map((text) => ({ text }));
    const body = {
      patient: { family_name: v("v-family"), given_name: v("v-given"), birth_date: v("v-birth") || null, allergies },
      prescriber: { family_name: v("v-p-family"), npi: v("v-npi") },
      drug: { ndc: v("v-ndc").replaceAll("-", "") || null, text: v("v-drug") || null },
      quantity: { value: v("v-qty") }, sig: v("v-sig"), refills: Number(v("v-refills") || 0),
    };
    const r = await RX.act(form, "POST", "/api/verbal-orders", body, "Verbal order recorded.");
    if (r.ok) form.reset();
  });
});
