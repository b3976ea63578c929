"""ConsoleData over a real simulated log and a real hunt: numbers add up, scoping holds."""

from __future__ import annotations

from distillguard.console.data import MIN_SPECIFICITY, WITHHELD, ConsoleData
from distillguard.detect.api import Tier

from .conftest import World


def test_overview_counts_every_event(console_data: ConsoleData, world: World) -> None:
    o = console_data.overview()
    assert o.requests == world.n_events
    assert o.traffic.total == world.n_events
    assert o.accounts == len(world.org_of)
    assert o.flagged >= 1 and o.campaigns >= 1
    assert o.flags.total == o.flagged  # every flagged account has a first-flagged hour


def test_accounts_sort_orders(console_data: ConsoleData) -> None:
    by_risk = console_data.account_rows(sort="risk", flagged_only=False, limit=None)
    assert [r.risk for r in by_risk] == sorted((r.risk for r in by_risk), reverse=True)
    by_volume = console_data.account_rows(sort="volume", flagged_only=False, limit=None)
    assert [r.requests for r in by_volume] == sorted((r.requests for r in by_volume), reverse=True)
    flagged = console_data.account_rows(flagged_only=True, limit=None)
    assert flagged and all(r.tier >= Tier.WATCH for r in flagged)


def test_campaign_is_the_hydra_and_its_numbers_add_up(
    console_data: ConsoleData, campaign_id: str, world: World
) -> None:
    view = console_data.campaign(campaign_id)
    assert view is not None
    members = [m.account_id for m in view.members]
    attack = [m for m in members if world.truth.accounts[m].is_attack]
    assert len(attack) / len(members) >= 0.9  # linked accounts are the hydra's
    assert view.requests == sum(m.requests for m in view.members)
    assert view.harvest_before_flag + view.harvest_after_flag == view.output_tokens
    assert view.timeline.total == view.requests
    kinds = {i.kind for i in view.indicators}
    assert {"prefixes", "skeletons", "payment"} <= kinds
    assert all(i.specificity >= MIN_SPECIFICITY and i.members >= 2 for i in view.indicators)
    assert view.edges and all(a in members and b in members for a, b, _ in view.edges)
    assert view.examples and all(e.account_id in members for e in view.examples)


def test_account_view_has_timeline_reasons_and_samples(console_data: ConsoleData, campaign_id: str) -> None:
    member = console_data.campaign(campaign_id).members[0]  # type: ignore[union-attr]
    view = console_data.account(member.account_id)
    assert view is not None and view.flag is not None and view.reasons
    assert view.timeline.total == view.activity.requests
    assert view.samples and all(e.account_id == member.account_id for e in view.samples)
    assert console_data.account("acct_does_not_exist") is None


def test_search_finds_by_key_account_org_ip_skeleton_payment_campaign(
    console_data: ConsoleData, campaign_id: str
) -> None:
    view = console_data.campaign(campaign_id)
    assert view is not None
    act = console_data.index.accounts[view.members[0].account_id]
    key = next(iter(act.keys))
    ip = next(iter(act.ips))
    skeleton = next(i.value for i in view.indicators if i.kind == "skeletons")
    payment = next(i.value for i in view.indicators if i.kind == "payment")
    for query, kind in [
        (key, "key"),
        (act.account_id, "account"),
        (act.org_id, "org"),
        (ip, "ip"),
        (skeleton, "skeleton"),
        (payment, "payment"),
        (campaign_id, "campaign"),
    ]:
        hits = {h.kind: h for h in console_data.search(query)}
        assert kind in hits, (query, kind)
        assert hits[kind].accounts
    hits = {h.kind: h for h in console_data.search(key)}
    assert [r.account_id for r in hits["key"].accounts] == [act.account_id]
    assert console_data.search("   ") == []


def test_a_scoped_viewer_sees_nothing_of_another_org(
    console_data: ConsoleData, world: World, campaign_id: str
) -> None:
    scope = world.legit_org
    mine = {a for a, o in world.org_of.items() if o == scope}
    rows = console_data.account_rows(scope, flagged_only=False, limit=None)
    assert {r.account_id for r in rows} == mine
    o = console_data.overview(scope)
    assert o.requests == sum(console_data.index.accounts[a].requests for a in mine)
    assert o.accounts == len(mine)
    # the hydra lives in other orgs: no campaign, no account page, no search hits
    assert world.legit_org not in world.attack_orgs
    assert console_data.campaign_rows(scope) == []
    assert console_data.campaign(campaign_id, scope) is None
    hydra_member = console_data.campaign(campaign_id).members[0].account_id  # type: ignore[union-attr]
    assert console_data.account(hydra_member, scope) is None
    for query in (hydra_member, campaign_id, world.org_of[hydra_member]):
        for hit in console_data.search(query, scope):
            assert all(r.org_id == scope for r in hit.accounts)
    assert not console_data.search(hydra_member, scope)


def test_scoped_view_of_a_campaign_keeps_only_own_members(
    console_data: ConsoleData, campaign_id: str
) -> None:
    full = console_data.campaign(campaign_id)
    assert full is not None
    org = full.members[0].org_id
    scoped = console_data.campaign(campaign_id, org)
    assert scoped is not None
    assert {m.org_id for m in scoped.members} == {org}
    assert scoped.partial and not full.partial
    assert all(not r.evidence for r in scoped.reasons)  # evidence ids may name other orgs' requests
    # the campaign's numbers describe other orgs' accounts too: codes and weights only
    assert [r.code for r in scoped.reasons] == [r.code for r in full.reasons]
    assert {r.detail for r in scoped.reasons} == {WITHHELD}
    member = console_data.account(scoped.members[0].account_id, org)
    assert member is not None
    inherited = {r.code for r in full.reasons}
    assert all(r.detail == WITHHELD for r in member.reasons if r.code in inherited)
    assert all(e.org_id == org for e in scoped.examples)


def test_enforced_and_shadow_actions_are_counted_apart() -> None:
    from distillguard.console.data import FixedAssessment
    from distillguard.console.index import EventIndex
    from distillguard.detect.api import Assessment
    from distillguard.events.schema import RequestEvent

    index = EventIndex()
    base = 3600.0 * 1000
    for i, (action, shadow) in enumerate(
        [
            ("allow", False),
            (None, False),
            ("block", False),
            ("rate_limit", True),
            ("protect_reasoning", False),
        ]
    ):
        index.fold(
            RequestEvent(
                request_id=f"r{i}",
                account_id="a",
                org_id="o",
                ts_start=base + i,
                action=action,
                shadow=shadow,
            )
        )
    data = ConsoleData(None, FixedAssessment(Assessment(at=base)), index=index)
    o = data.overview()
    assert (o.traffic.total, o.actions.total, o.shadow.total) == (5, 2, 1)
    assert index.accounts["a"].actions == {"block": 1, "protect_reasoning": 1, "rate_limit (shadow)": 1}
    assert data.overview("other-org").actions.total == 0
