// The console's sign-in session: the token is typed once per browser session and lives in sessionStorage only
// (never localStorage or a cookie: it ends with the browser). A tab opened later asks the tabs already signed in
// for it over a same-origin BroadcastChannel; a sign-out (by hand or after the idle limit) ends every tab.
"use strict";

const Session = (() => {
  const TOKEN_KEY = "rxhub.token";
  const ACTIVE_KEY = "rxhub.active";
  const channel = "BroadcastChannel" in window ? new BroadcastChannel("rxhub.console") : null;
  // the idle limit comes with the page (<body data-idle-minutes>, from RXHUB_CONSOLE_IDLE_MINUTES)
  const idleMs = () => Number(document.body.dataset.idleMinutes || 15) * 60000;
  const ACTIVITY_EVENTS = ["pointerdown", "keydown", "input", "wheel", "touchstart"];
  const SHARE_EVERY_MS = 10000;
  let lastShared = 0;
  let idleTimer = null;

  const token = () => sessionStorage.getItem(TOKEN_KEY);

  // Keep the token and (re)start its session on the server, which also ends it after the idle limit
  // (hub/security/sessions.py); resolves once the hub has answered.
  function keep(value) {
    sessionStorage.setItem(TOKEN_KEY, value);
    touch(Date.now());
    return report(value);
  }

  // The user's activity, told to the server at most once a minute (the console's own calls are marked as
  // background work and do not count): a console left alone ends on the server too.
  const REPORT_EVERY_MS = 60000;
  let lastReported = 0;
  function report(value) {
    lastReported = Date.now();
    return fetch("/api/session", { method: "POST", headers: { Accept: "application/json",
      Authorization: "Bearer " + value }, cache: "no-store", credentials: "omit" }).catch(() => null);
  }

  function touch(at) {
    const known = Number(sessionStorage.getItem(ACTIVE_KEY) || 0);
    if (at > known) sessionStorage.setItem(ACTIVE_KEY, String(at));
  }

  // Why a user lands on the sign-in page, in words (the page reads ?signed_out=).
  const REASONS = {
    idle: () => "You were signed out after " + Number(document.body.dataset.idleMinutes || 15)
      + " minutes without activity. Sign in again to carry on.",
    invalid: () => "Your token is no longer valid (it expired or was revoked). Sign in with a new one.",
    out: () => "You are signed out.",
  };
  const reasonText = (why) => (REASONS[why] || REASONS.out)();

  function end(why, tell) {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ACTIVE_KEY);
    if (tell && channel) channel.postMessage({ type: "signed-out", why });
    location.assign("/console/?signed_out=" + encodeURIComponent(why));
  }

  // A tab with no token asks the others; one signed in answers with its token and last activity.
  function borrow(waitMs) {
    if (!channel || token()) return Promise.resolve(token());
    return new Promise((resolve) => {
      const done = (value) => { channel.removeEventListener("message", answer); resolve(value); };
      const answer = (ev) => {
        if (ev.data && ev.data.type === "token" && ev.data.token) {
          keep(ev.data.token);
          touch(Number(ev.data.active) || Date.now());
          done(ev.data.token);
        }
      };
      channel.addEventListener("message", answer);
      channel.postMessage({ type: "token?" });
      setTimeout(() => done(token()), waitMs || 300);
    });
  }

  if (channel) {
    channel.addEventListener("message", (ev) => {
      const m = ev.data || {};
      if (m.type === "token?" && token()) {
        channel.postMessage({ type: "token", token: token(), active: sessionStorage.getItem(ACTIVE_KEY) });
      } else if (m.type === "active") {
        touch(Number(m.at) || 0);
      } else if (m.type === "signed-out" && token()) {
        end(m.why || "out", false);
      } else if (m.type === "token" && m.token && token() && m.token !== token() && m.renewed) {
        keep(m.token);  // another tab signed in again after the token lapsed
      }
    });
  }

  // Activity in any tab keeps every tab signed in; polling the queues is not activity.
  function activity() {
    const now = Date.now();
    touch(now);
    if (token() && now - lastReported > REPORT_EVERY_MS) report(token());
    if (channel && now - lastShared > SHARE_EVERY_MS) {
      lastShared = now;
      channel.postMessage({ type: "active", at: now });
    }
  }

  function watchIdle() {
    if (!sessionStorage.getItem(ACTIVE_KEY)) touch(Date.now());
    ACTIVITY_EVENTS.forEach((name) => document.addEventListener(name, activity, { capture: true, passive: true }));
    clearInterval(idleTimer);
    idleTimer = setInterval(() => {
      const last = Number(sessionStorage.getItem(ACTIVE_KEY) || Date.now());
      if (token() && Date.now() - last >= idleMs()) end("idle", true);
    }, Math.min(5000, idleMs() / 4));
  }

  // After the token lapsed mid-work and the user typed it (or a new one) again: every tab uses the new one.
  function renewed(value) {
    keep(value);
    if (channel) channel.postMessage({ type: "token", token: value, renewed: true });
  }

  return { token, keep, end, borrow, watchIdle, renewed, reasonText, TOKEN_KEY };
})();
