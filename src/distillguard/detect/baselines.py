"""Two deliberately simple detectors that the real engine must beat.

They are what a provider would write first: a per-account volume limit and a per-prompt
keyword filter. Both are honest implementations of those ideas (no knowledge of the
simulator's vocabularies or campaigns), so DistillBench can show where they fail:
low-and-slow campaigns slip under the rate limit, and students asking for step-by-step
explanations trip the phrase filter.
"""

from __future__ import annotations

import re
from collections import deque

from distillguard.detect.api import Assessment, Flag, Reason, Tier
from distillguard.events.schema import AccountInfo, RequestEvent

HOUR = 3600.0
DAY = 86400.0


class _AccountWindow:
    """Requests and completion tokens of one account over the last hour and day (sliding)."""

    __slots__ = ("day", "day_tokens", "hour", "requests", "tokens_total")

    def __init__(self) -> None:
        self.hour: deque[float] = deque()
        self.day: deque[tuple[float, int]] = deque()
        self.day_tokens = 0
        self.requests = 0
        self.tokens_total = 0

    def add(self, ts: float, tokens: int) -> None:
        self.hour.append(ts)
        self.day.append((ts, tokens))
        self.day_tokens += tokens
        self.requests += 1
        self.tokens_total += tokens
        while self.hour[0] <= ts - HOUR:
            self.hour.popleft()
        while self.day[0][0] <= ts - DAY:
            _, old_tokens = self.day.popleft()
            self.day_tokens -= old_tokens


class RateThresholdDetector:
    """Flags an account whose requests per hour, requests per day or completion tokens per
    day exceed a fixed limit — the classic per-account rule.

    Limits are checked on every request (O(1) amortized sliding windows), so a burst is
    caught even between assessments.
    Flags are sticky: once over the limit, an account stays flagged.
    """

    def __init__(
        self,
        *,
        max_requests_per_hour: int = 600,
        max_requests_per_day: int = 5_000,
        max_completion_tokens_per_day: int = 5_000_000,
        name: str = "rate",
    ) -> None:
        self.name = name
        self.max_requests_per_hour = max_requests_per_hour
        self.max_requests_per_day = max_requests_per_day
        self.max_completion_tokens_per_day = max_completion_tokens_per_day
        self._windows: dict[str, _AccountWindow] = {}
        self._flags: dict[str, Flag] = {}

    def observe_account(self, info: AccountInfo) -> None:
        self._windows.setdefault(info.account_id, _AccountWindow())

    def observe(self, event: RequestEvent) -> None:
        account = event.account_id
        window = self._windows.get(account)
        if window is None:
            window = self._windows[account] = _AccountWindow()
        window.add(event.ts_start, event.completion_tokens)
        flag = self._flags.get(account)
        if flag is not None:
            flag.requests = window.requests
            flag.output_tokens = window.tokens_total
            return
        reasons = self._over_limits(window, event)
        if reasons:
            excess = max(r.weight for r in reasons)
            self._flags[account] = Flag(
                kind="account",
                subject_id=account,
                risk=excess,
                tier=Tier.LIKELY if excess >= 0.75 else Tier.SUSPECT,
                reasons=reasons,
                first_flagged=event.ts_start,
                requests=window.requests,
                output_tokens=window.tokens_total,
            )

    def _over_limits(self, window: _AccountWindow, event: RequestEvent) -> list[Reason]:
        reasons: list[Reason] = []
        checks = (
            ("rate_hour", len(window.hour), self.max_requests_per_hour,
             "requests in the last hour"),
            ("rate_day", len(window.day), self.max_requests_per_day, "requests in the last day"),
            ("tokens_day", window.day_tokens, self.max_completion_tokens_per_day,
             "completion tokens in the last day"),
        )  # fmt: skip
        for code, value, limit, what in checks:
            if value > limit:
                # weight grows with the excess: 0.5 just over the limit, 1.0 at 4x
                weight = min(1.0, 0.5 + 0.5 * (value / limit - 1.0) / 3.0)
                reasons.append(
                    Reason(
                        code=code,
                        weight=round(weight, 3),
                        detail=f"{value} {what} (limit {limit})",
                        evidence=[event.request_id],
                    )
                )
        return reasons

    def assess(self, now: float) -> Assessment:
        return Assessment(at=now, accounts=dict(self._flags))


