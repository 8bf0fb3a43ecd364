// The connection panels of the page — this site as a source ("Protect this site") and as a destination ("Recover
// from another site") — the token shown once, the confirmations and the audit log; texts as on the Connect page.
import { formatSeconds, formatTime, h, lozenge } from "./dom.js";

const STATE_APPEARANCE = { not_connected: "default", pending: "inprogress", active: "success", released: "default",
  deactivated: "removed" };
const ACTION_LABELS = { generate: "Generate token", refresh: "Refresh token", reset: "Reset token",
  activate: "Activate connection", release: "Release connection", deactivate: "Deactivate connection" };

function statusLozenge(side, sideState) {
  return lozenge(STATE_APPEARANCE[sideState.state] || "default", sideState.stateLabel,
    { testid: `${side}-status`, data: { state: sideState.state } });
}

function url(text) {
  return h("span", { class: "url" }, text);
}

function actionButton(side, item, ctl) {
  const kind = item.action === "generate" ? " button--primary" : item.action === "deactivate" ? " button--danger" : "";
  return h("button", { type: "button", class: `button${kind}`, testid: `${side}-${item.action}`,
    onclick: () => ctl.connectionAction(side, item.action) }, item.label || ACTION_LABELS[item.action]);
}

/** The one and only showing of a newly issued token: a read-only field (selectable by hand) and a copy control. */
export function tokenPanel(token, action, ctl) {
  const status = h("span", { class: "copy-status", role: "status", "aria-live": "polite", "data-copy-status": true,
    testid: "copy-status" });
  const input = h("input", { id: "token-value", class: "token-value", testid: "revealed-token", type: "text",
    readonly: true, value: token, spellcheck: "false", autocomplete: "off", size: "44",
    "aria-describedby": "token-copy-hint", onfocus: (e) => e.target.select(), onclick: (e) => e.target.select() });
  const copy = h("button", { type: "button", class: "button", testid: "copy-token",
    onclick: () => ctl.copyToken(input, status) }, "Copy token");
  return h("section", { class: "panel panel--token", testid: "token-reveal", "aria-labelledby": "token-heading" },
    h("h2", { id: "token-heading" }, "Your recovery token"),
    h("p", {}, "Copy this token now and keep it somewhere safe ", h("strong", {}, "outside this Jira site"),
      ", such as your organisation's password manager. You'll need it to recover this site's configuration into " +
      "a new site. It won't be shown again."),
    action === "refresh" || action === "reset" ? h("p", { class: "muted" }, "The previous token no longer works.") : null,
    h("div", { class: "token-row" },
      h("label", { class: "visually-hidden", for: "token-value" }, "Recovery token"), input, copy, status),
    h("p", { id: "token-copy-hint", class: "muted hint" }, "Select the whole field (click it, or Ctrl+A / ⌘A inside " +
      "it) and copy it with Ctrl+C (⌘C on a Mac)."),
    h("p", {}, h("button", { type: "button", class: "button button--primary", testid: "token-stored",
      onclick: () => ctl.tokenStored() }, "I've stored it safely")));
}

/** A brand-new site: both choices explained, neither pre-chosen. */
export function firstStepsPanel() {
  const choice = (title, text, href, testid, label) => h("div", { class: "choice" }, h("h3", {}, title), h("p", {}, text),
    h("p", {}, h("a", { href, testid }, label)));
  return h("section", { class: "panel panel--choices", testid: "first-steps", "aria-labelledby": "first-steps-heading" },
    h("h2", { id: "first-steps-heading" }, "What is this site?"),
    h("div", { class: "choice-grid" },
      choice("The site to keep safe", "Generate a recovery token now and store it outside Jira. If this site is ever " +
        "lost, a new site uses it to recover this one's configuration.", "#source", "choose-protect", "Protect this site"),
      choice("A new site replacing a lost one", "Enter the lost site's recovery token and address to reach its " +
        "backups, then restore them here.", "#destination", "choose-recover", "Recover from another site")));
}

