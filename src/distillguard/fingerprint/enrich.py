"""Fill an event's edge fingerprints from its text: what the gateway does per request.

Runs in the gateway's hot path, so it is one cue scan, one n-gram lookup, one skeleton
pass and one MinHash
(~tens of µs for a typical prompt; see bench/fingerprint_speed.py). It never overwrites:
events that already carry fingerprints (from the edge) or no text (retention
"fingerprints-only") are left as they are, so `enrich` is safe to call on any event.

Templated traffic repeats exact prompts a lot (a third to a half of the simulator's
events), and every fingerprint is a pure function of the prompt text, so results are
kept in a bounded LRU cache. The cache is keyed by a 128-bit BLAKE2b digest of the text,
not the text itself, so no prompt outlives its request in memory (retention settings
"fingerprints-only" and "none" promise that). Every stage reads at most the first
KEY_HEAD and the last KEY_TAIL characters of a prompt, so a long prompt is keyed by those
alone: repeated long prompts (pasted documents with a fixed question) hit the cache too,
and hashing the key costs the same bounded time for any prompt length.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import NamedTuple

from distillguard.events.schema import RequestEvent
from distillguard.fingerprint.cues import HEAD_CHARS, TAIL_CHARS, count_families, scoring_view
from distillguard.fingerprint.intent import intent_scores
from distillguard.fingerprint.language import lang_from_view
from distillguard.fingerprint.minhash import minhash_of_skeleton
from distillguard.fingerprint.ngram import NGRAM_HEAD, NGRAM_TAIL
from distillguard.fingerprint.prompt_skeleton import (
    SKELETON_CHARS,
    skeleton,
    stable_hash,
    system_prompt_hash,
    utf8,
)

CACHE_SIZE = 16384
# The most any stage reads from the start / the end of a prompt (skeleton, cue view, and
# the raw head/tail that ngram_text cuts before collapsing whitespace). Every stage also
# switches to its head+tail view at or below KEY_HEAD + KEY_TAIL characters.
KEY_HEAD = max(SKELETON_CHARS, HEAD_CHARS, 4 * NGRAM_HEAD)
KEY_TAIL = max(TAIL_CHARS, 4 * NGRAM_TAIL)


class PromptFingerprints(NamedTuple):
    skeleton_hash: str
    minhash: tuple[int, ...]  # immutable here; each event gets its own list
    cot_score: float
    rubric_score: float
    datagen_score: float
    lang: str


def prompt_fingerprints(text: str) -> PromptFingerprints:
    """Every text-derived fingerprint of one prompt (uncached)."""
    skel = skeleton(text)
    view = scoring_view(text)
    counts = count_families(view)
    scores = intent_scores(text, view, counts)
    return PromptFingerprints(
        skeleton_hash=stable_hash(skel),
        minhash=tuple(minhash_of_skeleton(skel)),
        cot_score=round(scores.cot, 4),
        rubric_score=round(scores.rubric, 4),
        datagen_score=round(scores.datagen, 4),
        lang=lang_from_view(view, counts),
    )


_cache: OrderedDict[bytes, PromptFingerprints] = OrderedDict()
_cache_lock = threading.Lock()  # the gateway's loop and the detector thread both enrich


def cache_key(text: str) -> bytes:
    """Digest of the part of `text` the fingerprints depend on (all of it up to 1,536 chars).

    Keys of long prompts hash KEY_HEAD + 1 + KEY_TAIL characters, so they never equal the
    key of a shorter prompt.
    """
    if len(text) > KEY_HEAD + KEY_TAIL:
        text = text[:KEY_HEAD] + "\x00" + text[-KEY_TAIL:]
    return hashlib.blake2b(utf8(text), digest_size=16).digest()


def _cached_fingerprints(text: str) -> PromptFingerprints:
    key = cache_key(text)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    computed = prompt_fingerprints(text)
    with _cache_lock:
        _cache[key] = computed
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return computed


def enrich(event: RequestEvent) -> RequestEvent:
    """Compute missing fingerprints in place from prompt_text/system_text; returns the event."""
    if event.system_hash is None and event.system_text is not None:
        event.system_hash = system_prompt_hash(event.system_text)
    text = event.prompt_text
    if text is None or event.skeleton_hash is not None:
        return event
    fp = _cached_fingerprints(text)
    event.skeleton_hash = fp.skeleton_hash
    event.minhash = list(fp.minhash)
    event.cot_score = fp.cot_score
    event.rubric_score = fp.rubric_score
    event.datagen_score = fp.datagen_score
    event.lang = fp.lang
    if not event.prompt_chars:
        event.prompt_chars = len(text)
    return event
