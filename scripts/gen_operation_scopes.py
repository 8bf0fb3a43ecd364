"""Regenerates app/jira/operation_scopes.json from Atlassian's OpenAPI specs in ../shared/reference.

The app can't read the 3.5 MB spec at run time (it isn't shipped with the app), so the per-operation Connect
scope and classic OAuth scopes are extracted into a compact table. A test checks the table is in sync.
Usage: python scripts/gen_operation_scopes.py [REFERENCE_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "app" / "jira" / "operation_scopes.json"


def oauth_scopes(op: dict) -> list[str]:
    """The classic ("Current") OAuth 2.0 scopes an operation needs (empty: none beyond a valid token)."""
    for entry in op.get("x-atlassian-oauth2-scopes") or []:
        if entry.get("state") == "Current":
            return sorted(entry.get("scopes") or [])
    for requirement in op.get("security") or []:
        if "OAuth2" in requirement:
            return sorted(requirement["OAuth2"])
    return []


def build(reference: Path) -> dict:
    table: dict[str, dict] = {}
    for spec_file in ("jira-platform-openapi.json", "jira-software-openapi.json"):
        spec = json.loads((reference / spec_file).read_text())
        for template, ops in spec["paths"].items():
            for method, op in ops.items():
                if method not in {"get", "post", "put", "delete", "patch"}:
                    continue
                scope = op.get("x-atlassian-connect-scope")
                if scope is None:
                    continue
                table[f"{method.upper()} {template}"] = {"connect": scope, "oauth": oauth_scopes(op)}
    return dict(sorted(table.items()))


def main() -> None:
    reference = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "reference"
    OUT.write_text(json.dumps(build(reference), indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
