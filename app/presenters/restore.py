"""What both doors (the Connect restore pages and the Forge JSON API) show of a restore: outcome lozenges, people by
name, reasons in the right tense, differences in words, the history, the missing people and the confirmation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..backups.models import Snapshot
from ..extensions import db
from ..jira.fixes import FORGE_FIX
from ..objects.canonical import show
from ..quota.figures import job_points, restore_estimate
from ..restore import service
from ..restore.issues.preview import issue_preview
from ..restore.models import RestoreItem, RestoreRun, RunStatus
from ..restore.plan import Selection
from ..restore.restorers import load
from ..tenants import Tenant
from .people import display_names

NOBODY = "someone without an account on this site"
NAMELESS = "a person the backup has no name for"  # a group member: backups keep members by accountId alone

# The run as a lozenge: (appearance, words). "done" splits on the verification's verdict.
RUN_LOZENGES: dict[str, tuple[str, str]] = {
    "planning": ("inprogress", "Previewing"),
    "planned": ("new", "Ready to restore"),
    "stale": ("moved", "Out of date"),
    "restoring": ("inprogress", "Restoring"),
    "done": ("success", "Done"),
    "done-with-differences": ("moved", "Done with differences"),
    "failed": ("removed", "Failed"),
    "cancelled": ("default", "Cancelled"),
}
OUTCOME_LOZENGES: dict[str, tuple[str, str]] = {
    "pending": ("default", "Pending"), "creating": ("inprogress", "Creating"), "created": ("success", "Created"),
    "reused": ("success", "Already there"), "updated": ("success", "Updated"),
    "incomplete": ("moved", "Incomplete"), "skipped": ("removed", "Skipped"), "cannot": ("removed", "Not restored"),
    "failed": ("removed", "Failed"),
}
ACTION_WORDS = {"create": "Create", "reuse": "Already there", "update": "Update", "skip": "Skip",
                "cannot": "Can't restore"}
# Reasons the plan writes ahead of the run, and how they read once it has run (the plan's words stay in the rows).
PAST_TENSE = (("it will be updated.", "it was updated."), ("which can't be restored.", "which couldn't be restored."),
              ("can't be read.", "couldn't be read."), ("Creating it needs ", "Creating it needed "),
              ("; kept as it is there", "; it was kept as it is there"))
_ACCOUNT = re.compile(r"\b(?:\d{1,8}:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{24}\b")


# -- people -----------------------------------------------------------------------------------------------------

@dataclass
class People:
    """Everyone a run's pages may name: the site's people by their name here, the missing by the backup's."""

    names: dict[str, str]

    def name(self, account_id: str | None) -> str:
        if not account_id:
            return "an administrator"
        return self.names.get(account_id) or NOBODY

    def humanise(self, text: str | None) -> str:
        """``text`` with every accountId it names replaced by the person's name ("user <id>" included)."""
        if not text:
            return ""

        def named(match: re.Match[str]) -> str:
            found = self.names.get(match.group(0))
            return found if found is not None else match.group(0)

        text = re.sub(r"\buser ((?:\d{1,8}:)?[0-9a-f-]{24,36})\b",
                      lambda m: self.names[m.group(1)] if m.group(1) in self.names else m.group(0), text)
        return _ACCOUNT.sub(named, text)


def people_for(tenant: Tenant, runs: list[RestoreRun], extra: list[str] | None = None) -> People:
    """The names for ``runs``: who started them (read from this site), and the people the backup lacks here."""
    names: dict[str, str] = {}
    for run in runs:
        for person in run.missing_people:
            names[str(person["accountId"])] = str(person.get("displayName") or NAMELESS)
    here = [r.requested_by for r in runs if r.requested_by] + list(extra or [])
    names.update(display_names(tenant, here))
    return People(names)


