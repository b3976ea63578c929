"""Write a DistillBench result for people and machines: JSON, Markdown, PNG plots.

Layout of the output directory:
    results.json            every ScoreReport plus the per scenario x detector summary
    runs/<scenario>__seed<seed>__<detector>.json   one ScoreReport each
    summary.md              the tables people read (links the plots)
    recall_fpr.png          campaign recall and legit FPR per scenario, one bar per detector
    harvest_before_flag.png per-campaign share of harvest before the flag, per detector
    cost_to_evade.png       harvest/day undetected vs campaign size, per detector
and, for `bench evade`, evade.json / evade.md / evade.png (see `write_sweep`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from statistics import median
from typing import Any, NamedTuple

import msgspec

from distillguard.sim.scoring.bench import BenchResult, SummaryRow, overall, summarize
from distillguard.sim.scoring.model import CampaignScore, ScoreReport
from distillguard.sim.scoring.sweep import SweepReport

BENCH_SCHEMA = "distillbench.bench/1"
MAX_CAMPAIGN_ROWS = 60  # beyond this the Markdown points to results.json


def _mean_of(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _median_of(values: Sequence[float | None]) -> float | None:
    present = sorted(v for v in values if v is not None)
    return median(present) if present else None


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def run_file_name(report: ScoreReport) -> str:
    return f"{_safe(report.scenario)}__seed{report.seed}__{_safe(report.detector)}.json"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


class _Worst(NamedTuple):
    demonstrated: float
    linear: float
    with_replacement: float
    accounts_burned: float


def _evade_worst(reports: Sequence[ScoreReport]) -> dict[str, dict[int, _Worst]]:
    """Per detector and N: the most any run let through, each column maximised separately."""
    worst: dict[str, dict[int, _Worst]] = defaultdict(dict)
    for report in reports:
        for p in report.cost_to_evade.points:
            prev = worst[report.detector].get(p.n_accounts)
            this = _Worst(
                p.requests_per_day,
                p.linear_requests_per_day,
                p.with_replacement_requests_per_day,
                p.accounts_burned_per_day,
            )
            worst[report.detector][p.n_accounts] = (
                this if prev is None else _Worst(*(max(a, b) for a, b in zip(prev, this, strict=True)))
            )
    return worst


def markdown(result: BenchResult, summary: Sequence[SummaryRow], meta: dict[str, Any]) -> str:
    reports = result.reports
    lines = ["# DistillBench results", ""]
    if meta:
        lines += [f"- {key}: `{value}`" for key, value in meta.items()]
        lines.append("")
    pooled = overall(reports)
    if pooled:
        lines += ["## Overall (all runs pooled)", ""]
        lines += _table(
            ["detector", "runs", "campaigns detected", "attack accounts flagged",
             "legit accounts flagged (FPR)", "harvest not stopped", "median time to detection"],
            [
                [o.detector, str(o.runs), f"{o.campaigns_detected}/{o.campaigns} ({_pct(o.campaign_recall)})",
                 f"{o.attack_accounts_flagged}/{o.attack_accounts} ({_pct(o.account_recall)})",
                 f"{o.legit_accounts_flagged}/{o.legit_accounts} ({_pct(o.false_positive_rate)})",
                 _pct(o.not_stopped_share), _dur(o.median_time_to_detection_s)]
                for o in pooled
            ],
        )  # fmt: skip
        lines.append("")
    lines += ["## Summary (mean over seeds)", ""]
    lines += _table(
        ["scenario", "detector", "seeds", "campaign recall", "acct precision", "acct recall", "legit FPR",
         "harvest before flag", "harvest not stopped", "median TTD", "events/s"],
        [
            [r.scenario, r.detector, ",".join(map(str, r.seeds)), _pct(r.campaign_recall),
             _pct(r.account_precision), _pct(r.account_recall), _pct(r.false_positive_rate),
             _pct(r.before_flag_share), _pct(r.not_stopped_share), _dur(r.median_time_to_detection_s),
             _num(r.events_per_s)]
            for r in summary
        ],
    )  # fmt: skip
    lines += ["", "![campaign recall and FPR](recall_fpr.png)", ""]

    detectors = sorted({r.detector for r in reports})
    persona_fpr: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for report in reports:
        for persona, share in report.fpr_per_persona.items():
            if share is not None:
                persona_fpr[persona][report.detector].append(share)
    if persona_fpr:
        lines += ["## False-positive rate per legitimate persona (mean over runs)", ""]
        lines += _table(
            ["persona", *detectors],
            [
                [persona] + [
                    _pct(sum(v) / len(v)) if (v := by_det.get(d)) else "–" for d in detectors
                ]
                for persona, by_det in sorted(persona_fpr.items())
            ],
        )  # fmt: skip
        lines.append("")

    by_strategy: dict[tuple[str, str], list[CampaignScore]] = defaultdict(list)
    for rep in reports:
        for c in rep.per_campaign:
            by_strategy[(c.strategy or "?", rep.detector)].append(c)
    if by_strategy:
        lines += ["## Campaigns by strategy (all scenarios and seeds)", ""]
        lines += _table(
            ["strategy", "detector", "campaigns", "detected", "accounts flagged", "harvest before flag",
             "harvest not stopped", "median time to detection"],
            [
                [strategy, det, str(len(cs)), _pct(sum(c.detected for c in cs) / len(cs)),
                 _pct(_mean_of([c.share_accounts_flagged for c in cs])),
                 _pct(_mean_of([c.before_flag_share for c in cs])),
                 _pct(_mean_of([c.not_stopped_share for c in cs])),
                 _dur(_median_of([c.time_to_detection_s for c in cs]))]
                for (strategy, det), cs in sorted(by_strategy.items())
            ],
        )  # fmt: skip
        lines.append("")

    n_campaign_rows = sum(len(rep.per_campaign) for rep in reports)
    lines += ["## Campaigns", ""]
    if n_campaign_rows > MAX_CAMPAIGN_ROWS:
        lines += [f"{n_campaign_rows} campaign rows: see `per_campaign` in results.json.", ""]
    else:
        lines += _table(
            ["scenario", "seed", "detector", "campaign", "strategy", "accounts flagged", "harvest",
             "before flag", "not stopped", "time to detection"],
            [
                [rep.scenario, str(rep.seed), rep.detector, c.campaign_id, c.strategy or "–",
                 f"{c.n_accounts_flagged}/{c.n_accounts}", f"{c.harvest_requests:,}",
                 _pct(c.before_flag_share), _pct(c.not_stopped_share),
                 _dur(c.time_to_detection_s) if c.detected else "not detected"]
                for rep in reports
                for c in rep.per_campaign
            ],
        )  # fmt: skip
    lines += ["", "![harvest before flag](harvest_before_flag.png)", ""]

    worst = _evade_worst(reports)
    if worst:
        ns = sorted({n for per_n in worst.values() for n in per_n})
        lines += [
            "## Cost to evade: most harvest/day undetected (worst run)",
            "",
            "Harvest requests per day: demonstrated by at most N never-flagged accounts of one "
            "campaign / the same scaled linearly to N accounts (optimistic for the attacker) / a "
            "hydra of N slots replacing each account when it is flagged (accounts burned per "
            "day). Worst run per detector; method in docs/scoring.md.",
            "",
        ]
        lines += _table(
            ["detector", *[f"N={n}" for n in ns]],
            [
                [det] + [
                    (f"{_num(w.demonstrated)} / {_num(w.linear)} / {_num(w.with_replacement)} "
                     f"({_num(w.accounts_burned)} acct)" if (w := per_n.get(n)) else "–")
                    for n in ns
                ]
                for det, per_n in sorted(worst.items())
            ],
        )  # fmt: skip
        lines += ["", "![cost to evade](cost_to_evade.png)", ""]

    notes = [f"{r.scenario}@{r.seed} {r.detector}: {w}" for r in reports for w in r.warnings]
    if result.errors or notes:
        lines += ["## Errors and warnings", ""]
        lines += [f"- {e}" for e in result.errors + notes]
        lines.append("")
    return "\n".join(lines)


def plot(result: BenchResult, summary: Sequence[SummaryRow], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    written: list[Path] = []
    detectors = sorted({r.detector for r in summary})
    scenarios = sorted({r.scenario for r in summary})
    if not detectors:
        return written
    by_key = {(r.scenario, r.detector): r for r in summary}

    # 1. recall / FPR bars
    fig_width = min(16.0, max(6.0, 0.3 * len(scenarios) * len(detectors) + 3))
    fig, axes = plt.subplots(2, 1, figsize=(fig_width, 7), sharex=True)
    x = np.arange(len(scenarios))
    width = 0.8 / len(detectors)
    for i, det in enumerate(detectors):
        recall = [by_key[(s, det)].campaign_recall if (s, det) in by_key else None for s in scenarios]
        fpr = [by_key[(s, det)].false_positive_rate if (s, det) in by_key else None for s in scenarios]
        offset = x + (i - (len(detectors) - 1) / 2) * width
        axes[0].bar(offset, [v if v is not None else 0 for v in recall], width, label=det)
        axes[1].bar(offset, [v if v is not None else 0 for v in fpr], width, label=det)
    axes[0].set_ylabel("campaign recall")
    axes[0].set_ylim(0, 1.05)
    axes[1].set_ylabel("FPR on legitimate accounts")
    axes[1].set_xticks(x, scenarios, rotation=30, ha="right")
    axes[0].legend(loc="upper right", fontsize="small")
    axes[0].set_title("campaign recall (higher is better)", fontsize="medium")
    axes[1].set_title("false-positive rate on legitimate accounts (lower is better)", fontsize="medium")
    fig.tight_layout()
    path = out_dir / "recall_fpr.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    # 2. harvest-before-flag distribution over campaigns
    fig, axes = plt.subplots(1, 2, figsize=(max(6.0, 2.0 * len(detectors) + 3), 4.5), sharey=True)
    for ax, attr, title in (
        (axes[0], "before_flag_share", "harvest before the campaign's first flag"),
        (axes[1], "not_stopped_share", "harvest by accounts not yet flagged"),
    ):
        data = [
            [getattr(c, attr) for r in result.reports if r.detector == det for c in r.per_campaign
             if getattr(c, attr) is not None]
            for det in detectors
        ]  # fmt: skip
        ax.boxplot([d if d else [np.nan] for d in data], showfliers=False)
        rng = np.random.default_rng(0)
        for i, values in enumerate(data, start=1):
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(values)), values, s=10, alpha=0.6)
        ax.set_xticks(range(1, len(detectors) + 1), detectors)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(title, fontsize="medium")
    axes[0].set_ylabel("share of the campaign's harvest (per campaign)")
    fig.tight_layout()
    path = out_dir / "harvest_before_flag.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    # 3. cost to evade
    worst = _evade_worst(result.reports)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for det, per_n in sorted(worst.items()):
        ns = sorted(per_n)
        (line,) = ax.plot(ns, [per_n[n].demonstrated for n in ns], marker="o", label=f"{det}: demonstrated")
        ax.plot(ns, [per_n[n].linear for n in ns], linestyle=":", color=line.get_color(),
                label=f"{det}: linear")  # fmt: skip
        ax.plot(ns, [per_n[n].with_replacement for n in ns], linestyle="--", color=line.get_color(),
                label=f"{det}: replacing flagged accounts")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("accounts in the campaign (N)")
    ax.set_ylabel("harvest requests per day")
    ax.set_title("Cost to evade: harvest/day undetected (worst run)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    path = out_dir / "cost_to_evade.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written


def write_outputs(
    result: BenchResult, out_dir: Path, *, meta: dict[str, Any] | None = None, plots: bool = True
) -> dict[str, Path]:
    """Write everything; returns the paths by kind ("json", "markdown", "runs", plot names)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    runs_dir = out_dir / "runs"
    runs_dir.mkdir(exist_ok=True)
    summary = summarize(result.reports)
    for report in result.reports:
        (runs_dir / run_file_name(report)).write_bytes(report.to_json())
    document = {
        "schema": BENCH_SCHEMA,
        "meta": meta or {},
        "overall": overall(result.reports),
        "summary": summary,
        "runs": result.reports,
        "errors": result.errors,
    }
    json_path = out_dir / "results.json"
    json_path.write_bytes(msgspec.json.format(msgspec.json.encode(document), indent=2))
    md_path = out_dir / "summary.md"
    md_path.write_text(markdown(result, summary, meta or {}))
    paths = {"json": json_path, "markdown": md_path, "runs": runs_dir}
    if plots:
        for path in plot(result, summary, out_dir):
            paths[path.stem] = path
    return paths


