"""One answer for one choice: how much reasoning, how much text, and why it stopped.

Shared by the OpenAI and Anthropic handlers so both APIs (and stream vs whole response)
count the same tokens for the same prompt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from distillguard.mock.textgen import answer_tokens, natural_length, reasoning_tokens

DEFAULT_MAX_TOKENS = 4096


@dataclass(slots=True)
class Planned:
    reasoning: list[str]
    answer: list[str]
    truncated: bool  # hit max_tokens
    stop_sequence: str | None = None  # the stop string that ended the answer, if any


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def plan_output(
    seed: int,
    headers: Mapping[str, str],
    max_tokens: int | None,
    want_reasoning: bool,
    reasoning_cap: int | None = None,
    overhead: int = 0,
    stop: Sequence[str] = (),
) -> Planned:
    """Decide the reasoning and answer tokens; max_tokens bounds both together (as in vLLM
    and Anthropic), `overhead` is tokens spent on markup such as <think> tags."""
    budget = (max_tokens if max_tokens is not None else DEFAULT_MAX_TOKENS) - overhead
    want_r = 0
    if want_reasoning:
        want_r = _header_int(headers, "x-mock-reasoning-tokens") or natural_length(seed, 24, 72)
        if reasoning_cap is not None:
            want_r = min(want_r, reasoning_cap)
    forced = _header_int(headers, "x-mock-output-tokens")
    want_a = forced if forced is not None else natural_length(seed >> 9, 16, 64)
    # Leave a third of a small budget for the answer, so both parts show up in short demos.
    n_r = max(0, min(want_r, budget - budget // 3))
    n_a = max(0, min(want_a, budget - n_r))
    planned = Planned(
        reasoning=reasoning_tokens(seed ^ 0x5EED, n_r) if n_r else [],
        answer=answer_tokens(seed, n_a),
        truncated=n_r < want_r or n_a < want_a,
    )
    if stop:
        _apply_stop(planned, stop)
    return planned


def _apply_stop(planned: Planned, stop: Sequence[str]) -> None:
    text = "".join(planned.answer)
    cut, which = -1, None
    for s in stop:
        if s:
            pos = text.find(s)
            if pos >= 0 and (cut < 0 or pos < cut):
                cut, which = pos, s
    if which is None:
        return
    kept: list[str] = []
    used = 0
    for tok in planned.answer:
        if used + len(tok) <= cut:
            kept.append(tok)
            used += len(tok)
        else:
            if cut > used:
                kept.append(tok[: cut - used])
            break
    planned.answer = kept
    planned.truncated = False
    planned.stop_sequence = which
