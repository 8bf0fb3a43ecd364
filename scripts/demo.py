"""The local demo: two emulated Jira sites (a seeded source, an empty destination) and the app, wired and installed.

    python scripts/demo.py [--port N] [--seed FILE] [--data-dir DIR]

Starts the emulated Atlassian platform (install keys, OAuth consent, API gateway) and two sites on 127.0.0.1, runs
the app with its embedded defaults (SQLite, in-process jobs) pointed at them, registers the app's OAuth client with
the emulator, installs the app into both sites with signed installs, and prints the pages to open. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import threading
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a file: make ``app`` and ``fakejira`` importable

from cryptography.fernet import Fernet  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402
from werkzeug.wrappers import Request, Response  # noqa: E402

from fakejira import installer, shell  # noqa: E402
from fakejira.cloud import Cloud  # noqa: E402
from fakejira.resources.basics import admin_account_id  # noqa: E402
from fakejira.server import ServerThread  # noqa: E402

DEMO_SEED = ROOT / "fakejira" / "seeds" / "demo.json"
MODULE_KEY = "disaster-recovery-connections"
SITES = ("source", "destination")


def consent_screen(cloud: Cloud) -> Any:
    """The platform app, with a consent screen in front of ``/authorize``: the person picks the site they admin.

    The emulator approves as whoever ``emulator_account_id`` names; a real consent screen knows who is signed in.
    """

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path != "/authorize" or "emulator_account_id" in request.args:
            return cloud.platform_app(environ, start_response)
        def authorize(**extra: str) -> str:
            return escape("/authorize?" + urlencode({**request.args, **extra}))

        choices = "".join(
            f'<li><a href="{authorize(emulator_account_id=admin_account_id(s), emulator_site=s.name)}">Approve as the '
            f"admin of <b>{escape(s.name)}</b> ({escape(s.base_url)})</a></li>" for s in cloud.sites.values())
        deny = authorize(emulator_account_id="nobody", emulator_deny="1")
        page = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Atlassian consent</title></head>'
                '<body style="font:14px sans-serif;margin:40px"><h1>Allow the app to access your Jira site?</h1>'
                f'<p>Scopes: <code>{escape(request.args.get("scope", ""))}</code></p><ul>{choices}</ul>'
                f'<p><a href="{deny}">Deny</a></p></body></html>')
        return Response(page, content_type="text/html; charset=utf-8")(environ, start_response)

    return app


def start_cloud(seed: dict[str, Any]) -> Cloud:
    """The platform (behind the consent screen) and the two sites, served on loopback."""
    cloud = Cloud()
    cloud.add_site("source", seed)
    cloud.add_site("destination")
    # As ``python -m fakejira serve`` does: serve the platform first, then every site.
    cloud._platform_server = ServerThread(consent_screen(cloud)).start()
    cloud.platform_url = cloud._platform_server.url
    for name in cloud.sites:
        cloud._serve_site(name)
    return cloud


def build_app(cloud: Cloud, data_dir: Path, url: str) -> Any:
    """The app with its embedded defaults (SQLite in ``data_dir``, in-process jobs), pointed at the emulator."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    client = cloud.oauth.register_client([url + "/oauth/callback"], name="Disaster Recovery (demo)")
    key_file = data_dir / "encryption.key"
    if not key_file.exists():
        key_file.write_text(Fernet.generate_key().decode(), encoding="utf-8")
        key_file.chmod(0o600)
    app = create_app({
        "BASE_URL": url,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'jira-dr-demo.sqlite3'}",
        "ENCRYPTION_KEYS": key_file.read_text(encoding="utf-8").strip(),
        "CONNECT_INSTALL_KEYS_URL": cloud.install_keys_url,
        "ATLASSIAN_OAUTH_CLIENT_ID": client.client_id, "ATLASSIAN_OAUTH_CLIENT_SECRET": client.secret,
        "ATLASSIAN_AUTH_URL": cloud.platform_url, "ATLASSIAN_API_URL": cloud.platform_url,
        "JOBS_MODE": "thread",
    })
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.create_all()  # tables a newer model adds before its migration exists; a no-op otherwise
    return app


class _LateApp:
    """A WSGI app set after the server is bound: the app must know its own URL (the port) before it's built."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local demo: two emulated Jira sites and the app")
    parser.add_argument("--port", type=int, default=0, help="the app's port (default: any free port)")
    parser.add_argument("--seed", default=os.environ.get("FAKEJIRA_SEED") or str(DEMO_SEED),
                        help="the source site's seed file (default: $FAKEJIRA_SEED or the demo company)")
    parser.add_argument("--data-dir", help="where the app's SQLite database lives (default: a temporary folder)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its access log would print page JWTs

    seed = json.loads(Path(args.seed).read_text(encoding="utf-8"))
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="jira-dr-demo-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    cloud = start_cloud(seed)
    late = _LateApp()
    server = make_server("127.0.0.1", args.port, late, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    late.app = build_app(cloud, data_dir, url)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    for name in SITES:
        installer.install_app(cloud.site(name), url + "/atlassian-connect.json")

    app_key = late.app.config["APP_KEY"]
    source, dest = cloud.site("source"), cloud.site("destination")
    print(f"""
Disaster Recovery for Jira: local demo
  Source site ({Path(args.seed).name}):  {shell.module_url(source, app_key, MODULE_KEY)}
  Destination site (empty):  {shell.module_url(dest, app_key, MODULE_KEY)}
  Settings -> Apps:          {shell.apps_url(source)}  |  {shell.apps_url(dest)}
  The app:                   {url}   (data in {data_dir})
  Emulated Atlassian:        {cloud.platform_url}

On the source: Generate token, Authorise full backup and restore (approve as the source's admin), Back up now.
On the destination: Activate with the token and the source's address ({source.base_url}), Authorise
(as the destination's admin), Preview restore, Restore. Ctrl-C stops everything.
READY""", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    print("Stopping...", flush=True)
    server.shutdown()
    cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
