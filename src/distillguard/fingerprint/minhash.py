"""MinHash signatures of prompt skeletons, for near-duplicate linking across accounts.

Parameters (changing any of them invalidates stored signatures):
- input: the prompt *skeleton* (see prompt_skeleton.py), so template fills with different values
  and light paraphrases of one template land close together;
- shingles: word bigrams of the skeleton ("solve <n>", "<n> *", ...); runs of CJK
  characters, which have no spaces, are split into character bigrams first; a text of a
  single token is its own shingle;
- NUM_PERM = 64 permutations, SEED = 1729, computed by `rensa.RMinHash` (Rust, ~7 µs);
  values are unsigned 32-bit ints, identical across processes and machines.
- The standard error of a Jaccard estimate from 64 permutations is about
  sqrt(J(1-J)/64) <= 0.0625.
"""

from __future__ import annotations

import hashlib
import itertools
import re

from rensa import RMinHash

from distillguard.fingerprint.native import accel
from distillguard.fingerprint.prompt_skeleton import skeleton

NUM_PERM = 64
SEED = 1729
DEFAULT_BANDS = 16
DEFAULT_ROWS = 4  # 16 bands x 4 rows: pairs with Jaccard ~0.5 collide in some band half the time

_CJK_RUN = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]{2,}")


def _tokens(skeleton_text: str) -> list[str]:
    if not skeleton_text.isascii() and _CJK_RUN.search(skeleton_text):
        skeleton_text = _CJK_RUN.sub(
            lambda m: " ".join(m.group()[i : i + 2] for i in range(len(m.group()) - 1)), skeleton_text
        )
    return skeleton_text.split()


def shingles(skeleton_text: str) -> set[str]:
    """The shingle set a signature is computed from (exposed to test the estimator)."""
    tokens = _tokens(skeleton_text)
    if len(tokens) < 2:
        return {skeleton_text}
    return {f"{a} {b}" for a, b in itertools.pairwise(tokens)}


def _shingle_list(skeleton_text: str) -> list[str]:
    """`shingles` as a list with repeats: a MinHash is a minimum, so repeats change nothing."""
    text = skeleton_text
    if not text.isascii() and _CJK_RUN.search(text):
        text = _CJK_RUN.sub(lambda m: " ".join(m.group()[i : i + 2] for i in range(len(m.group()) - 1)), text)
    if accel is not None:
        pairs = accel.space_bigrams(text)
    else:
        pairs = list(map(" ".join, itertools.pairwise(text.split())))
    return pairs or [skeleton_text]


def minhash_of_skeleton(skeleton_text: str) -> list[int]:
    hasher = RMinHash(num_perm=NUM_PERM, seed=SEED)
    tokens = _shingle_list(skeleton_text)
    try:
        hasher.update(tokens)
    except UnicodeEncodeError:  # lone surrogates (broken client JSON): hash their raw code units
        hasher = RMinHash(num_perm=NUM_PERM, seed=SEED)
        hasher.update([t.encode("utf-8", "surrogatepass") for t in tokens])
    return list(hasher.digest())


def minhash_signature(text: str) -> list[int]:
    """64 ints: the MinHash signature of the skeleton of `text`."""
    return minhash_of_skeleton(skeleton(text))


def jaccard_estimate(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of the two shingle sets (share of equal positions)."""
    if len(a) != len(b) or not a:
        raise ValueError(f"signatures must have the same non-zero length, got {len(a)} and {len(b)}")
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def lsh_bands(signature: list[int], bands: int = DEFAULT_BANDS, rows: int = DEFAULT_ROWS) -> list[str]:
    """Bucket keys for locality-sensitive hashing: two signatures sharing any key are candidates.

    Probability that a pair with Jaccard J shares a key: 1 - (1 - J**rows) ** bands.
    Keys are "<band>:<16 hex>" strings, stable across processes.
    """
    if bands * rows > len(signature):
        raise ValueError(f"bands*rows = {bands * rows} exceeds signature length {len(signature)}")
    keys = []
    for band in range(bands):
        chunk = signature[band * rows : (band + 1) * rows]
        digest = hashlib.blake2b(",".join(map(str, chunk)).encode(), digest_size=8).hexdigest()
        keys.append(f"{band}:{digest}")
    return keys
