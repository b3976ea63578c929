"""Intent scores in [0, 1]: chain-of-thought elicitation, rubric grading, dataset generation.

Each score is the larger of two models' outputs: a logistic function of lexicon-family
evidence (lexicon.py) and a character n-gram logistic model (ngram.py) fitted on
authored sentences, which carries paraphrases no lexicon lists. The lexicon part has
hand-set weights. Why hand-set and not fitted: the families are few and interpretable,
and there is no labeled real traffic to fit on; a fitted model on our own authored
sentences would mostly learn our writing style. Interactions carry most of the weight:
"explain" alone is an ordinary question, "explain your reasoning" is elicitation, and
"step by step" inside a how-to request is not.

A score is evidence about one request, not a verdict: honest students ask to "show your
work". Detection uses the *share* of such requests per account and campaign.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import NamedTuple

from distillguard.fingerprint.cues import count_families, flat_trie, scoring_view, trie_regex
from distillguard.fingerprint.lexicon import DG_COUNT_NOUNS, DG_MANY
from distillguard.fingerprint.native import accel
from distillguard.fingerprint.ngram import default_model

_NGRAM_GATE_PREFIXES = ("cot_", "rub_", "dg_", "ngram_gate")


class IntentScores(NamedTuple):
    cot: float
    rubric: float
    datagen: float


def _presence(counts: Mapping[str, int], family: str) -> float:
    """1 for one cue of the family, 1.5 for two or more: repetition adds little."""
    n = counts.get(family, 0)
    return 0.0 if n == 0 else (1.0 if n == 1 else 1.5)


def _family_sum(counts: Mapping[str, int], weights: Mapping[str, float], prefix: str) -> float:
    """Sum of weight * presence over the families in `counts` (few) rather than in `weights`."""
    return sum(
        weights[f] * (1.0 if n == 1 else 1.5)
        for f, n in counts.items()
        if n and f.startswith(prefix) and f in weights
    )


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


COT_WEIGHTS = {
    "bias": -4.2,
    "cot_elicit": 3.6,
    "cot_reason": 2.2,
    "cot_not_just": 2.0,
    "cot_step_strong": 3.2,
    "cot_step_weak": 0.7,
    "cot_show": 0.9,
    "cot_final": 1.2,
    "cot_problem": 1.0,
    "cot_self": 0.3,
    "cot_procedure": -1.8,
    "show_x_reasoning": 1.2,  # "explain" + "your reasoning" / "step by step"
    "final_x_reasoning": 1.0,  # "think ..." + "final answer"
    "reason_x_self": 1.8,  # "justify" + "your answer"
    "problem_x_shown_steps": 0.8,  # "solve ..." + "showing each step"
}

RUBRIC_WEIGHTS = {
    "bias": -4.5,
    "rub_grade": 1.6,
    "rub_target": 0.7,
    "rub_criteria": 1.4,
    "rub_pair": 1.4,
    "rub_verdict": 1.8,
    "code": -1.2,  # source code in the prompt (see lexicon.CODE_MARKERS)
    "grade_x_target": 1.4,  # "rate" + "the response"
    "grade_x_criteria": 1.2,  # "score" + "on a scale of 1-10" / "helpfulness"
}

DATAGEN_WEIGHTS = {
    "bias": -4.6,
    "dg_generate": 1.0,
    "dg_data": 2.0,
    "dg_items": 0.6,
    "dg_format": 1.0,
    "dg_diverse": 1.0,
    "code": -1.5,
    "quantity": 1.6,  # "50 ... questions"
    "large_quantity": 0.8,  # 20 or more
    "quantity_x_generate": 1.0,
    "data_x_generate": 1.0,
    "bulk_x_format": 1.0,  # (count or dataset words) + JSON/fields
    "quantity_x_data": 1.2,  # "10 paraphrases ... for training data"
}


def cot_from_counts(c: Mapping[str, int], family_sum: float | None = None) -> float:
    """`family_sum`: _family_sum(c, COT_WEIGHTS, "cot_") when the caller has it already."""
    w = COT_WEIGHTS
    reason = _presence(c, "cot_reason") or _presence(c, "cot_elicit")
    steps = _presence(c, "cot_step_strong") or _presence(c, "cot_step_weak")
    z = w["bias"] + (_family_sum(c, w, "cot_") if family_sum is None else family_sum)
    if reason or steps:
        z += w["show_x_reasoning"] * min(_presence(c, "cot_show"), 1.0)
        z += w["final_x_reasoning"] * min(_presence(c, "cot_final"), 1.0)
    if steps and c.get("cot_problem") and c.get("cot_show"):
        z += w["problem_x_shown_steps"]
    if reason:
        z += w["reason_x_self"] * min(_presence(c, "cot_self"), 1.0)
    return _sigmoid(z)


def rubric_from_counts(c: Mapping[str, int], family_sum: float | None = None) -> float:
    w = RUBRIC_WEIGHTS
    z = w["bias"] + w["code"] * _presence(c, "code")
    z += _family_sum(c, w, "rub_") if family_sum is None else family_sum
    if c.get("rub_grade"):
        z += w["grade_x_target"] * min(_presence(c, "rub_target"), 1.0)
        z += w["grade_x_criteria"] * min(_presence(c, "rub_criteria"), 1.0)
    return _sigmoid(z)


# The nouns as a trie (cues.trie_regex): the same longest-noun match as a plain
# alternation sorted longest first, several times faster in sre (this runs once per digit).
_COUNT_NOUN = r"\s*(?:[\w-]+\s+){0,3}?(?:" + trie_regex(list(DG_COUNT_NOUNS)) + ")"
# Starts with a character class, so sre skips quickly to candidate positions.
_DIGIT_QUANTITY = re.compile(r"(?P<num>[1-9](?<![0-9A-Za-z_.,][1-9])\d{0,5})(?!\d)" + _COUNT_NOUN)
_WORD_QUANTITY = re.compile(
    r"(?:\b(?:" + "|".join(re.escape(w.rstrip("$")) for w in DG_MANY) + r")\w*)" + _COUNT_NOUN
)


_NOUN_TRIE = (
    flat_trie(list(DG_COUNT_NOUNS), dict.fromkeys(DG_COUNT_NOUNS, False), word_start=False)
    if accel is not None
    else None
)


def max_count(view: str) -> int:
    """The largest <count> of the _DIGIT_QUANTITY matches in `view` (0 without any)."""
    best = 0
    for m in _DIGIT_QUANTITY.finditer(view):
        best = max(best, int(m.group("num")))
    return best


def _quantity(view: str, many_word: bool) -> tuple[float, float]:
    """(asks for >= 5 items, asks for >= 20 items) from "<count> <up to 3 words> <noun>"."""
    if accel is not None and _NOUN_TRIE is not None:
        best = accel.max_quantity(view, _NOUN_TRIE)  # same walk in C (test_accel.py)
    else:
        best = max_count(view)
    if best < 20 and many_word and _WORD_QUANTITY.search(view):
        best = 100
    return (1.0 if best >= 5 else 0.0), (1.0 if best >= 20 else 0.0)


def datagen_from_counts(c: Mapping[str, int], view: str, family_sum: float | None = None) -> float:
    w = DATAGEN_WEIGHTS
    z = w["bias"] + w["code"] * _presence(c, "code")
    z += _family_sum(c, w, "dg_") if family_sum is None else family_sum
    quantity = large = 0.0
    if any(c.get(f) for f in ("dg_generate", "dg_data", "dg_items", "dg_format", "dg_diverse", "dg_many")):
        # gated: the quantity regexes only run on prompts that could be datagen at all
        quantity, large = _quantity(view, bool(c.get("dg_many")))
    z += w["quantity"] * quantity + w["large_quantity"] * large
    if c.get("dg_generate"):
        z += w["quantity_x_generate"] * quantity + w["data_x_generate"] * min(_presence(c, "dg_data"), 1.0)
    z += w["quantity_x_data"] * quantity * min(_presence(c, "dg_data"), 1.0)
    if c.get("dg_format") and (quantity or c.get("dg_data")):
        z += w["bulk_x_format"]
    return _sigmoid(z)


def intent_scores(
    text: str, view: str | None = None, counts: Mapping[str, int] | None = None
) -> IntentScores:
    """All three scores: the larger of the lexicon score and the character n-gram score.

    Why the max: the two are alternative recognizers of the same request. The n-gram
    model catches paraphrases no lexicon lists; the lexicon catches phrasings the small
    n-gram training set never saw. On real ShareGPT prompts (tuning split) the n-gram
    model almost never exceeds 0.5 on its own, so the max leaves the rate on ordinary
    traffic where the lexicon puts it (see docs/fingerprint.md for both measurements).
    Without the n-gram data file the lexicon scores are used alone, and so they are for
    prompts with no lexicon cue and no `NGRAM_GATE` hint (most ordinary prompts): on the
    ShareGPT tuning split no such prompt reached 0.5 with the n-gram model.
    """
    if view is None:
        view = scoring_view(text)
    if counts is None:
        counts = count_families(view)
    # One pass over the (few) families: each intent's weighted terms, in the dict's order,
    # summed by sum() exactly as _family_sum sums them; and the n-gram gate.
    terms: tuple[list[float], list[float], list[float]] = ([], [], [])
    gated = cued = False
    for family, n in counts.items():
        found = _TERM_OF.get(family)
        if found is not None and n:
            terms[found[0]].append(found[1] * (1.0 if n == 1 else 1.5))
        cued = cued or family.startswith(_INTENT_PREFIXES)
        gated = gated or family.startswith(_NGRAM_GATE_PREFIXES)
    if cued:
        lexicon = (
            cot_from_counts(counts, sum(terms[0])),
            rubric_from_counts(counts, sum(terms[1])),
            datagen_from_counts(counts, view, sum(terms[2])),
        )
    else:  # no intent cue: the three functions' results depend on the "code" count only
        lexicon = _LEXICON_WITHOUT_CUES[min(counts.get("code", 0), 2)]
    model = default_model()
    if model is None or not gated:
        # No cue or hint at all: the n-gram model (about half the cost of enrich) is skipped.
        return IntentScores(*lexicon)
    cot, rubric, datagen = (max(p, _sigmoid(z)) for p, z in zip(lexicon, model.logits(text), strict=True))
    return IntentScores(cot, rubric, datagen)


# family -> (intent index, weight) for the families _family_sum adds for each intent
_TERM_OF: dict[str, tuple[int, float]] = {
    family: (index, weight)
    for index, (weights, prefix) in enumerate(
        ((COT_WEIGHTS, "cot_"), (RUBRIC_WEIGHTS, "rub_"), (DATAGEN_WEIGHTS, "dg_"))
    )
    for family, weight in weights.items()
    if family.startswith(prefix)
}


_INTENT_PREFIXES = ("cot_", "rub_", "dg_")
# What cot/rubric/datagen_from_counts return for counts without any intent family, by the
# number of "code" cues (0, 1, 2 or more): computed by those functions themselves.
_LEXICON_WITHOUT_CUES = tuple(
    (cot_from_counts(c), rubric_from_counts(c), datagen_from_counts(c, ""))
    for c in ({}, {"code": 1}, {"code": 2})
)


def cot_score(text: str) -> float:
    """How strongly the prompt asks the model to show/articulate its reasoning."""
    return intent_scores(text).cot


def rubric_score(text: str) -> float:
    """How strongly the prompt uses the model as a grader / reward model."""
    return intent_scores(text).rubric


def datagen_score(text: str) -> float:
    """How strongly the prompt asks for many samples / training data."""
    return intent_scores(text).datagen
