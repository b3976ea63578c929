"""Turn a replay's raw outcome and the ground truth into a ScoreReport.

Definitions (docs/scoring.md says the same in prose):
- Scored accounts: accounts in the ground truth that sent at least one request or were
  flagged. Dormant, unflagged accounts carry no information and would only pad the FPR
  denominator.
- Attack account: `AccountTruth.is_attack` (a blending reseller is one). Flagged legit
  account = false positive.
- A campaign is detected when at least one of its accounts is flagged; its harvest is
  the requests ground truth maps to it (`Truth.attack_requests`).
"""

from __future__ import annotations

from collections import defaultdict
from statistics import median

from distillguard.detect.api import Tier
from distillguard.sim.scoring.evade import DEFAULT_NS, cost_to_evade
from distillguard.sim.scoring.model import (
    SCHEMA,
    AccountMetrics,
    CampaignScore,
    CampaignSummary,
    LegitImpact,
    PersonaMetrics,
    ReplayStats,
    ScoreReport,
)
from distillguard.sim.scoring.replay import ReplayResult
from distillguard.sim.truth import Truth


def ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _median(values: list[float]) -> float | None:
    return round(median(values), 3) if values else None


def compute(
    result: ReplayResult,
    truth: Truth,
    *,
    detector: str,
    cadence_s: float,
    threshold: Tier,
    evade_ns: tuple[int, ...] = DEFAULT_NS,
) -> ScoreReport:
    ledgers = result.ledgers
    flagged_at = result.flagged_at

    # --- accounts ---------------------------------------------------------------------
    tp = fp = fn = tn = 0
    persona_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    persona_attack: dict[str, bool] = {}
    times_to_flag: list[float] = []
    for acct, acct_truth in truth.accounts.items():
        ledger = ledgers.get(acct)
        flagged = acct in flagged_at
        if ledger is None and not flagged:
            continue
        counts = persona_counts[acct_truth.persona]
        counts[0] += 1
        counts[1] += flagged
        persona_attack[acct_truth.persona] = persona_attack.get(acct_truth.persona, False) or (
            acct_truth.is_attack
        )
        if acct_truth.is_attack:
            if flagged:
                tp += 1
                if ledger is not None and ledger.first_ts is not None:
                    times_to_flag.append(max(0.0, flagged_at[acct] - ledger.first_ts))
            else:
                fn += 1
        elif flagged:
            fp += 1
        else:
            tn += 1
    account_metrics = AccountMetrics(
        n_scored=tp + fp + fn + tn,
        n_attack=tp + fn,
        n_legit=fp + tn,
        n_flagged=tp + fp,
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
        true_negatives=tn,
        precision=ratio(tp, tp + fp),
        recall=ratio(tp, tp + fn),
        false_positive_rate=ratio(fp, fp + tn),
        median_time_to_flag_s=_median(times_to_flag),
    )
    per_persona = {
        persona: PersonaMetrics(
            is_attack=persona_attack[persona],
            n_accounts=n,
            n_flagged=k,
            flagged_share=ratio(k, n),
        )
        for persona, (n, k) in sorted(persona_counts.items())
    }
    fpr_per_persona = {p: m.flagged_share for p, m in per_persona.items() if not m.is_attack}

    # --- campaigns --------------------------------------------------------------------
    members: dict[str, list[str]] = defaultdict(list)
    for acct, acct_truth in truth.accounts.items():
        if acct_truth.campaign_id is not None:
            members[acct_truth.campaign_id].append(acct)
    campaign_ids = sorted(set(members) | set(truth.campaigns) | set(truth.attack_requests.values()))
    per_campaign: list[CampaignScore] = []
    ttds: list[float] = []
    for cid in campaign_ids:
        accts = members.get(cid, [])
        n_flagged = sum(a in flagged_at for a in accts)
        harvest = harvest_tok = before = before_tok = not_stopped = not_stopped_tok = 0
        from_flagged = 0
        first_ts: float | None = None
        for acct in accts:
            ledger = ledgers.get(acct)
            if ledger is None:
                continue
            harvest += ledger.harvest_requests
            harvest_tok += ledger.harvest_tokens
            before += ledger.harvest_before_campaign_flag
            before_tok += ledger.harvest_tokens_before_campaign_flag
            not_stopped += ledger.harvest_before_account_flag
            not_stopped_tok += ledger.harvest_tokens_before_account_flag
            if acct in flagged_at:
                from_flagged += ledger.harvest_requests
            started = ledger.first_harvest_ts
            if started is not None and (first_ts is None or started < first_ts):
                first_ts = started
        flag_ts = result.campaign_flagged_at.get(cid)
        ttd = max(0.0, flag_ts - first_ts) if flag_ts is not None and first_ts is not None else None
        if ttd is not None:
            ttds.append(ttd)
        strategy = truth.campaigns.get(cid, {}).get("strategy")
        per_campaign.append(
            CampaignScore(
                campaign_id=cid,
                strategy=str(strategy) if strategy is not None else "",
                n_accounts=len(accts),
                n_accounts_flagged=n_flagged,
                share_accounts_flagged=ratio(n_flagged, len(accts)),
                detected=n_flagged > 0,
                first_request_ts=first_ts,
                first_flag_ts=flag_ts,
                time_to_detection_s=round(ttd, 3) if ttd is not None else None,
                harvest_requests=harvest,
                harvest_completion_tokens=harvest_tok,
                before_flag_requests=before,
                before_flag_share=ratio(before, harvest),
                before_flag_completion_tokens=before_tok,
                before_flag_tokens_share=ratio(before_tok, harvest_tok),
                not_stopped_requests=not_stopped,
                not_stopped_share=ratio(not_stopped, harvest),
                not_stopped_completion_tokens=not_stopped_tok,
                share_harvest_from_flagged_accounts=ratio(from_flagged, harvest),
            )
        )
    total_harvest = sum(c.harvest_requests for c in per_campaign)
    total_harvest_tok = sum(c.harvest_completion_tokens for c in per_campaign)
    total_before = sum(c.before_flag_requests for c in per_campaign)
    total_not_stopped = sum(c.not_stopped_requests for c in per_campaign)
    total_not_stopped_tok = sum(c.not_stopped_completion_tokens for c in per_campaign)
    n_detected = sum(c.detected for c in per_campaign)
    campaign_summary = CampaignSummary(
        n_campaigns=len(per_campaign),
        n_detected=n_detected,
        recall=ratio(n_detected, len(per_campaign)),
        median_time_to_detection_s=_median(ttds),
        max_time_to_detection_s=round(max(ttds), 3) if ttds else None,
        harvest_requests=total_harvest,
        harvest_completion_tokens=total_harvest_tok,
        before_flag_requests=total_before,
        before_flag_share=ratio(total_before, total_harvest),
        not_stopped_requests=total_not_stopped,
        not_stopped_share=ratio(total_not_stopped, total_harvest),
        not_stopped_completion_tokens=total_not_stopped_tok,
        not_stopped_tokens_share=ratio(total_not_stopped_tok, total_harvest_tok),
    )

    # --- legitimate traffic touched -----------------------------------------------------
    legit = sum(ledger.legit_requests for acct, ledger in ledgers.items() if acct in truth.accounts)
    legit_after = sum(ledger.legit_after_flag for acct, ledger in ledgers.items() if acct in truth.accounts)

    duration = (
        result.sim_end - result.sim_start
        if result.sim_end is not None and result.sim_start is not None
        else 0.0
    )
    replay_stats = ReplayStats(
        events=result.events,
        accounts_fed=result.accounts_fed,
        assessments=result.assessments,
        cadence_s=cadence_s,
        threshold=threshold.name,
        sim_start=result.sim_start,
        sim_end=result.sim_end,
        sim_duration_s=duration,
        wall_s=round(result.wall_s, 4),
        detector_s=round(result.detector_s, 4),
        events_per_s=round(result.events / result.wall_s, 1) if result.wall_s > 0 else None,
        detector_events_per_s=round(result.events / result.detector_s, 1) if result.detector_s > 0 else None,
        peak_rss_mb=round(result.peak_rss_mb, 1),
    )
    return ScoreReport(
        schema=SCHEMA,
        scenario=truth.scenario,
        seed=truth.seed,
        detector=detector,
        replay=replay_stats,
        accounts=account_metrics,
        campaigns=campaign_summary,
        per_campaign=per_campaign,
        per_persona=per_persona,
        fpr_per_persona=fpr_per_persona,
        legit_impact=LegitImpact(
            legit_requests=legit, after_flag_requests=legit_after, after_flag_share=ratio(legit_after, legit)
        ),
        cost_to_evade=cost_to_evade(
            ledgers, truth.accounts, flagged_at, result.sim_end, cadence_s=cadence_s, ns=evade_ns
        ),
        warnings=list(result.warnings),
    )
