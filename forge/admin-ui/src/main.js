// The Disaster recovery admin page as a Forge Custom UI: loads the page's data through invokeRemote, renders the
// views (main page, one restore run, one snapshot) and runs the actions. State lives here; views are in the modules.
import { view } from "@forge/bridge";
import { ApiError, get, getAll, post } from "./api.js";
import { backupRunning, backupsPanel, failureMessage, scheduleConfirmPanel, snapshotView } from "./backups.js";
import { auditPanel, confirmPanel, destinationPanel, firstStepsPanel, sourcePanel, tokenPanel } from "./connections.js";
import { h, replace } from "./dom.js";
import { saveText } from "./download.js";
import { LIVE_RUN, restorePanel, runView } from "./restore.js";

const POLL_MS = 1500;
const CONFIRMED = ["refresh", "reset", "release", "deactivate"]; // actions that end a token or a link: asked first
const SNAPSHOT_PAGE = 10; // a compact table: ten rows, then "Show older backups"
const ITEMS_PAGE = 200;

const state = {
  forgeContext: null, context: null, texts: { notices: {}, confirmations: {} },
  connections: null, backups: null, restore: null,
  notice: null, token: null, tokenAction: null, confirm: null, scheduleConfirm: null,
  view: "home", run: null, snapshot: null, busy: false,
};
const timers = { backup: null, run: null };
const root = () => document.getElementById("main");

// -- rendering ----------------------------------------------------------------------------------------------------

function noticeBox(notice) {
  if (!notice) return h("div", { id: "notice-slot" });
  const kind = notice.kind || "info";
  return h("div", { id: "notice-slot" }, h("div", { class: `notice notice--${kind}`, testid: "notice",
    data: { noticeKind: kind }, role: kind === "error" ? "alert" : "status", tabindex: "-1" }, notice.text));
}

function homeView() {
  const c = state.connections;
  const site = (state.context && state.context.site) || {};
  const header = h("header", { class: "page-header" },
    h("h1", { tabindex: "-1", testid: "view-heading" }, "Disaster recovery connections"),
    h("p", { class: "muted", testid: "site" }, "This site: ", h("span", { class: "url" }, site.url || "")));
  if (state.confirm) {
    return [header, noticeBox(state.notice), confirmPanel(state.confirm, state.texts.confirmations, ctl)];
  }
  if (state.scheduleConfirm) return [header, noticeBox(state.notice), scheduleConfirmPanel(state.scheduleConfirm, ctl)];
  // A failed last backup is said at the top until a backup succeeds (and again in the Backups section).
  const failure = c.backupFailure ? failureMessage(c.backupFailure, "backup-alert") : null;
  // The side the site uses comes first; a brand-new site is shown both choices (the same order as the Connect page).
  const sides = c.situation === "destination" ? [destinationPanel(c, ctl), sourcePanel(c, site, ctl)]
    : [sourcePanel(c, site, ctl), destinationPanel(c, ctl)];
  return [header, failure, noticeBox(state.notice),
    state.token ? tokenPanel(state.token, state.tokenAction, ctl) : null,
    c.situation === "new" && !state.token ? firstStepsPanel() : null,
    sides,
    state.backups ? backupsPanel(state.backups, ctl) : null,
    restorePanel(state.restore, ctl), // with an Active source; else the history alone (kept after release)
    auditPanel(c.audit, c.auditTotal, c.auditNext, ctl)];
}

function render(focus) {
  const main = root();
  if (state.view === "run" && state.run) replace(main, noticeBox(state.notice), runView(state.run, ctl));
  else if (state.view === "snapshot" && state.snapshot) {
    replace(main, noticeBox(state.notice), snapshotView(state.snapshot.snapshot, state.snapshot.contents, ctl));
  } else replace(main, homeView());
  main.removeAttribute("aria-busy");
  moveFocus(focus);
}

/** Move focus after a change so keyboard and screen-reader users land on what changed. */
function moveFocus(focus) {
  const target = focus === "notice" ? document.querySelector("[data-testid=notice]")
    : focus === "token" ? document.getElementById("token-value")
      : focus === "confirm" ? document.getElementById("confirm-heading")
        : focus === "heading" ? document.querySelector("[data-testid=view-heading]")
          : focus === "contents" ? document.querySelector("[data-testid=contents-heading]") : null;
  if (!target) return;
  if (target.tagName === "H2" && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: false });
}

/** Show a message without redrawing the page (typed input stays where it is). */
function showNotice(notice) {
  state.notice = notice;
  const slot = document.getElementById("notice-slot");
  if (slot) {
    slot.replaceWith(noticeBox(notice));
    moveFocus("notice");
  } else render("notice");
}

