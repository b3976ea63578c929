"""Replay a scenario through a detector the way the gateway would feed it.

Accounts are shown to the detector when they come into existence (at `created_at`),
events in `ts_start` order, and `assess(now)` is called on a fixed simulated cadence, so
"when was it flagged" is measured in simulated time, not wall time. While replaying we
keep, per account, what ground truth needs to be compared against later (how much it
asked for before and after its flag), so the event stream is read exactly once and may
be a generator over a large file.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from distillguard.detect.api import Assessment, Detector, Tier
from distillguard.events.schema import AccountInfo, RequestEvent
from distillguard.sim.truth import Truth


@dataclass(slots=True)
class AccountLedger:
    """What one account asked for, split by whether it was flagged at the time."""

    requests: int = 0
    completion_tokens: int = 0
    first_ts: float | None = None
    last_ts: float | None = None
    # harvest = requests ground truth marks as part of a campaign
    harvest_requests: int = 0
    harvest_tokens: int = 0
    first_harvest_ts: float | None = None
    harvest_before_account_flag: int = 0
    harvest_tokens_before_account_flag: int = 0
    harvest_before_campaign_flag: int = 0
    harvest_tokens_before_campaign_flag: int = 0
    # legitimate requests (not harvest) sent after this account was flagged
    legit_requests: int = 0
    legit_after_flag: int = 0


@dataclass(slots=True)
class ReplayResult:
    """Raw outcome of one replay; `metrics.compute` turns it into a ScoreReport."""

    flagged_at: dict[str, float]  # account -> simulated time of first flagging assessment
    final_tier: dict[str, int]  # account -> tier in the last assessment (only >= WATCH)
    campaign_flagged_at: dict[str, float]  # true campaign -> first time any member flagged
    ledgers: dict[str, AccountLedger]
    events: int
    accounts_fed: int
    assessments: int
    sim_start: float | None
    sim_end: float | None
    wall_s: float
    detector_s: float  # time spent inside the detector's methods
    peak_rss_mb: float
    unknown_accounts: int  # accounts with events but no ground truth
    warnings: list[str] = field(default_factory=list)


ProgressFn = Callable[[int, float], None]  # (events done, current simulated time)


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _flagged_accounts(assessment: Assessment, threshold: Tier) -> list[str]:
    """Accounts at or above `threshold`, counting members of a campaign flag at that tier."""
    out = [acct for acct, flag in assessment.accounts.items() if flag.tier >= threshold]
    for campaign in assessment.campaigns.values():
        if campaign.tier >= threshold:
            out.extend(campaign.accounts)
    return out


def replay(
    detector: Detector,
    events: Iterable[RequestEvent],
    accounts: Sequence[AccountInfo],
    truth: Truth,
    *,
    cadence_s: float = 300.0,
    threshold: Tier = Tier.SUSPECT,
    progress: ProgressFn | None = None,
    progress_every: int = 10_000,
) -> ReplayResult:
    """Feed `accounts` and time-ordered `events` to `detector`, assessing every `cadence_s`.

    Ticks fall on multiples of `cadence_s`; a tick with nothing new since the previous
    assessment (no event, no new account) is skipped, since it could only reflect the
    passage of time. One last assessment happens at the time of the last event. An
    account counts as flagged from the first assessment where its tier (or the tier of a
    campaign flag listing it) is at least `threshold`; flags are never taken back.
    """
    if cadence_s <= 0:
        raise ValueError("cadence_s must be positive")
    pending = sorted(accounts, key=lambda a: a.created_at)
    infos = {a.account_id: a for a in pending}
    fed: set[str] = set()
    next_account = 0

    campaign_of = {acct: t.campaign_id for acct, t in truth.accounts.items() if t.campaign_id is not None}
    attack_requests = truth.attack_requests
    ledgers: dict[str, AccountLedger] = {}
    flagged_at: dict[str, float] = {}
    campaign_flagged_at: dict[str, float] = {}
    final_tier: dict[str, int] = {}
    warnings: list[str] = []
    unknown: set[str] = set()
    late_accounts = 0

    n_events = 0
    n_assess = 0
    detector_s = 0.0
    dirty = False
    next_tick: float | None = None
    last_ts: float | None = None
    first_ts: float | None = None
    wall0 = time.perf_counter()
    clock = time.perf_counter

    def feed_account(info: AccountInfo) -> None:
        nonlocal detector_s, dirty
        fed.add(info.account_id)
        t0 = clock()
        detector.observe_account(info)
        detector_s += clock() - t0
        dirty = True

    def feed_accounts_before(t: float, inclusive: bool) -> None:
        nonlocal next_account
        while next_account < len(pending):
            info = pending[next_account]
            if info.created_at > t or (not inclusive and info.created_at == t):
                break
            next_account += 1
            if info.account_id not in fed:
                feed_account(info)

    def assess(now: float) -> None:
        nonlocal detector_s, n_assess, dirty
        t0 = clock()
        assessment = detector.assess(now)
        detector_s += clock() - t0
        n_assess += 1
        dirty = False
        final_tier.clear()
        for acct, flag in assessment.accounts.items():
            final_tier[acct] = int(flag.tier)
        for flag in assessment.campaigns.values():
            for acct in flag.accounts:
                final_tier[acct] = max(final_tier.get(acct, 0), int(flag.tier))
        for acct in _flagged_accounts(assessment, threshold):
            if acct in flagged_at:
                continue
            flagged_at[acct] = now
            campaign = campaign_of.get(acct)
            if campaign is not None and campaign not in campaign_flagged_at:
                campaign_flagged_at[campaign] = now

    for event in events:
        ts = event.ts_start
        if last_ts is not None and ts < last_ts:
            raise ValueError(f"events are not in ts_start order: {event.request_id} at {ts} after {last_ts}")
        if next_tick is None:
            first_ts = ts
            next_tick = (math.floor(ts / cadence_s) + 1) * cadence_s
        while next_tick <= ts:
            feed_accounts_before(next_tick, inclusive=False)
            if dirty:
                assess(next_tick)
                next_tick += cadence_s
                continue
            # Nothing new: jump to the tick after the next account creation or this event.
            jump_to = (math.floor(ts / cadence_s) + 1) * cadence_s
            if next_account < len(pending):
                created = pending[next_account].created_at
                jump_to = min(jump_to, (math.floor(created / cadence_s) + 1) * cadence_s)
            next_tick = max(next_tick + cadence_s, jump_to)
        feed_accounts_before(ts, inclusive=True)
        account = event.account_id
        if account not in fed and account in infos:
            # the generator sent a request before the account's created_at: show it now
            late_accounts += 1
            feed_account(infos[account])

        ledger = ledgers.get(account)
        if ledger is None:
            ledger = ledgers[account] = AccountLedger(first_ts=ts)
            if account not in truth.accounts:
                unknown.add(account)
        ledger.requests += 1
        ledger.completion_tokens += event.completion_tokens
        ledger.last_ts = ts
        campaign = attack_requests.get(event.request_id)
        if campaign is not None:
            tokens = event.completion_tokens
            ledger.harvest_requests += 1
            ledger.harvest_tokens += tokens
            if ledger.first_harvest_ts is None:
                ledger.first_harvest_ts = ts
            if account not in flagged_at:
                ledger.harvest_before_account_flag += 1
                ledger.harvest_tokens_before_account_flag += tokens
            if campaign not in campaign_flagged_at:
                ledger.harvest_before_campaign_flag += 1
                ledger.harvest_tokens_before_campaign_flag += tokens
        else:
            ledger.legit_requests += 1
            if account in flagged_at:
                ledger.legit_after_flag += 1

        t0 = clock()
        detector.observe(event)
        detector_s += clock() - t0
        dirty = True
        n_events += 1
        last_ts = ts
        if progress is not None and n_events % progress_every == 0:
            progress(n_events, ts)

    # Accounts created after the last event still exist; show them, then assess once more.
    end = last_ts if last_ts is not None else (pending[-1].created_at if pending else 0.0)
    for info in pending[next_account:]:
        if info.account_id not in fed:
            feed_account(info)
    if n_events or pending:
        assess(max(end, pending[-1].created_at) if pending else end)
    if progress is not None:
        progress(n_events, end)

    if late_accounts:
        warnings.append(f"{late_accounts} accounts sent requests before their created_at")
    if unknown:
        warnings.append(f"{len(unknown)} accounts sent requests but have no ground truth; not scored")
    return ReplayResult(
        flagged_at=flagged_at,
        final_tier=final_tier,
        campaign_flagged_at=campaign_flagged_at,
        ledgers=ledgers,
        events=n_events,
        accounts_fed=len(fed),
        assessments=n_assess,
        sim_start=first_ts,
        sim_end=last_ts,
        wall_s=time.perf_counter() - wall0,
        detector_s=detector_s,
        peak_rss_mb=_peak_rss_mb(),
        unknown_accounts=len(unknown),
        warnings=warnings,
    )
