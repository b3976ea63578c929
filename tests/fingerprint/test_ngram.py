import json

import pytest

from distillguard.fingerprint import intent
from distillguard.fingerprint.ngram import (
    NGRAM_HEAD,
    NGRAM_TAIL,
    WEIGHTS_PATH,
    NgramModel,
    default_model,
    ngrams,
)


def test_ngrams_cover_word_edges_and_are_bounded() -> None:
    grams = ngrams("Step by STEP")
    assert {" st", "ste", "tep", "ep ", " ste", "step"} <= grams
    long_text = "abcdefghij " * 10_000
    assert max(len(g) for g in ngrams(long_text)) == 4
    assert len(ngrams(long_text)) < 2 * (NGRAM_HEAD + NGRAM_TAIL + 2)


def test_shipped_weights_match_the_code() -> None:
    data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    assert data["head"] == NGRAM_HEAD and data["tail"] == NGRAM_TAIL
    assert data["trained_on"]["authored"] > 300
    model = default_model()
    assert model is not None and len(model.weights) > 1000


def test_model_rejects_weights_fitted_with_other_parameters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    data["head"] = NGRAM_HEAD + 1
    path = tmp_path / "w.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError):
        NgramModel.load(path)


def test_ngram_model_recognizes_an_inflected_paraphrase_the_lexicon_misses() -> None:
    text = "Schreib zuerst auf, wie du vorgehst und was du ausschließt, danach die Antwort."
    lexicon_only = intent.cot_from_counts(intent.count_families(intent.scoring_view(text)))
    assert lexicon_only < 0.5 < intent.cot_score(text)


def test_scores_fall_back_to_the_lexicon_without_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intent, "default_model", lambda: None)
    text = "Let's think step by step."
    view = intent.scoring_view(text)
    assert intent.cot_score(text) == intent.cot_from_counts(intent.count_families(view))


def test_packed_logits_equal_the_plain_weight_sums() -> None:
    model = default_model()
    assert model is not None
    for text in ("Explain your reasoning step by step", "Rate answer A vs B", "生成100条问答对", "hello"):
        expected = list(model.bias)
        for gram in ngrams(text):
            for k, w in enumerate(model.weights.get(gram, [0.0, 0.0, 0.0])):
                expected[k] += w
        assert model.logits(text) == pytest.approx(expected, abs=1e-3)
