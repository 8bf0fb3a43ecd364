// The Restore section (on a destination with an Active connection) and one restore run: preview, selection,
// missing users, start, progress, report and fidelity — the Connect page's restore, as one view.
import { formatTime, h, percent } from "./dom.js";

export const LIVE_RUN = ["planning", "restoring"];
const ACTIONS = ["create", "reuse", "update", "skip", "cannot"];
const ACTION_HEADINGS = ["Create", "Reuse", "Update", "Skip", "Can't restore"];

/** The Restore section of the main page. */
export function restorePanel(restore, ctl) {
  if (!restore || !restore.source) return null;
  const snapshots = restore.snapshots || [];
  const runs = restore.runs || [];
  const select = h("select", { id: "restore-snapshot", name: "snapshot_id", testid: "restore-snapshot" },
    snapshots.map((s) => h("option", { value: String(s.id) }, `${formatTime(s.takenAt)} (${s.status})`)));
  return h("section", { class: "panel", id: "restore", testid: "restore-section", "aria-labelledby": "restore-heading" },
    h("h2", { id: "restore-heading" }, "Restore"),
    h("p", {}, "Restore the configuration of ", h("strong", { testid: "restore-source" }, restore.source.url),
      " onto this site. You'll see a preview first: nothing is written until you confirm."),
    snapshots.length
      ? h("form", { testid: "restore-preview-form", class: "inline-field",
        onsubmit: (e) => { e.preventDefault(); ctl.preview(Number(select.value)); } },
        h("label", { for: "restore-snapshot" }, "Snapshot"), select,
        h("button", { type: "submit", class: "button button--primary", testid: "restore-preview" }, "Preview restore"))
      : h("p", { class: "muted", testid: "restore-no-snapshots" }, "The source site has no finished backup yet."),
    runs.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "table", testid: "restore-runs" },
        h("thead", {}, h("tr", {}, ["Run", "Snapshot", "Status", "Fidelity"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, runs.map((run) => h("tr", { testid: "restore-run-row", data: { runId: run.id, status: run.status } },
          h("td", {}, h("button", { type: "button", class: "link-button", testid: "restore-run-link",
            onclick: () => ctl.openRun(run.id) }, `#${run.id}`)),
          h("td", {}, String(run.snapshotId)), h("td", {}, run.status),
          h("td", {}, run.fidelity === null || run.fidelity === undefined ? "–" : percent(run.fidelity)))))))
      : null);
}

function progressBlock(detail, progress, ctl) {
  const run = detail.run;
  const p = progress || {};
  const job = detail.job || {};
  const step = p.step || job.step || "Waiting for a worker…";
  const total = p.total || job.total || 1;
  const done = p.done ?? job.done ?? 0;
  const types = p.types || (detail.outcomeCounts || []).map((t) => ({ type: t.type, title: t.title, total: t.total,
    done: t.total - (t.counts.pending || 0) - (t.counts.creating || 0) }));
  return h("div", { id: "restore-progress", testid: "restore-progress", data: { runStatus: run.status } },
    h("p", { role: "status" }, h("span", { testid: "restore-step" }, step)),
    h("progress", { testid: "restore-bar", "aria-label": "Restore progress", max: String(total), value: String(done) }),
    run.status === "restoring"
      ? [h("ul", { class: "counts", testid: "restore-type-progress" }, types.map((t) => h("li", { data: { type: t.type } },
        `${t.title}: `, h("progress", { max: String(t.total || 1), value: String(t.done || 0), "aria-label": `${t.title} restored` })))),
        h("p", {}, h("button", { type: "button", class: "button", testid: "restore-cancel", onclick: () => ctl.cancelRun(run.id) }, "Cancel"))]
      : null);
}

