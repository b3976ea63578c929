"""End to end: a small DistillBench world through mock upstream + the full gateway stack
(registry keys, event log, in-process detector, enforcement, console) with the official SDKs."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest

from distillguard.demo.run import E2ERun, RunOptions

SMALL = str(Path(__file__).with_name("small.yaml"))


async def console_campaigns(url: str, password: str) -> str:
    """Log in to the mounted console as the demo admin and read the campaigns page."""
    jar = aiohttp.CookieJar(unsafe=True)  # cookies from an IP address host
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=30)) as http:
        async with http.get(f"{url}/console/login") as page:
            found = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert found
        form = {"csrf": found.group(1), "username": "admin", "password": password, "next": "/console/"}
        async with http.post(f"{url}/console/login", data=form, allow_redirects=False) as resp:
            assert resp.status == 303
        async with http.get(f"{url}/console/campaigns") as page:
            assert page.status == 200
            return await page.text()


@pytest.mark.slow
def test_campaign_flagged_and_stopped_while_legit_customers_are_untouched(tmp_path: Path) -> None:
    run = E2ERun(RunOptions(scenario=SMALL, seed=1, speed=3600.0, data_dir=tmp_path, deadline_s=120.0))
    try:
        run.prepare()
        url = run.start()
        report = asyncio.run(run.traffic())
        run.settle()
        result = run.result()
        assert run.admin_password is not None
        campaigns_page = asyncio.run(console_campaigns(url, run.admin_password))
    finally:
        run.close()

    assert report.sent == len(run.events) and report.unsent == 0 and not report.client_errors
    assert result.events == report.sent  # every request recorded in the SQLite log
    events = list(run.read_events())
    assert len({e.client_ip for e in events}) > 10  # simulated clients' addresses, not 127.0.0.1

    (campaign,) = result.campaigns
    assert campaign.flag is not None and campaign.flag.kind == "campaign"  # linked, not one account
    # the analyst sees it in the console: a campaign the detector holds now, with hydra members
    # (ids are the detector's, and linked groups may merge between assessments)
    hydra = {a for a, t in run.truth.accounts.items() if t.campaign_id == campaign.campaign_id}
    latest = run.live.latest
    assert latest is not None
    current = [cid for cid, flag in latest.campaigns.items() if hydra & set(flag.accounts)]
    assert current and any(cid in campaigns_page for cid in current)
    assert campaign.flagged_at is not None and campaign.flag is not None
    assert campaign.accounts_flagged >= campaign.accounts // 2
    assert {r.code for r in campaign.flag.reasons}  # reasons with evidence
    after = campaign.after
    assert after.requests > 100
    refused = campaign.after_by_action["refused"]
    assert refused > after.requests // 2  # verification / rate limits stopped most of it
    assert after.served < after.requests // 2  # and what was answered is the minority

    assert result.legit_requests > 300
    assert result.legit_affected == 0, result.legit_acted
    assert result.legit_flagged == []
