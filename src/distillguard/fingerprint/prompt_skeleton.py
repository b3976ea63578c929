"""Prompt skeletons: the template left when the variable parts of a prompt are masked.

Harvesters fill one template with many values ("Solve: 37 * 12 ..."), so prompts that
differ only in numbers, names, quoted material, links or pasted code share a skeleton.
Masked: fenced code blocks -> <code>, URLs -> <url>, e-mail addresses -> <email>,
quoted spans ("..", '..', “..”, «..», 「..」, `..`) -> <q>, numbers -> <n>, capitalized
words that do not start a sentence (names, places, products; a run of them is one
<name>) -> <name>. The rest is
lowercased and whitespace-collapsed.
"""

from __future__ import annotations

import hashlib
import re

from distillguard.fingerprint.native import accel

# Only the head of a very long prompt is skeletonized: templates put their fixed part
# first, and this bounds the cost of a pasted document.
SKELETON_CHARS = 1024

_CODE_BLOCK = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_URL = re.compile(r"(?:https?|ftp)://\S+|\bwww\.\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

_UPPER = "A-ZÀ-ÖØ-ÞΑ-ΩА-ЯЁ"
# Separate passes, each starting with a character class, run faster than one alternation:
# sre can then skip ahead to candidate positions instead of trying every branch everywhere.
_QUOTED = re.compile(
    r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|«[^»\n]{1,300}»|„[^“”\n]{1,300}[“”]"
    r"|「[^」\n]{1,300}」|『[^』\n]{1,300}』|`[^`\n]{1,300}`|'(?<!\w')[^'\n]{1,300}'(?!\w)"
)
_QUOTE_CHARS = "\"“«„「『`'"
_ANY_QUOTE = re.compile("[" + re.escape(_QUOTE_CHARS) + "]")  # one scan instead of eight
_NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)*")
# A capitalized word whose previous word does not end a sentence; a run of them is one name.
_NAME = re.compile(rf"[{_UPPER}](?<=[^.!?:;\"”»」'\s] .)[\w'-]+(?: [{_UPPER}][\w'-]+)*")


def skeleton(text: str) -> str:
    """The normalized template of `text` (see module docstring)."""
    text = text[:SKELETON_CHARS]
    if "```" in text:
        text = _CODE_BLOCK.sub(" <code> ", text)
    if "://" in text or "www." in text:
        text = _URL.sub("<url>", text)
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    if _ANY_QUOTE.search(text):
        text = _QUOTED.sub("<q>", text)
    if accel is not None:  # the same two steps in C (tests/fingerprint/test_accel.py)
        text = _NAME.sub("<name>", accel.mask_numbers(text, "<n>"))
        return accel.collapse_whitespace(text.lower())
    text = _NUMBER.sub("<n>", text)
    text = _NAME.sub("<name>", text)
    return " ".join(text.lower().split())


def utf8(text: str) -> bytes:
    """UTF-8 bytes; lone surrogates (broken client JSON) pass through as their code units.

    Same bytes as text.encode("utf-8", "surrogatepass"), but valid text takes str.encode's
    fast path, which any error handler other than "strict" turns off (~40x slower on ASCII).
    """
    try:
        return text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def stable_hash(text: str) -> str:
    """16 hex chars of BLAKE2b: stable across processes (unlike `hash()`)."""
    return hashlib.blake2b(utf8(text), digest_size=8).hexdigest()


def skeleton_hash(text: str) -> str:
    return stable_hash(skeleton(text))


def system_prompt_hash(system_text: str) -> str:
    """`RequestEvent.system_hash`: sha256 prefix of the exact system prompt text.

    Byte-for-byte the gateway's and the simulator's rule (sha256(text)[:16], no
    normalization), so events enriched here join events recorded there.
    """
    return hashlib.sha256(utf8(system_text)).hexdigest()[:16]
