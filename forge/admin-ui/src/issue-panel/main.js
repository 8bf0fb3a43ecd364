// The "Before the restore" Forge issue panel: asks the Disaster recovery service (GET /issues/{id}/before through
// invokeRemote) what the restored issue was before the restore, and shows it as the Connect panel does: original
// key, created, creator, people the restore replaced, comments' and worklogs' original dates, the history paged.
// Every name and value comes from Jira or a backup and goes in as text, never as markup.
import { view } from "@forge/bridge";
import { ApiError, get } from "../api.js";
import { formatTime, h, replace } from "../dom.js";

const main = document.getElementById("main");

function facts(data) {
  const rows = [];
  const add = (label, value, testid, extra = {}) => rows.push(h("dt", {}, label), h("dd", { testid, ...extra }, value));
  if (data.originalKey) add("Original key", data.originalKey, "before-key");
  add("Created", formatTime(data.created) || "not in the backup", "before-created");
  add("Created by", data.creator || "not in the backup", "before-creator");
  for (const person of data.replaced || []) {
    add(person.field, [person.original, " ", h("span", { class: "muted" }, `(now ${person.now || "nobody"})`)],
        "before-replaced", { data: { field: person.field } });
  }
  return h("dl", { class: "before-facts", testid: "before-facts" }, rows);
}

function sprints(list) {
  if (!list || !list.length) return null;
  return [h("h2", { class: "before-subtitle" }, "Sprints"),
    h("ul", { class: "before-sprints" }, list.map((s) => h("li", { testid: "before-sprint" },
      `${s.name}${s.state ? ` (${s.state})` : ""}: ${formatTime(s.startDate) || "not started"} to `
      + `${formatTime(s.endDate) || "no end date"}${s.completeDate ? `, completed ${formatTime(s.completeDate)}` : ""}`)))];
}

function dated(label, items, testid) {
  if (!items || !items.length) return null;
  return h("details", { class: "before-dated" },
    h("summary", {}, `${label}: ${items.length}, with their original dates`),
    h("ul", {}, items.map((item) => h("li", { testid }, `${formatTime(item.when) || "date unknown"} · ${item.who}`))));
}

function history(data) {
  if (!data.history.length) {
    return h("p", { class: "muted", testid: "before-no-history" }, "No changes were recorded before the restore.");
  }
  const table = h("div", { class: "table-wrap" },
    h("table", { class: "table table--fixed before-history", testid: "before-history", "aria-labelledby": "history-heading" },
      h("thead", {}, h("tr", {}, ["When", "Who", "Field", "From → To"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, data.history.map((row) => h("tr", { testid: "before-history-row" },
        h("td", {}, formatTime(row.when)), h("td", {}, row.who), h("td", {}, row.field),
        h("td", {}, `${row.from || "—"} → ${row.to || "—"}`))))));
  if (data.pages <= 1) return table;
  const pager = h("nav", { class: "before-pages", "aria-label": "History pages", testid: "before-pages" },
    data.page > 1 ? h("button", { type: "button", class: "link-button", testid: "before-previous",
                                  onclick: () => show(data.page - 1) }, "Previous") : null,
    h("span", { testid: "before-page" }, `Page ${data.page} of ${data.pages} (${data.historyRows} changes)`),
    data.page < data.pages ? h("button", { type: "button", class: "link-button", testid: "before-next",
                                           onclick: () => show(data.page + 1) }, "Next") : null);
  return [table, pager];
}

function render(data) {
  const trimmed = data.trimmed
    ? h("p", { class: "muted", testid: "before-trimmed" },
        `The ${data.trimmed} oldest change${data.trimmed === 1 ? "" : "s"} didn't fit in what Jira lets the app keep `
        + "on an issue; the backup still holds them.")
    : null;
  const left = [
    leftOut(data.commentsTrimmed, "comment", "comments", "before-comments-trimmed"),
    leftOut(data.worklogsTrimmed, "work log", "work logs", "before-worklogs-trimmed"),
  ];
  replace(main,
    h("h1", { class: "before-title" }, "Before the restore"),
    facts(data),
    sprints(data.sprints),
    dated("Comments", data.comments, "before-comment"),
    dated("Work logged", data.worklogs, "before-worklog"),
    h("h2", { class: "before-subtitle", id: "history-heading" }, "History"),
    history(data),
    trimmed,
    left);
}

/** Comments or work logs the restore's property had no room for (the newest), said in words; null when none. */
function leftOut(count, one, many, testid) {
  if (!count) return null;
  const single = count === 1;
  return h("p", { class: "muted", testid, data: { count } },
    `The ${count} newest ${single ? one : many} didn't fit in what Jira lets the app keep on an issue, so `
    + `${single ? "its" : "their"} original date and author aren't listed here; the backup still holds `
    + `${single ? "it" : "them"}.`);
}

function refusal(err) {
  const words = err instanceof ApiError ? err.message : "Couldn't show what this issue was before the restore.";
  const code = err instanceof ApiError ? err.code : "unreachable";
  replace(main, h("p", { class: "muted", testid: "before-refusal", role: "status", data: { code } }, words));
}

let issueId = null;

async function show(page) {
  main.setAttribute("aria-busy", "true");
  try {
    if (issueId === null) {
      const context = await view.getContext();
      const issue = context && context.extension && context.extension.issue;
      issueId = issue && issue.id !== undefined && issue.id !== null ? String(issue.id) : "";
    }
    if (!issueId) {
      replace(main, h("p", { class: "muted", testid: "before-refusal", role: "status" },
                      "Open this panel from an issue."));
      return;
    }
    render(await get(`/issues/${encodeURIComponent(issueId)}/before?page=${page}`));
  } catch (err) {
    refusal(err);
  } finally {
    main.setAttribute("aria-busy", "false");
  }
}

show(1);
