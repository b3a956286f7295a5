// RxHub console core: calls to the JSON API with the session's token (session.js), small DOM helpers, polling.
// Every piece of data is shown with textContent (never innerHTML): messages and names are untrusted.
"use strict";

const RX = (() => {
  const TOKEN_KEY = Session.TOKEN_KEY;
  const HOME = { technician: "/console/work", pharmacist: "/console/verify", admin: "/console/messages" };
  const pageFns = [];
  let user = null;

  const token = Session.token;

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  let sayTimer = null;
  function say(text, kind) {
    const box = document.getElementById("status");
    box.className = "status " + (kind || "info");
    box.textContent = text;
    clearTimeout(sayTimer);
    // errors stay until the next message; confirmations fade so they are not mistaken for new ones
    if (kind === "ok") sayTimer = setTimeout(() => { box.textContent = ""; }, 8000);
  }

  const signOut = () => Session.end("out", true);

  // The token expired or was revoked while the page was open: ask for it again over the page instead of
  // leaving it, so nothing typed into a form is lost; the action that met the 401 was not done and says so.
  let resume = null;
  function lapsed() {
    if (!resume) resume = resumeDialog();
    if (!resume.open) resume.showModal();
  }

  function resumeDialog() {
    const input = h("input", { id: "resume-token", type: "password", required: true, spellcheck: "false",
                               autocomplete: "off" });
    const error = h("p", { class: "error", id: "resume-error", hidden: true });
    const form = h("form", { method: "dialog" },
      h("h2", { id: "resume-title" }, "Your sign-in has ended"),
      h("p", {}, "Your token expired or was revoked, so the hub refused the last request and nothing was sent. "
        + "What you typed on this page is kept: sign in again, then send it again."),
      h("label", { for: "resume-token" }, "API token"), input, error,
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Sign in again"),
        h("button", { type: "button", class: "quiet", onclick: signOut }, "Sign out")));
    const dialog = h("dialog", { id: "resume", "aria-labelledby": "resume-title" }, form);
    dialog.addEventListener("cancel", (ev) => ev.preventDefault());  // no way out but signing in or out
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const previous = user;
      await Session.keep(input.value.trim());
      const me = await api("GET", "/api/me");
      if (!me.ok) {
        error.textContent = me.status === 401 ? "That token is not valid either." : me.error;
        error.hidden = false;
        return input.focus();
      }
      // a new token of the same role keeps the page (a revoked user is given a new account); another role's
      // page is not this one
      if (me.data.role !== previous.role) return location.reload();
      user = me.data;
      document.getElementById("who-name").textContent = user.name;
      Session.renewed(input.value.trim());
      input.value = "";
      error.hidden = true;
      dialog.close();
      say("Signed in again. Send again what was not sent.", "ok");
    });
    document.body.append(dialog);
    return dialog;
  }

  // One call to the API with the user's bearer token; a write carries an Idempotency-Key so a retried
  // click is harmless (the API derives the command id from it).
  async function api(method, path, body, idempotencyKey) {
    // the console's calls are not the user's activity: session.js reports that (hub/security/sessions.py)
    const headers = { Accept: "application/json", "X-RxHub-Activity": "background" };
    if (token()) headers.Authorization = "Bearer " + token();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                     cache: "no-store", credentials: "omit" });
    } catch (err) {
      return { ok: false, status: 0, data: null, error: "the hub did not answer" };
    }
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    if (response.status === 401 && user) {
      lapsed();
      return { ok: false, status: 401, data, error: "Not sent: your sign-in has ended. Sign in again; what you typed is kept." };
    }
    return { ok: response.ok, status: response.status, data, error: response.ok ? null : problem(response.status, data) };
  }

  // A refusal in words: the API's detail is a string, pydantic's list of field errors, or an object with the
  // reason and what backs it (the alerts left open, a renewal asked for); never shown as raw JSON.
  function describe(detail) {
    if (detail === null || detail === undefined) return "";
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((d) => (typeof d === "string" ? d
        : ((d.loc || []).filter((part) => part !== "body").join(".") + " " + (d.msg || "")).trim())).join("; ");
    }
    const parts = [detail.reason || detail.message || "refused"];
    if (Array.isArray(detail.alerts) && detail.alerts.length) parts.push("Alerts: " + detail.alerts.map(alertText).join("; "));
    if (detail.renewal) parts.push("Renewal " + detail.renewal);
    return parts.join(". ");
  }

  const alertText = (a) => String(a.severity || "").toUpperCase() + " " + String(a.kind || "alert").replaceAll("_", " ")
    + ": " + (a.text || a.alert_id);

  function problem(status, data) {
    const detail = data && data.detail !== undefined ? data.detail : data;
    const words = describe(detail);
    if (status === 403) return "Refused: " + (words || "your role may not do this");
    if (status === 409) return "Not now: " + words;
    if (status === 422) return "Check the form: " + words;
    if (status === 503) return "The hub is briefly unavailable; try again.";
    return "Error " + status + ": " + words;
  }

  // A 202 means queued, not done: ask GET /api/commands/{id} until a worker applied or refused it, or the
  // wait is over (then it is still queued, and the page says so).
  const OUTCOME_POLL_MS = 300;
  const OUTCOME_LIMIT_MS = 20000;
  async function outcome(commandId) {
    const deadline = Date.now() + OUTCOME_LIMIT_MS;
    let last = { status: "pending" };
    while (Date.now() < deadline) {
      const r = await api("GET", "/api/commands/" + encodeURIComponent(commandId));
      if (r.ok) {
        last = r.data;
        if (last.status !== "pending") return last;
      }
      await new Promise((resolve) => setTimeout(resolve, OUTCOME_POLL_MS));
    }
    return last;
  }

  // What became of an action, on its card (the list item the form is in, or the form) and in the live region.
  function report(form, text, kind) {
    const card = form.closest("li") || form;
    let box = [...card.children].find((c) => c.classList.contains("outcome"));
    if (!box) {
      box = h("p", { class: "outcome" });
      card.append(box);
    }
    box.className = "outcome " + kind;
    box.textContent = text;
    say(text, kind);
  }

  // Submit an action and show what really became of it. One idempotency key per attempt: kept while the
  // command may still be queued (a second click is then the same command), dropped once it was answered.
  // ``result.ok`` is true only once a worker applied it (or, for a call that is no command, the API did it);
  // ``done`` is the words for success, or a function of the outcome that makes them.
  async function act(form, method, path, body, done) {
    form.dataset.key = form.dataset.key || crypto.randomUUID();
    const card = form.closest("li") || form;
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    card.classList.remove("sent", "refused");
    try {
      const result = await api(method, path, body, form.dataset.key);
      if (!result.ok) {
        if (result.status >= 400 && result.status < 500) delete form.dataset.key;
        report(form, result.error, "error");
        card.classList.add("refused");
        return result;
      }
      const commandId = result.data && result.data.command_id;
      if (!commandId) {
        delete form.dataset.key;
        report(form, (typeof done === "function" ? done(result.data) : done) || "Done.", "ok");
        return result;
      }
      report(form, "Sent; waiting for the pharmacy system to apply it…", "info");
      const settled = await outcome(commandId);
      result.outcome = settled;
      result.ok = settled.status === "applied";
      if (settled.status === "pending") {
        report(form, "Queued, not applied yet: the pharmacy system has not taken it up so far. It stays queued; "
          + "look again in a minute before doing it a second time.", "info");
        return result;
      }
      delete form.dataset.key;
      if (result.ok) {
        report(form, (typeof done === "function" ? done(settled) : done) || "Done.", "ok");
        card.classList.add("sent");
      } else {
        report(form, (settled.status === "refused" ? "Refused: " : "Failed (dead-lettered): ")
          + (settled.reason || "no reason given"), "error");
        card.classList.add("refused");
      }
      return result;
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  // Keep a list in step with the server without touching items already shown (a half-typed form survives).
  function reconcile(list, items, keyOf, render) {
    const wanted = new Map(items.map((it) => [keyOf(it), it]));
    for (const li of [...list.children]) {
      if (!wanted.has(li.dataset.key)) li.remove();
    }
    let previous = null;
    for (const [key, item] of wanted) {
      let li = [...list.children].find((c) => c.dataset.key === key);
      if (!li) {
        li = render(item);
        li.dataset.key = key;
      }
      if (previous ? previous.nextSibling !== li : list.firstChild !== li) {
        previous ? previous.after(li) : list.prepend(li);
      }
      previous = li;
    }
    const empty = list.dataset.empty;
    if (empty) list.classList.toggle("is-empty", items.length === 0);
    const count = document.querySelector(`[data-count="${list.id.replace(/^q-/, "")}"]`);
    if (count) count.textContent = items.length ? "(" + items.length + ")" : "";
  }

  // Work arrives without a reload: refresh while the tab is visible, at once when it becomes visible.
  function poll(fn, ms) {
    let timer = null;
    const run = async () => {
      clearTimeout(timer);
      try { await fn(); } finally { timer = setTimeout(run, ms); }
    };
    document.addEventListener("visibilitychange", () => { if (!document.hidden) run(); });
    run();
    return run;
  }

  function since(iso) {
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60000));
    if (minutes < 1) return "just now";
    if (minutes < 90) return minutes + " min";
    return Math.round(minutes / 60) + " h";
  }

  const page = (fn) => pageFns.push(fn);
  const can = (...roles) => !!user && roles.includes(user.role);

  async function start() {
    document.getElementById("sign-out").addEventListener("click", signOut);
    const slug = document.body.dataset.page;
    if (!token() && slug === "sign-in") {
      pageFns.forEach((fn) => fn(null));  // the form works at once; a tab already signed in may still lend its token
      if (!(await Session.borrow())) return;
      const me = await api("GET", "/api/me");
      return me.ok ? location.assign(HOME[me.data.role] || "/console/inventory") : sessionStorage.removeItem(TOKEN_KEY);
    }
    if (!token() && !(await Session.borrow())) return location.assign("/console/");
    const me = await api("GET", "/api/me");
    if (me.status === 401) return Session.end("invalid", false);
    if (!me.ok) return say(me.error, "error");
    user = me.data;
    Session.watchIdle();
    document.getElementById("who-name").textContent = user.name;
    document.getElementById("who-role").textContent = user.role;
    document.getElementById("who").hidden = false;
    for (const li of document.querySelectorAll("#nav li")) {
      li.hidden = !li.dataset.roles.split(" ").includes(user.role);
      const link = li.querySelector("a");
      if (link.getAttribute("href") === location.pathname) link.setAttribute("aria-current", "page");
    }
    for (const el of document.querySelectorAll("main [data-roles]")) {
      if (!el.dataset.roles.split(" ").includes(user.role)) el.remove();
    }
    const roles = document.body.dataset.roles;
    if (roles && !roles.split(" ").includes(user.role)) {
      const main = document.getElementById("main");
      main.replaceChildren(h("h1", {}, document.title.split(" · ")[0]),
        h("p", { class: "card" }, "This page is for the " + roles.split(" ").join(" or ") + " role; you are signed in as "
          + user.role + ". ", h("a", { href: HOME[user.role] || "/console/" }, "Go to your work")));
      return;
    }
    pageFns.forEach((fn) => fn(user));
  }

  // a compound's ingredients on one line, where a page shows the drug: "cream: Lidocaine (NDC …) 6 g + …"
  function ingredients(compound) {
    if (!compound) return null;
    return compound.dosage_form + ": " + compound.ingredients.map((i) => (i.name || "ingredient") + " ("
      + i.id_kind.toUpperCase() + " " + i.product_id + ") " + i.quantity + (i.unit ? " " + i.unit : "")).join(" + ");
  }

  document.addEventListener("DOMContentLoaded", start);
  return { h, api, act, say, describe, outcome, reconcile, poll, since, ingredients, when: Times.when, day: Times.day,
           fromPharmacyTime: Times.fromPharmacyTime, page, can, token, HOME, TOKEN_KEY, get user() { return user; } };
})();