# Phrases people use to ask a model to expose its reasoning or to act as a grader. Written
# from general knowledge of such prompts, not from any simulator vocabulary; matched as
# whole words on lowercased text with hyphens and runs of whitespace folded to one space.
COT_PHRASES: tuple[str, ...] = (
    "step by step",
    "show your work",
    "show your reasoning",
    "show the reasoning",
    "explain your reasoning",
    "reasoning process",
    "thought process",
    "chain of thought",
    "think through",
    "think carefully",
    "let's think",
    "walk me through",
    "walk through each",
    "explain each step",
    "intermediate steps",
    "justify your answer",
    "before answering",
    "before you answer",
    "detailed explanation",
    "break it down",
    "reason about",
    "work through",
    "grade the following",
    "grade this",
    "score the following",
    "rate the following",
    "rate this response",
    "on a scale of 1",
    "scale from 1 to",
    "rubric",
)


def _compile_phrases(phrases: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(p) for p in phrases), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


_FOLD = re.compile(r"[\s\-_]+")


class _PhraseCounts:
    __slots__ = ("evidence", "matched", "seen", "tokens", "with_text")

    def __init__(self) -> None:
        self.seen = 0
        self.tokens = 0
        self.with_text = 0
        self.matched = 0
        self.evidence: list[str] = []


class PhraseMatchDetector:
    """Flags an account when a large share of its prompts contain a reasoning-elicitation
    or grading phrase — the per-prompt filter the brief says fails on honest students.

    Needs prompt text (retention "full"); events without text count as seen but not as
    matching, and the flag requires `min_prompts` prompts *with text*.
    """

    def __init__(
        self,
        *,
        phrases: tuple[str, ...] = COT_PHRASES,
        min_prompts: int = 20,
        min_share: float = 0.5,
        name: str = "phrase",
    ) -> None:
        self.name = name
        self.min_prompts = min_prompts
        self.min_share = min_share
        self._pattern = _compile_phrases(tuple(p.lower() for p in phrases))
        self._counts: dict[str, _PhraseCounts] = {}
        self._flags: dict[str, Flag] = {}

    def matches(self, text: str) -> str | None:
        """The first phrase found in `text`, or None."""
        found = self._pattern.search(_FOLD.sub(" ", text.lower()))
        return found.group(0) if found else None

    def observe_account(self, info: AccountInfo) -> None:
        self._counts.setdefault(info.account_id, _PhraseCounts())

    def observe(self, event: RequestEvent) -> None:
        counts = self._counts.get(event.account_id)
        if counts is None:
            counts = self._counts[event.account_id] = _PhraseCounts()
        counts.seen += 1
        counts.tokens += event.completion_tokens
        text = event.prompt_text
        if text:
            counts.with_text += 1
            if self.matches(text) is not None:
                counts.matched += 1
                if len(counts.evidence) < 5:
                    counts.evidence.append(event.request_id)
        flag = self._flags.get(event.account_id)
        if flag is not None:
            flag.requests = counts.seen
            flag.output_tokens = counts.tokens
            return
        if counts.with_text < self.min_prompts:
            return
        share = counts.matched / counts.with_text
        if share >= self.min_share:
            self._flags[event.account_id] = Flag(
                kind="account",
                subject_id=event.account_id,
                risk=round(share, 3),
                tier=Tier.LIKELY if share >= 0.8 else Tier.SUSPECT,
                reasons=[
                    Reason(
                        code="phrase_share",
                        weight=round(share, 3),
                        detail=(
                            f"{counts.matched} of {counts.with_text} prompts "
                            f"({share:.0%}) ask for reasoning or grading"
                        ),
                        evidence=list(counts.evidence),
                    )
                ],
                first_flagged=event.ts_start,
                requests=counts.seen,
                output_tokens=counts.tokens,
            )

    def assess(self, now: float) -> Assessment:
        return Assessment(at=now, accounts=dict(self._flags))