function redrawBackups() {
  const old = document.getElementById("backups");
  if (old && state.view === "home" && !state.confirm) old.replaceWith(backupsPanel(state.backups, ctl));
}

function errorNotice(err) {
  if (err instanceof ApiError) {
    if (err.notice) return { kind: err.notice.kind || "error", text: err.notice.text };
    return { kind: "error", text: err.message };
  }
  return { kind: "error", text: "Something went wrong on this page. Reload it and try again." };
}

/** Run one user action at a time; a refusal becomes the page's notice. */
async function guard(work) {
  if (state.busy) return;
  state.busy = true;
  root().setAttribute("aria-busy", "true");
  try {
    await work();
  } catch (err) {
    showNotice(errorNotice(err));
  } finally {
    state.busy = false;
    root().removeAttribute("aria-busy");
  }
}

// -- loading ------------------------------------------------------------------------------------------------------

async function loadBackups() {
  const [list, progress] = await Promise.all([get(`/backups?offset=0&limit=${SNAPSHOT_PAGE}`), get("/backups/progress")]);
  state.backups = { ...list, progress };
}

async function loadRestore() {
  try {
    state.restore = await get("/restore");
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 403) throw err;
    state.restore = null; // no Active destination connection: no Restore section
  }
}

async function loadHome() {
  const [connections] = await Promise.all([get("/connections"), loadBackups()]);
  state.connections = connections;
  await loadRestore(); // the restore history stays once the connection ends
}

function pollBackup() {
  clearTimeout(timers.backup);
  if (!state.backups || !backupRunning(state.backups.progress)) return;
  timers.backup = setTimeout(async () => {
    try {
      const progress = await get("/backups/progress");
      if (backupRunning(progress)) {
        state.backups.progress = progress;
      } else {
        await loadBackups(); // finished: the new snapshot is in the list
      }
      redrawBackups();
    } catch (err) {
      // A missed tick is retried on the next one; the page stays usable.
    }
    pollBackup();
  }, POLL_MS);
}

async function loadRun(runId, keep) {
  const detail = await get(`/restore/runs/${runId}`);
  const items = await get(`/restore/runs/${runId}/items?offset=0&limit=${ITEMS_PAGE}`);
  const planned = detail.run.status === "planned";
  const conflicts = planned && detail.conflictCount
    ? (await get(`/restore/runs/${runId}/items?offset=0&limit=${ITEMS_PAGE}&conflicts=1`)).items : [];
  const sel = detail.run.selection || { types: [], projects: [], jql: "" };
  const previous = keep && state.run && state.run.detail.run.id === runId ? state.run : null;
  state.run = {
    detail, items: items.items || [], itemsNext: items.next, itemsTotal: items.total, conflicts,
    selection: previous ? previous.selection
      : { scope: (sel.types || []).length || (sel.projects || []).length || sel.jql ? "some" : "all",
        types: [...(sel.types || [])], projects: [...(sel.projects || [])], jql: sel.jql || "" },
    userFallback: previous ? previous.userFallback : detail.run.userFallback || "drop",
    selectionResult: previous ? previous.selectionResult : null,
    progress: null,
  };
}

function pollRun() {
  clearTimeout(timers.run);
  if (state.view !== "run" || !state.run || !LIVE_RUN.includes(state.run.detail.run.status)) return;
  const runId = state.run.detail.run.id;
  timers.run = setTimeout(async () => {
    try {
      const progress = await get(`/restore/runs/${runId}/progress`);
      if (state.view !== "run" || !state.run || state.run.detail.run.id !== runId) return;
      if (progress.status !== state.run.detail.run.status) {
        await loadRun(runId, true);
        render();
      } else {
        state.run.progress = progress;
        const box = document.getElementById("restore-progress");
        const fresh = runView(state.run, ctl);
        const newBox = fresh.flat(Infinity).find((n) => n && n.id === "restore-progress");
        if (box && newBox) box.replaceWith(newBox);
      }
    } catch (err) {
      // Retried on the next tick.
    }
    pollRun();
  }, POLL_MS);
}

// -- actions (the views call these) --------------------------------------------------------------------------------

