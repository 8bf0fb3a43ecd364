"""Are objects sharing a natural key (two custom fields named alike, their contexts) created one after the other in
the source's id order, so the destination's ids grow in that order and a comparison that tells twins apart by their
order (app/objects/canonical.py) pairs each with its own? (The large preset's same-named "Customer" fields came back
with their contexts seemingly swapped when workers created them in any order.)"""

from __future__ import annotations

from typing import Any

from app.objects.canonical import id_order
from app.restore.plan import Action, Plan, PlannedItem
from app.restore.subobjects import chain_twins


def _plan(items: list[tuple[str, str, str]]) -> Plan:
    planned = {(t, s): PlannedItem(t, s, key, key, Action.CREATE) for t, s, key in items}
    objects: dict[Any, dict[str, Any]] = {k: {"id": k[1]} for k in planned}
    return Plan(planned, objects, [])


def _one_at_a_time(plan: Plan) -> list[Any]:
    """An order a run could take them in: the greatest ready key first (workers take them in any order)."""
    sorter, out = plan.order(), []
    ready: list[Any] = []
    while sorter.is_active():
        ready = sorted([*ready, *sorter.get_ready()])
        key = ready.pop()
        out.append(key)
        sorter.done(key)
    return out


def test_twins_wait_for_each_other_in_the_sources_id_order() -> None:
    plan = _plan([("customFields", "customfield_10103", "customer (select)"),
                  ("customFields", "customfield_10101", "customer (select)"),
                  ("customFields", "customfield_10102", "customer (select)"),
                  ("customFields", "customfield_10200", "region (select)"),
                  ("fieldContexts", "20002", "customer / default"), ("fieldContexts", "20001", "customer / default")])
    chain_twins(plan)
    order = _one_at_a_time(plan)
    fields = [s for t, s in order if t == "customFields" and s != "customfield_10200"]
    assert fields == sorted(fields, key=id_order) == ["customfield_10101", "customfield_10102", "customfield_10103"]
    contexts = [s for t, s in order if t == "fieldContexts"]
    assert contexts == ["20001", "20002"]
    # one key alone gets no edge; twins get one each, to the one before
    assert plan.items[("customFields", "customfield_10200")].refs == []
    assert [(r.type_key, r.source_id) for r in plan.items[("customFields", "customfield_10103")].refs] == [
        ("customFields", "customfield_10102")]


def test_objects_already_on_the_destination_are_not_chained() -> None:
    plan = _plan([("filters", "1", "ann / my work"), ("filters", "2", "ann / my work")])
    plan.items[("filters", "1")].action = Action.REUSE
    chain_twins(plan)
    assert plan.items[("filters", "2")].refs == []
