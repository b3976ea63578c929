"""Intent scores in [0, 1]: chain-of-thought elicitation, rubric grading, dataset generation.

Each score is a logistic function of lexicon-family evidence (lexicon.py), with
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

from distillguard.fingerprint.cues import count_families, scoring_view
from distillguard.fingerprint.lexicon import DG_COUNT_NOUNS, DG_MANY


def _presence(counts: Mapping[str, int], family: str) -> float:
    """1 for one cue of the family, 1.5 for two or more: repetition adds little."""
    n = counts.get(family, 0)
    return 0.0 if n == 0 else (1.0 if n == 1 else 1.5)


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


def cot_from_counts(c: Mapping[str, int]) -> float:
    w = COT_WEIGHTS
    reason = _presence(c, "cot_reason") or _presence(c, "cot_elicit")
    steps = _presence(c, "cot_step_strong") or _presence(c, "cot_step_weak")
    z = w["bias"] + sum(w[f] * _presence(c, f) for f in w if f.startswith("cot_"))
    if reason or steps:
        z += w["show_x_reasoning"] * min(_presence(c, "cot_show"), 1.0)
        z += w["final_x_reasoning"] * min(_presence(c, "cot_final"), 1.0)
    if steps and c.get("cot_problem") and c.get("cot_show"):
        z += w["problem_x_shown_steps"]
    if reason:
        z += w["reason_x_self"] * min(_presence(c, "cot_self"), 1.0)
    return _sigmoid(z)


def rubric_from_counts(c: Mapping[str, int]) -> float:
    w = RUBRIC_WEIGHTS
    z = w["bias"] + w["code"] * _presence(c, "code")
    z += sum(w[f] * _presence(c, f) for f in w if f.startswith("rub_"))
    if c.get("rub_grade"):
        z += w["grade_x_target"] * min(_presence(c, "rub_target"), 1.0)
        z += w["grade_x_criteria"] * min(_presence(c, "rub_criteria"), 1.0)
    return _sigmoid(z)


_COUNT_NOUN = (
    r"\s*(?:[\w-]+\s+){0,3}?(?:"
    + "|".join(sorted(map(re.escape, DG_COUNT_NOUNS), key=len, reverse=True))
    + ")"
)
# Starts with a character class, so sre skips quickly to candidate positions.
_DIGIT_QUANTITY = re.compile(r"(?P<num>[1-9](?<![0-9A-Za-z_.,][1-9])\d{0,5})(?!\d)" + _COUNT_NOUN)
_WORD_QUANTITY = re.compile(
    r"(?:\b(?:" + "|".join(re.escape(w.rstrip("$")) for w in DG_MANY) + r")\w*)" + _COUNT_NOUN
)


def _quantity(view: str, many_word: bool) -> tuple[float, float]:
    """(asks for >= 5 items, asks for >= 20 items) from "<count> <up to 3 words> <noun>"."""
    best = 0
    for m in _DIGIT_QUANTITY.finditer(view):
        best = max(best, int(m.group("num")))
    if best < 20 and many_word and _WORD_QUANTITY.search(view):
        best = 100
    return (1.0 if best >= 5 else 0.0), (1.0 if best >= 20 else 0.0)


def datagen_from_counts(c: Mapping[str, int], view: str) -> float:
    w = DATAGEN_WEIGHTS
    z = w["bias"] + w["code"] * _presence(c, "code")
    z += sum(w[f] * _presence(c, f) for f in w if f.startswith("dg_"))
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


def cot_score(text: str) -> float:
    """How strongly the prompt asks the model to show/articulate its reasoning."""
    return cot_from_counts(count_families(scoring_view(text)))


def rubric_score(text: str) -> float:
    """How strongly the prompt uses the model as a grader / reward model."""
    return rubric_from_counts(count_families(scoring_view(text)))


def datagen_score(text: str) -> float:
    """How strongly the prompt asks for many samples / training data."""
    view = scoring_view(text)
    return datagen_from_counts(count_families(view), view)
