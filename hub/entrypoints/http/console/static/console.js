// RxHub console core: the signed-in user's token, calls to the JSON API, small DOM helpers, polling.
// Every piece of data is shown with textContent (never innerHTML): messages and names are untrusted.
"use strict";

const RX = (() => {
  const TOKEN_KEY = "rxhub.token";
  const HOME = { technician: "/console/work", pharmacist: "/console/verify", admin: "/console/messages" };
  const pageFns = [];
  let user = null;

  const token = () => sessionStorage.getItem(TOKEN_KEY);

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

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    location.assign("/console/");
  }

  // One call to the API with the user's bearer token; a write carries an Idempotency-Key so a retried
  // click is harmless (the API derives the command id from it).
  async function api(method, path, body, idempotencyKey) {
    const headers = { Accept: "application/json" };
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
    if (response.status === 401 && user) signOut();
    return { ok: response.ok, status: response.status, data, error: response.ok ? null : problem(response.status, data) };
  }

  function problem(status, data) {
    const detail = data && data.detail !== undefined ? data.detail : data;
    if (status === 403) return "Refused: " + (typeof detail === "string" ? detail : "your role may not do this");
    if (status === 409) return "Not now: " + (typeof detail === "string" ? detail : JSON.stringify(detail));
    if (status === 422) return "Check the form: " + (Array.isArray(detail)
      ? detail.map((d) => (d.loc || []).slice(1).join(".") + " " + d.msg).join("; ") : JSON.stringify(detail));
    if (status === 503) return "The hub is briefly unavailable; try again.";
    return "Error " + status + ": " + (typeof detail === "string" ? detail : JSON.stringify(detail));
  }

  // Submit an action: one idempotency key per form until it succeeds, feedback in the live region.
  async function act(form, method, path, body, done) {
    form.dataset.key = form.dataset.key || crypto.randomUUID();
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    const result = await api(method, path, body, form.dataset.key);
    buttons.forEach((b) => (b.disabled = false));
    if (result.ok) {
      delete form.dataset.key;
      say(done || "Done.", "ok");
    } else {
      say(result.error, "error");
    }
    return result;
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
    if (!token()) {
      if (slug !== "sign-in") location.assign("/console/");
      return pageFns.forEach((fn) => fn(null));
    }
    const me = await api("GET", "/api/me");
    if (!me.ok) return signOut();
    user = me.data;
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

  document.addEventListener("DOMContentLoaded", start);
  return { h, api, act, say, reconcile, poll, since, page, can, token, HOME, TOKEN_KEY,
           get user() { return user; } };
})();
