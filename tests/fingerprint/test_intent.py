"""Intent scores on authored sentence sets (tests/fingerprint/fixtures, not simulator text).

intent_dev/test/test2/test3 and intent_train_extra are training data of the n-gram model
by now (each was held out when first written; docs/fingerprint.md lists what each measured
then), so on them these are regression tests. intent_test4.json is excluded from fitting
(fit_ngram.HELD_OUT): its thresholds sit just under what it measured when first run.
"""

import json
from pathlib import Path

import pytest

from distillguard.fingerprint.intent import cot_score, datagen_score, rubric_score

FIXTURES = Path(__file__).parent / "fixtures"
SCORERS = {"cot": cot_score, "rubric": rubric_score, "datagen": datagen_score}
LANGS = ("en", "zh", "es", "ru", "de", "fr")


def _cases(name: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["cases"]


def _rates(cases: list[dict], intent: str) -> tuple[float, float]:
    scorer = SCORERS[intent]
    pos = [scorer(c["text"]) for c in cases if c.get(intent)]
    neg = [scorer(c["text"]) for c in cases if not c.get(intent)]
    return sum(s > 0.5 for s in pos) / len(pos), sum(s > 0.5 for s in neg) / len(neg)


@pytest.mark.parametrize(
    "fixture", ["intent_dev.json", "intent_test.json", "intent_test2.json", "intent_test3.json"]
)
@pytest.mark.parametrize("intent", list(SCORERS))
def test_recall_and_false_positive_rate(fixture: str, intent: str) -> None:
    recall, false_positive_rate = _rates(_cases(fixture), intent)
    assert recall >= 0.9, f"{intent} recall {recall:.2f} on {fixture}"
    assert false_positive_rate <= 0.05, f"{intent} false-positive rate {false_positive_rate:.2f} on {fixture}"


@pytest.mark.parametrize(("intent", "min_recall"), [("cot", 0.7), ("rubric", 0.85), ("datagen", 0.85)])
def test_held_out_set(intent: str, min_recall: float) -> None:
    recall, false_positive_rate = _rates(_cases("intent_test4.json"), intent)
    assert recall >= min_recall, f"{intent} held-out recall {recall:.2f}"
    assert false_positive_rate <= 0.05, f"{intent} held-out false-positive rate {false_positive_rate:.2f}"


def test_held_out_file_is_excluded_from_fitting() -> None:
    from distillguard.fingerprint.fit_ngram import HELD_OUT

    assert "intent_test4.json" in HELD_OUT


@pytest.mark.parametrize("lang", LANGS)
def test_cot_paraphrases_are_recognized_in_each_language(lang: str) -> None:
    cases = [c for c in _cases("intent_test.json") + _cases("intent_test2.json") if c["lang"] == lang]
    positives = [cot_score(c["text"]) for c in cases if c.get("cot")]
    ordinary = [cot_score(c["text"]) for c in cases if not any(c.get(k) for k in SCORERS)]
    assert len(positives) >= 3 and len(ordinary) >= 3
    assert sum(s > 0.5 for s in positives) >= len(positives) - 1
    assert max(ordinary) < 0.5, "an ordinary question looked like CoT elicitation"


def test_how_to_step_by_step_is_not_reasoning_elicitation() -> None:
    assert cot_score("How do I install Docker step by step on Ubuntu?") < 0.2
    assert cot_score("Solve 3x + 4 = 19 step by step.") > 0.5


def test_scores_are_probabilities_and_empty_text_is_neutral_low() -> None:
    for scorer in SCORERS.values():
        assert 0.0 <= scorer("") < 0.1
        assert 0.0 <= scorer("x" * 100_000) <= 1.0


def test_long_prompts_are_scored_on_head_and_tail() -> None:
    filler = "lorem ipsum dolor sit amet " * 2000
    assert cot_score(filler + " Let's think step by step.") > 0.5
    assert cot_score("Let's think step by step. " + filler) > 0.5
    assert cot_score(filler[:20000] + " Let's think step by step. " + filler[:20000]) < 0.5


def test_scores_without_intent_cues_equal_the_lexicon_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    from distillguard.fingerprint import intent

    monkeypatch.setattr(intent, "default_model", lambda: None)
    for counts in ({}, {"code": 1}, {"lang_en": 3, "code": 2}, {"code": 5, "ngram_gate": 1}):
        expected = (
            intent.cot_from_counts(counts),
            intent.rubric_from_counts(counts),
            intent.datagen_from_counts(counts, "write 50 questions"),
        )
        assert tuple(intent.intent_scores("x", "write 50 questions", counts)) == expected
