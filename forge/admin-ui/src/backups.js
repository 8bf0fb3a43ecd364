// The Backups section (this site's own snapshots, "Back up now", its progress) and one snapshot's contents.
import { formatTime, h, lozenge } from "./dom.js";

const SNAPSHOT_LOZENGES = { complete: ["success", "Complete"], partial: ["moved", "Partial"], failed: ["removed", "Failed"],
  running: ["inprogress", "Running"] };
const LIVE = ["queued", "running", "retrying", "waiting"];

/** True while a backup job is queued or running (the poller keeps going). */
export function backupRunning(progress) {
  return Boolean(progress && progress.state && progress.state !== "none" && !progress.finished && LIVE.includes(progress.state));
}

function kib(bytes) {
  return `${((Number(bytes) || 0) / 1024).toFixed(1)} KiB`;
}

/** A snapshot's issue data in words (issues, comments, worklogs, attachments) and the restricted comments' notice. */
function issueData(d) {
  if (!d) return null;
  const data = { issues: d.issues, comments: d.comments, worklogs: d.worklogs, attachments: d.attachments,
    attachmentBytes: d.attachmentBytes, restrictedComments: d.restrictedComments };
  return [h("div", { class: "muted", testid: "snapshot-issue-data", data },
    `${d.issues} issues · ${d.comments} comments · ${d.worklogs} worklogs · ${d.attachments} attachments ` +
    `(${((Number(d.attachmentBytes) || 0) / 1048576).toFixed(1)} MiB)`),
  d.restrictedWords ? h("div", { class: "notice notice--warning", testid: "snapshot-restricted-comments",
    data: { count: d.restrictedComments } }, d.restrictedWords) : null];
}

function snapshotRow(s, ctl) {
  const [appearance, label] = SNAPSHOT_LOZENGES[s.status] || ["default", s.status];
  const incomplete = (s.types || []).filter((t) => t.status !== "complete").length;
  const who = s.startedBy;
  return h("tr", { testid: "snapshot-row", data: { snapshotId: s.id, status: s.status } },
    h("td", { class: "nowrap" }, h("button", { type: "button", class: "link-button", testid: "snapshot-link",
      onclick: () => ctl.openSnapshot(s.id) }, formatTime(s.takenAt))),
    h("td", {}, lozenge(appearance, label, { testid: "snapshot-status" }),
      incomplete ? [" ", h("span", { class: "muted", testid: "snapshot-incomplete-types" },
        `${incomplete} type${incomplete === 1 ? "" : "s"} incomplete`)] : null),
    h("td", { testid: "snapshot-objects", data: { count: s.objectCount } }, h("details", { class: "by-type" },
      h("summary", {}, `${s.objectCount ?? 0} `, h("span", { class: "muted" }, `in ${(s.types || []).length} types`)),
      h("ul", { class: "counts" }, (s.types || []).map((t) => h("li", { testid: "snapshot-type-count",
        data: { type: t.key, count: t.count, status: t.status } },
        `${t.label}: ${t.count}${t.status !== "complete" ? ` (${t.status})` : ""}`)))), issueData(s.issueData)),
    h("td", { class: "num", testid: "snapshot-size", data: { bytes: s.bytesStored } }, kib(s.bytesStored)),
    h("td", { class: "num", testid: "snapshot-duration" },
      s.durationSeconds === null || s.durationSeconds === undefined ? "–" : `${Number(s.durationSeconds).toFixed(1)} s`),
    h("td", { testid: "snapshot-started-by", data: { accountId: who ? who.accountId : "" } }, who ? who.name : "—"),
    h("td", { class: "num", testid: "snapshot-points", data: { points: s.points ? s.points.points : "" },
      title: s.points ? s.points.text : null }, s.points ? Number(s.points.points).toLocaleString("en-US") : "–"));
}

