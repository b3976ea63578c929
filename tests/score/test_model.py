"""The report's JSON keys are a contract: changing them breaks machines that read them."""

from __future__ import annotations

import json

from distillguard.sim.scoring import SCHEMA, report_from_json, score

TOP_KEYS = [
    "schema", "scenario", "seed", "detector", "replay", "accounts", "campaigns", "per_campaign",
    "per_persona", "fpr_per_persona", "legit_impact", "cost_to_evade", "warnings",
]  # fmt: skip
NESTED_KEYS = {
    "replay": ["events", "accounts_fed", "assessments", "cadence_s", "threshold", "sim_start", "sim_end",
               "sim_duration_s", "wall_s", "detector_s", "events_per_s", "detector_events_per_s",
               "peak_rss_mb"],
    "accounts": ["n_scored", "n_attack", "n_legit", "n_flagged", "true_positives", "false_positives",
                 "false_negatives", "true_negatives", "precision", "recall", "false_positive_rate",
                 "median_time_to_flag_s"],
    "campaigns": ["n_campaigns", "n_detected", "recall", "median_time_to_detection_s",
                  "max_time_to_detection_s", "harvest_requests", "harvest_completion_tokens",
                  "before_flag_requests", "before_flag_share", "not_stopped_requests", "not_stopped_share",
                  "not_stopped_completion_tokens", "not_stopped_tokens_share"],
    "legit_impact": ["legit_requests", "after_flag_requests", "after_flag_share"],
    "cost_to_evade": ["method", "undetected_harvesting_accounts", "max_undetected_accounts_in_one_campaign",
                      "best_account_requests_per_day", "best_account_completion_tokens_per_day",
                      "flagged_slot_requests_per_day", "flagged_slot_days_to_flag", "points"],
}  # fmt: skip
CAMPAIGN_KEYS = [
    "campaign_id", "strategy", "n_accounts", "n_accounts_flagged", "share_accounts_flagged", "detected",
    "first_request_ts", "first_flag_ts", "time_to_detection_s", "harvest_requests",
    "harvest_completion_tokens", "before_flag_requests", "before_flag_share",
    "before_flag_completion_tokens", "before_flag_tokens_share", "not_stopped_requests",
    "not_stopped_share", "not_stopped_completion_tokens", "share_harvest_from_flagged_accounts",
]  # fmt: skip
POINT_KEYS = [
    "n_accounts", "requests_per_day", "completion_tokens_per_day", "extrapolated", "linear_requests_per_day",
    "linear_completion_tokens_per_day",
    "strict_requests_per_day", "strict_completion_tokens_per_day", "with_replacement_requests_per_day",
    "with_replacement_completion_tokens_per_day", "accounts_burned_per_day",
]  # fmt: skip


def test_json_keys_are_stable(hand_case, scripted, script):
    events, accounts, truth = hand_case
    report = score(scripted(script), events, accounts, truth)
    data = json.loads(report.to_json())
    assert list(data) == TOP_KEYS
    assert data["schema"] == SCHEMA
    for section, keys in NESTED_KEYS.items():
        assert list(data[section]) == keys, section
    assert list(data["per_campaign"][0]) == CAMPAIGN_KEYS
    assert list(data["cost_to_evade"]["points"][0]) == POINT_KEYS
    assert list(data["per_persona"]["hydra"]) == ["is_attack", "n_accounts", "n_flagged", "flagged_share"]
    assert report_from_json(report.to_json()) == report
