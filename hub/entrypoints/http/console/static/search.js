// Find a prescription by patient (family name + birth date), Rx number or placer number; each result links
// to the prescription's page. One audited search per submit.
"use strict";

RX.page(() => {
  const { h } = RX;
  const form = document.getElementById("search");
  const table = document.getElementById("results");
  const none = document.getElementById("no-results");
  const words = (state) => state.replace(/_/g, " ");

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const query = new URLSearchParams();
    for (const name of ["family", "birth_date", "rx_number", "placer"]) {
      const v = form.elements[name].value.trim();
      if (v) query.set(name, v);
    }
    const r = await RX.api("GET", "/api/search?" + query.toString());
    if (!r.ok) return RX.say(r.error, "error");
    table.tBodies[0].replaceChildren(...r.data.map((rx) => h("tr", {},
      h("td", {}, h("a", { href: "/console/prescription?id=" + encodeURIComponent(rx.prescription_id) },
        "Rx " + rx.rx_number)),
      h("td", {}, rx.patient), h("td", {}, rx.birth_date || "—"), h("td", {}, rx.drug || "—"),
      h("td", {}, words(rx.state)), h("td", {}, rx.written_date), h("td", {}, rx.placer_order_number))));
    table.hidden = !r.data.length;
    none.hidden = !!r.data.length;
    RX.say(r.data.length + (r.data.length === 1 ? " prescription found." : " prescriptions found."), "info");
  });
});
