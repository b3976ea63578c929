"""Deterministic "model output" for the mock upstream.

The same prompt always yields the same tokens, so tests can compare streamed and
non-streamed answers and benchmarks are reproducible. Text is assembled from sentences
prepared once at import; a request only hashes its prompt and slices token lists, which
keeps the mock cheap enough to serve thousands of requests per second.

A "token" here is a word with its leading space (the first token of a text has none).
Usage counts are the number of such tokens, identical for streamed and whole responses.
"""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Iterable

_SUBJECTS = (
    "The approach",
    "This method",
    "A careful answer",
    "The simplest option",
    "The result",
    "Each step",
    "The overall design",
    "A good first move",
    "The key idea",
    "This pattern",
    "The main trade-off",
    "The data",
    "The system",
    "A small example",
    "The final version",
)
_VERBS = (
    "depends on",
    "builds on",
    "improves",
    "simplifies",
    "clarifies",
    "changes",
    "reduces",
    "highlights",
    "follows from",
    "supports",
    "balances",
    "explains",
    "requires",
    "avoids",
)
_OBJECTS = (
    "the underlying assumptions",
    "the constraints of the problem",
    "a clear structure",
    "the cost of each operation",
    "the edge cases",
    "what the user actually needs",
    "a consistent naming scheme",
    "the available evidence",
    "the expected output",
    "the order of the steps",
    "the most common failure",
    "a measurable goal",
    "the shape of the input",
    "a simple invariant",
    "the limits of the model",
)
_TAILS = (
    "",
    "in practice",
    "for most inputs",
    "when the input is large",
    "without extra memory",
    "over several iterations",
    "in the general case",
    "as shown above",
    "at each stage",
)

_REASONING_OPENERS = (
    "Let me think about this step by step.",
    "Okay, let me work through this carefully.",
    "First, I need to understand what is being asked.",
    "Let me break the problem into smaller parts.",
)
_REASONING_STEPS = (
    "I should restate the question in my own words.",
    "The key quantities here are the inputs and the expected output.",
    "If I assume the simplest case, the answer follows directly.",
    "Wait, I need to check whether that assumption holds.",
    "Let me verify this with a small example.",
    "Plugging in the numbers gives a consistent result.",
    "Another way to see it is to work backwards from the goal.",
    "That rules out the first option.",
    "So the remaining candidates must satisfy both conditions.",
    "Hmm, the edge case with an empty input needs separate handling.",
    "Combining the two observations narrows it down.",
    "I should double-check the arithmetic before answering.",
    "This matches what I expected from the definition.",
    "Therefore the conclusion is consistent with every step so far.",
)


def _tokenize(sentence: str) -> tuple[str, ...]:
    words = sentence.split()
    return tuple(" " + w for w in words)


def _build_answer_sentences() -> tuple[tuple[str, ...], ...]:
    rng = random.Random(20240601)
    sentences = []
    for _ in range(256):
        tail = rng.choice(_TAILS)
        text = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
        text = f"{text} {tail}." if tail else f"{text}."
        sentences.append(_tokenize(text))
    return tuple(sentences)


ANSWER_SENTENCES = _build_answer_sentences()
REASONING_OPENERS = tuple(_tokenize(s) for s in _REASONING_OPENERS)
REASONING_STEPS = tuple(_tokenize(s) for s in _REASONING_STEPS)
# Words a plausible model might have said instead; used for top_logprobs alternatives.
ALTERNATIVES = tuple(
    sorted({" " + w.strip(".,") for s in (*_SUBJECTS, *_VERBS, *_OBJECTS) for w in s.split()})
)


def prompt_seed(parts: Iterable[str], salt: str = "") -> int:
    """A stable 64-bit seed for a prompt (Python's hash() is randomized per process)."""
    h = hashlib.blake2b(salt.encode(), digest_size=8)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return int.from_bytes(h.digest(), "little")


def natural_length(seed: int, low: int, span: int) -> int:
    """How long the model 'wants' to talk for this prompt, before max_tokens cuts it."""
    return low + (seed >> 17) % span


def answer_tokens(seed: int, count: int) -> list[str]:
    """`count` tokens of plain prose; the first has no leading space."""
    out: list[str] = []
    n = len(ANSWER_SENTENCES)
    i = seed % n
    step = 1 + (seed >> 8) % (n - 1)
    while len(out) < count:
        out.extend(ANSWER_SENTENCES[i])
        i = (i + step) % n
    del out[count:]
    if out:
        out[0] = out[0][1:]
    return out


def reasoning_tokens(seed: int, count: int) -> list[str]:
    """`count` tokens that read like step-by-step chain of thought."""
    out: list[str] = list(REASONING_OPENERS[seed % len(REASONING_OPENERS)])
    n = len(REASONING_STEPS)
    i = (seed >> 5) % n
    step_no = 1
    while len(out) < count:
        out.append(f" Step {step_no}:")
        out.extend(REASONING_STEPS[i])
        i = (i + 1 + (seed >> 11) % 3) % n
        step_no += 1
    del out[count:]
    if out:
        out[0] = out[0][1:]
    return out


def estimate_tokens(text: str) -> int:
    """Prompt-side token estimate (about four characters a token, like tiktoken on prose)."""
    return (len(text) + 3) // 4


def thinking_signature(thinking: str, key: bytes = b"distillguard-mock") -> str:
    """An opaque, verifiable signature for a thinking block, like Anthropic's."""
    digest = hashlib.blake2b(thinking.encode("utf-8", "surrogatepass"), key=key, digest_size=48).digest()
    return base64.b64encode(b"\x12\x30mock" + digest).decode()


def redacted_data(seed: int) -> str:
    """Opaque bytes standing in for an encrypted (redacted) thinking block."""
    raw = hashlib.blake2b(seed.to_bytes(8, "little"), digest_size=64).digest()
    return base64.b64encode(b"\x12\x40redacted" + raw).decode()


def token_logprob(seed: int, position: int) -> float:
    """A plausible log-probability for the chosen token: mostly near 0, sometimes lower."""
    x = ((seed >> (position % 48)) ^ (position * 2654435761)) & 0xFFFF
    if x % 5 == 0:
        return -round(0.5 + (x % 300) / 100.0, 4)  # an uncertain token
    return -round((x % 97) / 1000.0, 4)


def top_alternatives(
    seed: int, position: int, chosen: str, chosen_logprob: float, k: int
) -> list[tuple[str, float]]:
    """The chosen token plus k-1 lower-probability alternatives, best first."""
    result = [(chosen, chosen_logprob)]
    n = len(ALTERNATIVES)
    j = (seed + position * 7919) % n
    lp = min(chosen_logprob, 0.0) - 1.0
    while len(result) < k:
        alt = ALTERNATIVES[j]
        j = (j + 13) % n
        if alt == chosen:
            continue
        lp -= 0.3 + ((seed >> (len(result) + position % 16)) & 7) / 10.0
        result.append((alt, round(lp, 4)))
    return result
