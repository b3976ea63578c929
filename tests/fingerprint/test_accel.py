"""The optional C accelerator must give exactly what the pure-Python reference gives."""

import random

import pytest

from distillguard.fingerprint import cues
from distillguard.fingerprint.native import accel
from distillguard.fingerprint.ngram import NGRAM_HEAD, NGRAM_SIZES, NGRAM_TAIL, default_model, ngram_text

pytestmark = pytest.mark.skipif(accel is None, reason="C accelerator not built or disabled")

_PIECES = [*" _-.,'\"`éÉßё一步２xA9", "  ", "\n", "\u0301", "🙂", "\ud800", "\x1c", "\u3000", "\xa0", "İ"]


def _fuzz_texts(n: int, seed: int) -> list[str]:
    """Cue-dense random text: cue fragments glued by word and non-word characters."""
    rng = random.Random(seed)
    cue_list = sorted(cues.CUE_FAMILIES)
    texts = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randrange(1, 25)):
            cue = rng.choice(cue_list)
            if rng.random() < 0.3:  # a cut or extended cue: prefixes, word ends, inflections
                cue = cue[: rng.randrange(1, len(cue) + 1)] + rng.choice(["", "s", "ing", "_", "ed"])
            parts.append(cue)
            parts.append(rng.choice(_PIECES))
        texts.append("".join(parts))
    return texts


def test_cue_scan_matches_the_regex_on_fuzzed_text() -> None:
    texts = _fuzz_texts(3000, seed=7)
    assert sum(len(cues.WORD_CUES.findall(t)) for t in texts) > 10000  # the fuzz does hit cues
    for text in texts:
        assert cues.find_word_cues(text) == cues.WORD_CUES.findall(text), text
        assert cues.find_free_cues(text) == cues.FREE_CUES.findall(text), text


def test_cue_scan_edges() -> None:
    for text in ["", "a", "rate", "rate ", "_rate", "rated", "x" * 5000, "一步一步", "final answer"]:
        assert cues.find_word_cues(text) == cues.WORD_CUES.findall(text)
        assert cues.find_free_cues(text) == cues.FREE_CUES.findall(text)
    with pytest.raises(TypeError):
        cues.find_word_cues(b"bytes")  # type: ignore[arg-type]


def test_ngram_sums_match_the_set_based_reference() -> None:
    model = default_model()
    assert model is not None and model._table is not None
    texts = [*_fuzz_texts(1000, seed=11), "", "a", "ab", "Explain your reasoning step by step", "🙂" * 20]
    for text in texts:
        assert model.logits(text) == model.python_logits(text), text


def test_sums_of_words_equals_sums_of_the_flat_text() -> None:
    model = default_model()
    assert model is not None and model._table is not None
    table = model._table
    head, tail = NGRAM_HEAD, NGRAM_TAIL
    edge = ["", " ", "\t\n", " a ", "x" * (head + tail), "x" * (head + tail + 1), "y " * (head + tail)]
    edge += ["ab " * k for k in range(120, 140)]  # collapsed lengths around head + tail
    for text in [*_fuzz_texts(1000, seed=19), *edge]:
        lowered = text.lower()
        assert table.sums_of_words(lowered, head, tail) == table.sums(ngram_text(lowered)), text


def test_ngram_table_counts_each_distinct_ngram_once() -> None:
    assert accel is not None
    table = accel.NgramTable({"abc": (1, 10, 100), "bcd": (2, 0, 0), "abcd": (0, 0, 7)})
    assert table.sums("abcd", NGRAM_SIZES) == (3, 10, 107)
    assert table.sums("abcabcabc", NGRAM_SIZES) == (1, 10, 100)  # "abc" three times counts once
    assert table.sums("xyz", NGRAM_SIZES) == (0, 0, 0)
    assert table.sums(ngram_text("ABCD"), NGRAM_SIZES) == (3, 10, 107)
    with pytest.raises(ValueError):
        accel.NgramTable({"abcde": (1, 1, 1)})


def test_family_counts_match_the_reference_in_value_and_order() -> None:
    for text in [*_fuzz_texts(1000, seed=13), "", "explain your reasoning. 一步一步思考 rate$ rate"]:
        view = cues.scoring_view(text)
        fast, reference = cues.count_families(view), cues.python_count_families(view)
        assert list(fast.items()) == list(reference.items()), text


def test_bigrams_match_str_split() -> None:
    import itertools

    assert accel is not None
    for text in [*_fuzz_texts(500, seed=17), "", "one", " a  b\tc\u3000d ", "x y"]:
        assert accel.space_bigrams(text) == list(map(" ".join, itertools.pairwise(text.split()))), text


def test_number_masking_and_whitespace_match_the_regex_and_split() -> None:
    from distillguard.fingerprint.prompt_skeleton import _NUMBER

    assert accel is not None
    digits = ["1", "12", "3.5", "1,000", "12:30", "1/2", "2-3", "٣", "²", "①", "１２", "-", ".", "5.", ",7"]
    rng = random.Random(23)
    texts = [*_fuzz_texts(500, seed=29), "", "7", "a1b", "1.2.3..4", "x 1-2-3- y"]
    texts += [
        "".join(rng.choice([*digits, *_PIECES]) for _ in range(rng.randrange(1, 30))) for _ in range(2000)
    ]
    for text in texts:
        assert accel.mask_numbers(text, "<n>") == _NUMBER.sub("<n>", text), text
        assert accel.collapse_whitespace(text) == " ".join(text.split()), text


def test_script_counts_match_the_reference_in_value_and_order() -> None:
    from distillguard.fingerprint import language

    assert accel is not None
    rng = random.Random(31)
    alphabet = [*"aé", "ж", "і", "α", "א", "ع", "ह", "ก", "か", "カ", "中", "한", "豈", "🙂", "\ud800"]
    for _ in range(2000):
        window = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        fast = accel.script_counts(window, language._SCRIPT_RANGES)
        assert list(fast.items()) == list(language.script_counts(window).items()), window


def test_quantity_walk_matches_the_regex() -> None:
    from distillguard.fingerprint import intent
    from distillguard.fingerprint.lexicon import DG_COUNT_NOUNS

    assert accel is not None and intent._NOUN_TRIE is not None
    rng = random.Random(37)
    parts = [*DG_COUNT_NOUNS[:12], "5", "12", "1234567", "20", "٣", "x", "-", "of", "new", "a5", ".7", ",8"]
    parts += [" ", "  ", "\n", "\u3000", "_", "e-mail", "questionsx", "9999999"]
    texts = ["".join(rng.choice(parts) for _ in range(rng.randrange(1, 20))) for _ in range(4000)]
    texts += ["generate 50 new diverse questions", "1 2 3 4 questions", "a 5 b c d e questions", "5"]
    nonzero = 0
    for text in texts:
        expected = intent.max_count(text)
        nonzero += expected > 0
        assert accel.max_quantity(text, intent._NOUN_TRIE) == expected, text
    assert nonzero > 500
