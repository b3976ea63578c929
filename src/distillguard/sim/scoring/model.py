"""The ScoreReport: what DistillBench says about one detector on one scenario and seed.

Field names are the JSON keys and are kept stable for machines comparing runs (a test
pins them). Ratios whose denominator is zero are `None` (JSON null), never a made-up 0 or 1.
"""

from __future__ import annotations

from typing import Any

import msgspec

SCHEMA = "distillbench.score/1"


class ReplayStats(msgspec.Struct, kw_only=True):
    events: int
    accounts_fed: int
    assessments: int
    cadence_s: float
    threshold: str  # tier name, e.g. "SUSPECT"
    sim_start: float | None
    sim_end: float | None
    sim_duration_s: float
    wall_s: float
    detector_s: float  # time inside observe/observe_account/assess
    events_per_s: float | None  # events / wall_s of the whole replay (includes reading events)
    detector_events_per_s: float | None  # events / detector_s: the detector alone
    peak_rss_mb: float  # process-wide peak (ru_maxrss), an upper bound for the detector


class AccountMetrics(msgspec.Struct, kw_only=True):
    """Account-level confusion counts over accounts that sent a request or were flagged."""

    n_scored: int
    n_attack: int
    n_legit: int
    n_flagged: int
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    precision: float | None
    recall: float | None
    false_positive_rate: float | None
    median_time_to_flag_s: float | None  # attack accounts: flag time - first request


class PersonaMetrics(msgspec.Struct, kw_only=True):
    is_attack: bool
    n_accounts: int
    n_flagged: int
    flagged_share: float | None  # recall for attack personas, FPR for legitimate ones


class CampaignScore(msgspec.Struct, kw_only=True):
    campaign_id: str
    strategy: str
    n_accounts: int
    n_accounts_flagged: int
    share_accounts_flagged: float | None
    detected: bool
    first_request_ts: float | None
    first_flag_ts: float | None
    time_to_detection_s: float | None
    harvest_requests: int
    harvest_completion_tokens: int
    # harvest sent before the campaign's first flag (any of its accounts)
    before_flag_requests: int
    before_flag_share: float | None
    before_flag_completion_tokens: int
    before_flag_tokens_share: float | None
    # harvest sent by each account while that account was not yet flagged
    not_stopped_requests: int
    not_stopped_share: float | None
    not_stopped_completion_tokens: int
    # share of the harvest that came from accounts flagged by the end of the replay
    share_harvest_from_flagged_accounts: float | None


class CampaignSummary(msgspec.Struct, kw_only=True):
    n_campaigns: int
    n_detected: int
    recall: float | None
    median_time_to_detection_s: float | None
    max_time_to_detection_s: float | None
    harvest_requests: int
    harvest_completion_tokens: int
    before_flag_requests: int
    before_flag_share: float | None
    not_stopped_requests: int
    not_stopped_share: float | None
    not_stopped_completion_tokens: int
    not_stopped_tokens_share: float | None


class LegitImpact(msgspec.Struct, kw_only=True):
    """Legitimate requests that enforcement would have touched (sent after a flag)."""

    legit_requests: int
    after_flag_requests: int
    after_flag_share: float | None


class EvadePoint(msgspec.Struct, kw_only=True):
    n_accounts: int
    requests_per_day: float
    completion_tokens_per_day: float
    extrapolated: bool  # N is more accounts than any campaign kept unflagged
    # each campaign's unflagged set scaled linearly to N accounts (optimistic for the attacker)
    linear_requests_per_day: float
    linear_completion_tokens_per_day: float
    # same, but only from campaigns none of whose accounts were flagged
    strict_requests_per_day: float
    strict_completion_tokens_per_day: float
    # a hydra that replaces each account as it is flagged: harvest and accounts burned per day
    with_replacement_requests_per_day: float
    with_replacement_completion_tokens_per_day: float
    accounts_burned_per_day: float


class CostToEvade(msgspec.Struct, kw_only=True):
    method: str
    undetected_harvesting_accounts: int
    max_undetected_accounts_in_one_campaign: int
    best_account_requests_per_day: float
    best_account_completion_tokens_per_day: float
    flagged_slot_requests_per_day: float | None  # median pre-flag rate of flagged accounts
    flagged_slot_days_to_flag: float | None  # median days from first harvest to flag
    points: list[EvadePoint]


class ScoreReport(msgspec.Struct, kw_only=True):
    schema: str
    scenario: str
    seed: int
    detector: str
    replay: ReplayStats
    accounts: AccountMetrics
    campaigns: CampaignSummary
    per_campaign: list[CampaignScore]
    per_persona: dict[str, PersonaMetrics]
    fpr_per_persona: dict[str, float | None]  # legitimate personas only
    legit_impact: LegitImpact
    cost_to_evade: CostToEvade
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result

    def to_json(self) -> bytes:
        return msgspec.json.format(msgspec.json.encode(self), indent=2)


def report_from_json(data: bytes | str) -> ScoreReport:
    return msgspec.json.decode(data, type=ScoreReport)
