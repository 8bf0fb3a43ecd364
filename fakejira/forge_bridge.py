"""The Forge Custom UI host, emulated: serves the built admin page (forge/admin-ui/dist) with a bridge shim in
place of the ``window.__bridge`` Forge injects, and forwards the page's ``invokeRemote`` calls to the emulator's
invoker (real FITs, real tokens, real HTTP to the app) for one installation and principal.

What ``@forge/bridge`` 7 expects (read from its ``out/bridge.js`` and ``out/invoke-endpoint``): a global
``__bridge`` with ``callBridge(command, payload) -> Promise``, read when its modules load (so the shim runs first).
``invokeRemote`` sends ``callBridge("invoke", {path, method, headers, body, invokeType: "ui-remote-fetch"})`` and
expects ``{success, payload | error}`` where each is ``{status, headers: {name: [values]}, body}`` (the documented
``RemoteInvokeResponse``); ``view.getContext`` sends ``callBridge("getContext")``. Other commands answer nothing.

Every response carries a Content-Security-Policy like Forge's default for Custom UI (scripts and styles from the
page's own origin only, no inline code); the browser reports violations to ``/__forge/csp-report`` and they are
kept in ``csp_violations`` for the test to assert on.
"""

from __future__ import annotations

import fcntl
import json
import mimetypes
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from .forge import ForgeInstall, Invoker, InvokeRemoteError

ROOT = Path(__file__).resolve().parents[1]
FORGE_DIR = ROOT / "forge"
ADMIN_UI = FORGE_DIR / "admin-ui"
DIST = ADMIN_UI / "dist"
SHIM_PATH = "/__forge/bridge-shim.js"
REPORT_PATH = "/__forge/csp-report"

# Forge's default Custom UI policy, as far as its docs state it: no inline script or style, the app's own origin.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'; "
       f"report-uri {REPORT_PATH}")

# The shim: served as its own file (Forge's CSP forbids inline scripts, and the page must work under it).
SHIM_JS = """\
// Emulated Forge host bridge (tests only): what Forge's iframe host provides as window.__bridge.
(function () {
  "use strict";
  var calls = [];
  window.__forgeBridgeCalls = calls;
  function post(url, body) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
                        body: JSON.stringify(body === undefined ? null : body) })
      .then(function (r) {
        if (!r.ok) { return r.text().then(function (t) { throw new Error("bridge: " + r.status + " " + t); }); }
        return r.json();
      });
  }
  window.__bridge = {
    callBridge: function (command, payload) {
      calls.push({ command: command, invokeType: payload && payload.invokeType, path: payload && payload.path,
                   method: payload && payload.method });
      if (command === "invoke" && payload && payload.invokeType === "ui-remote-fetch") {
        return post("/__forge/invoke", { path: payload.path, method: payload.method, headers: payload.headers || {},
                                         body: payload.body });
      }
      if (command === "getContext") { return post("/__forge/context", {}); }
      return Promise.resolve(undefined);
    }
  };
})();
"""


def _newest_source_mtime() -> float:
    files = [p for p in (ADMIN_UI / "src").rglob("*") if p.is_file()]
    files += [ADMIN_UI / "build.mjs", ADMIN_UI / "package-lock.json",
              ADMIN_UI.parents[1] / "app" / "static" / "app.css"]  # bundled into the page's stylesheet
    return max(p.stat().st_mtime for p in files if p.exists())


def ensure_built() -> Path:
    """Build the admin page into dist/ unless it is fresh; returns dist/. Safe when test workers race for it.

    :raises RuntimeError: npm packages missing (``npm ci --prefix forge/admin-ui``) or the build failed.
    """
    lock_path = Path(tempfile.gettempdir()) / "jira-dr-forge-admin-ui.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time; the others wait and then see a fresh dist/
        index = DIST / "index.html"
        if index.exists() and (DIST / "app.js").exists() and index.stat().st_mtime >= _newest_source_mtime():
            return DIST
        node = shutil.which("node")
        if node is None or not (ADMIN_UI / "node_modules" / "esbuild").exists():
            raise RuntimeError("the admin page can't be built: run `npm ci --prefix forge/admin-ui` (.ci/run does)")
        done = subprocess.run([node, "build.mjs"], cwd=ADMIN_UI, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"building forge/admin-ui failed:\n{done.stdout}\n{done.stderr}")
        return DIST