def missing_people(run: RestoreRun, people: People) -> list[dict[str, Any]]:
    """The people the backup names who have no account here: name, email where kept, projects they lead; the named
    first, alphabetically, then those the backup has no name for."""
    shown = [{"accountId": p["accountId"], "name": p.get("displayName") or people.name(p["accountId"]),
              "email": p.get("email") or "", "leads": list(p.get("leads") or []),
              "named": bool(p.get("displayName"))} for p in run.missing_people]
    return sorted(shown, key=lambda p: (not p["named"], str(p["name"]).casefold(), str(p["accountId"])))


# -- the run ----------------------------------------------------------------------------------------------------

def run_state(run: RestoreRun) -> str:
    """The run's state as the pages name it: a status, "stale" for an out-of-date preview, "done" split by verdict."""
    status = RunStatus(run.status)
    if status is RunStatus.PLANNED and service.stale_reason(run) is not None:
        return "stale"
    if status is RunStatus.DONE:
        verification = run.verification or {}
        complete = verification.get("complete", verification.get("fidelity") == 1)
        return "done" if complete else "done-with-differences"
    return status.value


def lozenge(state: str) -> dict[str, str]:
    appearance, text = RUN_LOZENGES[state]
    return {"state": state, "appearance": appearance, "text": text}


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def snapshot_words(snapshot_id: int) -> str:
    """"the backup of 2026-04-02 10:15 UTC", or what is left to say once retention removed it."""
    snapshot = db.session.get(Snapshot, snapshot_id)
    if snapshot is None:
        return f"backup #{snapshot_id} (no longer kept)"
    return f"the backup of {when(snapshot.taken_at)}"


def history_row(run: RestoreRun, people: People) -> dict[str, Any]:
    """One line of the restore history: when, who started it, from which backup, how it ended."""
    state = run_state(run)
    return {"id": run.id, "createdAt": when(run.created_at), "finishedAt": when(run.finished_at),
            "startedBy": people.name(run.requested_by), "snapshot": snapshot_words(run.snapshot_id),
            "lozenge": lozenge(state), "fidelity": run.fidelity,
            "what": "Preview" if state in ("planning", "planned", "stale") else "Restore",
            "points": spend_view(job_points(run.job_id))}  # Jira's quota points its job spent (app.quota.figures)


# -- Jira's points -----------------------------------------------------------------------------------------------

# A restore's phases as its report names them, in the order they run.
PHASES = (("plan", "Plan"), ("write", "Write"), ("verify", "Verify"))


def spend_view(points: dict[str, Any] | None) -> dict[str, Any] | None:
    """A job's spend as both doors show it: the total, each phase (plan, write, verify) and a sentence."""
    if not points:
        return None
    by_phase = points.get("byPhase") or {}
    phases: list[dict[str, Any]] = [{"phase": key, "title": title, "points": int(by_phase.get(key) or 0)}
                                    for key, title in PHASES]
    spent = ", ".join(f"{p['title'].lower()} {p['points']:,}" for p in phases)
    return {**points, "phases": phases,
            "text": f"Spent {int(points['points']):,} points of Jira's hourly quota ({spent})."}


def run_spend(run: RestoreRun) -> dict[str, Any] | None:
    """What the run's job has spent so far (the preview's while planned, the restore's once started)."""
    return spend_view(job_points(run.job_id))


def hours_words(hours: float) -> str:
    """"about 2.3 hours", or "under 0.1 hours" for a restore too small to round to a tenth."""
    return "under 0.1 hours" if hours < 0.05 else f"about {hours:.1f} hours"


def estimate_view(estimate: dict[str, Any]) -> dict[str, Any]:
    """The least a restore will spend, in the sentence both doors show (hours only when the site's quota is known)."""
    text = f"At least ~{int(estimate['points']):,} points of Jira's hourly quota"
    quota, hours = estimate.get("siteQuota"), estimate.get("hours")
    if quota and hours is not None:
        text += f" of {int(quota):,}: {hours_words(float(hours))} at this site's quota."
    else:
        text += ": this site's hourly quota isn't known yet."
    return {**estimate, "text": text}


def past_tense(reason: str) -> str:
    for future, past in PAST_TENSE:
        reason = reason.replace(future, past)
    return reason


