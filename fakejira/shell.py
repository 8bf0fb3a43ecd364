"""A minimal Jira-like admin shell each emulated site serves: it frames an app's page, signed as Jira signs it.

Routes (loopback clients only, like the control API; there is no login, so ``?as=<accountId>`` picks the user and
defaults to the site's first administrator):

- ``GET /plugins/servlet/upm`` — "Settings → Apps": the installed apps and links to their admin pages.
- ``GET /plugins/servlet/ac/<app-key>/<module-key>`` — Jira's page for an app module: a header, a sidebar and an
  iframe whose ``src`` is the module's URL with a freshly signed ``jwt`` (each load signs anew, as Jira does).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from werkzeug.wrappers import Request, Response

from . import installer

if TYPE_CHECKING:  # pragma: no cover
    from .cloud import Cloud
    from .site import Installation, Site

PREFIX = "/plugins/servlet/"
APPS_PATH = PREFIX + "upm"
MODULE_PREFIX = PREFIX + "ac/"
PAGE_MODULES = ("adminPages", "generalPages")  # module lists whose entries are full pages Jira frames

STYLE = """
*{box-sizing:border-box} body{margin:0;font:14px/20px -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,sans-serif;
color:#172B4D;background:#fff} header{height:48px;display:flex;align-items:center;gap:16px;padding:0 16px;
background:#0C66E4;color:#fff} header a{color:#fff;text-decoration:none;font-weight:600}
header .who{margin-left:auto;font-size:12px;opacity:.9} .layout{display:flex}
nav{width:240px;flex:none;padding:16px 8px;background:#F7F8F9;border-right:1px solid #DCDFE4;
min-height:calc(100vh - 48px)}
nav h2{font-size:11px;text-transform:uppercase;color:#44546F;margin:8px 8px} nav a{display:block;padding:6px 8px;
border-radius:3px;color:#172B4D;text-decoration:none} nav a[aria-current]{background:#E9F2FF;color:#0C66E4}
main{flex:1;min-width:0;padding:24px} iframe{display:block;border:0;width:100%;height:calc(100vh - 48px)}
.framed main{padding:0} table{border-collapse:collapse} td,th{text-align:left;padding:6px 12px;
border-bottom:1px solid #DCDFE4} code{font-size:12px}
"""


def handles(path: str) -> bool:
    """Whether ``path`` is one of the shell's pages (the site's WSGI app routes those here)."""
    return path == APPS_PATH or path.startswith(MODULE_PREFIX)


def shell(cloud: Cloud, site: Site, request: Request) -> Response:
    """Answer one shell request for ``site``."""
    if (request.remote_addr or "") not in ("127.0.0.1", "::1"):
        return _text(403, "The emulated admin shell answers loopback clients only.")
    if request.method != "GET":
        return _text(405, "Method not allowed.")
    account_id = request.args.get("as") or _default_admin(site)
    if request.path == APPS_PATH:
        return _html(_apps_page(site, account_id))
    app_key, _, module_key = request.path.removeprefix(MODULE_PREFIX).partition("/")
    inst = site.installations.get(app_key)
    module = _page_module(inst, module_key) if inst is not None else None
    if inst is None or module is None:
        return _text(404, f"No page {module_key!r} of an installed app {app_key!r} on site {site.name!r}.")
    if not inst.enabled:
        return _text(403, f"The app {app_key!r} is disabled on site {site.name!r}.")
    return _html(_module_page(site, inst, module, account_id))


def module_url(site: Site, app_key: str, module_key: str, account_id: str | None = None) -> str:
    """The shell URL that frames ``module_key`` of ``app_key`` on ``site`` (what a person opens)."""
    url = f"{site.base_url}{MODULE_PREFIX}{quote(app_key)}/{quote(module_key)}"
    return url + ("?" + urlencode({"as": account_id}) if account_id else "")


def apps_url(site: Site, account_id: str | None = None) -> str:
    """The shell's "Settings → Apps" URL on ``site``."""
    return site.base_url + APPS_PATH + ("?" + urlencode({"as": account_id}) if account_id else "")


def admin_pages(inst: Installation, *, sidebar: bool = False) -> list[dict[str, Any]]:
    """The app's full-page modules (admin and general pages; the configure page unless ``sidebar``)."""
    modules = inst.descriptor.get("modules") or {}
    pages = [m for kind in PAGE_MODULES for m in modules.get(kind) or [] if isinstance(m, dict)]
    configure = modules.get("configurePage")
    if not sidebar and isinstance(configure, dict) and configure.get("key") not in {p.get("key") for p in pages}:
        pages.append(configure)
    return [p for p in pages if p.get("key") and p.get("url")]


def _page_module(inst: Installation, module_key: str) -> dict[str, Any] | None:
    return next((m for m in admin_pages(inst) if m["key"] == module_key), None)


def _default_admin(site: Site) -> str:
    from .resources.basics import admin_account_id

    return admin_account_id(site)


def _signed_src(site: Site, inst: Installation, module: dict[str, Any], account_id: str) -> str:
    # A module URL may carry its own query (context parameters); Jira signs it together with its own parameters.
    parts = urlsplit(module["url"])
    extra = dict(parse_qsl(parts.query))
    return installer.sign_iframe_url(site, inst.app_key, parts.path, account_id, extra)


def _name(module: dict[str, Any]) -> str:
    return str((module.get("name") or {}).get("value") or module["key"])


def _header(site: Site, account_id: str) -> str:
    return (f'<header><a href="{escape(apps_url(site, account_id))}">Jira · {escape(site.name)}</a>'
            f'<span>Settings → Apps</span><span class="who" data-testid="shell-user">as {escape(account_id)}</span>'
            "</header>")


def _sidebar(site: Site, account_id: str, current: tuple[str, str] | None) -> str:
    links = []
    for inst in site.installations.values():
        # The configure page opens from "Manage apps", not the sidebar (it is often the same page again).
        for module in admin_pages(inst, sidebar=True):
            here = ' aria-current="page"' if current == (inst.app_key, module["key"]) else ""
            href = module_url(site, inst.app_key, module["key"], account_id)
            links.append(f'<a href="{escape(href)}"{here}>{escape(_name(module))}</a>')
    return f'<nav aria-label="Apps"><h2>Apps</h2><a href="{escape(apps_url(site, account_id))}">Manage apps</a>' \
           + "".join(links) + "</nav>"


def _page(title: str, body: str, *, framed: bool = False) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<style>{STYLE}</style></head><body class="{"framed" if framed else ""}">{body}</body></html>')


def _apps_page(site: Site, account_id: str) -> str:
    rows = []
    for inst in site.installations.values():
        pages = ", ".join(f'<a href="{escape(module_url(site, inst.app_key, m["key"], account_id))}" '
                          f'data-testid="shell-app-page">{escape(_name(m))}</a>' for m in admin_pages(inst))
        rows.append(f"<tr><td><code>{escape(inst.app_key)}</code></td><td>{'enabled' if inst.enabled else 'disabled'}"
                    f"</td><td>{pages or 'none'}</td></tr>")
    table = ("<table><thead><tr><th>App</th><th>State</th><th>Pages</th></tr></thead><tbody>" + "".join(rows)
             + "</tbody></table>") if rows else '<p data-testid="shell-no-apps">No apps installed.</p>'
    body = (_header(site, account_id) + '<div class="layout">' + _sidebar(site, account_id, None)
            + f"<main><h1>Manage apps</h1>{table}</main></div>")
    return _page(f"Manage apps - {site.name}", body)


def _module_page(site: Site, inst: Installation, module: dict[str, Any], account_id: str) -> str:
    src = _signed_src(site, inst, module, account_id)
    frame = (f'<iframe id="ac-frame" name="{escape(inst.app_key)}__{escape(module["key"])}" '
             f'title="{escape(_name(module))}" data-testid="shell-app-frame" src="{escape(src)}"></iframe>')
    body = (_header(site, account_id) + '<div class="layout">' + _sidebar(site, account_id, (inst.app_key,
                                                                                            module["key"]))
            + f"<main>{frame}</main></div>")
    return _page(f"{_name(module)} - {site.name}", body, framed=True)


def _html(text: str) -> Response:
    # The page embeds a signed URL: never cache it (the token inside lives 3 minutes).
    return Response(text, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})


def _text(status: int, text: str) -> Response:
    return Response(text, status=status, content_type="text/plain; charset=utf-8")
