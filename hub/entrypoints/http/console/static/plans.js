// A patient's plans on file in billing order (primary first): add, edit, remove and reorder them here, then save
// the whole list with PUT /api/patients/{id}/coverages. The API alone validates; each of its field errors is shown
// next to its field. The patient is reached through a prescription (?id=), so no patient identifier goes into the
// page's address, and the plans are read once per visit (every read is an audited read of patient details).
"use strict";

RX.page(() => {
  const { h } = RX;
  const rxId = new URLSearchParams(location.search).get("id");
  const form = document.getElementById("plans-form");
  const list = document.getElementById("plans");
  const none = document.getElementById("no-plans");
  const formError = document.getElementById("plans-error");
  const unsaved = document.getElementById("unsaved");
  const save = document.getElementById("save-plans");
  const ORDINALS = ["Primary", "Secondary", "Tertiary"];
  const FIELDS = [
    ["bin", "BIN (101-A1)", "6 digits", { inputmode: "numeric" }],
    ["pcn", "PCN (104-A4)", null, {}],
    ["group_id", "Group ID (301-C1)", null, {}],
    ["cardholder_id", "Cardholder ID (302-C2)", null, {}],
    ["person_code", "Person code (303-C3)", null, {}],
  ];
  const RELATIONSHIPS = [["", "Not given"], ["0", "0 Not specified"], ["1", "1 Cardholder"], ["2", "2 Spouse"],
    ["3", "3 Child"], ["4", "4 Other"]];
  const NAMES = [...FIELDS.map(([name]) => name), "relationship"];
  let serial = 0;
  let path = null;

  const planName = (i) => (i < ORDINALS.length ? ORDINALS[i] + " plan" : "Plan " + (i + 1));

  function field(name, label, hint, control) {
    const id = "plan-" + ++serial;
    control.id = id;
    control.name = name;
    control.setAttribute("aria-describedby", [hint ? id + "-hint" : null, id + "-error"].filter(Boolean).join(" "));
    return h("div", { class: "field", dataset: { field: name } }, h("label", { for: id }, label), control,
      hint ? h("span", { class: "field-hint", id: id + "-hint" }, hint) : null,
      h("p", { class: "field-error", id: id + "-error", hidden: true }));
  }

  function planItem(plan) {
    const inputs = FIELDS.map(([name, label, hint, attrs]) => field(name, label, hint,
      h("input", { autocomplete: "off", spellcheck: "false", ...attrs, value: plan[name] || "" })));
    const select = h("select", {}, RELATIONSHIPS.map(([code, text]) => h("option", { value: code }, text)));
    select.value = plan.relationship || "";
    const li = h("li", { class: "plan" });
    li.append(h("fieldset", {}, h("legend", {}),
      h("div", { class: "plan-fields" }, inputs, field("relationship", "Relationship (306-C6)", null, select)),
      h("div", { class: "buttons" },
        h("button", { type: "button", class: "move-up", onclick: () => move(li, -1) }, "Move up"),
        h("button", { type: "button", class: "move-down", onclick: () => move(li, 1) }, "Move down"),
        h("button", { type: "button", class: "danger", onclick: () => remove(li) }, "Remove"))));
    return li;
  }

  // the legends say each plan's place in billing order; the ends of the list cannot move further
  function renumber() {
    [...list.children].forEach((li, i) => {
      li.querySelector("legend").textContent = planName(i);
      li.querySelector(".move-up").disabled = i === 0;
      li.querySelector(".move-down").disabled = i === list.children.length - 1;
    });
    none.hidden = list.children.length > 0;
  }

  function changed() {
    unsaved.hidden = false;
    save.disabled = !path;
  }

  function move(li, step) {
    const other = step < 0 ? li.previousElementSibling : li.nextElementSibling;
    if (!other) return;
    step < 0 ? other.before(li) : other.after(li);
    renumber();
    changed();
    const button = li.querySelector(step < 0 ? ".move-up" : ".move-down");
    (button.disabled ? li.querySelector(step < 0 ? ".move-down" : ".move-up") : button).focus();
    RX.say("Moved: it is now the " + planName([...list.children].indexOf(li)).toLowerCase() + ".", "info");
  }

  function remove(li) {
    const next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    renumber();
    changed();
    (next ? next.querySelector("input") : document.getElementById("add-plan")).focus();
    RX.say("Plan removed here; save to take it off file.", "info");
  }

  function show(plans) {
    list.replaceChildren(...plans.map(planItem));
    renumber();
    unsaved.hidden = true;
  }

  const plans = () => [...list.children].map((li) => Object.fromEntries(NAMES
    .map((name) => [name, li.querySelector(`[name="${name}"]`).value.trim()]).filter(([, v]) => v)));

  function clearErrors() {
    form.querySelectorAll(".field-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    formError.hidden = true;
    formError.textContent = "";
  }

  // FastAPI's 422: pydantic errors located as body > coverages > index > field; those that name no field of a
  // plan shown here (too many plans, say) are shown above the buttons. Returns the summary, in words.
  function showErrors(detail) {
    const loose = [];
    const placed = [];
    let first = null;
    for (const d of Array.isArray(detail) ? detail : [detail]) {
      const loc = (d && d.loc) || [];
      const at = loc.indexOf("coverages");
      const li = at >= 0 ? list.children[loc[at + 1]] : null;
      const name = NAMES.includes(loc[at + 2]) ? loc[at + 2] : null;
      const box = li && name ? li.querySelector(`[data-field="${name}"]`) : null;
      if (!box) {
        loose.push(d);
        continue;
      }
      const message = box.querySelector(".field-error");
      message.textContent = [message.textContent, d.msg].filter(Boolean).join("; ");
      message.hidden = false;
      const control = box.querySelector("input, select");
      control.setAttribute("aria-invalid", "true");
      first = first || control;
      placed.push(li.querySelector("legend").textContent.toLowerCase() + " " + box.querySelector("label").textContent);
    }
    if (loose.length) {
      formError.textContent = RX.describe(loose);
      formError.hidden = false;
    }
    (first || (loose.length ? formError : null))?.focus();
    const words = [placed.length ? "check the " + [...new Set(placed)].join(", the ") : null,
      loose.length ? RX.describe(loose) : null];
    return "Not saved: " + words.filter(Boolean).join("; ") + ".";
  }

  // the refusal in words on the form and in the live region, instead of the API's field paths
  function refused(text) {
    const box = form.querySelector(".outcome");
    if (box) box.textContent = text;
    RX.say(text, "error");
  }

  document.getElementById("add-plan").addEventListener("click", () => {
    const li = planItem({});
    list.append(li);
    renumber();
    changed();
    li.querySelector("input").focus();
  });
  form.addEventListener("input", changed);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!path) return;
    clearErrors();
    const count = list.children.length;
    const r = await RX.act(form, "PUT", path, { coverages: plans() }, () => (count
      ? "Saved: " + count + (count === 1 ? " plan" : " plans") + " on file, billed in this order."
      : "Saved: no plan on file."));
    if (r.ok) return show(r.data.coverages);
    renumber();  // the buttons the save disabled and enabled again: the ends of the list still cannot move
    if (r.status === 422) refused(showErrors(r.data && r.data.detail));
  });

  async function load() {
    if (!rxId) return RX.say("No prescription named: find the patient's prescription first.", "error");
    document.getElementById("rx-link").href = "/console/prescription?id=" + encodeURIComponent(rxId);
    const rx = await RX.api("GET", "/api/prescriptions/" + encodeURIComponent(rxId));
    if (!rx.ok) return RX.say(rx.error, "error");
    const p = rx.data.prescription;
    document.querySelector("h1").textContent = "Plans on file: " + p.patient_name;
    document.getElementById("rx-link").textContent = "Back to Rx " + p.rx_number;
    const url = "/api/patients/" + encodeURIComponent(p.patient_id) + "/coverages";
    const r = await RX.api("GET", url);
    if (!r.ok) return RX.say(r.error, "error");
    path = url;
    show(r.data.coverages);
    save.disabled = false;
  }

  load();
});
