"""Per-campaign evidence reports (Markdown and a self-contained HTML page) for people
outside the console: trust & safety, legal, another provider's abuse team.

A report holds what an analyst needs to check the call without the console: the reasons
with their numbers, the indicators and how specific they are, example requests (text
only where retention kept it), the timeline and the harvest before and after the flag.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from distillguard.console.data import AccountRow, CampaignView, Indicator, Series
from distillguard.console.index import HOUR
from distillguard.detect.api import Reason, Tier
from distillguard.events.schema import RequestEvent

STATIC_CSS = Path(__file__).parent / "static" / "console.css"


@dataclass(slots=True)
class EvidenceReport:
    campaign_id: str
    tier: Tier
    risk: float
    generated_at: float
    first_flagged: float | None
    first_seen: float
    last_seen: float
    members: list[AccountRow]
    partial: bool
    reasons: list[Reason]
    indicators: list[Indicator]
    examples: list[RequestEvent]
    requests: int
    output_tokens: int
    reasoning_tokens: int
    harvest_before_flag: int
    harvest_after_flag: int
    daily: list[tuple[str, int, int]]  # (UTC day, requests, completion tokens)
    timeline_svg: str = ""
    harvest_svg: str = ""
    graph_svg: str = ""
    notes: list[str] = field(default_factory=list)


def _daily(requests: Series, tokens: Series) -> list[tuple[str, int, int]]:
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for hour, value in zip(requests.hours, requests.values, strict=True):
        days[_day(hour)][0] += int(value)
    for hour, value in zip(tokens.hours, tokens.values, strict=True):
        days[_day(hour)][1] += int(value)
    return [(d, r, t) for d, (r, t) in sorted(days.items())]


def _day(hour: int) -> str:
    return datetime.fromtimestamp(hour * HOUR, UTC).strftime("%Y-%m-%d")


def build_evidence(view: CampaignView, data: Any = None, *, plots: bool = True) -> EvidenceReport:
    """Gather a campaign's evidence; `plots` adds the SVG figures for the HTML report."""
    report = EvidenceReport(
        campaign_id=view.flag.subject_id,
        tier=view.flag.tier,
        risk=view.flag.risk,
        generated_at=time.time(),
        first_flagged=view.flag.first_flagged,
        first_seen=view.first_seen,
        last_seen=view.last_seen,
        members=view.members,
        partial=view.partial,
        reasons=view.reasons,
        indicators=view.indicators,
        examples=view.examples,
        requests=view.requests,
        output_tokens=view.output_tokens,
        reasoning_tokens=view.reasoning_tokens,
        harvest_before_flag=view.harvest_before_flag,
        harvest_after_flag=view.harvest_after_flag,
        daily=_daily(view.timeline, view.harvest_timeline),
    )
    if not any(e.prompt_text for e in view.examples):
        report.notes.append(
            "Prompt text was not retained for these requests (retention policy); fingerprints only."
        )
    if plots:
        from distillguard.console.graph import campaign_graph_svg
        from distillguard.console.plots import COLORS, line_chart

        marker = view.flag.first_flagged
        report.timeline_svg = line_chart(
            [("requests", view.timeline, COLORS["traffic"])],
            title="Requests per hour",
            marker_at=marker,
            marker_label="flagged",
        )
        report.harvest_svg = line_chart(
            [("completion tokens", view.harvest_timeline, COLORS["tokens"])],
            title="Completion tokens served per hour",
            marker_at=marker,
            marker_label="flagged",
        )
        report.graph_svg = campaign_graph_svg(view.members, view.edges)
    return report