/** The Backups section: the failure that stays until a backup succeeds, button, progress, a compact paged table. */
export function backupsPanel(backups, ctl) {
  const progress = backups.progress || { state: "none" };
  const running = backupRunning(progress) || Boolean(ctl.backupStarting);
  const snapshots = backups.snapshots || [];
  const failed = backups.failure;
  return h("section", { class: "panel", id: "backups", testid: "backups-section", "aria-labelledby": "backups-heading" },
    h("h2", { id: "backups-heading" }, "Backups"),
    failed && !running ? failureMessage(failed, "backup-failed") : null,
    h("button", { type: "button", class: "button button--primary", testid: "backup-now", disabled: running,
      onclick: () => ctl.backUpNow() }, "Back up now"),
    running
      ? h("div", { testid: "backup-running", data: { jobId: progress.jobId, jobState: progress.state } },
        h("p", { role: "status" }, h("span", { testid: "backup-step" }, progress.step || "Waiting for a worker…")),
        h("progress", { testid: "backup-progress", "aria-label": "Backup progress", max: String(progress.total || 1),
          value: String(progress.done || 0) }, `${progress.percent || 0} %`))
      : null,
    snapshots.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "table table--compact", testid: "snapshot-list",
        data: { total: backups.total } },
        h("thead", {}, h("tr", {}, ["Taken", "Status", "Objects", "Size", "Duration", "Started by", "Jira points"].map((c, i) =>
          h("th", { scope: "col", class: (i >= 3 && i <= 4) || i === 6 ? "num" : null }, c)))),
        h("tbody", {}, snapshots.map((s) => snapshotRow(s, ctl)))))
      : h("p", { class: "muted", testid: "no-snapshots" }, "No backups yet."),
    backups.next !== null && backups.next !== undefined
      ? h("p", {}, h("button", { type: "button", class: "button", testid: "snapshots-more", onclick: () => ctl.moreSnapshots() },
        `Show older backups (${snapshots.length} of ${backups.total})`))
      : null,
    backups.schedule ? schedulePanel(backups.schedule, ctl) : null);
}

/** A failed last backup, in words (when and why): in the Backups section and at the top of the page. */
export function failureMessage(failure, testid) {
  return h("div", { class: "section-message", role: "alert", testid, data: { scheduled: failure.scheduled ? "true" : "false" } },
    h("h3", {}, failure.title), h("p", {}, failure.text));
}

function numberField(id, name, label, value, limits, testid, invalid) {
  return h("div", { class: "field" },
    h("label", { for: id }, `${label} (${limits[0]}–${limits[1]})`),
    h("input", { id, name, type: "number", inputmode: "numeric", required: true, min: String(limits[0]),
      max: String(limits[1]), step: "1", value: String(value), testid,
      "aria-invalid": invalid ? "true" : null, "aria-describedby": invalid ? "schedule-error" : null }));
}

/** The schedule: the next automatic backup in words, how often, what is kept, and the form to change it. */
export function schedulePanel(schedule, ctl) {
  const limits = schedule.limits || { intervalHours: [1, 168], retentionDaily: [1, 366], retentionWeekly: [0, 520] };
  const refused = ctl.scheduleError || null;
  const shown = refused && ctl.scheduleTyped ? { ...schedule, ...ctl.scheduleTyped } : schedule;
  const enabled = h("input", { type: "checkbox", name: "enabled", testid: "schedule-enabled", checked: shown.enabled });
  const form = h("form", { class: "form", testid: "schedule-form", novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    const value = (name) => form.elements[name].value;
    ctl.saveSchedule({ enabled: enabled.checked, intervalHours: value("interval_hours"),
      retentionDaily: value("retention_daily"), retentionWeekly: value("retention_weekly") });
  } },
  h("div", { class: "field" }, h("label", {}, enabled, " Back up this site automatically")),
  h("div", { class: "inline-form-fields" },
    numberField("schedule-interval", "interval_hours", "Hours between backups", shown.intervalHours, limits.intervalHours,
      "schedule-interval", refused && refused.field === "intervalHours"),
    numberField("schedule-daily", "retention_daily", "Days kept", shown.retentionDaily, limits.retentionDaily,
      "schedule-daily", refused && refused.field === "retentionDaily"),
    numberField("schedule-weekly", "retention_weekly", "Weeks kept", shown.retentionWeekly, limits.retentionWeekly,
      "schedule-weekly", refused && refused.field === "retentionWeekly"),
    h("button", { type: "submit", class: "button", testid: "schedule-save" }, "Save schedule")),
  refused ? h("div", { class: "notice notice--error", role: "alert", id: "schedule-error", testid: "schedule-error",
    data: { field: refused.field || "" } }, `${refused.message} Nothing was changed.`) : null,
  h("p", { class: "muted hint" }, "Lowering the days or weeks kept deletes older backups as soon as you save; you are " +
    "asked first, with how many."));
  return h("div", { class: "schedule-box", testid: "schedule", data: { enabled: schedule.enabled ? "true" : "false",
    intervalHours: schedule.intervalHours, retentionDaily: schedule.retentionDaily, retentionWeekly: schedule.retentionWeekly } },
    h("h3", {}, "Schedule"),
    h("dl", { class: "schedule" },
      h("dt", {}, "Next automatic backup"), h("dd", { testid: "schedule-next", data: { at: schedule.nextRunAt } }, schedule.nextWords),
      h("dt", {}, "How often"), h("dd", { testid: "schedule-interval-words" }, schedule.enabled ? schedule.intervalWords : "Off"),
      h("dt", {}, "Kept"), h("dd", { testid: "schedule-retention" }, schedule.retentionWords,
        schedule.protected ? [" ", h("span", { class: "muted", testid: "schedule-protected" },
          "While a destination site is connected, every backup is kept.")] : null)),
    h("details", { testid: "schedule-edit", open: Boolean(refused) }, h("summary", {}, "Change the schedule"), form));
}