def item_view(row: RestoreItem, people: People, *, pulled_in: bool | None = None) -> dict[str, Any]:
    """One object of the run: what the plan said, how it went, why, in words (people by name)."""
    restorers = load()
    ran = row.outcome not in ("pending", None)
    reason = row.reason or ""
    appearance, outcome = OUTCOME_LOZENGES.get(row.outcome or "pending", ("default", row.outcome or ""))
    return {"type": row.type_key, "title": restorers[row.type_key].title if row.type_key in restorers else row.type_key,
            "name": row.name, "action": row.action, "actionWords": ACTION_WORDS.get(row.action, row.action),
            "outcome": row.outcome, "outcomeWords": outcome, "outcomeAppearance": appearance,
            "reason": people.humanise(past_tense(reason) if ran else reason), "fix": people.humanise(row.fix),
            "notes": [people.humanise(n) for n in row.notes], "conflict": row.conflict,
            "pulledIn": row.pulled_in if pulled_in is None else pulled_in,
            "sourceId": row.source_id, "destinationId": row.dest_id}


def readable(value: Any) -> str:
    """A value as a person reads it (never a Python repr)."""
    return show(value)


def difference_view(difference: dict[str, Any], people: People) -> dict[str, Any]:
    """A verification difference in words (the verification's own, people by name), with its reason."""
    words = difference.get("words") or (f"{difference.get('name')}, {difference.get('path')}: "
                                        f"{readable(difference.get('expected'))} on the source, "
                                        f"{readable(difference.get('actual'))} here")
    return {"type": difference.get("type"), "words": people.humanise(words),
            "reason": people.humanise(difference.get("reason") or ""), "explained": bool(difference.get("reason"))}


# -- choosing and confirming ------------------------------------------------------------------------------------

def fallback_choices(people: People, account_id: str | None) -> list[dict[str, str]]:
    """The two answers to "users who aren't on this site", the default first."""
    me = people.name(account_id) if account_id else "you"
    return [{"value": "admin", "label": f"Put me ({me}) in their place: project lead, role member, owner"},
            {"value": "drop", "label": "Leave them out (projects they lead can't be restored: Jira requires a lead)"}]


def confirmation(run: RestoreRun, selection: Selection, user_fallback: str, site_url: str) -> dict[str, Any]:
    """The last step before writing: what starting would create and update on the site, and what blocks it."""
    found = service.consequences(run, selection, user_fallback)
    size = f"create {found.creates} object{'s' if found.creates != 1 else ''}"
    if found.updates:
        size += f" (and update {found.updates})"
    return {"creates": found.creates, "updates": found.updates, "kept": found.kept,
            "notRestored": found.not_restored, "site": site_url,
            "text": f"This will {size} on {site_url}.",
            "button": f"Restore {found.writes} object{'s' if found.writes != 1 else ''}",
            "blockers": [blocker_view(b) for b in found.blockers],
            "selection": selection.to_dict(), "userFallback": user_fallback,
            "points": estimate_view(restore_estimate(run.tenant_id, run.job_id, found.writes, found.creates)),
            "issues": issue_preview(run.tenant_id, run.snapshot_id, selection)}  # per project; None: no issue data


def blocker_view(blocker: service.Blocker) -> dict[str, Any]:
    """A blocker as both doors show it: a heading that names the cause, its words, its fix, and whether the fix is
    the OAuth authorisation (a Connect site's). A Forge site's calls go through the Forge app's token and scopes,
    never an admin's OAuth grant: its fix is the app's permissions, and no authorise link is offered."""
    forge = blocker.code == "grant" and blocker.fix == FORGE_FIX
    if blocker.code == "leads":
        heading = "Projects would fail"
    elif forge:
        heading = "The app's permissions don't allow it"
    else:
        heading = "Missing authorisation"
    return {"code": blocker.code, "heading": heading, "text": blocker.text,
            "fix": f"{blocker.fix} Then preview again." if forge else blocker.fix,
            "authorise": blocker.code == "grant" and not forge}
