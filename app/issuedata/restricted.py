"""Restricted comments: those visible only to a group or project role the app's user isn't in, read as someone who is.

Jira leaves a restricted comment out of every answer to a reader outside its group or role, and its ``total``
counts the items returned (the platform spec's ``PageOfComments``), so the app's user can't tell from one issue that
anything is missing. Comment ids, though, are one sequence per site **[inference: Jira hands them out in order;
unverified on real Jira]**, so the ids between those the app read are comments that were deleted or that it may not
see. The backup asks Jira for exactly those ids (``POST /rest/api/3/comment/list``, 1,000 ids a call, READ) through
Connect user impersonation (``ACT_AS_USER``: ``app.connect.impersonation``), acting as people allowed to see them:

1. one member of each group the snapshot holds with its members, and one user actor of each project role of each
   project, chosen greedily so that few people cover every group and role;
2. then the people already seen on the issues (reporters, assignees, comment authors, watchers), most seen first.

It stops as soon as every id is accounted for, after ``ISSUE_RESTRICTED_PEOPLE`` people (12 by default) or once
``ISSUE_RESTRICTED_IDS`` ids (50,000) were asked about in all. Each comment found names its issue in its ``self``
URL; the issue pass adds it to that issue's record. Ids nobody could read are counted, not blamed on anyone: most are
deleted comments. The people acted as only read; what they read goes into the tenant's encrypted snapshot as the
comments the app's own user reads do.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import current_app

from ..backups.snapshots import SnapshotReader
from ..connect.impersonation import ImpersonationRefused
from ..jira.client import JiraClient
from ..jira.errors import JiraError
from ..jira.operations import declare

OP_COMMENT_LIST = declare("POST", "/rest/api/3/comment/list")
LIST_MAX = 1000  # ids per comment/list call (the spec's bound)
DEFAULT_PEOPLE = 12
DEFAULT_IDS = 50_000
TAIL = 200  # ids past the highest the app read: the newest comments may all be restricted
FIRST_ID = 10000  # the first comment id of a Jira Cloud site [inference from the ids sites answer]
_ISSUE_IN_SELF = re.compile(r"/issue/(\d+)/comment/\d+")


class CommentIds:
    """The comment ids a pass has seen, as a bitmap (a million ids take 125 KB)."""

    def __init__(self) -> None:
        self._bits = bytearray()
        self.high = 0

    def add(self, comment_id: Any) -> None:
        try:
            number = int(comment_id)
        except (TypeError, ValueError):
            return  # an id that isn't a number: nothing to compare it with
        if number < 0:
            return
        byte = number >> 3
        if byte >= len(self._bits):
            self._bits.extend(bytes(byte + 1 - len(self._bits) + 4096))
        self._bits[byte] |= 1 << (number & 7)
        self.high = max(self.high, number)

    def __contains__(self, number: int) -> bool:
        byte = number >> 3
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << (number & 7)))

    def gaps(self, above: int, upto: int) -> list[int]:
        """Ids after ``above`` (from the first id a site hands out, or the lowest seen, on a first pass) up to
        ``TAIL`` past ``upto`` that weren't seen."""
        start = above + 1 if above > 0 else min(FIRST_ID, self._lowest() or FIRST_ID)
        end = max(upto, self.high)
        if end <= 0:
            return []
        return [n for n in range(start, end + TAIL + 1) if n not in self]

    def _lowest(self) -> int:
        for index, byte in enumerate(self._bits):
            if byte:
                return index * 8 + (byte & -byte).bit_length() - 1
        return 0


@dataclass
class Found:
    """What asking for hidden comment ids gave: the comments by issue id, and what stayed unread and why."""

    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    asked: int = 0  # ids asked about
    unread: int = 0  # ids nobody tried could read (deleted comments mostly)
    people: int = 0  # people acted as
    calls: int = 0
    points: int = 0
    reason: str | None = None  # why the search stopped short (impersonation refused, a limit reached), or None

    @property
    def read(self) -> int:
        return sum(len(v) for v in self.comments.values())