def write_sweep(sweep: SweepReport, out_dir: Path, *, plots: bool = True) -> dict[str, Path]:
    """evade.json, evade.md and evade.png for a `bench evade` sweep."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "evade.json"
    json_path.write_bytes(sweep.to_json())
    lines = [
        f"# Cost to evade: {sweep.scenario} / {sweep.attack}",
        "",
        f"Seed {sweep.seed}, {sweep.days:g} days, legitimate population x{sweep.legit_scale:g}, "
        f"flagged at tier >= {sweep.threshold}. The attack is regenerated with N accounts at r "
        "requests per account per day; everything else is the same traffic in every variant.",
        "",
        "## Most harvest per day the detector let through",
        "",
    ]
    lines += _table(
        ["detector", "N", "max undetected rate (req/acct/day)", "harvest/day undetected",
         "harvest/day not stopped (any rate)"],
        [
            [c.detector, str(c.n_accounts), _num(c.max_undetected_rate),
             _num(c.max_undetected_harvest_per_day), _num(c.max_not_stopped_per_day)]
            for c in sweep.curve
        ],
    )  # fmt: skip
    lines += ["", "## Every variant", ""]
    lines += _table(
        ["detector", "N", "rate", "detected", "accounts flagged", "harvest/day", "not stopped/day",
         "time to detection", "legit FPR"],
        [
            [p.detector, str(p.n_accounts), _num(p.per_account_per_day), "yes" if p.detected else "no",
             _pct(p.share_accounts_flagged), _num(p.harvest_per_day), _num(p.not_stopped_per_day),
             _dur(p.time_to_detection_s), _pct(p.legit_false_positive_rate)]
            for p in sweep.points
        ],
    )  # fmt: skip
    lines += ["", "![cost to evade](evade.png)", ""]
    md_path = out_dir / "evade.md"
    md_path.write_text("\n".join(lines))
    paths = {"json": json_path, "markdown": md_path}
    if plots:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5))
        for det in sorted({c.detector for c in sweep.curve}):
            rows = sorted((c for c in sweep.curve if c.detector == det), key=lambda c: c.n_accounts)
            ns = [c.n_accounts for c in rows]
            (line,) = ax.plot(ns, [c.max_undetected_harvest_per_day for c in rows], marker="o",
                              label=f"{det}: undetected campaign")  # fmt: skip
            ax.plot(ns, [c.max_not_stopped_per_day for c in rows], linestyle="--", color=line.get_color(),
                    label=f"{det}: harvest not stopped")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("accounts in the campaign (N)")
        ax.set_ylabel("harvest requests per day")
        ax.set_title(f"Cost to evade, measured: {sweep.attack}")
        ax.legend(fontsize="small")
        fig.tight_layout()
        png = out_dir / "evade.png"
        fig.savefig(png, dpi=110)
        plt.close(fig)
        paths["evade"] = png
    return paths
