// The live dashboard: messages per minute per door, ACK latency, queue depths, claims, states, errors.
"use strict";

RX.page(() => {
  const { h } = RX;
  let last = null;

  // Mean ACK latency per door from the Prometheus histogram (the same /metrics a scraper reads).
  async function ackMeans() {
    const r = await RX.api("GET", "/metrics");
    const sums = {}, counts = {};
    if (!r.ok) return {};
    for (const line of String(r.data).split("\n")) {
      const m = line.match(/^rxhub_ack_seconds_(sum|count)\{door="([^"]+)"\} ([0-9.e+-]+)$/);
      if (m) (m[1] === "sum" ? sums : counts)[m[2]] = Number(m[3]);
    }
    return Object.fromEntries(Object.keys(counts).filter((d) => counts[d] > 0)
      .map((d) => [d, (1000 * sums[d] / counts[d]).toFixed(1) + " ms"]));
  }

  const rows = (id, entries) => document.querySelector("#" + id + " tbody").replaceChildren(
    ...entries.map((cells) => h("tr", {}, cells.map((c, i) => h("td", { class: i ? "num" : "" }, c)))));

  function tile(label, value, warn) {
    return h("div", { class: "tile" + (warn ? " warn" : "") }, h("div", { class: "tile-value" }, value),
      h("div", { class: "tile-label" }, label));
  }

  async function refresh() {
    const [r, acks] = await Promise.all([RX.api("GET", "/api/admin/dashboard"), ackMeans()]);
    if (!r.ok) return RX.say(r.error, "error");
    const d = r.data, now = Date.now();
    const doors = {};
    for (const [k, n] of Object.entries(d.messages)) {
      const [door, outcome] = k.split(":");
      doors[door] = doors[door] || { total: 0, bad: 0 };
      doors[door].total += n;
      if (outcome !== "accepted" && outcome !== "duplicate") doors[door].bad += n;
    }
    const rate = (door) => (last && last.doors[door] !== undefined
      ? ((doors[door].total - last.doors[door]) * 60000 / (now - last.at)).toFixed(1) : "…");
    rows("doors", Object.keys(doors).sort().map((door) => [door, rate(door), doors[door].total, doors[door].bad,
      acks[door] || "–"]));
    rows("queues", Object.entries(d.queues || {}).map(([q, n]) => [q, n]));
    rows("claims", Object.entries(d.claims).map(([s, n]) => [s, n]));
    rows("states", Object.entries(d.prescriptions).map(([s, n]) => [s.replaceAll("_", " "), n]));
    const errors = Object.values(doors).reduce((a, x) => a + x.bad, 0);
    document.getElementById("tiles").replaceChildren(
      tile("dead letters", d.dead_letters ?? "?", d.dead_letters > 0),
      tile("messages not accepted", errors, errors > 0),
      tile("outbox backlog", d.outbox_backlog, d.outbox_backlog > 100),
      tile("broker", d.broker_error ? "down: " + d.broker_error : "connected", !!d.broker_error));
    last = { at: now, doors: Object.fromEntries(Object.entries(doors).map(([k, v]) => [k, v.total])) };
  }
  RX.poll(refresh, 5000);
});
