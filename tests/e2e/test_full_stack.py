"""End to end: a small DistillBench world through mock upstream + the full gateway stack
(registry keys, event log, in-process detector, enforcement, console) with the official SDKs."""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path

import pytest

from distillguard.demo.run import E2ERun, RunOptions

SMALL = str(Path(__file__).with_name("small.yaml"))


@pytest.mark.slow
def test_campaign_flagged_and_stopped_while_legit_customers_are_untouched(tmp_path: Path) -> None:
    run = E2ERun(RunOptions(scenario=SMALL, seed=1, speed=3600.0, data_dir=tmp_path, deadline_s=120.0))
    try:
        run.prepare()
        url = run.start()
        report = asyncio.run(run.traffic())
        run.settle()
        result = run.result()
        with urllib.request.urlopen(f"{url}/console/login", timeout=10) as page:
            assert page.status == 200 and b"password" in page.read().lower()
    finally:
        run.close()

    assert report.sent == len(run.events) and report.unsent == 0 and not report.client_errors
    assert result.events == report.sent  # every request recorded in the SQLite log
    events = list(run.read_events())
    assert len({e.client_ip for e in events}) > 10  # simulated clients' addresses, not 127.0.0.1

    (campaign,) = result.campaigns
    assert campaign.flagged_at is not None and campaign.flag is not None
    assert campaign.accounts_flagged >= campaign.accounts // 2
    assert {r.code for r in campaign.flag.reasons}  # reasons with evidence
    after = campaign.after
    assert after.requests > 100
    refused = campaign.after_by_action["refused"]
    assert refused > after.requests // 2  # verification / rate limits stopped most of it
    assert after.premium < campaign.before.premium  # less kept after the flag than before

    assert result.legit_requests > 300
    assert result.legit_affected == 0, result.legit_acted
    assert result.legit_flagged == []
