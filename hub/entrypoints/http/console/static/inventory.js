// Receive stock into inventory (NDC as printed, or a scanned package barcode) and see the shelf.
"use strict";

RX.page(() => {
  const { h } = RX;
  const shelf = document.querySelector("#shelf tbody");
  const refresh = async () => {
    const r = await RX.api("GET", "/api/inventory");
    if (!r.ok) return RX.say(r.error, "error");
    shelf.replaceChildren(...r.data.map((l) => h("tr", {}, h("td", {}, l.drug || "(not in the catalogue)"),
      h("td", {}, l.ndc_printed || l.ndc), h("td", {}, l.lot), h("td", {}, l.expiry),
      h("td", { class: "num" }, l.on_hand), h("td", { class: "num" }, l.reserved))));
  };
  const form = document.getElementById("receive-form");
  if (form) {
    const field = (id) => document.getElementById(id);
    const scanned = field("r-product");
    // a scanner types the barcode and presses Enter: read it, fill the form, and let the user check and count
    field("r-scan").addEventListener("keydown", async (ev) => {
      if (ev.key !== "Enter") return;
      ev.preventDefault();
      const text = field("r-scan").value.replace(/\s+$/, "");
      if (!text) return;
      const r = await RX.api("POST", "/api/inventory/scan", { barcode: text });
      if (!r.ok) {
        scanned.textContent = "";
        return RX.say(r.error, "error");
      }
      field("r-ndc").value = r.data.ndc;
      if (r.data.lot) field("r-lot").value = r.data.lot;
      if (r.data.expiry) field("r-expiry").value = r.data.expiry;
      scanned.textContent = "Scanned: " + r.data.drug + " · NDC " + r.data.ndc;
      field("r-scan").value = "";
      field("r-qty").focus();
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const v = (id) => field(id).value.trim();
      // the NDC goes as typed: the API reads the dashed forms and refuses an undashed 10-digit one
      const body = { ndc: v("r-ndc"), lot: v("r-lot"), expiry: v("r-expiry"), quantity: v("r-qty") };
      const r = await RX.act(form, "POST", "/api/inventory", body, "Received lot " + body.lot + " of NDC " + body.ndc + ".");
      if (r.ok) { form.reset(); scanned.textContent = ""; setTimeout(refresh, 800); }
    });
  }
  RX.poll(refresh, 5000);
});
