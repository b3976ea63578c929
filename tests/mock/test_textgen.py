from __future__ import annotations

from distillguard.mock.generate import plan_output
from distillguard.mock.textgen import (
    answer_tokens,
    prompt_seed,
    reasoning_tokens,
    thinking_signature,
    token_logprob,
)


def test_seed_is_stable_and_prompt_sensitive() -> None:
    assert prompt_seed(["user", "hi"]) == prompt_seed(["user", "hi"])
    assert prompt_seed(["user", "hi"]) != prompt_seed(["user", "hi!"])
    assert prompt_seed(["user", "hi"]) != prompt_seed(["userhi"])  # parts are separated
    assert prompt_seed(["user", "hi"], "salt") != prompt_seed(["user", "hi"])


def test_token_lists_have_exact_length() -> None:
    for n in (0, 1, 7, 300):
        assert len(answer_tokens(12345, n)) == n
        assert len(reasoning_tokens(12345, n)) == n
    assert not answer_tokens(1, 5)[0].startswith(" ")
    assert reasoning_tokens(99, 40)[0] != " "


def test_max_tokens_bounds_reasoning_plus_answer() -> None:
    for max_tokens in (1, 3, 10, 39):  # natural lengths are at least 24 + 16 tokens
        planned = plan_output(777, {}, max_tokens, want_reasoning=True)
        assert len(planned.reasoning) + len(planned.answer) == max_tokens
        assert planned.truncated
    roomy = plan_output(777, {}, 4096, want_reasoning=True)
    assert roomy.reasoning and roomy.answer and not roomy.truncated


def test_signature_and_logprobs() -> None:
    assert thinking_signature("a") == thinking_signature("a") != thinking_signature("b")
    assert all(token_logprob(5, i) <= 0 for i in range(200))
