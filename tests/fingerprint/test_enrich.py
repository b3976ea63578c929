import json
import os
import random
import subprocess
import sys
from pathlib import Path

from distillguard.events.schema import RequestEvent
from distillguard.fingerprint import enrich, system_prompt_hash


def _event(**kw: object) -> RequestEvent:
    return RequestEvent(request_id="r1", ts_start=0.0, **kw)  # type: ignore[arg-type]


def test_enrich_fills_every_fingerprint() -> None:
    e = enrich(_event(prompt_text="Let's think step by step: what is 12*7?", system_text="Be brief."))
    assert e.skeleton_hash and len(e.skeleton_hash) == 16
    assert e.minhash is not None and len(e.minhash) == 64
    for score in (e.cot_score, e.rubric_score, e.datagen_score):
        assert score is not None and 0.0 <= score <= 1.0
    assert e.cot_score is not None and e.cot_score > 0.5
    assert e.lang == "en"
    assert e.system_hash == system_prompt_hash("Be brief.")
    assert e.prompt_chars == len("Let's think step by step: what is 12*7?")


def test_enrich_is_a_noop_without_text() -> None:
    e = _event()
    before = e.__struct_fields__
    snapshot = {f: getattr(e, f) for f in before}
    assert enrich(e) is e
    assert {f: getattr(e, f) for f in before} == snapshot


def test_enrich_keeps_existing_fingerprints() -> None:
    e = _event(prompt_text="something new", skeleton_hash="edgehash00000000", cot_score=0.25, system_hash="s")
    enrich(e)
    assert e.skeleton_hash == "edgehash00000000" and e.cot_score == 0.25 and e.minhash is None
    assert e.system_hash == "s"


def test_fingerprints_are_identical_across_processes() -> None:
    code = (
        "import json, msgspec\n"
        "from distillguard.events.schema import RequestEvent\n"
        "from distillguard.fingerprint import enrich\n"
        "e = enrich(RequestEvent(request_id='x', ts_start=0,"
        " prompt_text='Rate answer A vs B, 1-10. 请一步一步推理', system_text='sys'))\n"
        "print(json.dumps([e.skeleton_hash, e.minhash, e.cot_score, e.rubric_score, e.datagen_score,"
        " e.lang, e.system_hash]))\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    outputs = set()
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": src}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(out.stdout)
    assert len(outputs) == 1
    assert json.loads(outputs.pop())[0]


def test_enrich_survives_hostile_text() -> None:
    for text in ("bad \ud800 surrogate", "\x00\x01", "x" * 1_000_000, "   ", "😀" * 5000, "\u202e rtl"):
        e = enrich(_event(prompt_text=text, system_text="s\udc80"))
        assert e.skeleton_hash and e.minhash and e.lang and e.system_hash
        assert e.cot_score is not None and 0.0 <= e.cot_score <= 1.0


def test_cached_repeat_matches_uncached_and_owns_its_minhash() -> None:
    from distillguard.fingerprint.enrich import prompt_fingerprints

    text = "Grade the response below on a scale of 1-10 and explain your reasoning step by step."
    first = enrich(_event(prompt_text=text))
    assert first.minhash is not None
    first.minhash[0] = -1  # a consumer mutating its event must not leak into the cache
    second = enrich(_event(prompt_text=text))
    fresh = prompt_fingerprints(text)
    assert second.minhash == list(fresh.minhash) and second.minhash[0] != -1
    assert (
        second.skeleton_hash,
        second.cot_score,
        second.rubric_score,
        second.datagen_score,
        second.lang,
    ) == (
        fresh.skeleton_hash,
        fresh.cot_score,
        fresh.rubric_score,
        fresh.datagen_score,
        fresh.lang,
    )


def test_long_prompts_are_cached_by_the_head_and_tail_every_stage_reads() -> None:
    from distillguard.fingerprint.enrich import KEY_HEAD, KEY_TAIL, cache_key, prompt_fingerprints

    rng = random.Random(3)
    words = ["Please", "think", "step", "by", "rate", "x", "=", "1-10", "\n", "Paris", "数据", "ÉTAPE"]

    def text_of(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n))

    for _ in range(30):
        head, tail = text_of(400)[:KEY_HEAD], text_of(200)[-KEY_TAIL:]
        a = head + text_of(rng.randrange(1, 300)) + tail
        b = head + text_of(rng.randrange(1, 300)) + tail
        # the middle is never read: same fingerprints, same key
        assert prompt_fingerprints(a) == prompt_fingerprints(b)
        assert cache_key(a) == cache_key(b)
        assert enrich(_event(prompt_text=b)).prompt_chars == len(b)
    short = "x" * (KEY_HEAD + KEY_TAIL)
    assert cache_key(short) != cache_key(short + "x")  # the long-key form differs from any short one
    assert cache_key("a" * 5000) != cache_key("a" * 5000 + "b")  # the tail is part of the key
