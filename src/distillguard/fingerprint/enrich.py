"""Fill an event's edge fingerprints from its text: what the gateway does per request.

Runs in the gateway's hot path, so it is one cue scan, one n-gram lookup, one skeleton
pass and one MinHash
(~tens of µs for a typical prompt; see bench/fingerprint_speed.py). It never overwrites:
events that already carry fingerprints (from the edge) or no text (retention
"fingerprints-only") are left as they are, so `enrich` is safe to call on any event.
"""

from __future__ import annotations

from distillguard.events.schema import RequestEvent
from distillguard.fingerprint.cues import count_families, scoring_view
from distillguard.fingerprint.intent import intent_scores
from distillguard.fingerprint.language import lang_from_view
from distillguard.fingerprint.minhash import minhash_of_skeleton
from distillguard.fingerprint.prompt_skeleton import skeleton, stable_hash, system_prompt_hash


def enrich(event: RequestEvent) -> RequestEvent:
    """Compute missing fingerprints in place from prompt_text/system_text; returns the event."""
    if event.system_hash is None and event.system_text is not None:
        event.system_hash = system_prompt_hash(event.system_text)
    text = event.prompt_text
    if text is None or event.skeleton_hash is not None:
        return event
    skel = skeleton(text)
    event.skeleton_hash = stable_hash(skel)
    event.minhash = minhash_of_skeleton(skel)
    view = scoring_view(text)
    counts = count_families(view)
    scores = intent_scores(text, view, counts)
    event.cot_score = round(scores.cot, 4)
    event.rubric_score = round(scores.rubric, 4)
    event.datagen_score = round(scores.datagen, 4)
    event.lang = lang_from_view(view, counts)
    if not event.prompt_chars:
        event.prompt_chars = len(text)
    return event
