"""Does a catalogue reader fan work out through whatever pool it is given, a priority pool included?"""

from __future__ import annotations

from app.backups.catalogue import Reader
from app.backups.lanes import PriorityPool
from app.jira.access import JiraAccess


def test_a_reader_built_on_a_priority_pool_fans_out_through_it() -> None:
    """Can a reader handed the priority pool itself (not one of its lanes) fan work out, in order?"""
    with PriorityPool(2) as pool:
        reader = Reader(JiraAccess([]), pool, concurrency=2, priority=3)
        assert list(reader.fan_out(lambda n: n * 2, [1, 2, 3, 4, 5])) == [2, 4, 6, 8, 10]

