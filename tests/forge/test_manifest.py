"""Is forge/manifest.yml a manifest Forge accepts (checked offline with @forge/manifest's schema and validators),
does everything Forge calls route to an existing endpoint of the app, and does it ask for exactly the scopes the
app's declared Jira operations need?"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from fakejira.forge_bridge import ADMIN_UI, FORGE_DIR, ensure_built

MANIFEST = FORGE_DIR / "manifest.yml"
VALIDATOR = FORGE_DIR / "scripts" / "validate-manifest.mjs"
# Forge's own scopes that let it hand the remote its tokens; every other scope is a Jira scope.
REMOTE_TOKEN_SCOPES = {"read:app-system-token", "read:app-user-token"}
LIFECYCLE_EVENTS = {"avi:forge:installed:app", "avi:forge:upgraded:app"}


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, f"the manifest no longer contains {old!r}: update this test's broken copies"
    return text.replace(old, new, 1)


# A broken copy of the manifest per way it can be wrong, and what the validator's message must name.
BROKEN: dict[str, tuple[Callable[[str], str], str]] = {
    "unknown scope": (lambda t: _edit(t, "- read:jira-work\n", "- read:jira-wrok\n"), "read:jira-wrok"),
    "bad schedule interval": (lambda t: _edit(t, "interval: hour", "interval: hourly"), "interval"),
    "trigger to a missing endpoint": (lambda t: _edit(t, "endpoint: dr-lifecycle\n", "endpoint: dr-nowhere\n"),
                                      "dr-nowhere"),
    "app id not an ARI": (lambda t: _edit(t, "id: ari:cloud:ecosystem::app/", "id: app/"), "id"),
    "unknown remote operation": (lambda t: _edit(t, "- compute\n", "- compute-everything\n"), "operations"),
    "missing resource folder": (lambda t: _edit(t, "path: admin-ui/dist", "path: admin-ui/nowhere"),
                                "admin-ui/nowhere"),
    "retired runtime": (lambda t: _edit(t, "name: nodejs22.x", "name: nodejs12.x"), "nodejs12.x"),
}


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (FORGE_DIR / "node_modules" / "@forge" / "manifest").exists():
        pytest.fail("@forge/manifest is not installed: run `npm ci --prefix forge` (.ci/run does it)")
    return node


def _validate(manifests: list[Path]) -> dict[Path, dict[str, Any]]:
    """@forge/manifest's verdict on each manifest, in one node process (compiling the schema takes seconds).

    REMOTE_BASE_URL is set as the README tells a deployer to (the service's public BASE_URL).
    """
    env = os.environ | {"REMOTE_BASE_URL": "https://dr.example.org"}
    done = subprocess.run([_node(), str(VALIDATOR), "--json", *map(str, manifests)], capture_output=True, text=True,
                          timeout=180, env=env, cwd=FORGE_DIR)
    assert done.stdout.strip(), f"the validator crashed:\n{done.stderr}"
    return {Path(v["path"]): v for v in json.loads(done.stdout)}


@pytest.fixture(scope="module")
def built() -> Path:
    """The admin page's dist/ (the manifest's resource must exist for the validators)."""
    try:
        return ensure_built()
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def verdicts(built: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The verdicts on the committed manifest and on one broken copy per entry of BROKEN."""
    text = MANIFEST.read_text(encoding="utf-8")
    paths = {"as committed": MANIFEST}
    for name, (change, _) in BROKEN.items():
        folder = tmp_path_factory.mktemp("broken")
        (folder / "manifest.yml").write_text(change(text), encoding="utf-8")
        (folder / "admin-ui").symlink_to(ADMIN_UI, target_is_directory=True)  # the resource path resolves as beside
        paths[name] = folder / "manifest.yml"
    by_path = _validate(list(paths.values()))
    return {name: by_path[path.resolve()] for name, path in paths.items()}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    """The manifest as @forge/manifest's own YAML parser reads it (variables not substituted)."""
    done = subprocess.run([_node(), str(VALIDATOR), "--print-json", str(MANIFEST)], capture_output=True, text=True,
                          timeout=60, cwd=FORGE_DIR)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _endpoints(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["key"]: e for e in manifest["modules"]["endpoint"]}


def test_the_manifest_passes_forge_validation(verdicts: dict[str, dict[str, Any]]) -> None:
    """Does the manifest pass @forge/manifest's full validation (schema, scopes, references, resources)?"""
    verdict = verdicts["as committed"]
    assert verdict["valid"], "@forge/manifest rejects forge/manifest.yml:\n" + "\n".join(verdict["errors"])
    assert not verdict["warnings"], verdict["warnings"]


@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_a_broken_copy_is_rejected_with_the_reason(breakage: str, verdicts: dict[str, dict[str, Any]]) -> None:
    """Would the offline check catch a broken manifest, naming what is wrong (so it isn't a rubber stamp)?"""
    verdict = verdicts[breakage]
    assert not verdict["valid"], f"{breakage}: accepted"
    assert any(BROKEN[breakage][1] in line for line in verdict["errors"]), verdict["errors"]


