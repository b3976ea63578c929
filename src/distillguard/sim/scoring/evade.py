"""Cost to evade: the most a campaign of N accounts harvests per day without being flagged.

Estimated from what the detector actually let through in the replay, not from a model of
the detector:

- Every attack account that harvested and was never flagged proves a rate: its harvest
  divided by the time the detector had to catch it (first harvest to the end of the
  replay, at least one day so a short burst is not stretched into a daily rate).
- For N accounts, the demonstrated value (`requests_per_day`) is the largest sum of the
  rates of at most N unflagged accounts *within one campaign* (so the coordination signals
  a linking detector uses were really present). It never extrapolates, so once N exceeds
  the most unflagged accounts any campaign kept (`extrapolated` is then true) it stays flat.
- `linear_*` also scales each campaign's whole unflagged set linearly to N accounts and
  takes the best: optimistic for the attacker (a detector that links accounts may catch a
  bigger campaign), but what a per-account detector would allow.
- `strict_*` uses only campaigns none of whose accounts were flagged.
- `with_replacement_*` is the hydra view: accounts that were flagged still harvested at
  some rate until their flag; N slots each replaced as soon as flagged harvest N times the
  median pre-flag rate and burn N / (median days to flag) accounts a day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from statistics import median

from distillguard.sim.scoring.model import CostToEvade, EvadePoint
from distillguard.sim.scoring.replay import AccountLedger
from distillguard.sim.truth import AccountTruth

DAY = 86400.0
DEFAULT_NS: tuple[int, ...] = (1, 10, 100, 1000)

METHOD = (
    "empirical: per-account harvest/day of never-flagged attack accounts "
    "(exposure = first harvest to end of replay, >= 1 day); value(N) = best sum of at most N "
    "such rates within one campaign; linear = also each campaign's unflagged set scaled to N; "
    "with_replacement = N x median pre-flag rate of flagged accounts"
)


def _demonstrated(per_campaign: Mapping[str, list[float]], n: int) -> float:
    """Largest sum of at most n unflagged accounts' rates inside one campaign."""
    return max((sum(rates[:n]) for rates in per_campaign.values()), default=0.0)


def _linear(per_campaign: Mapping[str, list[float]], n: int) -> float:
    """The demonstrated value, or a campaign's whole unflagged set scaled to n accounts."""
    scaled = (sum(rates) * n / len(rates) for rates in per_campaign.values() if 0 < len(rates) < n)
    return max(_demonstrated(per_campaign, n), max(scaled, default=0.0))


def cost_to_evade(
    ledgers: Mapping[str, AccountLedger],
    truth_accounts: Mapping[str, AccountTruth],
    flagged_at: Mapping[str, float],
    sim_end: float | None,
    *,
    cadence_s: float,
    ns: Sequence[int] = DEFAULT_NS,
) -> CostToEvade:
    undetected_req: dict[str, list[float]] = defaultdict(list)
    undetected_tok: dict[str, list[float]] = defaultdict(list)
    flagged_campaigns: set[str] = set()
    slot_rates: list[float] = []
    slot_token_rates: list[float] = []
    slot_days: list[float] = []
    end = sim_end or 0.0

    for acct, acct_truth in truth_accounts.items():
        if acct_truth.campaign_id is not None and acct in flagged_at:
            flagged_campaigns.add(acct_truth.campaign_id)
    for acct, ledger in ledgers.items():
        truth = truth_accounts.get(acct)
        if truth is None or not truth.is_attack or truth.campaign_id is None:
            continue
        if ledger.harvest_requests == 0 or ledger.first_harvest_ts is None:
            continue
        flag_ts = flagged_at.get(acct)
        if flag_ts is None:
            days = max((end - ledger.first_harvest_ts) / DAY, 1.0)
            undetected_req[truth.campaign_id].append(ledger.harvest_requests / days)
            undetected_tok[truth.campaign_id].append(ledger.harvest_tokens / days)
        else:
            days = max((flag_ts - ledger.first_harvest_ts) / DAY, cadence_s / DAY)
            slot_rates.append(ledger.harvest_before_account_flag / days)
            slot_token_rates.append(ledger.harvest_tokens_before_account_flag / days)
            slot_days.append(days)

    for rates in (*undetected_req.values(), *undetected_tok.values()):
        rates.sort(reverse=True)
    strict_req = {c: r for c, r in undetected_req.items() if c not in flagged_campaigns}
    strict_tok = {c: r for c, r in undetected_tok.items() if c not in flagged_campaigns}

    slot_rate = median(slot_rates) if slot_rates else 0.0
    slot_token_rate = median(slot_token_rates) if slot_token_rates else 0.0
    days_to_flag = median(slot_days) if slot_days else None

    largest = max((len(r) for r in undetected_req.values()), default=0)
    points: list[EvadePoint] = []
    for n in ns:
        points.append(
            EvadePoint(
                n_accounts=n,
                requests_per_day=round(_demonstrated(undetected_req, n), 3),
                completion_tokens_per_day=round(_demonstrated(undetected_tok, n), 3),
                extrapolated=n > largest,
                linear_requests_per_day=round(_linear(undetected_req, n), 3),
                linear_completion_tokens_per_day=round(_linear(undetected_tok, n), 3),
                strict_requests_per_day=round(_demonstrated(strict_req, n), 3),
                strict_completion_tokens_per_day=round(_demonstrated(strict_tok, n), 3),
                with_replacement_requests_per_day=round(n * slot_rate, 3),
                with_replacement_completion_tokens_per_day=round(n * slot_token_rate, 3),
                accounts_burned_per_day=round(n / days_to_flag, 3) if days_to_flag else 0.0,
            )
        )
    return CostToEvade(
        method=METHOD,
        undetected_harvesting_accounts=sum(len(r) for r in undetected_req.values()),
        max_undetected_accounts_in_one_campaign=largest,
        best_account_requests_per_day=round(max((r[0] for r in undetected_req.values()), default=0.0), 3),
        best_account_completion_tokens_per_day=round(
            max((r[0] for r in undetected_tok.values()), default=0.0), 3
        ),
        flagged_slot_requests_per_day=round(slot_rate, 3) if slot_rates else None,
        flagged_slot_days_to_flag=round(days_to_flag, 4) if days_to_flag is not None else None,
        points=points,
    )
