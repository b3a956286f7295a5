// Receive stock into inventory and see the shelf.
"use strict";

RX.page(() => {
  const { h } = RX;
  const shelf = document.querySelector("#shelf tbody");
  const refresh = async () => {
    const r = await RX.api("GET", "/api/inventory");
    if (!r.ok) return RX.say(r.error, "error");
    shelf.replaceChildren(...r.data.map((l) => h("tr", {}, h("td", {}, l.ndc), h("td", {}, l.lot), h("td", {}, l.expiry),
      h("td", { class: "num" }, l.on_hand), h("td", { class: "num" }, l.reserved))));
  };
  const form = document.getElementById("receive-form");
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const v = (id) => document.getElementById(id).value.trim();
      const body = { ndc: v("r-ndc").replaceAll("-", ""), lot: v("r-lot"), expiry: v("r-expiry"), quantity: v("r-qty") };
      const r = await RX.act(form, "POST", "/api/inventory", body, "Received lot " + body.lot + " of " + body.ndc + ".");
      if (r.ok) { form.reset(); setTimeout(refresh, 800); }
    });
  }
  RX.poll(refresh, 5000);
});
