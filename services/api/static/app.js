// The analyst's page. Every datum from the API reaches the document through textContent or a
// DOM property, never through HTML parsing: article text is hostile input (quotes, summaries and
// URLs come from whatever was posted). The Content-Security-Policy forbids inline script as well.
"use strict";

// The key lives for this tab only (sessionStorage), so closing the tab signs out, and a key
// handed over in ?key= wins over a stored one and is then taken out of the address bar and
// history, where it would otherwise linger and leak.
const STORAGE_KEY = "stanceKey";
const keyInput = document.getElementById("key");
const signOutButton = document.getElementById("signout");

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value ?? "";
    else if (name === "title") node.title = value ?? "";
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// Only http(s) links are made: a `javascript:` or `data:` URL in an article's url would run on click.
function safeHref(url) {
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

const STANCES = new Set(["support", "oppose", "conditional"]);
const stanceClass = (stance) => (STANCES.has(stance) ? stance : "");

function storedKey() {
  const fromUrl = new URLSearchParams(location.search).get("key");
  localStorage.removeItem(STORAGE_KEY); // where earlier versions kept it, readable by any later script
  if (fromUrl) {
    sessionStorage.setItem(STORAGE_KEY, fromUrl);
    const url = new URL(location.href);
    url.searchParams.delete("key");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(STORAGE_KEY) || "";
}

function setSignedIn(signedIn) {
  signOutButton.hidden = !signedIn;
}

function signOut() {
  sessionStorage.removeItem(STORAGE_KEY);
  keyInput.value = "";
  document.getElementById("matrix").replaceChildren();
  document.getElementById("timeline").replaceChildren();
  document.getElementById("error").textContent = "";
  setSignedIn(false);
  keyInput.focus();
}

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: "Bearer " + keyInput.value } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.detail || res.statusText);
  return body;
}

async function load() {
  sessionStorage.setItem(STORAGE_KEY, keyInput.value);
  setSignedIn(Boolean(keyInput.value));
  const error = document.getElementById("error");
  const matrix = document.getElementById("matrix");
  error.textContent = "";
  try {
    const [actors, topics] = await Promise.all([api("/v1/actors?limit=500"), api("/v1/topics")]);
    const rows = actors.items.filter((a) => a.positions.length);
    const used = topics.items.filter((t) => t.support.length + t.oppose.length + t.conditional.length);
    if (!rows.length) {
      matrix.replaceChildren(el("p", { text: "No positions yet." }));
      return;
    }
    const table = el("table");
    table.append(el("tr", {}, el("th"), ...used.map((t) => el("th", { className: "topic", text: t.name }))));
    for (const actor of rows) {
      const byTopic = new Map(actor.positions.map((p) => [p.topic, p]));
      const tr = el("tr", {}, el("th", { className: "actor", text: actor.name }));
      for (const topic of used) {
        const p = byTopic.get(topic.id);
        if (!p) {
          tr.append(el("td"));
          continue;
        }
        const cell = el("td", {
          className: `cell ${stanceClass(p.stance)}`,
          title: p.summary,
          text: String(p.stance || "?").charAt(0).toUpperCase(),
        });
        cell.dataset.actor = actor.id;
        cell.dataset.topic = topic.id;
        tr.append(cell);
      }
      table.append(tr);
    }
    matrix.replaceChildren(table);
  } catch (e) {
    error.textContent = e.message;
  }
}

function step(s) {
  const evidence = s.evidence || {};
  const href = evidence.url ? safeHref(evidence.url) : null;
  const meta = el("div", { className: "muted", text: [evidence.speaker, evidence.source].filter(Boolean).join(" ") });
  if (href) meta.append(" ", el("a", { href, rel: "noopener noreferrer", text: "source" }));
  return el(
    "div",
    { className: `step ${stanceClass(s.stance)}` },
    el("strong", { text: s.stance }),
    " ",
    el("span", {
      className: "muted",
      text: `${s.kind} · ${s.occurred_at}` + (evidence.published_at_inferred ? " (undated article: time of arrival)" : ""),
    }),
    s.conditions && s.conditions.length ? el("div", { text: "conditions: " + s.conditions.join("; ") }) : null,
    el("blockquote", { text: `“${evidence.quote ?? ""}”` }),
    meta,
  );
}

async function timeline(actor, topic) {
  const error = document.getElementById("error");
  try {
    const h = await api(`/v1/positions/${encodeURIComponent(actor)}/${encodeURIComponent(topic)}/history`);
    document.getElementById("timeline").replaceChildren(el("h2", { text: `${actor} / ${topic}` }), ...h.items.map(step));
  } catch (e) {
    error.textContent = e.message;
  }
}

document.getElementById("load").addEventListener("click", load);
signOutButton.addEventListener("click", signOut);
keyInput.addEventListener("keydown", (e) => {
  if (e.key === "Enter") load();
});
document.getElementById("matrix").addEventListener("click", (e) => {
  const cell = e.target.closest("td.cell");
  if (cell) timeline(cell.dataset.actor, cell.dataset.topic);
});
keyInput.value = storedKey();
if (keyInput.value) load();
