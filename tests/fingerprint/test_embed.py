import json
from pathlib import Path

import numpy as np
import pytest

from distillguard.events.schema import RequestEvent
from distillguard.fingerprint import embed

pytestmark = pytest.mark.skipif(not embed.is_available(), reason="wordllama not installed")


@pytest.fixture(scope="module")
def embedder() -> embed.PromptEmbedder:
    return embed.PromptEmbedder(batch_size=8)


def test_vectors_are_unit_length_and_batched(embedder: embed.PromptEmbedder) -> None:
    texts = [f"question number {i} about the weather in a city \ud800" for i in range(20)] + [""]
    vectors = embedder.embed(texts)
    assert vectors.shape == (21, embed.DIM)
    assert np.allclose(np.linalg.norm(vectors[:20], axis=1), 1.0, atol=1e-3)
    assert not vectors[20].any()


def test_paraphrases_are_closer_than_unrelated_prompts(embedder: embed.PromptEmbedder) -> None:
    a, b, c = embedder.embed(
        [
            "How can I make my sourdough bread rise better?",
            "Tips for getting a better rise on sourdough loaves",
            "Explain the causes of the French Revolution",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.1


def test_embed_events_skips_events_without_text(embedder: embed.PromptEmbedder) -> None:
    events = [
        RequestEvent(request_id="a", ts_start=0.0, prompt_text="hello there"),
        RequestEvent(request_id="b", ts_start=0.0),
    ]
    ids, vectors = embedder.embed_events(events)
    assert ids == ["a"] and vectors.shape == (1, embed.DIM)


def test_english_prototype_scores_rank_held_out_cot_requests_first(embedder: embed.PromptEmbedder) -> None:
    fixtures = Path(__file__).parent / "fixtures"
    cases = [
        c
        for name in ("intent_test.json", "intent_test2.json")
        for c in json.loads((fixtures / name).read_text(encoding="utf-8"))["cases"]
        if c["lang"] == "en"
    ]
    scores = embedder.prototype_scores(embedder.embed([c["text"] for c in cases]))["cot"]
    pos = np.array([s for s, c in zip(scores, cases, strict=True) if c.get("cot")])
    neg = np.array([s for s, c in zip(scores, cases, strict=True) if not c.get("cot")])
    auc = float((pos[:, None] > neg[None, :]).mean())
    assert auc > 0.85
