"""Does the emulated site's admin shell frame an installed app's page with a fresh signed URL, as the chosen user, and
refuse what Jira wouldn't show?"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from werkzeug.test import Client

from fakejira import installer, shell
from fakejira.cloud import Cloud
from fakejira.resources.basics import admin_account_id

APP = "com.example.shell-test"
DESCRIPTOR_MODULES = {"adminPages": [{"key": "settings", "name": {"value": "Example settings"},
                                      "url": "/admin/settings?tab=one"}],
                      "configurePage": {"key": "configure", "name": {"value": "Configure"}, "url": "/configure"}}


@pytest.fixture
def site_client():
    cloud = Cloud()
    site = cloud.add_site("acme")
    site.base_url = "http://127.0.0.1:1"  # never served: the WSGI app is called directly
    inst = installer.install_direct(site, APP, ["READ"], base_url="http://127.0.0.1:9")
    inst.descriptor["modules"] = DESCRIPTOR_MODULES
    return site, inst, Client(cloud.site_app("acme"))


def _frame_src(text: str) -> str:
    return html.unescape(re.search(r'<iframe[^>]*src="([^"]+)"', text).group(1))


@pytest.mark.parametrize("account", [None, "557058:someone-else"])
def test_the_module_page_frames_the_app_signed_for_the_chosen_user(site_client, account) -> None:
    site, inst, client = site_client
    resp = client.get(f"/plugins/servlet/ac/{APP}/settings", query_string={"as": account} if account else None,
                      environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    src = _frame_src(resp.get_data(as_text=True))
    parts = urlsplit(src)
    query = parse_qs(parts.query)
    assert (parts.netloc, parts.path, query["tab"], query["xdm_e"]) == ("127.0.0.1:9", "/admin/settings", ["one"],
                                                                       [site.base_url])
    claims = jwt.decode(query["jwt"][0], inst.shared_secret, algorithms=["HS256"])
    assert claims["iss"] == inst.client_key and claims["sub"] == (account or admin_account_id(site))
    assert claims["qsh"] == installer._qsh("GET", inst.base_url, src.rsplit("&jwt=", 1)[0])


def test_the_apps_page_lists_every_page_and_the_sidebar_leaves_the_configure_page_out(site_client) -> None:
    _site, _inst, client = site_client
    text = client.get(shell.APPS_PATH, environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)
    assert text.count('data-testid="shell-app-page"') == 2
    nav = re.search(r"<nav.*?</nav>", text).group(0)
    assert "Example settings" in nav and "Configure" not in nav


@pytest.mark.parametrize(("method", "path", "remote", "status"), [
    ("GET", f"/plugins/servlet/ac/{APP}/nope", "127.0.0.1", 404),
    ("GET", "/plugins/servlet/ac/not.installed/settings", "127.0.0.1", 404),
    ("POST", f"/plugins/servlet/ac/{APP}/settings", "127.0.0.1", 405),
    ("GET", f"/plugins/servlet/ac/{APP}/settings", "10.1.2.3", 403),
])
def test_the_shell_refuses(site_client, method, path, remote, status) -> None:
    _site, _inst, client = site_client
    assert client.open(path, method=method, environ_base={"REMOTE_ADDR": remote}).status_code == status


def test_a_disabled_app_is_not_framed(site_client) -> None:
    _site, inst, client = site_client
    inst.enabled = False
    resp = client.get(f"/plugins/servlet/ac/{APP}/settings", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert resp.status_code == 403 and "disabled" in resp.get_data(as_text=True)
