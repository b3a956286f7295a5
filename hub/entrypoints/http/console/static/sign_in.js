// Sign-in: the token is checked against GET /api/me and kept for the browser session (session.js).
"use strict";

RX.page((user) => {
  if (user) return location.assign(RX.HOME[user.role] || "/console/inventory");
  const why = new URLSearchParams(location.search).get("signed_out");
  if (why && why !== "out") {
    const note = document.getElementById("signed-out");
    note.textContent = Session.reasonText(why);
    note.hidden = false;
  }
  const form = document.getElementById("sign-in-form");
  const error = document.getElementById("sign-in-error");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await Session.keep(document.getElementById("token").value.trim());
    const me = await RX.api("GET", "/api/me");
    if (!me.ok) {
      sessionStorage.removeItem(RX.TOKEN_KEY);
      error.textContent = me.status === 401 ? "That token is not valid." : me.error;
      error.hidden = false;
      document.getElementById("token").focus();
      return;
    }
    location.assign(RX.HOME[me.data.role] || "/console/inventory");
  });
});