def _fmt_ts(value: float | None) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def render_markdown(report: EvidenceReport) -> str:
    r = report
    lines = [
        f"# Evidence: campaign {r.campaign_id}",
        "",
        f"- Tier: **{r.tier.name}** (risk {r.risk:.2f})",
        f"- Active: {_fmt_ts(r.first_seen)} to {_fmt_ts(r.last_seen)}; "
        f"first flagged {_fmt_ts(r.first_flagged)}",
        f"- Linked accounts: {len(r.members)}"
        + (" (of this organisation; the campaign reaches further)" if r.partial else ""),
        f"- Harvest: {r.requests:,} requests, {r.output_tokens:,} completion tokens "
        f"({r.reasoning_tokens:,} reasoning); {r.harvest_before_flag:,} tokens before the flag, "
        f"{r.harvest_after_flag:,} after",
        f"- Generated {_fmt_ts(r.generated_at)} by distillguard",
        "",
        "## Reasons",
        "",
    ]
    for reason in r.reasons:
        ev = f" Evidence: {', '.join(f'`{e}`' for e in reason.evidence[:5])}." if reason.evidence else ""
        weight = f" ({reason.weight:.2f})" if reason.weight else ""
        lines.append(f"- **{reason.code}**{weight}: {reason.detail}{ev}")
    lines += [
        "",
        "## Indicators",
        "",
        "| Kind | Value | Members | All accounts | Specificity |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for ind in r.indicators:
        lines.append(
            f"| {ind.title} | `{_md_cell(ind.value)}` | {ind.members} | {ind.accounts} "
            f"| {100 * ind.specificity:.0f}% |"
        )
    if not r.indicators:
        lines.append("| — | none shared by two or more members and rare elsewhere | | | |")
    lines += [
        "",
        "## Timeline (UTC days)",
        "",
        "| Day | Requests | Completion tokens |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {day} | {req:,} | {tok:,} |" for day, req, tok in r.daily]
    lines += ["", "## Example requests", ""]
    lines += [f"> {note}" for note in r.notes]
    if r.notes:
        lines.append("")
    lines += [
        "| When | Account | Request | Client IP | Skeleton | Tokens out | Prompt |",
        "| --- | --- | --- | --- | --- | ---: | --- |",
    ]
    for e in r.examples:
        # attacker-written text goes in a code span: no links, images or HTML when rendered
        prompt = f"`{_md_cell(e.prompt_text[:240])}`" if e.prompt_text is not None else "(not retained)"
        lines.append(
            f"| {_fmt_ts(e.ts_start)} | `{e.account_id}` | `{e.request_id}` | {_md_cell(e.client_ip)} | "
            f"`{e.skeleton_hash or '—'}` | {e.completion_tokens:,} | {prompt} |"
        )
    lines += [
        "",
        "## Accounts",
        "",
        "| Account | Org | Tier | Requests | Completion tokens |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for m in r.members:
        lines.append(
            f"| `{m.account_id}` | {m.org_id} | {Tier(m.tier).name} | {m.requests:,} | {m.output_tokens:,} |"
        )
    return "\n".join(lines) + "\n"


_HTML = jinja2.Environment(
    loader=jinja2.PackageLoader("distillguard.console", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
)


def render_html(report: EvidenceReport) -> str:
    """One self-contained HTML file (inline CSS and SVG): it opens offline, mailed or archived."""
    template = _HTML.get_template("evidence.html")
    return template.render(r=report, css=STATIC_CSS.read_text(), ts=_fmt_ts, Tier=Tier)


def write_evidence(view: CampaignView, out_dir: str | Path, data: Any = None) -> dict[str, Path]:
    """report.md, report.html and stix.json for one campaign under out_dir/<campaign>/."""
    from distillguard.console.stix import campaign_bundle

    out = Path(out_dir) / view.flag.subject_id
    out.mkdir(parents=True, exist_ok=True)
    report = build_evidence(view, data)
    paths = {"markdown": out / "report.md", "html": out / "report.html", "stix": out / "stix.json"}
    paths["markdown"].write_text(render_markdown(report))
    paths["html"].write_text(render_html(report))
    paths["stix"].write_text(campaign_bundle(view).serialize(pretty=True) + "\n")
    return paths


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def render_pdf(
    html_path: str | Path, pdf_path: str | Path, *, chromium: str = CHROMIUM, timeout_s: float = 120
) -> None:
    """Print the HTML report to PDF with a local headless Chromium (no other dependency).

    Raises RuntimeError with the reason when Chromium is missing or fails.
    """
    import shutil
    import subprocess
    import tempfile

    binary = shutil.which(chromium)
    if binary is None:
        raise RuntimeError(f"PDF needs a Chromium at {chromium} (Debian: apt-get install chromium)")
    pdf = Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="dg-chromium-") as profile:
        cmd = [
            binary,
            *CHROMIUM_ARGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            Path(html_path).resolve().as_uri(),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise RuntimeError(f"chromium could not print {html_path}: {done.stderr.strip()[-400:]}")