function previewBlock(view, ctl) {
  const { detail, conflicts, selectionResult } = view;
  const run = detail.run;
  const plan = detail.planCounts || [];
  const chosen = view.selection;
  const everything = h("input", { type: "radio", name: "scope", value: "all", checked: chosen.scope === "all",
    onchange: () => ctl.setScope("all") });
  const some = h("input", { type: "radio", name: "scope", value: "some", checked: chosen.scope === "some",
    onchange: () => ctl.setScope("some") });
  const typeBoxes = plan.map((t) => h("label", {}, h("input", { type: "checkbox", name: "type", value: t.type,
    checked: chosen.types.includes(t.type), onchange: (e) => ctl.toggleType(t.type, e.target.checked) }), ` ${t.title}`));
  const projects = h("input", { type: "text", id: "restore-projects", name: "projects", value: chosen.projects.join(","),
    onchange: (e) => ctl.setProjects(e.target.value) });
  const missing = run.missingUsers || [];
  const fallback = view.userFallback;
  return [
    h("h2", {}, "Preview"),
    h("div", { class: "table-wrap" }, h("table", { class: "table", testid: "preview-counts" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Type"), ACTION_HEADINGS.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, plan.map((t) => h("tr", { testid: "preview-type", data: { type: t.type } }, h("td", {}, t.title),
        ACTIONS.map((a) => h("td", { data: { action: a } }, String(t.counts[a] || 0)))))))),
    conflicts && conflicts.length
      ? [h("h3", {}, "Conflicts"), h("ul", { testid: "preview-conflicts" }, conflicts.map((c) => h("li", { testid: "preview-conflict",
        data: { type: c.type } }, `${c.title}: `, h("strong", {}, c.name), ` — ${c.reason || ""}`)))]
      : null,
    run.unsupportedTypes && run.unsupportedTypes.length
      ? h("p", { class: "muted", testid: "preview-unsupported" }, `Not restorable by this version: ${run.unsupportedTypes.join(", ")}`)
      : null,
    h("form", { testid: "restore-select-form", onsubmit: (e) => { e.preventDefault(); ctl.showSelection(); } },
      h("fieldset", {}, h("legend", {}, "What to restore"),
        h("div", { class: "choices" }, h("label", {}, everything, " Everything"), h("label", {}, some, " Only:")),
        h("div", { class: "choices", testid: "restore-type-choices" }, typeBoxes),
        h("div", { class: "inline-field" }, h("label", { for: "restore-projects" }, "Projects (keys, comma-separated)"), projects)),
      h("button", { type: "submit", class: "button", testid: "restore-show-selection" }, "Show what this includes")),
    selectionResult && selectionResult.pulledIn && selectionResult.pulledIn.length
      ? [h("p", {}, "Also restored, because what you chose depends on them:"),
        h("ul", { testid: "preview-pulled-in" }, selectionResult.pulledIn.map((p) => h("li", { testid: "pulled-in",
          data: { type: p.type, sourceId: p.sourceId } }, `${p.title}: ${p.name}`)))]
      : null,
    h("form", { testid: "restore-start-form", class: "spaced", onsubmit: (e) => { e.preventDefault(); ctl.startRun(); } },
      missing.length
        ? h("fieldset", { testid: "missing-users" }, h("legend", {}, "Users who aren't on this site"),
          h("ul", {}, missing.map((u) => h("li", { testid: "missing-user" }, u))),
          h("div", { class: "choices" },
            h("label", {}, h("input", { type: "radio", name: "user_fallback", value: "drop", checked: fallback === "drop",
              onchange: () => ctl.setFallback("drop") }), " Drop the reference"),
            h("label", {}, h("input", { type: "radio", name: "user_fallback", value: "admin", checked: fallback === "admin",
              onchange: () => ctl.setFallback("admin") }), " Use me instead")))
        : null,
      h("button", { type: "submit", class: "button button--primary", testid: "restore-start" }, "Restore")),
  ];
}

function reportBlock(detail, ctl) {
  const run = detail.run;
  const outcomes = (run.summary && run.summary.outcomes) || {};
  const v = run.verification;
  return [
    h("h2", {}, "Report"),
    h("p", { testid: "report-summary", class: "summary" }, Object.entries(outcomes).map(([k, n]) => h("span", { data: { outcome: k } }, `${k}: ${n}`))),
    h("p", { class: "actions" },
      h("button", { type: "button", class: "button", testid: "report-json", onclick: () => ctl.downloadReport(run.id, "json") }, "Download report (JSON)"),
      h("button", { type: "button", class: "button", testid: "report-csv", onclick: () => ctl.downloadReport(run.id, "csv") }, "Download report (CSV)"),
      h("span", { class: "muted", role: "status", testid: "report-status" }, ctl.reportStatus || "")),
    v ? verificationBlock(v) : null,
  ];
}

