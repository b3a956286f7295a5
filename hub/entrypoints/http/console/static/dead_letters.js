// Dead letters with their reasons and the Rx number they are about; replay one through the normal path (the API audits it).
"use strict";

RX.page(() => {
  const { h } = RX;
  const tbody = document.querySelector("#letters tbody");
  const empty = document.getElementById("letters-empty");

  function row(l) {
    const form = h("form", { class: "inline", "aria-label": "Replay " + l.message_type + " " + l.message_id },
      h("button", { type: "submit" }, "Replay"));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = await RX.act(form, "POST", "/api/admin/dead-letters/replay", { message_id: l.message_id });
      if (r.ok) {
        RX.say(r.data.replayed.length ? "Replayed " + l.message_type + " " + l.message_id + "." : "Nothing to replay: it was already replayed.", "ok");
        refresh();
      }
    });
    return h("tr", {}, h("td", {}, l.message_type, h("br"), h("code", { class: "small" }, l.message_id)),
      h("td", {}, l.rx_number ? "Rx " + l.rx_number : h("span", { class: "empty" }, "none")),
      h("td", {}, l.queue), h("td", {}, l.failure_kind), h("td", { class: "reason" }, l.error),
      h("td", {}, l.first_failure, h("br"), l.last_failure), h("td", { class: "num" }, l.retries),
      h("td", { class: "num" }, l.replays), h("td", {}, form));
  }

  async function refresh() {
    const r = await RX.api("GET", "/api/admin/dead-letters");
    if (!r.ok) return RX.say(r.error, "error");
    const focused = document.activeElement && tbody.contains(document.activeElement);
    if (!focused) tbody.replaceChildren(...r.data.map(row));
    empty.hidden = r.data.length > 0;
  }
  RX.poll(refresh, 4000);
});
