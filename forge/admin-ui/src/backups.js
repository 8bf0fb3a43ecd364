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
        `${t.label}: ${t.count}${t.status !== "complete" ? ` (${t.status})` : ""}`))))),
    h("td", { class: "num", testid: "snapshot-size", data: { bytes: s.bytesStored } }, kib(s.bytesStored)),
    h("td", { class: "num", testid: "snapshot-duration" },
      s.durationSeconds === null || s.durationSeconds === undefined ? "–" : `${Number(s.durationSeconds).toFixed(1)} s`),
    h("td", { testid: "snapshot-started-by", data: { accountId: who ? who.accountId : "" } }, who ? who.name : "—"));
}

/** The Backups section: the failure that stays until a backup succeeds, button, progress, a compact paged table. */
export function backupsPanel(backups, ctl) {
  const progress = backups.progress || { state: "none" };
  const running = backupRunning(progress) || Boolean(ctl.backupStarting);
  const snapshots = backups.snapshots || [];
  const failed = backups.lastFailed;
  return h("section", { class: "panel", id: "backups", testid: "backups-section", "aria-labelledby": "backups-heading" },
    h("h2", { id: "backups-heading" }, "Backups"),
    failed && !running
      ? h("div", { class: "section-message", role: "alert", testid: "backup-failed" },
        h("h3", {}, "The last backup failed"),
        h("p", {}, `${failed.message || "No reason was recorded."} This message stays until a backup succeeds.`))
      : null,
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
        h("thead", {}, h("tr", {}, ["Taken", "Status", "Objects", "Size", "Duration", "Started by"].map((c, i) =>
          h("th", { scope: "col", class: i >= 3 && i <= 4 ? "num" : null }, c)))),
        h("tbody", {}, snapshots.map((s) => snapshotRow(s, ctl)))))
      : h("p", { class: "muted", testid: "no-snapshots" }, "No backups yet."),
    backups.next !== null && backups.next !== undefined
      ? h("p", {}, h("button", { type: "button", class: "button", testid: "snapshots-more", onclick: () => ctl.moreSnapshots() },
        `Show older backups (${snapshots.length} of ${backups.total})`))
      : null);
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
      h("dt", {}, "Jira calls"), h("dd", {}, String(snapshot.apiCalls ?? "")),
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
