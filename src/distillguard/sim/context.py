"""What every persona and attack generator gets: the world, the string table, real prompts, models."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from distillguard.sim.batch import StringTable
from distillguard.sim.scenario import Scenario
from distillguard.sim.text.sharegpt import PromptCorpus, load_corpus
from distillguard.sim.world import World


@dataclass
class RealPrompts:
    """Real prompts interned in the string table, with per-conversation offsets for multi-turn replay."""

    all_idx: np.ndarray  # string index of every user turn
    all_len: np.ndarray  # its length in characters
    conv_first: np.ndarray  # position in all_idx of each conversation's first user turn
    conv_turns: np.ndarray  # number of user turns in each conversation
    coding_idx: np.ndarray
    short_idx: np.ndarray
    doc_texts: tuple[str, ...]
    short_texts: tuple[str, ...]


@dataclass
class SimContext:
    scenario: Scenario
    world: World
    strings: StringTable = field(default_factory=StringTable)

    @property
    def start(self) -> float:
        return self.scenario.start_ts

    @property
    def end(self) -> float:
        return self.scenario.end_ts

    @property
    def days(self) -> float:
        return self.scenario.days

    @cached_property
    def corpus(self) -> PromptCorpus:
        return load_corpus(self.scenario.prompt_split)

    @cached_property
    def real(self) -> RealPrompts:
        c = self.corpus
        turns = [t for conv in c.conversations for t in conv.user_turns]
        all_idx = self.strings.extend(turns)
        n_turns = np.array([len(conv.user_turns) for conv in c.conversations], dtype=np.int64)
        first = np.cumsum(n_turns) - n_turns
        return RealPrompts(
            all_idx=all_idx,
            all_len=np.array([len(t) for t in turns], dtype=np.int64),
            conv_first=first,
            conv_turns=n_turns,
            coding_idx=self.strings.extend(c.coding_prompts),
            short_idx=self.strings.extend(c.short_questions),
            doc_texts=c.documents,
            short_texts=c.short_questions,
        )

    # --- models --------------------------------------------------------------------------
    def released_models(self, at: float) -> list[str]:
        return [m.name for m in self.scenario.models if self.start + m.release_day * 86400 <= at]

    def new_releases(self) -> list[tuple[str, float]]:
        """Models released during the run, with their release time."""
        return [
            (m.name, self.start + m.release_day * 86400)
            for m in self.scenario.models
            if self.start < self.start + m.release_day * 86400 < self.end
        ]

    def legit_models(
        self,
        rng: np.random.Generator,
        local_account: np.ndarray,
        times: np.ndarray,
        n_accounts: int,
        adopt_days: float = 10.0,
        preferred: str | None = None,
    ) -> np.ndarray:
        """Each account keeps its model, and moves to a newly released one after an exponential delay.

        Legitimate adoption of a new model is gradual (days to weeks); a campaign's pivot is
        not, which is the signal the model-release scenarios test.
        """
        at_start = self.released_models(self.start) or [self.scenario.models[0].name]
        if preferred is not None and preferred in at_start:
            base = np.full(n_accounts, at_start.index(preferred))
        else:
            w = 0.7 ** np.arange(len(at_start))  # first listed model is the most popular
            base = rng.choice(len(at_start), size=n_accounts, p=w / w.sum())
        names = [self.strings.intern(m) for m in at_start]
        model = np.asarray(names, dtype=np.int32)[base][local_account]
        for name, released in self.new_releases():
            switch = released + rng.exponential(adopt_days * 86400.0, size=n_accounts)
            moved = times >= switch[local_account]
            model = np.where(moved, self.strings.intern(name), model)
        return model