def _members(groups: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {str(g.get("name")): sorted(str(m.get("accountId")) for m in g.get("members") or [] if m.get("accountId"))
            for g in groups if g.get("name")}


def _coverage(groups: list[dict[str, Any]], projects: list[dict[str, Any]]) -> dict[str, set[str]]:
    """accountId -> the groups ("group:name") and project roles ("role:projectId:name") it would see comments of."""
    members = _members(groups)
    covers: dict[str, set[str]] = {}
    for name, people in members.items():
        for person in people:
            covers.setdefault(person, set()).add(f"group:{name}")
    for project in projects:
        for role in project.get("roleActors") or []:
            where = f"role:{project.get('id')}:{role.get('name')}"
            for actor in role.get("actors") or []:
                user = (actor.get("actorUser") or {}).get("accountId")
                people = [user] if user else members.get(str((actor.get("actorGroup") or {}).get("name")), [])
                for person in people:
                    covers.setdefault(str(person), set()).add(where)
    return covers


def people_to_try(groups: list[dict[str, Any]], projects: list[dict[str, Any]], seen: Counter[str]) -> list[str]:
    """Who to act as, in order: few people covering every group and role (greedy), then those seen on issues."""
    covers = _coverage(groups, projects)
    left = set().union(*covers.values()) if covers else set()
    chosen: list[str] = []
    while left:
        best = max(sorted(covers), key=lambda p: len(covers[p] & left))
        gained = covers[best] & left
        if not gained:
            break
        chosen.append(best)
        left -= gained
    chosen += [p for p, _n in sorted(seen.items(), key=lambda kv: (-kv[1], kv[0])) if p not in chosen]
    return chosen


def snapshot_people(snapshot_ids: list[int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The groups (with members, when they were read so) and projects (with role actors) of the first snapshot
    that holds some (this backup's; an earlier one's when it captured no configuration)."""
    for snapshot_id in snapshot_ids:
        reader = SnapshotReader(snapshot_id)
        groups, projects = list(reader.objects("groups")), list(reader.objects("projects"))
        if groups or projects:
            return groups, projects
    return [], []


def issue_of(comment: dict[str, Any]) -> str | None:
    """The issue id a comment's ``self`` URL names."""
    match = _ISSUE_IN_SELF.search(str(comment.get("self") or ""))
    return match.group(1) if match else None


class HiddenComments:
    """Asks Jira, as people allowed to see them, for the comment ids the app's user didn't get."""

    def __init__(self, act_as: Callable[[str], JiraClient] | None, unavailable: str | None = None) -> None:
        self.act_as = act_as
        self.unavailable = unavailable  # why nobody can be acted as (with the fix), when act_as is None
        config = current_app.config
        self.max_people = int(config.get("ISSUE_RESTRICTED_PEOPLE", DEFAULT_PEOPLE))
        self.max_ids = int(config.get("ISSUE_RESTRICTED_IDS", DEFAULT_IDS))

    def find(self, wanted: list[int], candidates: list[str]) -> Found:
        """Read what each candidate sees of ``wanted`` until none is left or a bound is reached."""
        found = Found()
        left = sorted(set(wanted))
        if not left:
            return found
        if self.act_as is None:
            found.unread, found.reason = len(left), self.unavailable
            return found
        for account_id in candidates:
            if not left:
                break
            if found.people >= self.max_people:
                found.reason = f"the backup acts as at most {self.max_people} people to read restricted comments"
                break
            if found.asked >= self.max_ids:
                found.reason = f"the backup asks about at most {self.max_ids:,} hidden comment ids"
                break
            try:
                client = self.act_as(account_id)
            except ImpersonationRefused as refused:
                if refused.user_missing:
                    continue  # that person isn't on the site any more: the next one
                found.reason = f"{refused.reason} Fix: {refused.fix}"
                break
            except requests.RequestException as exc:
                found.reason = (f"the authorization server that lets the app act as a user couldn't be reached "
                                f"({type(exc).__name__})")
                break
            found.people += 1
            left = self._ask(client, left, found)
        found.unread = len(left)
        return found

    def _ask(self, client: JiraClient, ids: list[int], found: Found) -> list[int]:
        """Ask for ``ids`` as one person; the ids still unread afterwards."""
        got: set[int] = set()
        budget = max(0, self.max_ids - found.asked)
        for start in range(0, min(len(ids), budget), LIST_MAX):
            chunk = ids[start:min(start + LIST_MAX, budget)]
            found.asked += len(chunk)
            before = client.points
            try:
                page = client.request("POST", OP_COMMENT_LIST.path(), json={"ids": chunk}, idempotent=True,
                                      template=OP_COMMENT_LIST.template) or {}
            except JiraError:
                continue  # this person may not read these (a 403): the next one may
            finally:
                found.calls += 1
                found.points += client.points - before
            for comment in page.get("values") or []:
                issue_id = issue_of(comment)
                number = int(comment.get("id") or -1)
                got.add(number)
                if issue_id is not None and comment.get("visibility"):
                    found.comments.setdefault(issue_id, []).append(comment)
        return [n for n in ids if n not in got]
