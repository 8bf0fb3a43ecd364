// The Restore section (previews and restores on a destination with an Active connection, and the history of this
// site's restores, kept after the connection ends) and one restore run: preview, selection, missing people, the
// confirmation that states its size, progress, report and fidelity — the Connect page's restore, in the same words
// (app/admin/restore_presenters.py makes them for both doors).
import { ApiError, post } from "./api.js";
import { formatTime, h, lozenge, percent } from "./dom.js";

export const LIVE_RUN = ["planning", "restoring"];
const ACTIONS = ["create", "reuse", "update", "skip", "cannot"];
const ACTION_HEADINGS = ["Create", "Already there", "Update", "Skip", "Can't restore"];
// The report's outcome counts in words, as the Connect page says them ("76 created · 70 already there").
const OUTCOME_WORDS = { created: "created", reused: "already there", updated: "updated", incomplete: "incomplete",
  skipped: "skipped", cannot: "not restored", failed: "failed", pending: "not reached" };

/** The Restore section of the main page (null when there's nothing to restore from and no history). */
export function restorePanel(restore, ctl) {
  if (!restore) return null;
  const snapshots = restore.snapshots || [];
  const history = (restore.runs || []).map((run) => run.words).filter(Boolean);
  if (!restore.source && !history.length) return null;
  const select = h("select", { id: "restore-snapshot", name: "snapshot_id", testid: "restore-snapshot" },
    snapshots.map((s) => h("option", { value: String(s.id) }, `${formatTime(s.takenAt)} (${s.status})`)));
  return h("section", { class: "panel", id: "restore", testid: "restore-section", "aria-labelledby": "restore-heading" },
    h("h2", { id: "restore-heading" }, "Restore"),
    restore.source
      ? [h("p", {}, "Restore the configuration of ", h("strong", { testid: "restore-source" }, restore.source.url),
        " onto this site. You'll see a preview first: nothing is written until you confirm."),
      snapshots.length
        ? h("form", { testid: "restore-preview-form", class: "inline-field",
          onsubmit: (e) => { e.preventDefault(); ctl.preview(Number(select.value)); } },
          h("label", { for: "restore-snapshot" }, "Backup"), select,
          h("button", { type: "submit", class: "button button--primary", testid: "restore-preview" }, "Preview restore"))
        : h("p", { class: "muted", testid: "restore-no-snapshots" }, "The source site has no finished backup yet.")]
      : h("p", { class: "muted", testid: "restore-history-only" },
        "No disaster-recovery connection is Active here: earlier restores and their reports stay below."),
    history.length
      ? [h("h3", { id: "restore-history-heading" }, "History"),
        h("div", { class: "table-wrap" }, h("table", { class: "table", testid: "restore-runs", "aria-labelledby": "restore-history-heading" },
          h("thead", {}, h("tr", {}, ["Restore", "Started", "By", "From", "Outcome", "Fidelity", "Jira points"].map((c, i) =>
            h("th", { scope: "col", class: i === 6 ? "num" : null }, c)))),
          h("tbody", {}, history.map((run) => h("tr", { testid: "restore-run-row", data: { runId: run.id, state: run.lozenge.state } },
            h("td", {}, h("button", { type: "button", class: "link-button", testid: "restore-run-link",
              onclick: () => ctl.openRun(run.id) }, `${run.what} #${run.id}`)),
            h("td", { class: "nowrap", testid: "restore-run-when" }, run.createdAt), h("td", { testid: "restore-run-who" }, run.startedBy),
            h("td", {}, run.snapshot), h("td", {}, lozenge(run.lozenge.appearance, run.lozenge.text, { testid: "restore-run-lozenge" })),
            h("td", {}, run.fidelity === null || run.fidelity === undefined ? "–" : percent(run.fidelity)),
            h("td", { class: "num", testid: "restore-run-points", data: { points: run.points ? run.points.points : "" },
              title: run.points ? run.points.text : null }, run.points ? thousands(run.points.points) : "–"))))))]
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

/** What blocks a start, with its fix. A Forge site has no OAuth grant to give: when the app's scopes are what's
 *  missing, the way on is the app's upgrade, then a new preview (offered here). */
function blockerBox(b, run, ctl) {
  return h("div", { class: "notice notice--error", role: "alert", testid: "restore-blocker", data: { code: b.code } },
    h("strong", {}, `${b.heading}: `), b.text,
    h("div", { testid: "blocker-fix" }, b.fix),
    b.code === "grant"
      ? h("p", { class: "actions" }, h("button", { type: "button", class: "button", testid: "blocker-preview-again",
        onclick: () => ctl.preview(run.snapshotId) }, "Preview again"))
      : null);
}

/** The last step before writing, in the slot under the preview: its size, what blocks it, the confirm button. */
async function review(view, ctl, slot) {
  const run = view.detail.run;
  const s = view.selection;
  const choices = { scope: s.scope, types: s.types, projects: s.projects, jql: s.jql, userFallback: view.userFallback };
  let answer;
  try {
    answer = await post(`/restore/runs/${run.id}/selection`, choices);
  } catch (err) {
    slot.replaceChildren(h("p", { class: "notice notice--error", role: "alert", testid: "restore-review-error" },
      err instanceof ApiError ? err.message : "Something went wrong on this page. Reload it and try again."));
    return;
  }
  const c = answer.confirmation;
  if (!c) {
    slot.replaceChildren(h("p", { class: "notice notice--warning", role: "alert", testid: "preview-stale" }, answer.stale || ""));
    return;
  }
  const status = h("p", { class: "muted", role: "status" });
  const box = h("div", { class: "panel panel--confirm", testid: "restore-confirmation", data: { creates: c.creates, updates: c.updates } },
    h("h2", { id: "confirm-heading", tabindex: "-1" }, "Confirm the restore"),
    h("p", { testid: "confirm-size" }, h("strong", {}, c.text)),
    c.points ? h("p", { testid: "confirm-points", data: { points: c.points.points, siteQuota: c.points.siteQuota ?? "",
      hours: c.points.hours ?? "" } }, c.points.text) : null,
    c.issues ? issueFigures(c.issues) : null,
    h("p", { class: "muted" }, `${c.kept} already there stay as they are`,
      c.notRestored ? `; ${c.notRestored} can't be restored (listed with their reasons below)` : "",
      ". Jira keeps what this creates: removing it again is done by hand."),
    (c.blockers || []).map((b) => blockerBox(b, run, ctl)),
    h("p", { class: "actions" },
      c.blockers && c.blockers.length ? null
        : h("button", { type: "button", class: "button button--primary", testid: "restore-confirm",
          onclick: async (e) => {
            e.target.disabled = true;
            try {
              await post(`/restore/runs/${run.id}/start`, { ...choices, confirmed: true });
              ctl.openRun(run.id);
            } catch (err) {
              e.target.disabled = false;
              status.textContent = err instanceof ApiError ? err.message : "The restore couldn't be started.";
              status.setAttribute("role", "alert");
            }
          } }, c.button),
      h("button", { type: "button", class: "button", testid: "confirm-back", onclick: () => slot.replaceChildren() }, "Not now")),
    status);
  slot.replaceChildren(box);
  box.querySelector("#confirm-heading").focus();
}

/** "12 custom fields", "1 screen": a count and a type's (plural) title, as the Connect page words it. */
export function countOf(n, title) {
  const t = String(title || "").toLowerCase();
  if (n !== 1) return `${n} ${t}`;
  if (t.endsWith("ies")) return `1 ${t.slice(0, -3)}y`;
  if (t.endsWith("uses")) return `1 ${t.slice(0, -2)}`;
  if (t.endsWith("s") && !t.endsWith("settings")) return `1 ${t.slice(0, -1)}`;
  return `1 ${t}`;
}

/** What a selection pulls in: one line per type ("12 custom fields, 3 screens"), the names folded under each. */
function pulledInBlock(pulledIn) {
  const groups = new Map();
  for (const p of pulledIn) {
    if (!groups.has(p.type)) groups.set(p.type, { title: p.title || p.type, items: [] });
    groups.get(p.type).items.push(p);
  }
  const lines = [...groups.entries()];
  return [
    h("p", { testid: "pulled-in-summary" }, "Also restored, because what you chose depends on them: ",
      lines.map(([, g]) => countOf(g.items.length, g.title)).join(", "), "."),
    h("ul", { class: "groups", testid: "preview-pulled-in" }, lines.map(([type, g]) =>
      h("li", { testid: "pulled-in-group", data: { type, count: g.items.length } }, h("details", {},
        h("summary", {}, countOf(g.items.length, g.title)),
        h("ul", {}, g.items.map((p) => h("li", { testid: "pulled-in", data: { type: p.type, sourceId: p.sourceId } }, p.name))))))),
  ];
}

function previewBlock(view, ctl) {
  const { detail, conflicts, selectionResult } = view;
  const run = detail.run;
  const plan = detail.planCounts || [];
  const chosen = view.selection;
  const blockers = (detail.confirmation && detail.confirmation.blockers) || [];
  const grant = blockers.filter((b) => b.code === "grant");
  const everything = h("input", { type: "radio", name: "scope", value: "all", checked: chosen.scope === "all",
    onchange: () => ctl.setScope("all") });
  const some = h("input", { type: "radio", name: "scope", value: "some", checked: chosen.scope === "some",
    onchange: () => ctl.setScope("some") });
  const typeBoxes = plan.map((t) => h("label", {}, h("input", { type: "checkbox", name: "type", value: t.type,
    checked: chosen.types.includes(t.type), onchange: (e) => ctl.toggleType(t.type, e.target.checked) }), ` ${t.title}`));
  const projects = h("input", { type: "text", id: "restore-projects", name: "projects", value: chosen.projects.join(","),
    onchange: (e) => ctl.setProjects(e.target.value) });
  const jql = h("input", { type: "text", id: "restore-jql", name: "jql", value: chosen.jql || "", maxlength: "2000",
    placeholder: "project = WEB AND status != Done", "aria-describedby": "restore-jql-help",
    onchange: (e) => ctl.setJql(e.target.value) });
  const missing = detail.missingPeople || [];
  const slot = h("div", { id: "restore-confirm-slot", testid: "restore-confirm-slot" });
  const result = selectionResult && selectionResult.selection
    && ((selectionResult.chosen || []).length || (selectionResult.pulledIn || []).length) ? selectionResult : null;
  const entry = (p, testid) => h("li", { testid, data: { type: p.type, sourceId: p.sourceId } }, `${p.title}: ${p.name}`);
  return [
    h("h2", {}, "Preview"),
    h("div", { class: "table-wrap" }, h("table", { class: "table", testid: "preview-counts" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Type"), ACTION_HEADINGS.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, plan.map((t) => h("tr", { testid: "preview-type", data: { type: t.type } }, h("td", {}, t.title),
        ACTIONS.map((a) => h("td", { data: { action: a } }, String(t.counts[a] || 0)))))))),
    grant.map((b) => blockerBox(b, run, ctl)),
    conflicts && conflicts.length
      ? [h("h3", {}, "Conflicts"), h("ul", { testid: "preview-conflicts" }, conflicts.map((c) => h("li", { testid: "preview-conflict",
        data: { type: c.type } }, `${c.title}: `, h("strong", {}, c.name), ` — ${c.reason || ""}`)))]
      : null,
    run.unsupportedTypes && run.unsupportedTypes.length
      ? h("p", { class: "muted", testid: "preview-unsupported" }, `Not restorable by this version: ${run.unsupportedTypes.join(", ")}`)
      : null,
    h("form", { testid: "restore-select-form", onsubmit: (e) => { e.preventDefault(); ctl.showSelection(); } },
      h("fieldset", {}, h("legend", {}, "What to restore"),
        h("div", { class: "choices" }, h("label", {}, everything, " Everything"), h("label", {}, some, " Only what I choose below")),
        h("p", { class: "muted" }, "Types and projects narrow together: \"Projects\" with the key WEB restores the project WEB and what it depends on."),
        h("div", { class: "choices", testid: "restore-type-choices" }, typeBoxes),
        h("div", { class: "inline-field" }, h("label", { for: "restore-projects" }, "Projects (keys, comma-separated)"), projects),
        h("div", { class: "inline-field" }, h("label", { for: "restore-jql" }, "Only the issues matching (JQL)"), jql),
        h("p", { class: "muted", id: "restore-jql-help" }, "Searched in the backup, not on a live site: by project, key, "
          + "issue type, status, priority, resolution, people, labels, components, versions, sprint, dates (UTC) and "
          + "text (~). Their projects' configuration comes along. Leave it empty for every issue of what you chose.")),
      h("button", { type: "submit", class: "button", testid: "restore-show-selection" }, "Show what this includes")),
    result
      ? h("div", { testid: "selection-result", data: { chosen: result.chosen.length, pulled: result.pulledIn.length } },
        h("p", {}, "This selection restores ", h("strong", {}, `${result.chosen.length + result.pulledIn.length} objects`),
          `: ${result.chosen.length} you chose and ${result.pulledIn.length} they depend on.`),
        h("ul", { testid: "preview-chosen" }, result.chosen.map((p) => entry(p, "chosen"))),
        result.pulledIn.length ? pulledInBlock(result.pulledIn) : null)
      : null,
    h("form", { testid: "restore-start-form", class: "spaced", onsubmit: (e) => { e.preventDefault(); review(view, ctl, slot); } },
      missing.length
        ? h("fieldset", { testid: "missing-users" }, h("legend", {}, "People who aren't on this site"),
          h("ul", {}, missing.map((u) => h("li", { testid: "missing-user", data: { accountId: u.accountId } },
            h("strong", {}, u.name), u.email ? ` (${u.email})` : "", u.leads && u.leads.length ? ` — leads ${u.leads.join(", ")}` : ""))),
          h("div", { class: "choices" }, (detail.fallbacks || []).map((f) => h("label", {},
            h("input", { type: "radio", name: "user_fallback", value: f.value, testid: `fallback-${f.value}`,
              checked: view.userFallback === f.value, onchange: () => ctl.setFallback(f.value) }), ` ${f.label}`))))
        : null,
      grant.length ? null : h("button", { type: "submit", class: "button button--primary", testid: "restore-start" }, "Review and restore…")),
    slot,
  ];
}

