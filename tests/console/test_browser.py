"""The console in a real headless Chromium (Debian's), driven by Playwright.

Screenshots of the main pages land in artifacts/screenshots/ (gitignored) for people to look at.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from distillguard.console.app import create_console_app, fmt_num, standalone_app
from distillguard.console.auth import Auth
from distillguard.console.data import ConsoleData
from distillguard.console.state import StateDB
from distillguard.enforce.overrides import MemoryOverrideStore

from .conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason=f"Debian's chromium is not installed at {CHROMIUM}"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")


class ServerThread:
    """Serve an aiohttp app from a background thread (Playwright's sync API owns this one)."""

    def __init__(self, app: web.Application) -> None:
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = self.runner.addresses[0][1]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def served(
    console_data: ConsoleData, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, MemoryOverrideStore]]:
    state = StateDB(tmp_path_factory.mktemp("browser") / "console.db")
    Auth(state).create_user("ana", PASSWORD, role="analyst")
    overrides = MemoryOverrideStore()
    server = ServerThread(standalone_app(create_console_app(console_data, state=state, overrides=overrides)))
    yield f"http://127.0.0.1:{server.port}", overrides
    server.close()


@pytest.fixture(scope="module")
def page(served: tuple[str, MemoryOverrideStore]) -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        yield context.new_page()
        browser.close()


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_analyst_session_in_chromium(page, served, console_data: ConsoleData, campaign_id: str) -> None:  # type: ignore[no-untyped-def]
    base, overrides = served
    expect = sync_api.expect

    # not logged in: the login form, and a wrong password is refused
    page.goto(f"{base}/console/accounts")
    expect(page.locator("h1")).to_have_text("Analyst console")
    shot(page, "login")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("Wrong username or password")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/accounts")  # back where we were going

    # overview: numbers and both plots
    page.click("header nav >> text=Overview")
    expect(page.locator(".stat").first).to_contain_text(fmt_num(console_data.overview().requests))
    assert page.locator("svg.plot").count() == 2
    expect(page.locator("main")).to_contain_text(campaign_id)
    shot(page, "overview")

    # accounts: sortable
    page.click("header nav >> text=Accounts")
    page.click(".tabs >> text=volume")
    page.wait_for_url("**sort=volume**")
    volumes = page.locator("table.grid tbody tr td:nth-child(5)").all_inner_texts()
    assert len(volumes) > 3
    shot(page, "accounts")

    # campaign page: graph with a node per visible member, indicators, plots
    view = console_data.campaign(campaign_id)
    assert view is not None
    page.click("header nav >> text=Campaigns")
    page.click(f"text={campaign_id}")
    expect(page.locator("h1")).to_contain_text(campaign_id)
    assert page.locator("svg.graph circle").count() == len(view.members)
    expect(page.locator("main")).to_contain_text("Shared indicators")
    shot(page, "campaign")

    # an account page, by clicking a node of the graph
    member = view.members[0].account_id
    page.locator(f'svg.graph a[href$="/accounts/{member}"]').click()
    expect(page.locator("h1")).to_contain_text(member)
    assert page.locator("svg.plot").count() == 1
    shot(page, "account")

    # act through the form: ban, then see it recorded
    page.click("button:has-text('Ban')")
    expect(page.locator(".flash")).to_contain_text("Banned")
    ban = overrides.get("account", member)
    assert ban is not None and ban.actions == ("block",)
    expect(page.locator("main")).to_contain_text("actions block")
    page.click("header nav >> text=Audit log")
    expect(page.locator("table.grid tbody tr").first).to_contain_text("ban")

    # search by an IP prefix shared by the campaign, from the header box
    prefix = next(i.value for i in view.indicators if i.kind == "prefixes")
    page.fill("header input[name=q]", prefix)
    page.press("header input[name=q]", "Enter")
    expect(page.locator("main h2").first).to_contain_text(prefix)
    shot(page, "search")

    # log out: pages need a login again
    page.click("button:has-text('Log out')")
    expect(page.locator("h1")).to_have_text("Analyst console")


def test_evidence_report_prints_to_pdf(console_data: ConsoleData, campaign_id: str, tmp_path: Path) -> None:
    from distillguard.console.evidence import render_pdf, write_evidence

    view = console_data.campaign(campaign_id)
    assert view is not None
    paths = write_evidence(view, tmp_path)
    pdf = tmp_path / "report.pdf"
    render_pdf(paths["html"], pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(pdf, SHOTS / "evidence-report.pdf")
