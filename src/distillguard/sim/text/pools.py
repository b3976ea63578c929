"""Pre-built prompt pools: the simulator samples indices into these instead of expanding per event."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from distillguard.sim.text import lang_de, lang_en, lang_es, lang_ru, lang_zh, legit
from distillguard.sim.text.grammar import Grammar

LANG_RULES = {
    "en": lang_en.RULES,
    "zh": lang_zh.RULES,
    "es": lang_es.RULES,
    "ru": lang_ru.RULES,
    "de": lang_de.RULES,
}
LANGUAGES: tuple[str, ...] = tuple(LANG_RULES)
ATTACK_STYLES: tuple[str, ...] = ("cot", "rubric", "agentic", "censorship", "coding", "datagen")


def _merged(lang: str) -> dict[str, Sequence[str]]:
    """Language rules over English ones, so a symbol missing in one language falls back."""
    if lang not in LANG_RULES:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    return {**lang_en.RULES, **LANG_RULES[lang]}


def attack_pool(
    style: str,
    languages: Sequence[str],
    size: int,
    seed: int,
    *,
    paraphrase: bool = True,
    wrap_real: float = 0.0,
    real_questions: Sequence[str] = (),
) -> list[str]:
    """`size` harvest prompts of one content style, spread over `languages`.

    `wrap_real` is the share of prompts that are a sampled real user question inside a
    light wrapper: the knob that makes harvest text look like ordinary user traffic.
    """
    if style not in ATTACK_STYLES and style != "logprob":
        raise ValueError(f"unknown attack style {style!r}; known: {', '.join(ATTACK_STYLES)}, logprob")
    rng = random.Random(seed)
    grammars = [Grammar(_merged(lang), paraphrase=paraphrase) for lang in languages]
    real: Callable[[], str] = (lambda: rng.choice(real_questions)) if real_questions else (lambda: "")
    extra = {"real": real}
    out = []
    for _ in range(size):
        g = rng.choice(grammars)
        if real_questions and rng.random() < wrap_real:
            # Real questions are mostly English; wrap them in the grammar's language anyway.
            out.append(g.expand("wrap_real", rng, extra))
        else:
            text = g.expand(style, rng, extra)
            # Paraphrasing attackers also vary the instructions around the request.
            if paraphrase and style != "logprob" and rng.random() < 0.6:
                text = f"{text}{' ' if rng.random() < 0.7 else chr(10)}{g.expand('constraint', rng, extra)}"
            out.append(text)
    return out


def system_personas(languages: Sequence[str], size: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    grammars = [Grammar(_merged(lang)) for lang in languages]
    return [rng.choice(grammars).expand("system_persona", rng) for _ in range(size)]


def legit_pool(
    symbol: str, size: int, seed: int, extras: dict[str, Sequence[str]] | None = None
) -> list[str]:
    """Prompts from the legitimate templates. `extras` maps slot names (doc, real) to real texts."""
    rng = random.Random(seed)
    g = Grammar({**legit.RULES})
    extra: dict[str, Callable[[], str]] = {}
    for name, values in (extras or {}).items():
        vals = list(values) or [""]
        extra[name] = lambda vals=vals: rng.choice(vals)  # type: ignore[misc]
    return [g.expand(symbol, rng, extra) for _ in range(size)]


def fixed_template_pool(template: str, size: int, seed: int, extras: dict[str, Sequence[str]]) -> list[str]:
    """One template, varying slots: what a batch pipeline or eval harness sends."""
    rng = random.Random(seed)
    g = Grammar({**legit.RULES, "_root": [template]})
    extra: dict[str, Callable[[], str]] = {}
    for name, values in extras.items():
        vals = list(values) or [""]
        extra[name] = lambda vals=vals: rng.choice(vals)  # type: ignore[misc]
    return [g.expand("_root", rng, extra) for _ in range(size)]
