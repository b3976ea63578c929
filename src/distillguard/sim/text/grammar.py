"""A tiny generative grammar: templates with `{slot}` references and `[a|b|c]` alternations.

Why not a fixed list of prompts: a detector must not be able to key on the simulator's
strings, so every harvest prompt is drawn from a grammar with many slots, synonyms and
languages. Templates are compiled once into parts (expansion is the simulator's hottest
pure-Python loop); randomness comes from a `random.Random` the caller seeds.

Special slots: `{int:A-B}` draws an integer in [A, B]; other slots come from the rules or
from the `extra` mapping passed to `expand` (e.g. a sampled real user question). A
bracket group without `|` is literal text (`xs[i]`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Rules = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class _Slot:
    name: str


@dataclass(frozen=True)
class _Int:
    lo: int
    hi: int


@dataclass(frozen=True)
class _Alt:
    options: tuple[tuple[object, ...], ...]


Parts = tuple[object, ...]


def compile_template(text: str) -> Parts:
    parts, i = _parse(text, 0, in_alt=False)
    if i != len(text):
        raise ValueError(f"unbalanced brackets in template: {text!r}")
    return parts


def _parse(s: str, i: int, in_alt: bool) -> tuple[Parts, int]:
    parts: list[object] = []
    buf: list[str] = []
    while i < len(s):
        ch = s[i]
        if in_alt and ch in "|]":
            break
        if ch == "[":
            options = []
            j = i + 1
            while True:
                opt, j = _parse(s, j, in_alt=True)
                options.append(opt)
                if j >= len(s):
                    raise ValueError(f"unclosed '[' in template: {s!r}")
                if s[j] == "]":
                    break
                j += 1  # skip '|'
            if len(options) == 1:  # literal brackets, e.g. xs[i]
                buf.append("[")
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.extend(options[0])
                buf.append("]")
            else:
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(_Alt(tuple(options)))
            i = j + 1
        elif ch == "{":
            j = s.find("}", i)
            if j < 0:
                raise ValueError(f"unclosed '{{' in template: {s!r}")
            name = s[i + 1 : j]
            if buf:
                parts.append("".join(buf))
                buf = []
            if name.startswith("int:"):
                lo, hi = name[4:].split("-")
                parts.append(_Int(int(lo), int(hi)))
            else:
                parts.append(_Slot(name))
            i = j + 1
        else:
            buf.append(ch)
            i += 1
    if buf:
        parts.append("".join(buf))
    return tuple(parts), i


class Grammar:
    def __init__(self, rules: Rules, *, paraphrase: bool = True) -> None:
        self.rules = {
            name: tuple(compile_template(t) for t in templates) for name, templates in rules.items()
        }
        # Without paraphrase an attacker uses one template per symbol and the first
        # alternative of each choice: the naive, repetitive harvester. Slots still vary.
        self.paraphrase = paraphrase

    def has(self, symbol: str) -> bool:
        return symbol in self.rules

    def expand(
        self, symbol: str, rng: random.Random, extra: Mapping[str, Callable[[], str]] | None = None
    ) -> str:
        options = self.rules.get(symbol)
        if not options:
            raise KeyError(f"grammar has no symbol {symbol!r}")
        out: list[str] = []
        template = options[int(rng.random() * len(options))] if self.paraphrase else options[0]
        self._emit(template, rng, extra or {}, out, 0)
        return "".join(out)

    def _emit(
        self,
        parts: Parts,
        rng: random.Random,
        extra: Mapping[str, Callable[[], str]],
        out: list[str],
        depth: int,
    ) -> None:
        if depth > 12:
            raise RecursionError("grammar recursion too deep")
        for p in parts:
            if type(p) is str:
                out.append(p)
            elif type(p) is _Slot:
                fn = extra.get(p.name)
                if fn is not None:
                    out.append(fn())
                    continue
                opts = self.rules.get(p.name)
                if opts is None:
                    raise KeyError(f"grammar has no symbol {p.name!r}")
                self._emit(opts[int(rng.random() * len(opts))], rng, extra, out, depth + 1)
            elif type(p) is _Alt:
                opts2 = p.options
                choice = opts2[int(rng.random() * len(opts2))] if self.paraphrase else opts2[0]
                self._emit(choice, rng, extra, out, depth + 1)
            elif type(p) is _Int:
                out.append(str(p.lo + int(rng.random() * (p.hi - p.lo + 1))))
