"""A tiny generative grammar: templates with `{slot}` references and `[a|b|c]` alternations.

Why not a fixed list of prompts: a detector must not be able to key on the simulator's
strings, so every harvest prompt is drawn from a grammar with many slots, synonyms and
languages. Expansion uses `random.Random` (fast for single choices) seeded by the caller.

Special slots: `{int:A-B}` draws an integer in [A, B]; `{extra}` slots come from the
`extra` mapping passed to `expand` (e.g. a sampled real user question).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence

_ALT = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{([a-z_]+)(?::(\d+)-(\d+))?\}")

Rules = Mapping[str, Sequence[str]]


class Grammar:
    def __init__(self, rules: Rules, *, paraphrase: bool = True) -> None:
        self.rules = rules
        # Without paraphrase an attacker uses one template per symbol and the first
        # alternative of each choice: the naive, repetitive harvester.
        self.paraphrase = paraphrase

    def has(self, symbol: str) -> bool:
        return symbol in self.rules

    def expand(
        self,
        symbol: str,
        rng: random.Random,
        extra: Mapping[str, Callable[[], str]] | None = None,
        _depth: int = 0,
    ) -> str:
        options = self.rules.get(symbol)
        if not options:
            raise KeyError(f"grammar has no symbol {symbol!r}")
        template = rng.choice(options) if self.paraphrase else options[0]
        return self._fill(template, rng, extra, _depth)

    def _fill(
        self, text: str, rng: random.Random, extra: Mapping[str, Callable[[], str]] | None, depth: int
    ) -> str:
        if depth > 12:
            raise RecursionError("grammar recursion too deep")

        def alt(m: re.Match[str]) -> str:
            parts = m.group(1).split("|")
            return rng.choice(parts) if self.paraphrase else parts[0]

        # Innermost alternations first; repeat so nested [..[..]..] resolve.
        while "[" in text and _ALT.search(text):
            text = _ALT.sub(alt, text)

        def slot(m: re.Match[str]) -> str:
            name, lo, hi = m.group(1), m.group(2), m.group(3)
            if name == "int" and lo is not None and hi is not None:
                return str(rng.randint(int(lo), int(hi)))
            if extra and name in extra:
                return extra[name]()
            if name in self.rules:
                # Slots keep varying even without paraphrase: the topic changes, the wording not.
                opts = self.rules[name]
                return self._fill(rng.choice(opts), rng, extra, depth + 1)
            raise KeyError(f"grammar has no symbol {name!r}")

        return _SLOT.sub(slot, text)
