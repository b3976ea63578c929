"""Events with every field set, so round-trips exercise every column."""

from __future__ import annotations

from distillguard.events.schema import RequestEvent


def full_event(i: int, *, ts: float | None = None, account: str | None = None) -> RequestEvent:
    """An event where every field differs from its default, so round-trips test every column."""
    return RequestEvent(
        request_id=f"req-{i}",
        key_id=f"key-{i % 3}",
        account_id=account or f"acct-{i % 4}",
        org_id=f"org-{i % 2}",
        ts_start=ts if ts is not None else 1_700_000_000.0 + i * 0.25,
        ts_first_byte=1_700_000_000.1 + i,
        ts_end=1_700_000_000.9 + i,
        client_ip=f"10.0.0.{i % 5}",
        user_agent="OpenAI/Python 1.40.0",
        endpoint="/v1/messages",
        flavor="anthropic",
        model="claude-x",
        upstream="primary",
        stream=True,
        temperature=0.7,
        top_p=0.95,
        n=2,
        max_tokens=1024,
        logprobs=True,
        top_logprobs=5,
        logit_bias=True,
        n_tools=3,
        thinking_budget=2048,
        reasoning_effort="high",
        n_messages=4,
        n_user_turns=2,
        roles="suau",
        system_hash="abc123",
        has_tool_results=True,
        prompt_chars=42,
        context_chars=420,
        status=429,
        error_type="rate_limit_error",
        prompt_tokens=11,
        completion_tokens=22,
        reasoning_tokens=33,
        usage_estimated=True,
        finish_reason="length",
        prompt_text=f'Explain step by step: tab\there, newline\nhere, quote " backslash \\ 你好 {i}',
        system_text="You are helpful.",
        response_text="Sure. \u2028 emoji 🙂",
        skeleton_hash=f"skel-{i % 3}",
        minhash=[0, 1, 2**32 - 1, 123456789 + i],
        cot_score=0.8,
        rubric_score=0.1,
        datagen_score=0.5,
        lang="latn",
        tier=3,
        action="protect_reasoning",
        shadow=True,
        reasons=["shared_skeleton", "cot_share"],
        policy_version="v7",
        campaign_id=f"camp-{i % 2}",
    )


def assert_all_fields_set(event: RequestEvent) -> None:
    defaults = RequestEvent(request_id="", ts_start=0.0)
    same = [f for f in RequestEvent.__struct_fields__ if getattr(event, f) == getattr(defaults, f)]
    assert not same, f"full_event() leaves these fields at their default: {same}"
