from __future__ import annotations

from distillguard.detect.linking import PAY, SKEL, UA, CampaignLinker, LinkConfig, specificity, token


def _link(linker: CampaignLinker, holders: dict[str, list[int]]) -> None:
    for account, toks in holders.items():
        linker.add_tokens(account, toks)
    linker.relink(full=True)


def test_specific_shared_templates_link_generic_ones_do_not() -> None:
    linker = CampaignLinker()
    generic = token(SKEL, 1)  # "hello": held by everyone
    accounts = {f"legit{i}": [generic, token(SKEL, 1000 + i)] for i in range(300)}
    accounts["x1"] = [generic, token(SKEL, 7), token(SKEL, 8), token(SKEL, 9)]
    accounts["x2"] = [generic, token(SKEL, 7), token(SKEL, 8), token(SKEL, 9)]
    _link(linker, accounts)
    assert ("x1", "x2") in linker.edges
    assert all("legit" not in a or "legit" not in b for a, b in linker.edges)
    assert linker.components() == [["x1", "x2"]]


def test_same_org_never_links_and_payment_alone_does() -> None:
    linker = CampaignLinker()
    card = token(PAY, 42)
    for acct, org in (("a", "acme"), ("b", "acme"), ("c", "o-c"), ("d", "o-d")):
        linker.set_org(acct, org)
    _link(linker, {"a": [card], "b": [card], "c": [card], "d": [card]})
    assert ("a", "b") not in linker.edges  # a company's employees share a card
    assert ("c", "d") in linker.edges


def test_weak_infrastructure_alone_is_not_an_edge() -> None:
    linker = CampaignLinker()
    ua = token(UA, 5)
    _link(linker, {"a": [ua], "b": [ua]})
    assert not linker.edges


def test_content_shared_with_a_very_broad_account_is_discounted() -> None:
    shared = [token(SKEL, v) for v in range(10, 14)]
    plain = CampaignLinker()
    _link(plain, {"saas": shared, "user": shared})
    broad = CampaignLinker(LinkConfig(breadth_ref=1000.0))
    broad.breadth["saas"] = 50_000.0
    _link(broad, {"saas": shared, "user": shared})
    assert ("saas", "user") in plain.edges
    assert ("saas", "user") not in broad.edges


def test_popular_token_holders_pair_with_a_bounded_sample() -> None:
    cfg = LinkConfig(pair_cap=10, sample_pairs=3)
    linker = CampaignLinker(cfg)
    tok = token(SKEL, 99)
    for i in range(200):
        linker.add_tokens(f"a{i:03d}", [tok])
    assert linker.df(tok) == 200
    # 10 first holders pair among themselves (45), the other 190 with 3 each
    assert len(linker.pairs) == 45 + 190 * 3
    assert specificity(200, cfg.specific_df) < 0.25


def test_two_groups_bridged_by_one_chance_link_are_split() -> None:
    linker = CampaignLinker(LinkConfig(split_above=8))
    for group in ("a", "b"):
        pay = token(PAY, 100 if group == "a" else 200)
        for i in range(10):
            linker.add_tokens(f"{group}{i}", [pay])
    bridge = [token(SKEL, 5), token(SKEL, 6), token(SKEL, 7)]
    linker.add_tokens("a0", bridge)
    linker.add_tokens("b0", bridge)
    linker.relink(full=True)
    assert ("a0", "b0") in linker.edges  # the chance link exists...
    groups = sorted(linker.components())
    assert groups == [[f"a{i}" for i in range(10)], [f"b{i}" for i in range(10)]]  # ...but not one campaign