/** This site as a source: the connection protecting it, and its token's lifecycle. */
export function sourcePanel(data, site, ctl) {
  const side = data.source;
  const c = side.connection;
  const body = [];
  if (side.state === "not_connected") {
    body.push(h("div", { class: "empty-state", testid: "source-empty" },
      h("p", {}, h("strong", {}, "No token yet: generate one right after installing — keep it somewhere safe.")),
      h("p", { class: "muted" }, "If this site is ever lost, an admin of a new site uses the token and this site's " +
        "address (", url(site.url), ") to reach its backups.")));
  } else if (side.state === "pending") {
    body.push(h("p", { testid: "source-pending" }, "A token exists and is waiting to be used by a destination site. " +
      `Generated ${formatTime(c.updatedAt)}`, c.createdBy ? [" by ", h("span", { testid: "source-created-by" }, (data.names || {})[c.createdBy] || c.createdBy)] : null, "."));
  } else if (side.state === "active") {
    body.push(h("p", { testid: "source-destination" }, "Active: ",
      url(c.destination ? c.destination.url : "a deleted site"),
      ` can read this site's backups (since ${formatTime(c.activatedAt)}).`));
  } else if (side.state === "released") {
    body.push(h("p", { testid: "source-released" }, c && c.tokenUsable
      ? "Released: no destination is linked. The token can be used again to activate a destination."
      : "Released: no destination is linked, and the token no longer works. Generate a new token before a " +
        "destination can activate."));
  } else if (side.state === "deactivated") {
    body.push(h("p", { testid: "source-deactivated" }, `The last connection was deactivated on ${formatTime(c.deactivatedAt)}: ` +
      "this site's data can no longer be recovered through it. Generate a new token to protect this site again."));
  }
  const actions = side.actions || [];
  return h("section", { class: "panel", id: "source", testid: "source-section", "aria-labelledby": "source-heading" },
    h("div", { class: "panel-head" }, h("h2", { id: "source-heading" }, "Protect this site"), statusLozenge("source", side)),
    body,
    h("div", { class: "actions" }, actions.map((a) => actionButton("source", a, ctl))),
    side.lostTokenHint ? h("p", { class: "muted hint", testid: "source-lost-hint" }, side.lostTokenHint) : null);
}

function activationForm(ctl) {
  const token = h("textarea", { id: "activate-token", name: "token", rows: "2", required: true, spellcheck: "false",
    autocapitalize: "off", "aria-describedby": "activate-token-hint", testid: "activate-token" });
  const address = h("input", { id: "activate-url", name: "base_url", type: "text", inputmode: "url", required: true,
    spellcheck: "false", autocapitalize: "off", placeholder: "https://your-old-site.atlassian.net",
    "aria-describedby": "activate-url-hint", testid: "activate-url" });
  const form = h("form", { class: "form", testid: "activate-form", autocomplete: "off", novalidate: true,
    onsubmit: (e) => { e.preventDefault(); ctl.activate(token.value, address.value); } },
    h("div", { class: "field" }, h("label", { for: "activate-token" }, "Recovery token"), token,
      h("p", { id: "activate-token-hint", class: "muted hint" }, "Starts with JDR1-. Line breaks and spaces are ignored.")),
    h("div", { class: "field" }, h("label", { for: "activate-url" }, "Source site address"), address,
      h("p", { id: "activate-url-hint", class: "muted hint" }, "The lost site's address, or any address it had before.")),
    h("button", { type: "submit", class: "button button--primary", testid: "activate-submit" }, "Activate connection"));
  // Enter in the one-line address field submits, as in a plain form; Enter in the token box too (tokens have no
  // line breaks worth typing), so keyboard users can activate without reaching for the button.
  token.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); } });
  return form;
}

/** This site as a destination: activation with a source's token, then the source's backups and restore. */
export function destinationPanel(data, ctl) {
  const side = data.destination;
  const c = side.connection;
  const active = data.activeSource;
  const body = [];
  if (active) {
    body.push(h("p", { testid: "active-source" }, "Connected to the source site ", h("strong", { class: "url" }, active.url),
      active.installed ? null : [" ", h("span", { class: "muted" },
        "(the app is no longer installed there; its backups are still here)")], "."));
    body.push(h("div", { class: "actions" }, (side.actions || []).filter((a) => a.action !== "activate")
      .map((a) => actionButton("destination", a, ctl))));
  } else {
    if (side.state === "released" && c) {
      body.push(h("p", { testid: "destination-previous" }, "This site released its connection to ", url(c.source.url),
        ". Activate again with a token to recover."));
    } else if (side.state === "deactivated" && c) {
      body.push(h("p", { testid: "destination-previous" }, "The connection to ", url(c.source.url),
        " was deactivated: its data can no longer be recovered through it."));
    } else {
      body.push(h("p", {}, "Is this the new site replacing one that was lost? Enter the lost site's recovery token " +
        "and address to reach its backups. It works even when the lost site is down or deleted."));
    }
    if ((side.actions || []).some((a) => a.action === "activate")) body.push(activationForm(ctl));
  }
  return h("section", { class: "panel", id: "destination", testid: "destination-section",
    "aria-labelledby": "destination-heading" },
    h("div", { class: "panel-head" }, h("h2", { id: "destination-heading" }, "Recover from another site"),
      statusLozenge("destination", side)),
    body);
}

