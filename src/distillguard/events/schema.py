"""The one event schema shared by the gateway, the simulator, `hunt` and the detector.

A `RequestEvent` is everything distillguard knows about one API request. The gateway
records it, DistillBench emits it, and the detector consumes nothing else, so detection
is testable without HTTP and online and offline detection are one code path.

Design notes:
- Flat scalar fields (plus a few lists) so the same record maps 1:1 to a SQL row, a
  JSONL line and a Parquet column set.
- Text (`prompt_text`, `response_text`, `system_text`) is present only under retention
  `full`. Fingerprints (`skeleton_hash`, `minhash`, intent scores) are computed at the
  edge and survive retention `fingerprints-only`. `fingerprint.enrich()` fills them in
  when an event carries text but no fingerprints (simulator output, foreign logs).
- Ground truth never lives here: the simulator writes it to a separate `Truth` sidecar
  so that no detector can read it by accident.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Flavor = Literal["openai", "anthropic"]
Retention = Literal["full", "fingerprints-only", "none"]


class RequestEvent(msgspec.Struct, kw_only=True):
    # --- identity -----------------------------------------------------------------------
    request_id: str
    key_id: str = ""
    account_id: str = ""
    org_id: str = ""
    # --- timing (unix seconds, float) ---------------------------------------------------
    ts_start: float
    ts_first_byte: float | None = None
    ts_end: float | None = None
    # --- client -------------------------------------------------------------------------
    client_ip: str = ""
    user_agent: str = ""
    # --- what was asked -----------------------------------------------------------------
    endpoint: str = ""  # e.g. "/v1/chat/completions", "/v1/messages", "/v1/completions"
    flavor: Flavor = "openai"
    model: str = ""
    upstream: str = ""  # name of the upstream that served it (after fallback routing)
    stream: bool = False
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    max_tokens: int | None = None
    logprobs: bool = False
    top_logprobs: int | None = None
    logit_bias: bool = False  # present and non-empty
    n_tools: int = 0  # tool definitions offered
    thinking_budget: int | None = None  # anthropic thinking.budget_tokens
    reasoning_effort: str | None = None  # openai-style reasoning_effort
    # --- message structure --------------------------------------------------------------
    n_messages: int = 0
    n_user_turns: int = 0
    roles: str = ""  # compact role sequence, e.g. "sua" = system,user,assistant; "t" = tool
    system_hash: str | None = None  # sha256 prefix of the system prompt text
    has_tool_results: bool = False
    prompt_chars: int = 0  # characters in the last user turn
    context_chars: int = 0  # characters in all messages
    # --- outcome ------------------------------------------------------------------------
    status: int = 200
    error_type: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    usage_estimated: bool = False  # True when upstream gave no usage and we counted
    finish_reason: str | None = None
    # --- text (retention "full" only) ---------------------------------------------------
    prompt_text: str | None = None  # last user turn
    system_text: str | None = None
    response_text: str | None = None
    # --- edge fingerprints (see distillguard.fingerprint) -------------------------------
    skeleton_hash: str | None = None
    minhash: list[int] | None = None
    cot_score: float | None = None  # chain-of-thought elicitation intent, [0,1]
    rubric_score: float | None = None  # model-as-grader intent, [0,1]
    datagen_score: float | None = None  # dataset-generation intent, [0,1]
    lang: str | None = None  # coarse script/language tag of the prompt
    # --- enforcement decision (see distillguard.enforce) --------------------------------
    tier: int = 0
    action: str | None = None  # e.g. "allow", "protect_reasoning", "rate_limited", "block"
    shadow: bool = False  # decided but not enforced
    reasons: list[str] = msgspec.field(default_factory=list)
    policy_version: str | None = None
    campaign_id: str | None = None  # campaign the detector linked the account to, if any

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def has_fingerprints(self) -> bool:
        return self.skeleton_hash is not None


class AccountInfo(msgspec.Struct, kw_only=True):
    """Account metadata that detection uses (signup, payment, geography, verification)."""

    account_id: str
    org_id: str = ""
    created_at: float = 0.0  # unix seconds
    country: str | None = None
    payment_fingerprint: str | None = None  # already hashed by whoever stores it
    email_domain: str | None = None
    verified: bool = False
    signup_ip: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


class OrgInfo(msgspec.Struct, kw_only=True):
    org_id: str
    name: str = ""
    created_at: float = 0.0
    verified: bool = False
    allowlisted: bool = False  # verified partner: never enforced against (still recorded)
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


# Field order is the column order for SQL and Parquet.
EVENT_FIELDS: tuple[str, ...] = RequestEvent.__struct_fields__

_json_encoder = msgspec.json.Encoder()
_json_event_decoder = msgspec.json.Decoder(RequestEvent)


def event_to_json(event: RequestEvent) -> bytes:
    return _json_encoder.encode(event)


def event_from_json(data: bytes | str) -> RequestEvent:
    return _json_event_decoder.decode(data)