/** Per project, the issue data the restore brings back and the least points it takes (as the Connect page). */
function issueFigures(iss) {
  const cols = ["Project", "Issues", "Comments", "Worklogs", "Attachments", "Restricted comments", "Jira points (at least)"];
  return [
    h("div", { class: "table-wrap" }, h("table", { class: "table table--compact", testid: "confirm-issues",
      "aria-label": "Issue data per project", data: { points: iss.points } },
    h("thead", {}, h("tr", {}, cols.map((c, i) => h("th", { scope: "col", class: i ? "num" : null }, c)))),
    h("tbody", {}, iss.projects.map((p) => h("tr", { testid: "confirm-issues-project", data: { project: p.project,
      issues: p.issues, comments: p.comments, worklogs: p.worklogs, attachments: p.attachments,
      attachmentBytes: p.attachmentBytes, restrictedComments: p.restrictedComments, points: p.points } },
    h("th", { scope: "row" }, p.project), h("td", { class: "num" }, thousands(p.issues)),
    h("td", { class: "num" }, thousands(p.comments)), h("td", { class: "num" }, thousands(p.worklogs)),
    h("td", { class: "num" }, `${thousands(p.attachments)} (${p.attachmentSize})`),
    h("td", { class: "num" }, thousands(p.restrictedComments)), h("td", { class: "num" }, thousands(p.points))))))),
    h("p", { class: "muted", testid: "confirm-issues-points" }, iss.pointsWords),
    iss.restrictedWords ? h("p", { class: "notice notice--warning", testid: "confirm-issues-restricted" }, iss.restrictedWords) : null,
  ];
}

