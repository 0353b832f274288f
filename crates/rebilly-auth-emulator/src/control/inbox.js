// The emulator's inbox page: polls /__emulator/overview (same origin, the control token's
// cookie if any) and renders it with text nodes only (no HTML from data).
"use strict";

const REFRESH_MS = 1000;

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "—" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function fill(id, items, render, empty) {
  const body = document.getElementById(id);
  body.replaceChildren();
  if (items.length === 0) {
    const row = body.insertRow();
    const td = cell(row, empty, "muted");
    td.colSpan = 5;
    return;
  }
  for (const item of items) render(body.insertRow(), item);
}

function render(data) {
  document.getElementById("now").textContent = data.now;
  fill("outbox", data.outbox, (row, s) => {
    cell(row, s.oneTimePassword, "otp");
    cell(row, s.username);
    cell(row, s.organization);
    cell(row, s.sentTime, "mono");
  }, "nothing sent yet");
  const tokens = [];
  for (const org of data.organizations) {
    for (const t of org.tokens) tokens.push(Object.assign({ organization: org.id }, t));
  }
  fill("tokens", tokens, (row, t) => {
    cell(row, t.token, "mono");
    cell(row, t.username);
    cell(row, t.organization);
    cell(row, t.otpRequired ? "required" : "no");
    cell(row, t.expiredTime === null ? "never" : t.expiredTime, "mono");
  }, "no live token");
  const orgs = document.getElementById("organizations");
  orgs.replaceChildren();
  for (const org of data.organizations) {
    const h = document.createElement("h3");
    h.textContent = org.id;
    orgs.appendChild(h);
    const keys = document.createElement("p");
    keys.className = "mono";
    keys.textContent = "secret key: " + org.secretKey + "   publishable key: " +
      (org.publishableKey === null ? "—" : org.publishableKey) +
      "   otpRequired: " + org.options.otpRequired;
    orgs.appendChild(keys);
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    for (const name of ["username", "customer", "credential id", "expires"]) {
      const th = document.createElement("th");
      th.textContent = name;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const c of org.credentials) {
      const row = body.insertRow();
      cell(row, c.username);
      cell(row, c.customerId);
      cell(row, c.id, "mono");
      cell(row, c.expiredTime === null ? "never" : c.expiredTime, "mono");
    }
    if (org.credentials.length === 0) cell(body.insertRow(), "no credential", "muted");
    orgs.appendChild(table);
  }
  fill("journal", data.journal, (row, e) => {
    cell(row, e.time, "mono");
    cell(row, e.method, "mono");
    cell(row, e.route || "(no route)", "mono");
    cell(row, e.status === null ? "dropped" : e.status);
  }, "no request yet");
}

function status(text, isError) {
  const el = document.getElementById("status");
  el.textContent = text;
  el.className = isError ? "error" : "muted";
}

async function refresh() {
  try {
    const response = await fetch("/__emulator/overview", { cache: "no-store" });
    if (!response.ok) throw new Error("overview answered " + response.status);
    render(await response.json());
    status("updated " + new Date().toLocaleTimeString(), false);
  } catch (error) {
    status(String(error), true);
  }
}

async function advance() {
  const seconds = Number(document.getElementById("seconds").value);
  try {
    const response = await fetch("/__emulator/clock/advance", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Emulator-Control": "1" },
      body: JSON.stringify({ seconds: seconds }),
    });
    if (!response.ok) throw new Error("advance answered " + response.status);
    await refresh();
  } catch (error) {
    status(String(error), true);
  }
}

document.getElementById("advance").addEventListener("click", advance);
refresh();
setInterval(refresh, REFRESH_MS);