def test_the_jira_scopes_are_exactly_the_declared_operations_scopes(manifest: dict[str, Any]) -> None:
    """Does the manifest ask for exactly forge_scopes() (plus Forge's two token scopes), no more, no fewer?"""
    from app.forge.scopes import forge_scopes

    scopes = manifest["permissions"]["scopes"]
    assert len(scopes) == len(set(scopes)), "a scope is listed twice"
    assert set(scopes) >= REMOTE_TOKEN_SCOPES, "Forge hands the remote no token without read:app-*-token"
    assert sorted(set(scopes) - REMOTE_TOKEN_SCOPES) == list(forge_scopes())


def test_the_remote_base_url_comes_from_an_environment_variable(manifest: dict[str, Any]) -> None:
    """Is the one remote's baseUrl a declared manifest variable (set to BASE_URL at deploy), not a fixed host?"""
    (remote,) = manifest["remotes"]
    match = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", remote["baseUrl"])
    assert match, remote["baseUrl"]
    declared = {v if isinstance(v, str) else v["key"] for v in manifest["environment"]["variables"]}
    assert match.group(1) in declared
    assert "compute" in remote["operations"], "invokeRemote needs the compute operation"
    assert {e["remote"] for e in manifest["modules"]["endpoint"]} == {remote["key"]}


def test_every_call_forge_makes_routes_to_an_app_endpoint(manifest: dict[str, Any], app) -> None:
    """Do the lifecycle trigger, the hourly trigger and preUninstall POST to routes the app serves?"""
    endpoints = _endpoints(manifest)
    modules = manifest["modules"]
    (trigger,) = [t for t in modules["trigger"] if t["key"] == "dr-lifecycle-events"]  # issue events: their own
    (hourly,) = modules["scheduledTrigger"]
    (pre_uninstall,) = modules["preUninstall"]
    assert set(trigger["events"]) == LIFECYCLE_EVENTS
    assert hourly["interval"] == "hour"
    routed = {
        "lifecycle": endpoints[trigger["endpoint"]]["route"]["path"],
        "hourly": endpoints[hourly["endpoint"]]["route"]["path"],
        "pre-uninstall": endpoints[pre_uninstall["endpoint"]]["route"]["path"],
    }
    assert routed == {"lifecycle": "/forge/events/lifecycle", "hourly": "/forge/events/hourly",
                      "pre-uninstall": "/forge/events/pre-uninstall"}
    adapter = app.url_map.bind("localhost")
    for path in routed.values():
        try:
            adapter.match(path, method="POST")  # Forge delivers events and triggers with POST
        except (NotFound, MethodNotAllowed) as exc:
            pytest.fail(f"Forge POSTs {path} but the app has no such route ({type(exc).__name__})")
    for name in ("lifecycle", "hourly", "pre-uninstall"):
        assert "appUserToken" not in endpoints[
            {"lifecycle": trigger, "hourly": hourly, "pre-uninstall": pre_uninstall}[name]["endpoint"]]["auth"], \
            "events carry no user session: no user token"


def test_the_admin_page_calls_the_remote_api_with_both_tokens(manifest: dict[str, Any], app) -> None:
    """Is the admin page a Custom UI resource whose resolver endpoint carries system and user tokens to
    /forge/api/v1 (where the UI's invokeRemote paths go)?"""
    (page,) = manifest["modules"]["jira:adminPage"]
    assert page["title"] == "Disaster recovery"
    resource = {r["key"]: r["path"] for r in manifest["resources"]}[page["resource"]]
    assert resource == "admin-ui/dist"
    endpoint = _endpoints(manifest)[page["resolver"]["endpoint"]]
    assert "route" not in endpoint, "UI endpoints take their path from each invokeRemote call"
    assert endpoint["auth"] == {"appSystemToken": {"enabled": True}, "appUserToken": {"enabled": True}}
    adapter = app.url_map.bind("localhost")
    for path, method in (("/forge/api/v1/context", "GET"), ("/forge/api/v1/connections", "GET"),
                         ("/forge/api/v1/backups", "POST")):
        adapter.match(path, method=method)


def test_the_built_page_has_no_inline_script_or_style(built: Path) -> None:
    """Will Forge's CSP (script-src/style-src 'self') let the built page run: no inline code, no eval?"""
    html = (built / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S | re.I)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts), scripts
    assert not re.search(r"<style\b|\sstyle\s*=|\son[a-z]+\s*=", html, flags=re.I), "inline style or handler"
    for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"[a-z]+:|//", ref), f"{ref}: the bundle must load only its own files"
        assert (built / ref).is_file(), f"{ref} is referenced but not built"
    bundle = (built / "app.js").read_text(encoding="utf-8")
    assert "eval(" not in bundle and "new Function(" not in bundle
