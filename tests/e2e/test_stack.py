"""build_stack: the parts wired from Settings, the hot path feeding the detector only
through the sink, and a clean shutdown that flushes the log and stops the detector."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest
from aiohttp.test_utils import TestServer

from distillguard.accounts.registry import open_registry
from distillguard.config import ConfigError, Settings, UpstreamSettings
from distillguard.events.open import open_store
from distillguard.mock.server import start_mock
from distillguard.stack import build_stack


def settings_for(tmp_path: Path, upstream: str, **changes: object) -> Settings:
    base = Settings(
        database_url=f"sqlite:///{tmp_path / 'dg.db'}",
        upstreams={"mock": UpstreamSettings(url=upstream)},
        default_upstream="mock",
        overrides_db=str(tmp_path / "overrides.sqlite"),
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base.validate()


@pytest.mark.parametrize("pipeline", ["process", "thread"])
async def test_requests_are_recorded_and_reach_the_detector(tmp_path: Path, pipeline: str) -> None:
    mock = await start_mock()
    registry = open_registry(str(tmp_path / "dg.db"))
    raw_key, _ = registry.create_key("acct_1", "org_1")
    registry.close()
    stack = build_stack(settings_for(tmp_path, mock.url, event_pipeline=pipeline))
    assert [p.name for p in stack.plugins][:2] == ["decide", "gate"]
    assert stack.console_state is not None and stack.detector is not None
    server = TestServer(stack.app)
    await server.start_server()
    try:
        client = openai.AsyncOpenAI(base_url=str(server.make_url("/v1")), api_key=raw_key, max_retries=0)
        for _ in range(3):
            reply = await client.chat.completions.create(
                model="mock", messages=[{"role": "user", "content": "hello"}]
            )
            assert reply.choices[0].message.content
        await client.close()
    finally:
        await server.close()  # app cleanup: flush the writer, stop the detector
        await mock.close()
    detector = stack.detector
    if pipeline == "thread":
        assert detector.submitted == 3 and detector.processed == 3 and detector._thread is None
    else:  # the sidecar wrote and detected all three, and sent its last assessment back
        assert detector.submitted == 3 and detector.dropped == 0
        assert detector.final_stats["written"] == 3 and detector.final_stats["detected"] == 3
        assert detector.assessments >= 1 and detector.last_assessment is not None
        assert not detector._process.is_alive()
    store = open_store(str(tmp_path / "dg.db"), readonly=True)
    events = list(store.iter_events())
    store.close()
    assert len(events) == 3 and {e.account_id for e in events} == {"acct_1"}
    assert all(e.policy_version for e in events)  # the decision step ran on each request
    assert all(e.skeleton_hash and e.response_text for e in events)  # fingerprinted, text kept (full)


async def test_parts_can_be_turned_off(tmp_path: Path) -> None:
    stack = build_stack(
        settings_for(tmp_path, "http://127.0.0.1:9", detect=False, enforce=False, console=False)
    )
    assert stack.detector is None and stack.plugins == [] and stack.console_state is None
    server = TestServer(stack.app)
    await server.start_server()
    await server.close()


def test_shadow_setting_puts_the_policy_in_shadow(tmp_path: Path) -> None:
    from distillguard.enforce.decide import DecisionPlugin

    stack = build_stack(settings_for(tmp_path, "http://127.0.0.1:9", shadow=True))
    decide = next(p for p in stack.plugins if isinstance(p, DecisionPlugin))
    assert decide.policy.shadow is True
    stack.writer.close()


def test_a_bad_policy_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text("version = 1\n[tiers.NOPE]\nactions = ['fly']\n")
    with pytest.raises(ConfigError, match="policy"):
        build_stack(settings_for(tmp_path, "http://127.0.0.1:9", policy_file=str(bad)))


def test_compressed_clock_moves_events_onto_simulated_time() -> None:
    from distillguard.events.schema import RequestEvent
    from distillguard.events.writer import ListSink
    from distillguard.stack import ClockedSink, CompressedClock

    clock = CompressedClock(start=1_000_000.0, speed=100.0)
    inner = ListSink()
    sink = ClockedSink(inner, clock)
    wall = clock.wall0 + 2.0  # two real seconds in: 200 simulated seconds
    sink.submit(RequestEvent(request_id="r", ts_start=wall, ts_first_byte=wall + 0.1, ts_end=wall + 0.5))
    (event,) = inner.events
    assert event.ts_start == pytest.approx(1_000_200.0)
    assert event.ts_end is not None and event.ts_end - event.ts_start == pytest.approx(0.5)  # real duration


def test_account_feed_shows_accounts_once_they_exist() -> None:
    from distillguard.events.schema import AccountInfo
    from distillguard.stack import AccountFeed

    class Registry:
        def list_accounts(self) -> list[AccountInfo]:
            return [
                AccountInfo(account_id="a", created_at=10.0),
                AccountInfo(account_id="b", created_at=50.0),
            ]

    class Detector:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def submit_account(self, info: AccountInfo) -> None:
            self.seen.append(info.account_id)

    now = [20.0]
    detector = Detector()
    feed = AccountFeed(Registry(), detector, lambda: now[0], refresh_s=1.0)
    feed.poll(relist=True)
    assert detector.seen == ["a"]  # b signs up later
    now[0] = 60.0
    feed.poll(relist=False)
    feed.poll(relist=True)  # relisting does not show anyone twice
    assert detector.seen == ["a", "b"]


def test_enforcement_twice_is_a_config_error(tmp_path: Path) -> None:
    from distillguard.enforce.stack import EnforcementPlugin

    settings = settings_for(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="also listed in `plugins`"):
        build_stack(settings, extra_plugins=[EnforcementPlugin(settings)])
