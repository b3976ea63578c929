"""Edge fingerprints of a request: cheap, pure functions of its text (see docs/fingerprint.md).

`enrich(event)` fills RequestEvent's fingerprint fields; the functions below are what it
is built from, usable on their own. Optional semantic embeddings live in
`distillguard.fingerprint.embed` (needs `wordllama`; never imported here).
"""

from distillguard.fingerprint.enrich import enrich
from distillguard.fingerprint.intent import cot_score, datagen_score, rubric_score
from distillguard.fingerprint.language import lang
from distillguard.fingerprint.minhash import (
    NUM_PERM,
    jaccard_estimate,
    lsh_bands,
    minhash_of_skeleton,
    minhash_signature,
    shingles,
)
from distillguard.fingerprint.prompt_skeleton import skeleton, skeleton_hash, stable_hash, system_prompt_hash

__all__ = [
    "NUM_PERM",
    "cot_score",
    "datagen_score",
    "enrich",
    "jaccard_estimate",
    "lang",
    "lsh_bands",
    "minhash_of_skeleton",
    "minhash_signature",
    "rubric_score",
    "shingles",
    "skeleton",
    "skeleton_hash",
    "stable_hash",
    "system_prompt_hash",
]