/** "12,345": a count of points as the Connect page writes it. */
function thousands(n) {
  return Number(n).toLocaleString("en-US");
}

/** Jira's points the run spent: the sentence, then each phase (plan, write, verify) and the total. */
function spendBlock(spend) {
  return [
    h("p", { testid: "report-points", data: { points: spend.points } }, spend.text),
    h("div", { class: "table-wrap" }, h("table", { class: "table table--compact", testid: "report-points-phases",
      "aria-label": "Jira's points per phase" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Phase"), h("th", { scope: "col", class: "num" }, "Points"))),
    h("tbody", {}, (spend.phases || []).map((p) => h("tr", { testid: "report-points-phase", data: { phase: p.phase, points: p.points } },
      h("td", {}, p.title), h("td", { class: "num" }, thousands(p.points)))),
    h("tr", { testid: "report-points-total", data: { points: spend.points } },
      h("th", { scope: "row" }, "Total"), h("td", { class: "num" }, thousands(spend.points)))))),
  ];
}

function reportBlock(detail, ctl) {
  const run = detail.run;
  const spend = detail.words && detail.words.points;
  const outcomes = (run.summary && run.summary.outcomes) || {};
  const v = run.verification;
  return [
    h("h2", {}, "Report"),
    h("p", { testid: "report-summary", class: "summary" }, Object.entries(outcomes).map(([k, n]) => h("span", { data: { outcome: k } }, `${n} ${OUTCOME_WORDS[k] || k}`))),
    spend ? spendBlock(spend) : null,
    h("p", { class: "actions" },
      h("button", { type: "button", class: "button", testid: "report-json", onclick: () => ctl.downloadReport(run.id, "json") }, "Download report (JSON)"),
      h("button", { type: "button", class: "button", testid: "report-csv", onclick: () => ctl.downloadReport(run.id, "csv") }, "Download report (CSV)"),
      h("span", { class: "muted", role: "status", testid: "report-status" }, ctl.reportStatus || "")),
    v ? verificationBlock(v, detail.differences || []) : null,
  ];
}

/** The independent verification's verdict and every difference in words, with its reason: as the Connect page. */
function verificationBlock(v, differences) {
  const complete = v.complete !== undefined ? v.complete : v.fidelity === 1;
  const unexplained = v.unexplained || 0;
  return [
    h("p", { testid: "verdict", data: { complete: complete ? "true" : "false" } },
      h("strong", {}, complete ? "This site now holds what the backup holds."
        : "This site doesn't hold everything the backup holds, as listed below."),
      " Checked by reading this site again and comparing it, object by object, with the backup, each in its own terms."),
    h("p", { testid: "fidelity", class: "fidelity", data: { fidelity: v.fidelity } },
      `Fidelity: ${percent(v.fidelity)} (${v.identical} of ${v.restorable} restorable objects identical`,
      unexplained ? h("strong", { testid: "unexplained" }, `; ${unexplained} difference${unexplained === 1 ? "" : "s"} with no known reason`) : null,
      ")"),
    differences.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "table table--fixed", testid: "differences" },
        h("thead", {}, h("tr", {}, ["What differs", "Why, and what to do"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, differences.map((d) => h("tr", { testid: "difference", data: { type: d.type, explained: d.explained ? "true" : "false" } },
          h("td", {}, d.words),
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
  const shown = view.itemsTotal ?? items.length;
  // Folded (the counts and the report above say the essentials); it stays open across re-renders once opened.
  return [
    h("h2", { id: "objects-heading" }, status === "planned" ? "Objects" : "Per object"),
    h("details", { class: "objects", id: "objects", testid: "objects-details", open: Boolean(view.objectsOpen),
      ontoggle: (e) => { view.objectsOpen = e.target.open; } },
    h("summary", { testid: "objects-summary" }, `Show all ${shown} object${shown === 1 ? "" : "s"}, one by one`),
    h("div", { class: "table-wrap" }, h("table", { class: "table table--fixed", testid: "restore-items", "aria-labelledby": "objects-heading" },
      h("thead", {}, h("tr", {}, ["Type", "Name", "Plan", "Outcome", "Source id → destination id", "Reason"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, items.map((r) => h("tr", { testid: "restore-item", data: { type: r.type, action: r.action, outcome: r.outcome } },
        h("td", {}, r.title || r.type), h("td", {}, r.name || ""),
        h("td", {}, `${r.actionWords || r.action}${r.conflict ? " (conflict)" : ""}${r.pulledIn ? " (dependency)" : ""}`),
        h("td", {}, status === "planned" ? "" : lozenge(r.outcomeAppearance || "default", r.outcomeWords || r.outcome || "")),
        h("td", {}, `${r.sourceId ?? ""} → ${r.destinationId || "–"}`),
        h("td", { testid: "item-reason" }, r.reason || "", r.fix ? h("div", { class: "muted", testid: "item-fix" }, r.fix) : null,
          (r.notes || []).map((n) => h("div", { class: "muted", testid: "item-note" }, n)))))))),
    view.itemsNext !== null && view.itemsNext !== undefined
      ? h("p", {}, h("button", { type: "button", class: "button", testid: "items-more", onclick: () => ctl.moreItems() },
        `Show more (${items.length} of ${view.itemsTotal})`))
      : null),
  ];
}

/** One restore run, whatever its status. */
export function runView(view, ctl) {
  const detail = view.detail;
  const run = detail.run;
  const status = run.status;
  const words = detail.words || {};
  const state = (words.lozenge && words.lozenge.state) || status;
  return [
    h("p", { class: "back" }, h("button", { type: "button", class: "link-button", testid: "back-to-page",
      onclick: () => ctl.home() }, "Back to Disaster recovery")),
    h("h1", { tabindex: "-1", testid: "view-heading" }, `${["planning", "planned"].includes(status) ? "Preview" : "Restore"} #${run.id} `,
      lozenge((words.lozenge && words.lozenge.appearance) || "default", (words.lozenge && words.lozenge.text) || status,
        { testid: "restore-status", data: { status, state } })),
    h("p", { class: "muted", testid: "site" }, `Onto ${ctl.siteUrl()} from ${words.snapshot || `snapshot ${run.snapshotId}`} · started ${words.createdAt || ""} by `,
      h("span", { testid: "restore-started-by" }, words.startedBy || ""), words.finishedAt ? ` · ended ${words.finishedAt}` : ""),
    run.message ? h("p", { class: `panel${status === "failed" ? " panel--error" : ""}`, role: "status", testid: "restore-message" }, run.message) : null,
    LIVE_RUN.includes(status) ? progressBlock(detail, view.progress, ctl) : null,
    status === "planned" && words.stale
      ? h("div", { class: "notice notice--warning", role: "alert", testid: "preview-stale" }, words.stale,
        h("p", { class: "actions" }, h("button", { type: "button", class: "button button--primary", testid: "preview-again",
          onclick: () => ctl.preview(run.snapshotId) }, "Preview again")))
      : null,
    status === "planned" && !words.stale ? previewBlock(view, ctl) : null,
    ["done", "failed", "cancelled"].includes(status) && run.summary ? reportBlock(detail, ctl) : null,
    status !== "planning" ? itemsBlock(view, ctl) : null,
  ];
}