/** The confirmation step for Release (Yes/No), and for Refresh, Reset and Deactivate (texts from the service). */
export function confirmPanel(confirm, texts, ctl) {
  const t = (texts && texts[confirm.action]) || {};
  if (confirm.action === "release") {
    return h("section", { class: "panel panel--confirm", testid: "confirm-step", "aria-labelledby": "confirm-heading" },
      h("div", { testid: "confirm-release" },
        h("h2", { id: "confirm-heading" }, t.title || "Release the connection?"),
        h("p", {}, t.text || ""),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "button button--primary", testid: "confirm-release-yes",
            onclick: () => ctl.confirmed(confirm, { reusable: true }) }, t.yes || "Yes, the token can be used again"),
          h("button", { type: "button", class: "button", testid: "confirm-release-no",
            onclick: () => ctl.confirmed(confirm, { reusable: false }) }, t.no || "No, a new token must be generated"),
          h("button", { type: "button", class: "button button--subtle", testid: "confirm-cancel",
            onclick: () => ctl.cancelConfirm() }, "Cancel"))));
  }
  const danger = confirm.action === "deactivate";
  return h("section", { class: "panel panel--confirm", testid: "confirm-step", "aria-labelledby": "confirm-heading" },
    h("div", { testid: `confirm-${confirm.action}` },
      h("h2", { id: "confirm-heading" }, t.title || ACTION_LABELS[confirm.action]),
      h("p", {}, h("strong", {}, t.text || "")),
      h("div", { class: "actions" },
        h("button", { type: "button", class: danger ? "button button--danger" : "button button--warning",
          testid: `confirm-${confirm.action}-yes`, onclick: () => ctl.confirmed(confirm, {}) },
        t.confirm || ACTION_LABELS[confirm.action]),
        h("button", { type: "button", class: "button button--subtle", testid: "confirm-cancel",
          onclick: () => ctl.cancelConfirm() }, "Cancel"))));
}

/** The tenant's audit log of every action (connections, backups, restores, authorisations, the schedule): who,
 *  what, when, outcome, which area; the newest first, "Show older entries" for the rest. */
export function auditPanel(entries, total, next, ctl) {
  const named = (e) => e.who && e.who !== e.accountId;
  const rows = (entries || []).map((e) => h("tr", { testid: "audit-row", data: { action: e.action, outcome: e.outcome, side: e.side } },
    h("td", { class: "nowrap" }, formatSeconds(e.at)),
    h("td", { testid: "audit-who", data: { accountId: e.accountId || "" },
      title: named(e) && e.accountId !== "schedule" ? e.accountId : null, class: named(e) ? null : "account" },
    e.who || e.accountId || "—"),
    h("td", { class: "nowrap" }, e.sideLabel || e.side),
    h("td", { class: "nowrap", testid: "audit-what" }, e.actionLabel || ACTION_LABELS[e.action] || e.action),
    h("td", {}, lozenge(e.outcomeAppearance || "default", e.outcomeLabel || e.outcome)),
    h("td", {}, e.detail || "")));
  return h("section", { class: "panel", id: "audit", testid: "audit-section", "aria-labelledby": "audit-heading" },
    h("h2", { id: "audit-heading" }, "Audit log"),
    rows.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "table table--compact", testid: "audit-log", data: { total } },
        h("thead", {}, h("tr", {}, ["When (UTC)", "Who", "Area", "What", "Outcome", "Details"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows)))
      : h("p", { class: "muted", testid: "audit-empty" }, "Nothing has happened yet. Every action on this page is " +
        "recorded here, with who did it and when."),
    next !== null && next !== undefined && ctl
      ? h("p", {}, h("button", { type: "button", class: "button", testid: "audit-more", onclick: () => ctl.moreAudit() },
        `Show older entries (${rows.length} of ${total})`))
      : null);
}
