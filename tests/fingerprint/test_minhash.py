import random

import pytest

from distillguard.fingerprint.minhash import (
    NUM_PERM,
    jaccard_estimate,
    lsh_bands,
    minhash_of_skeleton,
    minhash_signature,
    shingles,
)

VOCAB = [f"w{i}" for i in range(400)]


def _true_jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b)


def test_estimate_tracks_true_jaccard() -> None:
    rng = random.Random(7)
    errors = []
    for _ in range(60):
        base = rng.choices(VOCAB, k=80)
        other = list(base)
        for i in rng.sample(range(len(other)), rng.randint(0, 80)):
            other[i] = rng.choice(VOCAB)
        a, b = " ".join(base), " ".join(other)
        truth = _true_jaccard(shingles(a), shingles(b))
        est = jaccard_estimate(minhash_of_skeleton(a), minhash_of_skeleton(b))
        errors.append(abs(est - truth))
    # 64 permutations: standard error <= 0.0625, so the mean absolute error is well below it.
    assert sum(errors) / len(errors) < 0.05
    assert max(errors) < 0.2


def test_signature_shape_and_identity() -> None:
    sig = minhash_signature("Tell me a story about a dragon named Smaug who loves gold.")
    assert len(sig) == NUM_PERM and all(isinstance(x, int) for x in sig)
    assert (
        jaccard_estimate(sig, minhash_signature("tell me a story about a dragon named Bob who loves gold."))
        == 1.0
    )


def test_near_duplicates_share_an_lsh_band_and_unrelated_do_not() -> None:
    a = minhash_signature(
        "Write a detailed essay about the causes of the first world war and its consequences"
    )
    b = minhash_signature(
        "Write a detailed essay about the causes of the second world war and its consequences"
    )
    c = minhash_signature("How do I bake sourdough bread with a crispy crust at home")
    assert set(lsh_bands(a)) & set(lsh_bands(b))
    assert not set(lsh_bands(a)) & set(lsh_bands(c))


def test_lsh_rejects_impossible_banding() -> None:
    with pytest.raises(ValueError):
        lsh_bands([1] * 8, bands=4, rows=4)


def test_cjk_is_shingled_by_character_bigrams() -> None:
    assert "机器 器学" in shingles("机器学习")
