"""Do custom fields sharing a name and type (Jira allows it) each keep their own screen and options, on the first
restore and on a second one, which must write nothing?

A second run matched every source field of the name to the destination's first one, then "updated" screens and
contexts onto the wrong field (found by the large restore bench: 105 writes on a second identical run).
"""

from __future__ import annotations

from typing import Any

from app.restore.plan import Selection
from fakejira import dispatch
from fakejira.resources.basics import admin_account_id
from fakejira.seeding import export_site
from tests.restore.conftest import take_backup
from tests.restore.test_restore_basics import outcomes, preview, restore
from tests.restore.test_restore_projects import demo_sites  # noqa: F401  (fixture)

SELECT = "com.atlassian.jira.plugin.system.customfieldtypes:select"
SEARCHER = "com.atlassian.jira.plugin.system.customfieldtypes:multiselectsearcher"
WRITES = ("POST", "PUT", "DELETE")
SELECTED = Selection(types=["screens", "fieldContexts"])  # the screens and the fields' options


def _ok(site: Any, method: str, path: str, body: Any = None) -> Any:
    status, answer, _ = dispatch.call(site, method, path, body=body, account_id=admin_account_id(site))
    assert status < 300, (method, path, answer)
    return answer


def _same_named_fields(site: Any, count: int) -> None:
    """``count`` select fields all named "Customer", field n on screen "Customer screen n" with option "Tier n"."""
    for n in range(count):
        field = _ok(site, "POST", "/rest/api/3/field", {"name": "Customer", "type": SELECT, "searcherKey": SEARCHER})
        context = _ok(site, "GET", f"/rest/api/3/field/{field['id']}/context")["values"][0]
        _ok(site, "POST", f"/rest/api/3/field/{field['id']}/context/{context['id']}/option",
            {"options": [{"value": f"Tier {n}"}]})
        screen = _ok(site, "POST", "/rest/api/3/screens", {"name": f"Customer screen {n}"})
        tab = _ok(site, "GET", f"/rest/api/3/screens/{screen['id']}/tabs")[0]
        _ok(site, "POST", f"/rest/api/3/screens/{screen['id']}/tabs/{tab['id']}/fields", {"fieldId": field["id"]})


def _tier_on_each_screen(export: dict[str, Any]) -> dict[str, list[str]]:
    """Per "Customer screen n": the options of the Customer fields on it."""
    contexts = export["fieldContexts"]
    options = export["fieldOptions"]
    out = {}
    for screen in export["screens"]:
        if not screen["name"].startswith("Customer screen"):
            continue
        on_it = [f["id"] for tab in export["screenTabs"][str(screen["id"])]
                 for f in export["screenTabFields"].get(str(tab["id"]), []) if f["name"] == "Customer"]
        out[screen["name"]] = sorted(o["value"] for field_id in on_it for c in contexts.get(field_id, [])
                                     for o in options.get(str(c["id"]), []))
    return out


def test_same_named_fields_keep_their_own_screens_and_options_and_a_second_run_writes_nothing(
        app, demo_sites, fake_cloud) -> None:  # noqa: F811
    sites = demo_sites
    _same_named_fields(sites.source, 3)
    snapshot = take_backup(app, sites.source_tenant_id, fake_cloud)
    first = restore(app, sites, preview(app, sites, snapshot), SELECTED, fallback="admin")
    assert first.status == "done" and first.verification["unexplained"] == 0, first.verification_json
    source, dest = export_site(sites.source), export_site(sites.dest)
    want = _tier_on_each_screen(source)
    assert want == {f"Customer screen {n}": [f"Tier {n}"] for n in range(3)}
    assert _tier_on_each_screen(dest) == want

    sites.dest.calls.clear()
    again_id = preview(app, sites, snapshot)
    planned = {k: (i.action, i.reason) for k, i in outcomes(app, again_id).items()
               if i.selected and i.type_key in ("customFields", "fieldContexts", "screens")}
    assert planned and not [k for k, (action, _r) in planned.items() if action in ("create", "update")], planned
    second = restore(app, sites, again_id, SELECTED, fallback="admin")
    assert second.status == "done" and second.fidelity == first.fidelity
    made = [f"{c.method} {c.path}" for c in sites.dest.calls.find() if c.method in WRITES]
    assert made == []
    assert _tier_on_each_screen(export_site(sites.dest)) == want
