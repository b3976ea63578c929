"""Scores of the hand-built case in conftest.py, computed by hand (see the comments)."""

from __future__ import annotations

import pytest

from distillguard.detect.api import Tier
from distillguard.sim.scoring import score


@pytest.fixture
def report(hand_case, scripted, script):
    events, accounts, truth = hand_case
    return score(scripted(script), events, accounts, truth, cadence_s=300.0)


def test_account_confusion_counts(report):
    a = report.accounts
    # attack: A1 A2 A3 B1 R1; flagged A1 A2 R1. legit scored: L1 L2 L3 (L4 dormant); L3 flagged.
    assert (a.true_positives, a.false_negatives, a.false_positives, a.true_negatives) == (3, 2, 1, 2)
    assert a.n_scored == 8
    assert a.precision == pytest.approx(0.75)
    assert a.recall == pytest.approx(0.6)
    assert a.false_positive_rate == pytest.approx(1 / 3)
    # A1 600-100, A2 1200-150, R1 1500-250 (its first request is a legit one)
    assert a.median_time_to_flag_s == pytest.approx(1050.0)


def test_fpr_per_persona(report):
    assert report.fpr_per_persona == {"chat_user": 0.0, "student": 1.0}
    assert report.per_persona["hydra"].n_accounts == 3
    assert report.per_persona["hydra"].n_flagged == 2
    assert report.per_persona["reseller"].is_attack


def test_campaign_recall_and_time_to_detection(report):
    c = report.campaigns
    assert (c.n_campaigns, c.n_detected) == (3, 2)
    assert c.recall == pytest.approx(2 / 3)
    by_id = {p.campaign_id: p for p in report.per_campaign}
    assert by_id["C1"].time_to_detection_s == 500.0  # first harvest 100, A1 flagged at tick 600
    assert by_id["C3"].time_to_detection_s == 1150.0  # first harvest 350, R1 flagged at 1500
    assert by_id["C2"].time_to_detection_s is None and not by_id["C2"].detected
    assert c.median_time_to_detection_s == 825.0
    assert c.max_time_to_detection_s == 1150.0


def test_harvest_before_flag(report):
    by_id = {p.campaign_id: p for p in report.per_campaign}
    c1 = by_id["C1"]
    assert c1.harvest_requests == 11
    assert c1.harvest_completion_tokens == 4 * 10 + 4 * 20 + 3 * 5
    # before the campaign's first flag at 600: A1@100,200  A2@150,500  A3@300
    assert c1.before_flag_requests == 5
    assert c1.before_flag_share == pytest.approx(5 / 11)
    assert c1.before_flag_completion_tokens == 20 + 40 + 5
    # each account until its own flag: A1 2 (flag 600), A2 3 (flag 1200), A3 3 (never)
    assert c1.not_stopped_requests == 8
    assert c1.not_stopped_share == pytest.approx(8 / 11)
    assert c1.share_accounts_flagged == pytest.approx(2 / 3)
    assert c1.share_harvest_from_flagged_accounts == pytest.approx(8 / 11)
    assert c1.strategy == "hydra"
    # blending reseller: only its harvest requests count, 2 of 3 before its flag at 1500
    c3 = by_id["C3"]
    assert (c3.harvest_requests, c3.before_flag_requests) == (3, 2)
    assert by_id["C2"].before_flag_share == 1.0
    total = report.campaigns
    assert total.harvest_requests == 16
    assert total.before_flag_requests == 9
    assert total.not_stopped_requests == 12
    assert total.not_stopped_share == pytest.approx(12 / 16)


def test_legit_requests_after_flag(report):
    # legit: L1 2, L2 1, L3 3, R1 2 -> 8; after a flag: L3@950 (flag 900), R1@1700 (flag 1500)
    assert report.legit_impact.legit_requests == 8
    assert report.legit_impact.after_flag_requests == 2
    assert report.legit_impact.after_flag_share == pytest.approx(0.25)


def test_threshold_tier_changes_what_counts(hand_case, scripted, script):
    events, accounts, truth = hand_case
    strict = score(scripted(script), events, accounts, truth, threshold=Tier.LIKELY)
    # only A2 (LIKELY) and R1 (CONFIRMED) reach LIKELY
    assert strict.accounts.true_positives == 2
    assert strict.accounts.false_positives == 0
    loose = score(scripted(script), events, accounts, truth, threshold=Tier.WATCH)
    assert loose.accounts.false_positives == 2  # L1 (WATCH) joins L3


def test_campaign_flag_marks_its_members(hand_case, scripted):
    events, accounts, truth = hand_case
    detector = scripted({}, campaign_script={"x": (600.0, Tier.SUSPECT, ["A3", "B1"])})
    report = score(detector, events, accounts, truth)
    assert report.accounts.true_positives == 2
    by_id = {p.campaign_id: p for p in report.per_campaign}
    assert by_id["C1"].time_to_detection_s == 500.0
    assert by_id["C2"].time_to_detection_s == 200.0  # first harvest 400, flagged at 600


def test_nothing_flagged_gives_null_precision(hand_case, scripted):
    events, accounts, truth = hand_case
    report = score(scripted({}), events, accounts, truth)
    assert report.accounts.precision is None
    assert report.accounts.recall == 0.0
    assert report.campaigns.recall == 0.0
    assert report.campaigns.before_flag_share == 1.0