def forge_context(inst: ForgeInstall, principal: str | None, module_key: str = "disaster-recovery") -> dict[str, Any]:
    """What ``view.getContext()`` resolves to on a Jira admin page (the fields the page may read)."""
    return {"accountId": principal, "cloudId": inst.cloud_id, "siteUrl": inst.site.base_url,
            "environmentId": inst.environment_id, "environmentType": inst.environment_type,
            "moduleKey": module_key, "localId": f"{module_key}-{inst.installation_id}", "locale": "en-US",
            "timezone": "UTC", "extension": {"type": "jira:adminPage"}}


@dataclass(eq=False)
class BridgeHost:
    """A WSGI app: the Custom UI for ``inst`` as ``principal`` sees it, its calls going through ``invoker``."""

    invoker: Invoker
    inst: ForgeInstall
    principal: str | None
    dist: Path = DIST
    csp: str = CSP
    csp_violations: list[dict[str, Any]] = field(default_factory=list)
    invocations: list[tuple[str, str, int | None]] = field(default_factory=list)  # (method, path, status)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self.handle(request)(environ, start_response)

    def handle(self, request: Request) -> Response:
        path = request.path
        if request.method == "POST" and path == "/__forge/invoke":
            return self._invoke(request)
        if request.method == "POST" and path == "/__forge/context":
            return self._json(200, forge_context(self.inst, self.principal))
        if request.method == "POST" and path == REPORT_PATH:
            with self._lock:
                self.csp_violations.append(json.loads(request.get_data() or b"{}"))
            return Response(status=204)
        if request.method != "GET":
            return Response("method not allowed", status=405)
        if path == SHIM_PATH:
            return self._asset(SHIM_JS.encode(), "text/javascript")
        if path in ("/", "/index.html"):
            return self._asset(self._index(), "text/html")
        return self._static(path.lstrip("/"))

    def _index(self) -> bytes:
        """The page as built, with the shim's <script src> first so ``__bridge`` exists before the bundle runs."""
        html = (self.dist / "index.html").read_text(encoding="utf-8")
        tag = f'<script src="{SHIM_PATH}"></script>\n  '
        at = html.find("<script")
        return (html[:at] + tag + html[at:] if at >= 0 else html.replace("</head>", tag + "</head>")).encode()

    def _static(self, name: str) -> Response:
        target = (self.dist / name).resolve()
        if not target.is_file() or self.dist.resolve() not in target.parents:
            return Response("not found", status=404)
        mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return self._asset(target.read_bytes(), mime)

    def _asset(self, body: bytes, mime: str) -> Response:
        response = Response(body, mimetype=mime)
        response.headers["Content-Security-Policy"] = self.csp
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def _invoke(self, request: Request) -> Response:
        """One invokeRemote: through the emulator's invoker, answered in the bridge's shape."""
        call = json.loads(request.get_data() or b"{}")
        path, method = str(call.get("path", "")), str(call.get("method", "GET")).upper()
        try:
            status, body = self.invoker.invoke_remote(self.inst, path, method=method, body=call.get("body"),
                                                      principal=self.principal)
        except InvokeRemoteError as exc:
            # Forge refuses the call (limits, non-JSON answer, timeout): the bridge's promise rejects.
            with self._lock:
                self.invocations.append((method, path, None))
            return self._json(502, {"message": str(exc)})
        with self._lock:
            self.invocations.append((method, path, status))
        result = {"status": status, "headers": {"content-type": ["application/json"]}, "body": body}
        ok = 200 <= status < 300
        return self._json(200, {"success": ok, "payload": result} if ok else {"success": False, "error": result})

    @staticmethod
    def _json(status: int, data: Any) -> Response:
        return Response(json.dumps(data), status=status, mimetype="application/json")