/** The confirmation a shorter retention needs: how many backups go, now, and which. */
export function scheduleConfirmPanel(confirm, ctl) {
  const count = confirm.count;
  return h("section", { class: "panel panel--confirm", testid: "schedule-confirm", data: { count },
    "aria-labelledby": "confirm-heading" },
    h("h2", { id: "confirm-heading", tabindex: "-1" }, `Delete ${count} backup${count === 1 ? "" : "s"}?`),
    h("p", {}, h("strong", { testid: "schedule-confirm-words" }, confirm.words)),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "button button--danger", testid: "schedule-confirm-yes",
        onclick: () => ctl.saveSchedule(confirm.values, count) }, `Delete ${count} backup${count === 1 ? "" : "s"} and save`),
      h("button", { type: "button", class: "button button--subtle", testid: "schedule-confirm-cancel",
        onclick: () => ctl.cancelScheduleConfirm() }, "Cancel")));
}

/** One snapshot: its details, its types, and the contents of the chosen type. */
export function snapshotView(snapshot, contents, ctl) {
  return [
    h("p", { class: "back" }, h("button", { type: "button", class: "link-button", testid: "back-to-list",
      onclick: () => ctl.home() }, "← Disaster recovery (all backups)")),
    h("h1", { tabindex: "-1", testid: "view-heading" }, `Snapshot of ${formatTime(snapshot.takenAt)}`),
    h("dl", { class: "details", testid: "snapshot-detail", data: { status: snapshot.status } },
      h("dt", {}, "Status"), h("dd", { testid: "snapshot-status" }, snapshot.status),
      snapshot.message ? [h("dt", {}, "Note"), h("dd", { testid: "snapshot-message" }, snapshot.message)] : null,
      h("dt", {}, "Objects"), h("dd", {}, String(snapshot.objectCount ?? "")),
      snapshot.issueData ? [h("dt", {}, "Issue data"), h("dd", {}, issueData(snapshot.issueData))] : null,
      h("dt", {}, "Jira calls"), h("dd", {}, String(snapshot.apiCalls ?? "")),
      h("dt", {}, "Jira points"), h("dd", { testid: "snapshot-points", data: { points: snapshot.points ? snapshot.points.points : "" } },
        snapshot.points ? snapshot.points.text : "Not counted for this backup"),
      h("dt", {}, "App / format version"), h("dd", {}, `${snapshot.appVersion ?? ""} / ${snapshot.formatVersion ?? ""}`)),
    h("div", { class: "table-wrap spaced" }, h("table", { class: "table", testid: "snapshot-types" },
      h("thead", {}, h("tr", {}, ["Type", "Status", "Objects"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, (snapshot.types || []).map((t) => h("tr", { testid: "snapshot-type", data: { type: t.key, status: t.status, count: t.count } },
        h("td", {}, h("button", { type: "button", class: "link-button", onclick: () => ctl.openSnapshotType(snapshot.id, t.key) }, t.label)),
        h("td", {}, t.status, t.reason ? h("div", { class: "muted", testid: "type-reason" }, t.reason) : null),
        h("td", {}, String(t.count))))))),
    contents
      ? [h("h2", { testid: "contents-heading", tabindex: "-1" }, contents.label || contents.type),
        h("ul", { testid: "snapshot-contents", data: { type: contents.type } },
          (contents.entries || []).map((e) => h("li", { testid: "snapshot-entry", data: { sourceId: e.sourceId || "" } }, e.naturalKey))),
        contents.total > (contents.entries || []).length
          ? h("p", { class: "muted" }, `Showing ${(contents.entries || []).length} of ${contents.total}.`) : null]
      : null,
  ];
}
