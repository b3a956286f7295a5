// The live dashboard: messages per minute per door, ACK latency, queue depths, claims, states, errors.
"use strict";

RX.page(() => {
  const { h } = RX;
  let last = null;

  // D.0 112-AN transaction response status, as the claim ledger stores it
  const CLAIM_STATUS = { P: "paid", D: "duplicate of paid", C: "captured", R: "rejected", A: "approved (reversal)",
    S: "duplicate of approved", Q: "duplicate of captured", F: "PA deferred" };

  // Figures of this process from /metrics (what a Prometheus scrape reads): ACK latency and refusals per door.
  async function processFigures() {
    const r = await RX.api("GET", "/metrics");
    const sums = {}, counts = {}, refused = {};
    let deadLettered = 0;
    if (!r.ok) return { ack: {}, refused, deadLettered };
    for (const line of String(r.data).split("\n")) {
      let m = line.match(/^rxhub_ack_seconds_(sum|count)\{door="([^"]+)"\} ([0-9.e+-]+)$/);
      if (m) (m[1] === "sum" ? sums : counts)[m[2]] = Number(m[3]);
      m = line.match(/^rxhub_messages_total\{door="([^"]+)",outcome="([^"]+)"\} ([0-9.e+-]+)$/);
      if (m && !["accepted", "duplicate"].includes(m[2])) refused[m[1]] = (refused[m[1]] || 0) + Number(m[3]);
      m = line.match(/^rxhub_dead_letters_total\{[^}]*\} ([0-9.e+-]+)$/);
      if (m) deadLettered += Number(m[1]);
    }
    const ack = Object.fromEntries(Object.keys(counts).filter((d) => counts[d] > 0)
      .map((d) => [d, (1000 * sums[d] / counts[d]).toFixed(1) + " ms"]));
    return { ack, refused, deadLettered };
  }

  const rows = (id, entries) => document.querySelector("#" + id + " tbody").replaceChildren(
    ...entries.map((cells) => h("tr", {}, cells.map((c, i) => h("td", { class: i ? "num" : "" }, c)))));

  function tile(label, value, warn) {
    return h("div", { class: "tile" + (warn ? " warn" : "") }, h("div", { class: "tile-value" }, value),
      h("div", { class: "tile-label" }, label));
  }

  // Each HL7 destination as its sender last wrote it (the same state as `rxhub outbound status`).
  function outbound(destinations) {
    const age = (s) => (s === null ? "–" : s < 120 ? Math.round(s) + " s" : Math.round(s / 60) + " min");
    document.querySelector("#outbound tbody").replaceChildren(...destinations.map((o) => h("tr",
      { class: ["stuck", "unknown", "broker_down"].includes(o.state) ? "warn" : "" }, [
        h("td", {}, o.name), h("td", {}, o.state.replaceAll("_", " ")),
        h("td", {}, o.connected ? "connected" : "disconnected"),
        h("td", { class: "num" }, o.backlog ?? "?"), h("td", { class: "num" }, age(o.oldest_age_s)),
        h("td", {}, o.in_flight_control_id ? `${o.in_flight_control_id} (${o.attempts})` : "–"),
        h("td", { class: "num" }, `${o.delivered} / ${o.retried} / ${o.dead_lettered}`),
        h("td", { class: "reason" }, o.last_error || "–")])));
    document.getElementById("outbound-none").hidden = destinations.length > 0;
  }

  async function refresh() {
    const [r, proc] = await Promise.all([RX.api("GET", "/api/admin/dashboard"), processFigures()]);
    if (!r.ok) return RX.say(r.error, "error");
    const d = r.data, now = Date.now();
    const doors = {};
    for (const [k, n] of Object.entries(d.messages)) {
      const door = k.split(":")[0];
      doors[door] = (doors[door] || 0) + n;
    }
    for (const door of Object.keys(proc.refused)) doors[door] = doors[door] || 0;
    const rate = (door) => (last && last.doors[door] !== undefined
      ? ((doors[door] - last.doors[door]) * 60000 / (now - last.at)).toFixed(1) : "…");
    rows("doors", Object.keys(doors).sort().map((door) => [door, rate(door), doors[door], proc.refused[door] || 0,
      proc.ack[door] || "–"]));
    const prefix = /^[^.]+\./;
    rows("queues", Object.entries(d.queues || {}).map(([q, n]) => [q.replace(prefix, ""), n]));
    rows("claims", Object.entries(d.claims).map(([s, n]) => [CLAIM_STATUS[s] || (s === "None" ? "unanswered" : s), n]));
    rows("states", Object.entries(d.prescriptions).map(([s, n]) => [s.replaceAll("_", " "), n]));
    outbound(d.outbound || []);
    const refused = Object.values(proc.refused).reduce((a, n) => a + n, 0);
    document.getElementById("tiles").replaceChildren(
      tile("dead letters waiting", d.dead_letters ?? "?", d.dead_letters > 0),
      tile("messages refused or failed", refused, refused > 0),
      tile("dead-lettered since start", proc.deadLettered, false),
      tile("outbox backlog", d.outbox_backlog, d.outbox_backlog > 100),
      tile("broker", d.broker_error ? "down: " + d.broker_error : "connected", !!d.broker_error));
    last = { at: now, doors };
  }
  RX.poll(refresh, 5000);
});
