"""Every scrum board's sprints, those without issues too: read by the backup's issue pass, read back by a restore.

The issue records name the sprints their issues are in (the Sprint field), so a future sprint nobody planned into
yet, or a closed one whose issues were deleted or moved, is in no record. The issue pass therefore also lists each
scrum board's sprints (``GET /rest/agile/1.0/board/{boardId}/sprint``, 50 a page: one call for most boards) and keeps
them as one entry per board of type ``SPRINTS_TYPE`` in the same snapshot. The boards are those the snapshot's
configuration holds (kanban boards have no sprints: Jira answers 400). A board Jira refuses to list is left out and
logged; the snapshot still restores.
"""

from __future__ import annotations

import logging
from typing import Any

from ..backups.models import TypeStatus
from ..backups.snapshots import SnapshotReader, SnapshotWriter
from ..jira.access import SiteAccess
from ..jira.errors import JiraError, JiraUnavailable
from ..jira.operations import declare

log = logging.getLogger(__name__)

SPRINTS_TYPE = "issueBoardSprints"
OP_BOARD_SPRINTS = declare("GET", "/rest/agile/1.0/board/{boardId}/sprint")
KEPT = ("id", "name", "state", "startDate", "endDate", "completeDate", "goal", "originBoardId")


def _sprint(raw: dict[str, Any]) -> dict[str, Any]:
    """A sprint as the agile API gives it, in the Sprint field's terms too (``boardId``: its origin board)."""
    out = {k: raw[k] for k in KEPT if raw.get(k) is not None}
    if out.get("originBoardId") is not None:
        out["boardId"] = out["originBoardId"]
    return out


def scrum_boards(snapshot_ids: list[int]) -> list[tuple[str, str | None]]:
    """(board id, its project key) of the scrum boards of the first of these snapshots that holds boards."""
    for snapshot_id in snapshot_ids:
        boards = list(SnapshotReader(snapshot_id).items("boards"))
        if boards:
            return [(str(entry.source_id), (obj.get("location") or {}).get("projectKey"))
                    for entry, obj in boards if entry.source_id and obj.get("type") == "scrum"]
    return []


def read_board_sprints(access: SiteAccess, writer: SnapshotWriter, boards: list[tuple[str, str | None]]) -> int:
    """List each board's sprints into the snapshot (one entry per board); the number of sprints kept."""
    writer.reset_type(SPRINTS_TYPE)
    if not boards or not access.can_call(OP_BOARD_SPRINTS):
        writer.set_type_status(SPRINTS_TYPE, TypeStatus.COMPLETE.value, 0)
        return 0
    kept = written = 0
    for board_id, project_key in boards:
        try:
            sprints = [_sprint(s) for s in access.paginate(OP_BOARD_SPRINTS, path={"boardId": board_id},
                                                            page_size=50)]
        except JiraUnavailable:
            raise  # the site, not this board: the job's retry handles it
        except JiraError as exc:
            log.warning("backup: board %s's sprints weren't listed: %s", board_id, exc.describe())
            continue
        writer.put(SPRINTS_TYPE, board_id, board_id, {"boardId": board_id, "projectKey": project_key,
                                                      "sprints": sorted(sprints, key=lambda s: int(s["id"]))})
        kept += len(sprints)
        written += 1
    writer.set_type_status(SPRINTS_TYPE, TypeStatus.COMPLETE.value, written)  # the count is of entries: boards
    return kept


def snapshot_sprints(snapshot_id: int, projects: set[str] | None = None) -> list[dict[str, Any]]:
    """The sprints a snapshot's boards held (once each), those of boards in ``projects`` when given."""
    out: dict[int, dict[str, Any]] = {}
    for board in SnapshotReader(snapshot_id).objects(SPRINTS_TYPE):
        if projects is not None and board.get("projectKey") not in projects:
            continue
        for sprint in board.get("sprints") or []:
            if sprint.get("id") is not None:
                out.setdefault(int(sprint["id"]), sprint)
    return [out[k] for k in sorted(out)]
