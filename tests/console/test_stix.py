from __future__ import annotations

import copy
import json

import stix2

from distillguard.console.data import ConsoleData, Indicator
from distillguard.console.stix import campaign_bundle, pattern_for


def test_bundle_parses_and_carries_every_indicator(console_data: ConsoleData, campaign_id: str) -> None:
    view = console_data.campaign(campaign_id)
    assert view is not None
    text = campaign_bundle(view).serialize(pretty=True)
    bundle = stix2.parse(text, allow_custom=False)  # the official parser: valid STIX 2.1
    by_type: dict[str, list[object]] = {}
    for obj in bundle.objects:
        by_type.setdefault(obj.type, []).append(obj)
    assert len(by_type["campaign"]) == 1 and len(by_type["identity"]) == 1
    campaign = by_type["campaign"][0]
    indicators = by_type["indicator"]
    assert len(indicators) == len(view.indicators)
    rels = by_type["relationship"]
    assert {r.target_ref for r in rels} == {campaign.id}  # type: ignore[attr-defined]
    assert {r.source_ref for r in rels} == {i.id for i in indicators}  # type: ignore[attr-defined]
    patterns = " ".join(i.pattern for i in indicators)  # type: ignore[attr-defined]
    assert "ipv4-addr:value ISSUBSET" in patterns
    assert "x-distillguard-prompt-skeleton:hash" in patterns
    assert "x-distillguard-payment-fingerprint:value" in patterns
    assert json.loads(text)["type"] == "bundle"


def test_ids_are_stable_across_exports(console_data: ConsoleData, campaign_id: str) -> None:
    view = console_data.campaign(campaign_id)
    assert view is not None
    first = {o.id for o in campaign_bundle(view).objects}
    again = {o.id for o in campaign_bundle(view).objects}
    assert first == again


def test_patterns_escape_quotes_and_handle_ipv6(console_data: ConsoleData, campaign_id: str) -> None:
    ua = Indicator(kind="user_agents", value="evil'agent\\1", members=3, accounts=3, requests=9)
    v6 = Indicator(kind="prefixes", value="2001:db8:abcd::/48", members=2, accounts=2, requests=4)
    assert pattern_for(ua).endswith("= 'evil\\'agent\\\\1']")
    assert pattern_for(v6) == "[ipv6-addr:value ISSUBSET '2001:db8:abcd::/48']"
    view = console_data.campaign(campaign_id)
    assert view is not None
    odd = copy.copy(view)
    odd.indicators = [ua, v6]
    parsed = stix2.parse(campaign_bundle(odd).serialize())
    assert sum(o.type == "indicator" for o in parsed.objects) == 2
