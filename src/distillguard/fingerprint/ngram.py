"""Character n-gram intent model: the paraphrase-tolerant half of the intent scores.

The lexicons (lexicon.py) are precise but only know the phrasings someone wrote down.
Character 3- and 4-grams generalize across inflection, word order and unseen
wordings ("ход своих мыслей" shares "мысл" with "ход мысли"; "Gedankenschritt" shares
"schritt"). One logistic model per intent, fitted by `fit_ngram.py` on authored
sentences (tests/fingerprint/fixtures) as positives and negatives, plus real prompts from
the *tuning* half of the ShareGPT split as negatives. Only n-grams with a non-negligible
weight are shipped (data/ngram_weights.json).

Cost: the n-gram set of at most NGRAM_HEAD + NGRAM_TAIL characters, intersected with the
weight tables with C-level map/fsum (see `ngrams` and `logits`).
"""

from __future__ import annotations

import itertools
import json
from functools import lru_cache
from pathlib import Path

from distillguard.fingerprint.native import accel

NGRAM_HEAD = 256
NGRAM_TAIL = 128
NGRAM_SIZES = (3, 4)  # ngrams() is written out for exactly these sizes
INTENTS = ("cot", "rubric", "datagen")
WEIGHTS_PATH = Path(__file__).parent / "data" / "ngram_weights.json"
_SCALE = 10_000  # weights are stored as integers in units of 1e-4
_LANE_BITS = 32
_LANE_MASK = (1 << _LANE_BITS) - 1
_OFFSET = 1 << 19  # makes every lane non-negative; |weight| * _SCALE must stay below it


def _pack(w: list[float]) -> int:
    """Three quantized weights in 32-bit lanes, plus 1 in a fourth lane that counts hits.

    A sum of at most ~800 packed values cannot carry across lanes: each lane term is below
    2**20, and 800 * 2**20 < 2**32.
    """
    lanes = [round(x * _SCALE) + _OFFSET for x in w]
    if not all(0 <= lane < 2 * _OFFSET for lane in lanes):
        raise ValueError(f"n-gram weight out of range: {w}")
    return lanes[0] | lanes[1] << _LANE_BITS | lanes[2] << (2 * _LANE_BITS) | 1 << (3 * _LANE_BITS)


def _cut(text: str) -> str:
    """The raw head+tail ngram_text reads (collapsing whitespace happens after this cut)."""
    if len(text) > 4 * (NGRAM_HEAD + NGRAM_TAIL):
        return text[: 4 * NGRAM_HEAD] + " " + text[-4 * NGRAM_TAIL :]
    return text


def ngram_text(text: str) -> str:
    """Lowercased, whitespace-collapsed head+tail, padded so word edges form n-grams."""
    flat = " ".join(_cut(text).lower().split())
    if len(flat) > NGRAM_HEAD + NGRAM_TAIL:
        flat = flat[:NGRAM_HEAD] + " " + flat[-NGRAM_TAIL:]
    return f" {flat} "


def _quantized(w: list[float]) -> tuple[int, int, int]:
    """The integers `_pack` puts in its lanes, without the offset."""
    return round(w[0] * _SCALE), round(w[1] * _SCALE), round(w[2] * _SCALE)


# Precomputed slice objects: map(str.__getitem__, slices) cuts every n-gram in C, which is
# several times faster than a comprehension running bytecode per n-gram.
_MAX_FLAT = NGRAM_HEAD + NGRAM_TAIL + 3
_SLICES = {n: [slice(i, i + n) for i in range(_MAX_FLAT)] for n in NGRAM_SIZES}


def ngrams(text: str) -> set[str]:
    flat = ngram_text(text)
    size = len(flat)
    cut = flat.__getitem__
    grams = set(map(cut, _SLICES[3][: max(0, size - 2)]))
    grams.update(map(cut, _SLICES[4][: max(0, size - 3)]))
    return grams


class NgramModel:
    def __init__(self, bias: dict[str, float], weights: dict[str, list[float]]) -> None:
        self.bias = tuple(bias[i] for i in INTENTS)
        self.weights = weights
        # Speed: one dict lookup per n-gram returns all three weights packed into one int
        # (see _pack); summing the packed ints in C adds the three intents at once, exactly,
        # so the result does not depend on set iteration order (PYTHONHASHSEED).
        self._packed = {gram: _pack(w) for gram, w in weights.items()}
        # The C table sums the same quantized integers, so both paths give identical floats.
        self._table = (
            accel.NgramTable({gram: _quantized(w) for gram, w in weights.items()})
            if accel is not None
            else None
        )

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> NgramModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["ngram_sizes"]) != NGRAM_SIZES or data["head"] != NGRAM_HEAD:
            raise ValueError(f"{path} was fitted with other n-gram parameters; refit with fit_ngram.py")
        return cls(data["bias"], data["weights"])

    def logits(self, text: str) -> tuple[float, float, float]:
        """(cot, rubric, datagen) logits."""
        if self._table is not None:
            cot, rubric, datagen = self._table.sums_of_words(_cut(text).lower(), NGRAM_HEAD, NGRAM_TAIL)
            return (
                self.bias[0] + cot / _SCALE,
                self.bias[1] + rubric / _SCALE,
                self.bias[2] + datagen / _SCALE,
            )
        return self.python_logits(text)

    def python_logits(self, text: str) -> tuple[float, float, float]:
        """The reference computation: a sum over the n-gram set (used without the C build)."""
        total = sum(map(self._packed.get, ngrams(text), itertools.repeat(0)))
        hits = total >> (_LANE_BITS * 3)
        cot, rubric, datagen = (
            bias + (((total >> (_LANE_BITS * k)) & _LANE_MASK) - hits * _OFFSET) / _SCALE
            for k, bias in enumerate(self.bias)
        )
        return cot, rubric, datagen


@lru_cache(maxsize=1)
def default_model() -> NgramModel | None:
    """The shipped model, or None when its data file is missing (lexicon-only scores)."""
    if not WEIGHTS_PATH.exists():
        return None
    return NgramModel.load()