const ctl = {
  backupStarting: false,
  siteUrl: () => (state.context && state.context.site && state.context.site.url) || "",

  connectionAction(side, action) {
    const connection = state.connections[side].connection;
    if (CONFIRMED.includes(action) && (side === "source" || action === "release" || action === "deactivate")) {
      state.confirm = { side, action, connection: connection ? connection.id : undefined };
      state.notice = null;
      render("confirm");
      return;
    }
    guard(async () => {
      const answer = await post(`/connections/${side}/${action}`, connection && action !== "generate" ? { connection: connection.id } : {});
      state.connections = answer.connections;
      state.token = answer.token || null;
      state.tokenAction = action;
      state.notice = answer.token ? null : answer.notice || null;
      render(answer.token ? "token" : "notice");
    });
  },

  confirmed(confirm, extra) {
    guard(async () => {
      try {
        const answer = await post(`/connections/${confirm.side}/${confirm.action}`,
          { connection: confirm.connection, confirmed: true, ...extra });
        state.connections = answer.connections;
        state.token = answer.token || null;
        state.tokenAction = answer.token ? confirm.action : null;
        state.notice = answer.token ? null : answer.notice || null;
      } finally {
        state.confirm = null;
      }
      await loadRestore();
      render(state.token ? "token" : "notice");
    });
  },

  cancelConfirm() {
    state.confirm = null;
    render("heading");
  },

  activate(token, sourceUrl) {
    guard(async () => {
      const answer = await post("/connections/destination/activate", { token, sourceUrl });
      state.connections = answer.connections;
      state.notice = answer.notice || null;
      await loadRestore();
      render("notice");
    });
  },

  tokenStored() {
    state.token = null;
    state.tokenAction = null;
    const stored = state.texts.notices["token-stored"];
    state.notice = stored ? { kind: stored.kind || "info", text: stored.text } : null;
    render("notice");
  },

  /** Copy the token: the Clipboard API, else select + execCommand (Jira's iframe often blocks the first), else
   *  leave it selected and say which keys copy it. */
  copyToken(input, status) {
    const manual = /Mac|iPhone|iPad/.test(navigator.platform || "") ? "Selected: press \u2318C to copy"
      : "Selected: press Ctrl+C to copy";
    const selectAll = () => { input.focus(); input.select(); input.setSelectionRange(0, input.value.length); };
    const say = (text) => { status.textContent = text; status.dataset.copyResult = text === "Copied" ? "copied" : "manual"; };
    const fallback = () => {
      selectAll();
      let ok = false;
      try { ok = document.execCommand("copy") === true; } catch (e) { ok = false; }
      say(ok ? "Copied" : manual);
    };
    if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(() => { selectAll(); say("Copied"); }, fallback);
    } else fallback();
  },

  backUpNow() {
    guard(async () => {
      ctl.backupStarting = true;
      redrawBackups();
      try {
        await post("/backups", {});
        await loadBackups();
      } finally {
        ctl.backupStarting = false;
      }
      redrawBackups();
      pollBackup();
    });
  },

  scheduleError: null, // a refused schedule value: {field, message}
  scheduleTyped: null, // what the refused form held, shown again

  /** Save the schedule; a shorter retention comes back asking to confirm the number of backups it deletes. */
  saveSchedule(values, confirmedDeletions) {
    const number = (v) => (typeof v === "string" && /^\d{1,6}$/.test(v.trim()) ? Number(v.trim()) : v);
    const body = { enabled: values.enabled, intervalHours: number(values.intervalHours),
      retentionDaily: number(values.retentionDaily), retentionWeekly: number(values.retentionWeekly) };
    if (confirmedDeletions !== undefined) body.confirmedDeletions = confirmedDeletions;
    guard(async () => {
      let answer;
      try {
        answer = await post("/backups/schedule", body);
      } catch (err) {
        if (err instanceof ApiError && err.code === "confirmation-required") {
          state.scheduleConfirm = { count: err.deletions, words: err.message, values };
          state.notice = null;
          render("confirm");
          return;
        }
        if (err instanceof ApiError && err.status === 400) {
          ctl.scheduleError = { field: err.field, message: err.message };
          ctl.scheduleTyped = values;
          state.scheduleConfirm = null;
          render();
          const box = document.querySelector("[data-testid=schedule-error]");
          if (box) box.scrollIntoView({ block: "center" });
          const field = document.querySelector("#schedule-edit [aria-invalid=true], [data-testid=schedule-form] [aria-invalid=true]");
          if (field) field.focus();
          return;
        }
        throw err;
      }
      ctl.scheduleError = null;
      ctl.scheduleTyped = null;
      state.scheduleConfirm = null;
      state.notice = answer.notice || null;
      await loadBackups();
      state.connections = await get("/connections");
      render("notice");
    });
  },

  cancelScheduleConfirm() {
    state.scheduleConfirm = null;
    render("heading");
  },

  moreAudit() {
    guard(async () => {
      const c = state.connections;
      const page = await get(`/audit?offset=${c.auditNext}&limit=25`);
      state.connections = { ...c, audit: [...c.audit, ...(page.entries || [])], auditNext: page.next };
      render();
    });
  },

  moreSnapshots() {
    guard(async () => {
      const page = await get(`/backups?offset=${state.backups.next}&limit=${SNAPSHOT_PAGE}`);
      state.backups = { ...state.backups, snapshots: [...state.backups.snapshots, ...(page.snapshots || [])], next: page.next };
      redrawBackups();
    });
  },

  openSnapshot(snapshotId) {
    guard(async () => {
      const { snapshot } = await get(`/backups/${snapshotId}`);
      const first = (snapshot.types || []).find((t) => t.count);
      const contents = first ? await get(`/backups/${snapshotId}/types/${encodeURIComponent(first.key)}?offset=0&limit=1000`) : null;
      state.snapshot = { snapshot, contents };
      state.view = "snapshot";
      state.notice = null;
      render("heading");
    });
  },

  openSnapshotType(snapshotId, typeKey) {
    guard(async () => {
      state.snapshot.contents = await get(`/backups/${snapshotId}/types/${encodeURIComponent(typeKey)}?offset=0&limit=1000`);
      render("contents");
    });
  },

  preview(snapshotId) {
    guard(async () => {
      const { run } = await post("/restore/previews", { snapshotId });
      await loadRun(run.id, false);
      state.view = "run";
      state.notice = null;
      render("heading");
      pollRun();
    });
  },

  openRun(runId) {
    guard(async () => {
      await loadRun(runId, false);
      state.view = "run";
      state.notice = null;
      render("heading");
      pollRun();
    });
  },

  setScope(scope) { state.run.selection.scope = scope; },
  toggleType(type, on) {
    const types = state.run.selection.types.filter((t) => t !== type);
    state.run.selection.types = on ? [...types, type] : types;
    if (on) state.run.selection.scope = "some";
  },
  setProjects(text) {
    state.run.selection.projects = text.split(",").map((p) => p.trim()).filter(Boolean);
  },
  setJql(text) {
    state.run.selection.jql = text.trim();
    if (state.run.selection.jql) state.run.selection.scope = "some";
  },
  setFallback(choice) { state.run.userFallback = choice; },

  showSelection() {
    guard(async () => {
      const s = state.run.selection;
      state.run.selectionResult = await post(`/restore/runs/${state.run.detail.run.id}/selection`,
        { scope: s.scope, types: s.types, projects: s.projects, jql: s.jql });
      state.notice = null;
      render();
    });
  },

  cancelRun(runId) {
    guard(async () => {
      await post(`/restore/runs/${runId}/cancel`, {});
      await loadRun(runId, true);
      render();
      pollRun();
    });
  },

  moreItems() {
    guard(async () => {
      const r = state.run;
      const page = await get(`/restore/runs/${r.detail.run.id}/items?offset=${r.itemsNext}&limit=${ITEMS_PAGE}`);
      r.items = [...r.items, ...(page.items || [])];
      r.itemsNext = page.next;
      render();
    });
  },

  reportStatus: "",
  downloadReport(runId, format) {
    guard(async () => {
      const status = document.querySelector("[data-testid=report-status]");
      if (status) status.textContent = "Preparing the report…";
      if (format === "json") {
        const { first, items } = await getAll(`/restore/runs/${runId}/report`, "objects", 2000);
        const { total, offset, limit, next, ...report } = first; // paging is ours, not the report's
        saveText(`restore-${runId}-report.json`, "application/json", JSON.stringify({ ...report, objects: items }, null, 2));
      } else {
        let offset = 0;
        let text = "";
        let filename = `restore-${runId}-report.csv`;
        for (;;) {
          const page = await get(`/restore/runs/${runId}/report.csv?offset=${offset}&limit=5000`);
          text += page.csv || "";
          filename = page.filename || filename;
          if (page.next === null || page.next === undefined) break;
          offset = page.next;
        }
        saveText(filename, "text/csv", text);
      }
      if (status) status.textContent = "Report downloaded.";
    });
  },

  home() {
    clearTimeout(timers.run);
    guard(async () => {
      await loadHome();
      state.view = "home";
      state.run = null;
      state.snapshot = null;
      state.notice = null;
      render("heading");
      pollBackup();
    });
  },
};

// -- start --------------------------------------------------------------------------------------------------------

async function start() {
  document.documentElement.classList.add("js");
  try {
    // The Forge context says which site and user this page runs for; the service derives both from the
    // invocation token anyway, so this is only a cross-check shown nowhere.
    state.forgeContext = await view.getContext();
    const [context, texts] = await Promise.all([get("/context"), get("/notices")]);
    state.context = context;
    state.texts = { notices: texts.notices || {}, confirmations: texts.confirmations || {} };
    await loadHome();
    render();
    pollBackup();
  } catch (err) {
    replace(root(), h("h1", {}, "Disaster recovery"),
      h("p", { class: "panel panel--error", role: "alert", testid: "load-error" }, errorNotice(err).text));
    root().removeAttribute("aria-busy");
  }
}

start();
