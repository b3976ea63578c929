from __future__ import annotations

import copy
import re
from pathlib import Path

from distillguard.console.data import ConsoleData
from distillguard.console.evidence import build_evidence, render_html, render_markdown, write_evidence


def test_markdown_has_reasons_indicators_timeline_examples_harvest(
    console_data: ConsoleData, campaign_id: str
) -> None:
    view = console_data.campaign(campaign_id)
    assert view is not None
    report = build_evidence(view, plots=False)
    md = render_markdown(report)
    assert md.startswith(f"# Evidence: campaign {campaign_id}")
    for reason in view.reasons:
        assert f"**{reason.code}**" in md
    for ind in view.indicators:
        assert f"`{ind.value}`" in md
    assert f"{view.output_tokens:,} completion tokens" in md
    assert f"{view.harvest_before_flag:,} tokens before the flag" in md
    assert sum(r for _, r, _ in report.daily) == view.requests
    for event in view.examples:
        assert event.request_id in md
    for member in view.members:
        assert member.account_id in md


def test_retention_is_respected(console_data: ConsoleData, campaign_id: str) -> None:
    view = console_data.campaign(campaign_id)
    assert view is not None and view.examples
    secret = view.examples[0].prompt_text
    assert secret
    stripped = copy.copy(view)
    stripped.examples = [copy.copy(e) for e in view.examples]
    for e in stripped.examples:
        e.prompt_text = None
        e.response_text = None
    report = build_evidence(stripped, plots=False)
    md = render_markdown(report)
    assert "(not retained)" in md and secret[:60] not in md
    assert "not retained" in render_html(report)


def test_html_is_self_contained(console_data: ConsoleData, campaign_id: str, tmp_path: Path) -> None:
    view = console_data.campaign(campaign_id)
    assert view is not None
    paths = write_evidence(view, tmp_path)
    html = paths["html"].read_text()
    assert "<style>" in html and html.count("<svg") >= 3  # graph, timeline, harvest
    # nothing is fetched from anywhere: no external src/href, no scripts, no stylesheets
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script" not in html and "<link" not in html and "<metadata>" not in html
    assert paths["markdown"].exists() and paths["stix"].exists()


def test_attacker_text_cannot_inject_markup(console_data: ConsoleData, campaign_id: str) -> None:
    view = console_data.campaign(campaign_id)
    assert view is not None and view.examples
    hostile = copy.copy(view)
    event = copy.copy(view.examples[0])
    event.prompt_text = (
        "![x](http://evil.example/t.png) <img src=x onerror=alert(1)> | `tick` [link](http://e)"
    )
    hostile.examples = [event]
    report = build_evidence(hostile, plots=False)
    md = render_markdown(report)
    row = next(line for line in md.splitlines() if event.request_id in line and "evil" in line)
    cell = row.rsplit(" | ", 1)[1]
    assert cell.startswith("`![x]") and cell.endswith("` |")  # one literal code span
    assert "`tick`" not in row and "\\|" in row
    html = render_html(report)
    assert "<img src=x" not in html and "&lt;img src=x" in html
