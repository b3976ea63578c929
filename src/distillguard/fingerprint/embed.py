"""Optional semantic embeddings of prompts, batched off the hot path (needs `wordllama`).

What they add over the edge fingerprints: MinHash links prompts that share words; an
embedding also links prompts that share *meaning* (paraphrased templates, the same
question reworded), and gives the detector a topic vector per prompt for measuring an
account's topic coverage breadth. They also give a second, semantic intent signal
(`prototype_scores`): cosine similarity to a few English prototype requests. On our
authored held-out sets that signal separates intents well in English (AUC ~0.9-0.97) and
poorly across languages (wordllama is English-centric), so it complements, never
replaces, the multilingual lexicon scores.

Nothing else in distillguard imports this module; everything works without it. The model
ships inside the `wordllama` wheel: we load it with downloads disabled. Its loader looks
for the tokenizer in `<cache_dir>/tokenizers/`, which is where the wheel keeps it, so
passing the package directory as `cache_dir` finds both files without touching
site-packages or the network.

Cost: roughly 0.1-0.5 ms per prompt on one core in batches of 256 (prompts truncated to
MAX_CHARS): fine for a background worker, far too slow for the request path.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from distillguard.events.schema import RequestEvent

MAX_CHARS = 1024  # prompt head that is embedded
DIM = 256

# Authored English prototypes (not simulator text). Max cosine over each list.
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "cot": (
        "Think step by step and show your reasoning before the final answer.",
        "Explain your thought process in detail.",
        "Show your work.",
        "Walk me through how you solved it.",
    ),
    "rubric": (
        "Rate the response on a scale of 1 to 10 according to the criteria.",
        "Which of the two answers is better? Judge them.",
        "Grade this output for helpfulness and accuracy.",
    ),
    "datagen": (
        "Generate 100 diverse question-answer pairs as JSON for a training dataset.",
        "Create many examples of training data.",
        "Write 50 synthetic conversations.",
    ),
}


def is_available() -> bool:
    """True when `wordllama` is installed (the `embeddings` extra)."""
    return importlib.util.find_spec("wordllama") is not None


class PromptEmbedder:
    """Batched, L2-normalized 256-d prompt embeddings; the model loads on first use."""

    def __init__(self, batch_size: int = 256, max_chars: int = MAX_CHARS) -> None:
        if not is_available():
            raise RuntimeError("semantic embeddings need the optional 'wordllama' package")
        self.batch_size = batch_size
        self.max_chars = max_chars
        self._model: Any = None
        self._prototypes: dict[str, np.ndarray] | None = None

    def _load(self) -> Any:
        if self._model is None:
            import wordllama
            from wordllama import WordLlama

            package_dir = Path(wordllama.__file__).parent
            self._model = WordLlama.load(cache_dir=package_dir, disable_download=True)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 256) float32, rows of unit length (empty text -> zero row)."""
        import numpy as np

        model = self._load()
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            # "replace" drops lone surrogates, which the tokenizer rejects
            chunk = [
                t[: self.max_chars].encode("utf-8", "replace").decode("utf-8")
                for t in texts[start : start + self.batch_size]
            ]
            nonempty = [i for i, t in enumerate(chunk) if t.strip()]
            if nonempty:
                vectors = model.embed([chunk[i] for i in nonempty], norm=True)
                out[[start + i for i in nonempty]] = np.asarray(vectors, dtype=np.float32)
        return out

    def embed_events(self, events: Iterable[RequestEvent]) -> tuple[list[str], np.ndarray]:
        """(request_ids, vectors) for the events that carry prompt text."""
        with_text = [e for e in events if e.prompt_text]
        return [e.request_id for e in with_text], self.embed([e.prompt_text or "" for e in with_text])

    def prototype_scores(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Per intent, the max cosine similarity of each vector to that intent's prototypes."""
        if self._prototypes is None:
            self._prototypes = {k: self.embed(list(v)) for k, v in PROTOTYPES.items()}
        return {k: (vectors @ p.T).max(axis=1) for k, p in self._prototypes.items()}
