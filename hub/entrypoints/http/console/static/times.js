// Times in the pharmacy's time zone (RXHUB_PHARMACY_TIMEZONE, on <body data-timezone>), never the browser's: a
// pharmacist on a laptop set to another zone sees the times the pharmacy's staff, labels and logs go by.
"use strict";

const Times = (() => {
  const ZONE = document.body.dataset.timezone || "UTC";
  const timeFormat = new Intl.DateTimeFormat("en-US", { timeZone: ZONE, year: "numeric", month: "short",
    day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" });
  const dayFormat = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit",
    day: "2-digit" });
  const wallClock = new Intl.DateTimeFormat("en-US", { timeZone: ZONE, hourCycle: "h23", year: "numeric",
    month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });

  // an instant as people read it in the pharmacy: "Jan 5, 2026, 9:05 AM CST"
  const when = (iso) => (iso ? timeFormat.format(new Date(iso)) : "");
  // the pharmacy's calendar day of an instant, YYYY-MM-DD
  const day = (iso) => (iso ? dayFormat.format(new Date(iso)) : "");

  // a wall-clock time typed in the pharmacy (datetime-local, "2026-01-05T09:05") as an ISO instant
  function fromPharmacyTime(local) {
    const guess = Date.parse(local + "Z");
    const parts = Object.fromEntries(wallClock.formatToParts(new Date(guess)).map((p) => [p.type, Number(p.value)]));
    const shown = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
    return new Date(guess - (shown - guess)).toISOString();
  }

  return { ZONE, when, day, fromPharmacyTime };
})();