/** The independent verification's verdict and every difference in words, with its reason: as the Connect page. */
function verificationBlock(v) {
  const complete = v.complete !== undefined ? v.complete : v.fidelity === 1;
  const unexplained = v.unexplained || 0;
  return [
    h("p", { testid: "verdict", data: { complete: complete ? "true" : "false" } },
      h("strong", {}, complete ? "Done: this site now holds what the backup holds."
        : "Done with differences: this site doesn't hold everything the backup holds, as listed below."),
      " Checked by reading this site again and comparing it, object by object, with the backup, each in its own terms."),
    h("p", { testid: "fidelity", class: "fidelity", data: { fidelity: v.fidelity } },
      `Fidelity: ${percent(v.fidelity)} (${v.identical} of ${v.restorable} restorable objects identical`,
      unexplained ? h("strong", { testid: "unexplained" }, `; ${unexplained} difference${unexplained === 1 ? "" : "s"} with no known reason`) : null,
      ")"),
    v.differences && v.differences.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "table table--fixed", testid: "differences" },
        h("thead", {}, h("tr", {}, ["What differs", "Why, and what to do"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, v.differences.map((d) => h("tr", { testid: "difference", data: { type: d.type, explained: d.reason ? "true" : "false" } },
          h("td", {}, d.words || `${d.name}: ${d.path}`),
          h("td", {}, d.reason || "Not expected: please report it."))))))
      : null,
    v.notes && v.notes.length
      ? h("ul", { testid: "verification-notes" }, v.notes.map((n) => h("li", { class: "muted" }, n)))
      : null,
  ];
}

function itemsBlock(view, ctl) {
  const status = view.detail.run.status;
  const items = view.items || [];
  return [
    h("h2", {}, status === "planned" ? "Objects" : "Per object"),
    h("table", { class: "table table--fixed", testid: "restore-items" },
      h("thead", {}, h("tr", {}, ["Type", "Name", "Plan", "Outcome", "Source id → destination id", "Reason"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, items.map((r) => h("tr", { testid: "restore-item", data: { type: r.type, action: r.action, outcome: r.outcome } },
        h("td", {}, r.title || r.type), h("td", {}, r.name || ""),
        h("td", {}, `${r.action}${r.conflict ? " (conflict)" : ""}${r.pulledIn ? " (dependency)" : ""}`),
        h("td", {}, r.outcome || ""),
        h("td", {}, `${r.sourceId ?? ""} → ${r.destinationId || "–"}`),
        h("td", {}, r.reason || "", r.fix ? h("div", { class: "muted", testid: "item-fix" }, r.fix) : null,
          (r.notes || []).map((n) => h("div", { class: "muted", testid: "item-note" }, n))))))),
    view.itemsNext !== null && view.itemsNext !== undefined
      ? h("p", {}, h("button", { type: "button", class: "button", testid: "items-more", onclick: () => ctl.moreItems() },
        `Show more (${items.length} of ${view.itemsTotal})`))
      : null,
  ];
}

/** One restore run, whatever its status. */
export function runView(view, ctl) {
  const detail = view.detail;
  const run = detail.run;
  const status = run.status;
  return [
    h("p", { class: "back" }, h("button", { type: "button", class: "link-button", testid: "back-to-page",
      onclick: () => ctl.home() }, "Back to Disaster recovery")),
    h("h1", { tabindex: "-1", testid: "view-heading" }, `Restore #${run.id}`),
    h("p", { class: "muted", testid: "site" }, `Site: ${ctl.siteUrl()} · snapshot ${run.snapshotId}`),
    h("p", { testid: "restore-status", data: { status } }, "Status: ", h("strong", {}, status)),
    run.message ? h("p", { class: `panel${status === "failed" ? " panel--error" : ""}`, role: "status", testid: "restore-message" }, run.message) : null,
    LIVE_RUN.includes(status) ? progressBlock(detail, view.progress, ctl) : null,
    status === "planned" ? previewBlock(view, ctl) : null,
    ["done", "failed", "cancelled"].includes(status) && run.summary ? reportBlock(detail, ctl) : null,
    status !== "planning" ? itemsBlock(view, ctl) : null,
  ];
}
