"""The console over HTTP: login, CSRF, scoping, actions, headers (aiohttp test client)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from distillguard.console.auth import Auth
from distillguard.console.data import ConsoleData
from distillguard.console.state import StateDB
from distillguard.enforce.overrides import MemoryOverrideStore

from .conftest import PASSWORD, World, csrf_in, login

Client = TestClient[Any, Any]


async def test_every_page_needs_a_login(client: Client, campaign_id: str) -> None:
    for path in [
        "/console/",
        "/console/accounts",
        f"/console/campaigns/{campaign_id}",
        "/console/search?q=x",
        "/console/audit",
        f"/console/campaigns/{campaign_id}/stix.json",
        "/console/labels.jsonl",
    ]:
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 303, path
        assert resp.headers["Location"].startswith("/console/login?next=")
    resp = await client.post("/console/actions/ban", data={"account_id": "x"}, allow_redirects=False)
    assert resp.status == 403
    assert (await client.get("/console/static/console.css")).status == 200
    assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/console/"


async def test_login_sets_a_strict_httponly_cookie_and_headers(client: Client) -> None:
    page = await client.get("/console/login")
    token = csrf_in(await page.text())
    resp = await client.post(
        "/console/login",
        data={"csrf": token, "username": "admin", "password": PASSWORD, "next": "/console/accounts"},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/console/accounts"
    cookie = next(h for h in resp.headers.getall("Set-Cookie") if h.startswith("dg_console_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console/" in cookie
    home = await client.get("/console/")
    assert home.status == 200
    assert "script-src" not in home.headers["Content-Security-Policy"]  # default-src 'none': no scripts
    assert home.headers["X-Frame-Options"] == "DENY"
    assert "<script" not in await home.text()


async def test_login_refuses_bad_password_forged_form_and_open_redirects(client: Client) -> None:
    page = await client.get("/console/login")
    token = csrf_in(await page.text())
    bad = await client.post("/console/login", data={"csrf": token, "username": "admin", "password": "nope"})
    assert bad.status == 401
    forged = await client.post(
        "/console/login",
        data={"csrf": "forged", "username": "admin", "password": PASSWORD},
        allow_redirects=False,
    )
    assert forged.status == 403
    evil = await client.post(
        "/console/login",
        data={"csrf": token, "username": "admin", "password": PASSWORD, "next": "//evil.example/"},
        allow_redirects=False,
    )
    assert evil.status == 303 and evil.headers["Location"] == "/console/"


async def test_repeated_failures_lock_the_username(client: Client) -> None:
    page = await client.get("/console/login")
    token = csrf_in(await page.text())
    for _ in range(5):
        await client.post("/console/login", data={"csrf": token, "username": "ana", "password": "wrong-one"})
    locked = await client.post(
        "/console/login", data={"csrf": token, "username": "ana", "password": PASSWORD}, allow_redirects=False
    )
    assert locked.status == 401


async def test_pages_render(client: Client, console_data: ConsoleData, campaign_id: str) -> None:
    await login(client, "admin")
    member = console_data.campaign(campaign_id).members[0].account_id  # type: ignore[union-attr]
    checks = {
        "/console/": ["Traffic and actions per hour", campaign_id, "<svg"],
        "/console/accounts?sort=volume&flagged=0": [member, "CONFIRMED"],
        f"/console/accounts/{member}": ["Why it was flagged", "Requests per hour", "Sample requests", member],
        "/console/campaigns": [campaign_id, "stix.json"],
        f"/console/campaigns/{campaign_id}": [
            "Linked accounts",
            "Shared indicators",
            "Payment fingerprint",
            "<circle",
        ],
        f"/console/search?q={campaign_id}": ["campaign", member],
        "/console/audit": ["login"],
    }
    for path, needles in checks.items():
        resp = await client.get(path)
        assert resp.status == 200, path
        html = await resp.text()
        for needle in needles:
            assert needle in html, (path, needle)
    assert (await client.get("/console/accounts/acct_nope")).status == 404
    assert (await client.get("/console/campaigns/camp-nope")).status == 404


async def test_actions_need_the_csrf_token(
    client: Client,
    console_data: ConsoleData,
    campaign_id: str,
    overrides: MemoryOverrideStore,
    state: StateDB,
) -> None:
    csrf = await login(client, "ana")
    member = console_data.campaign(campaign_id).members[0].account_id  # type: ignore[union-attr]
    no_token = await client.post("/console/actions/ban", data={"account_id": member}, allow_redirects=False)
    wrong = await client.post(
        "/console/actions/ban", data={"account_id": member, "csrf": "x"}, allow_redirects=False
    )
    assert no_token.status == 403 and wrong.status == 403
    assert overrides.get("account", member) is None
    cross = await client.post(
        "/console/actions/ban",
        data={"account_id": member, "csrf": csrf},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert cross.status == 403
    ok = await client.post(
        "/console/actions/ban", data={"account_id": member, "csrf": csrf}, allow_redirects=False
    )
    assert ok.status == 303 and ok.headers["Location"].endswith(f"/accounts/{member}?done=ban")
    ban = overrides.get("account", member)
    assert ban is not None and ban.actions == ("block",)
    page = await (await client.get(f"/console/accounts/{member}")).text()
    assert "actions block" in page and "ana" in page


async def test_campaign_confirm_labels_every_member(
    client: Client, console_data: ConsoleData, campaign_id: str, state: StateDB
) -> None:
    from distillguard.console.labels import LabelStore

    csrf = await login(client, "admin")
    resp = await client.post(
        "/console/actions/confirm",
        data={"campaign_id": campaign_id, "csrf": csrf, "note": "hydra"},
        allow_redirects=False,
    )
    assert resp.status == 303
    members = {m.account_id for m in console_data.campaign(campaign_id).members}  # type: ignore[union-attr]
    labels = LabelStore(state).labels()
    assert set(labels) == members and {lb.label for lb in labels.values()} == {"attack"}
    export = await client.get("/console/labels.jsonl")
    assert export.status == 200 and len((await export.text()).splitlines()) == len(members)


async def test_viewer_is_read_only(
    client: Client, console_data: ConsoleData, campaign_id: str, overrides: MemoryOverrideStore
) -> None:
    csrf = await login(client, "vic")
    member = console_data.campaign(campaign_id).members[0].account_id  # type: ignore[union-attr]
    page = await (await client.get(f"/console/accounts/{member}")).text()
    assert "Read-only" in page and "/actions/ban" not in page
    resp = await client.post("/console/actions/ban", data={"account_id": member, "csrf": csrf})
    assert resp.status == 403 and overrides.get("account", member) is None
    assert (await client.get("/console/labels.jsonl")).status == 403


async def test_scoped_viewer_sees_nothing_of_another_org(
    client: Client, console_data: ConsoleData, campaign_id: str, world: World, state: StateDB
) -> None:
    Auth(state).create_user("org-viewer", PASSWORD, role="analyst", org_id=world.legit_org)
    csrf = await login(client, "org-viewer")
    view = console_data.campaign(campaign_id)
    assert view is not None
    outsiders = [m.account_id for m in view.members]
    pages = {
        "/console/": "",
        "/console/accounts?flagged=0": "",
        "/console/campaigns": "",
        "/console/audit": "",
        f"/console/search?q={outsiders[0]}": outsiders[0],
        f"/console/search?q={campaign_id}": campaign_id,
    }
    for path, query in pages.items():
        html = await (await client.get(path)).text()
        if query:  # the search box echoes the query; nothing else may name it
            assert "No match for" in html
            html = html.replace(query, "")
        for acct in outsiders:
            assert acct not in html, (path, acct)
        assert campaign_id not in html
    assert (await client.get(f"/console/accounts/{outsiders[0]}")).status == 404
    assert (await client.get(f"/console/campaigns/{campaign_id}")).status == 404
    assert (await client.get(f"/console/campaigns/{campaign_id}/stix.json")).status == 404
    resp = await client.post("/console/actions/ban", data={"account_id": outsiders[0], "csrf": csrf})
    assert resp.status == 403
    mine = next(a for a, o in world.org_of.items() if o == world.legit_org)
    assert (await client.get(f"/console/accounts/{mine}")).status == 200


async def test_evidence_downloads(client: Client, campaign_id: str) -> None:
    import stix2

    await login(client, "admin")
    md = await client.get(f"/console/campaigns/{campaign_id}/report.md")
    assert md.status == 200 and "attachment" in md.headers["Content-Disposition"]
    assert f"# Evidence: campaign {campaign_id}" in await md.text()
    html = await client.get(f"/console/campaigns/{campaign_id}/report.html")
    assert html.status == 200 and "<svg" in await html.text()
    bundle = stix2.parse(await (await client.get(f"/console/campaigns/{campaign_id}/stix.json")).text())
    assert any(o.type == "campaign" for o in bundle.objects)


async def test_logout_ends_the_session(client: Client) -> None:
    csrf = await login(client, "admin")
    resp = await client.post("/console/logout", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert (await client.get("/console/", allow_redirects=False)).status == 303
