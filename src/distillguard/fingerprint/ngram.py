"""Character n-gram intent model: the paraphrase-tolerant half of the intent scores.

The lexicons (lexicon.py) are precise but only know the phrasings someone wrote down.
Character 3- and 4-grams generalize across inflection, word order and unseen
wordings ("ход своих мыслей" shares "мысл" with "ход мысли"; "Gedankenschritt" shares
"schritt"). One logistic model per intent, fitted by `fit_ngram.py` on authored
sentences (tests/fingerprint/fixtures) as positives and negatives, plus real prompts from
the *tuning* half of the ShareGPT split as negatives. Only n-grams with a non-negligible
weight are shipped (data/ngram_weights.json).

Cost: the n-gram set of at most NGRAM_HEAD + NGRAM_TAIL characters, intersected with the
weight table, so ~10-20 µs for a typical prompt.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

NGRAM_HEAD = 256
NGRAM_TAIL = 128
NGRAM_SIZES = (3, 4)  # ngrams() is written out for exactly these sizes
INTENTS = ("cot", "rubric", "datagen")
WEIGHTS_PATH = Path(__file__).parent / "data" / "ngram_weights.json"


def ngram_text(text: str) -> str:
    """Lowercased, whitespace-collapsed head+tail, padded so word edges form n-grams."""
    if len(text) > 4 * (NGRAM_HEAD + NGRAM_TAIL):
        text = text[: 4 * NGRAM_HEAD] + " " + text[-4 * NGRAM_TAIL :]
    flat = " ".join(text.lower().split())
    if len(flat) > NGRAM_HEAD + NGRAM_TAIL:
        flat = flat[:NGRAM_HEAD] + " " + flat[-NGRAM_TAIL:]
    return f" {flat} "


def ngrams(text: str) -> set[str]:
    flat = ngram_text(text)
    size = len(flat)
    return {flat[i : i + 3] for i in range(size - 2)} | {flat[i : i + 4] for i in range(size - 3)}


class NgramModel:
    def __init__(self, bias: dict[str, float], weights: dict[str, list[float]]) -> None:
        self.bias = tuple(bias[i] for i in INTENTS)
        self.weights = weights

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> NgramModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["ngram_sizes"]) != NGRAM_SIZES or data["head"] != NGRAM_HEAD:
            raise ValueError(f"{path} was fitted with other n-gram parameters; refit with fit_ngram.py")
        return cls(data["bias"], data["weights"])

    def logits(self, text: str) -> tuple[float, float, float]:
        """(cot, rubric, datagen) logits."""
        # map(dict.get) runs in C; `set & dict.keys()` would copy all 11k keys per call
        hits = [w for w in map(self.weights.get, ngrams(text)) if w is not None]
        bias = self.bias
        return (
            bias[0] + sum(w[0] for w in hits),
            bias[1] + sum(w[1] for w in hits),
            bias[2] + sum(w[2] for w in hits),
        )


@lru_cache(maxsize=1)
def default_model() -> NgramModel | None:
    """The shipped model, or None when its data file is missing (lexicon-only scores)."""
    if not WEIGHTS_PATH.exists():
        return None
    return NgramModel.load()
