"""Coarse language tag of a prompt: Unicode script first, then stopword votes for Latin.

Good enough to see an account switch languages or a campaign spread one template across
many; not a language identifier. Tags: en es de fr pt it (Latin, by stopwords), "latn"
(Latin, undecided), zh ja ko ru uk el ar he hi th (by script), "und" (no letters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from distillguard.fingerprint.cues import count_families, scoring_view
from distillguard.fingerprint.native import accel

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SCRIPT_WINDOW = 512  # chars inspected for the script decision
_NON_LATIN_SHARE = 0.15  # share of the window in one non-Latin script that decides it

# (first code point, last code point, tag); Latin-1/Extended letters count as Latin.
_SCRIPT_RANGES = (
    (0x0370, 0x03FF, "el"),
    (0x0400, 0x052F, "cyrl"),
    (0x0590, 0x05FF, "he"),
    (0x0600, 0x06FF, "ar"),
    (0x0900, 0x097F, "hi"),
    (0x0E00, 0x0E7F, "th"),
    (0x3040, 0x30FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "ko"),
    (0xF900, 0xFAFF, "han"),
)
_UKRAINIAN_LETTERS = frozenset("іїєґ")


def _script_of(ch: str) -> str | None:
    o = ord(ch)
    for lo, hi, tag in _SCRIPT_RANGES:
        if lo <= o <= hi:
            return tag
    return None


def script_counts(window: str) -> dict[str, int]:
    """Non-ASCII characters per script tag; tags in order of first appearance (max() ties)."""
    counts: dict[str, int] = {}
    for ch in _NON_ASCII.findall(window):
        tag = _script_of(ch)
        if tag is not None:
            counts[tag] = counts.get(tag, 0) + 1
    return counts


def _dominant_script(view: str) -> str | None:
    window = view[:_SCRIPT_WINDOW]
    if window.isascii():
        return None
    counts = accel.script_counts(window, _SCRIPT_RANGES) if accel is not None else script_counts(window)
    if not counts:
        return None
    if counts.get("kana", 0) >= 2:  # Japanese mixes kana into Han
        return "ja"
    tag, n = max(counts.items(), key=lambda kv: kv[1])
    if n < _NON_LATIN_SHARE * len(window.strip()):
        return None
    if tag == "han" or tag == "kana":
        return "zh" if tag == "han" else "ja"
    if tag == "cyrl":
        return "uk" if any(c in _UKRAINIAN_LETTERS for c in window) else "ru"
    return tag


def lang_from_view(view: str, family_counts: Mapping[str, int]) -> str:
    """Tag from an already computed `scoring_view` and its family counts (used by enrich)."""
    script = _dominant_script(view)
    if script is not None:
        return script
    votes = {k[5:]: v for k, v in family_counts.items() if k.startswith("lang_")}
    if votes:
        best = max(votes.values())
        leaders = sorted(code for code, v in votes.items() if v == best)
        if len(leaders) == 1:
            return leaders[0]
        return "en" if "en" in leaders else "latn"
    return "latn" if any(c.isalpha() for c in view[:64]) else "und"


def lang(text: str) -> str:
    view = scoring_view(text)
    return lang_from_view(view, count_families(view))
