// Refused orders: orders answered as received that intake refused, newest first, for a technician to follow up.
"use strict";

RX.page(() => {
  const { h } = RX;
  const list = document.getElementById("q-refused-orders");

  function render(item) {
    const placer = item.placer_order_number + (item.placer_system ? " (" + item.placer_system + ")" : "");
    return h("li", { class: "item" },
      h("div", { class: "item-head" }, h("strong", {}, "Order " + placer),
        h("span", {}, "from " + (item.owner || item.source) + " by " + item.source.toUpperCase()),
        item.control_id ? h("span", {}, "message " + item.control_id) : null,
        h("span", { class: "age", title: RX.when(item.refused_at) }, RX.since(item.refused_at))),
      h("p", {}, item.reason));
  }

  RX.poll(async () => {
    const r = await RX.api("GET", "/api/refused-orders");
    if (!r.ok) return RX.say(r.error, "error");
    RX.reconcile(list, r.data, (i) => i.id, render);
  }, 10000);
});
