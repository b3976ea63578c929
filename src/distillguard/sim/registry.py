"""Which generator and knob struct each `persona:` / `attack:` name in a scenario means."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from distillguard.sim import attacks, personas
from distillguard.sim.scenario import PopulationEntry, ScenarioError

Generator = Callable[..., list[Any]]

LEGIT: dict[str, tuple[type[msgspec.Struct], Generator]] = {
    "chat_user": (personas.ChatUserKnobs, personas.chat_user),
    "coding_agent": (personas.CodingAgentKnobs, personas.coding_agent),
    "saas_backend": (personas.SaasBackendKnobs, personas.saas_backend),
    "batch_pipeline": (personas.BatchPipelineKnobs, personas.batch_pipeline),
    "eval_researcher": (personas.EvalResearcherKnobs, personas.eval_researcher),
    "student": (personas.StudentKnobs, personas.student),
    "translation_service": (personas.TranslationKnobs, personas.translation_service),
}

ATTACKS: dict[str, tuple[type[msgspec.Struct], Generator]] = {
    "bulk_harvest": (attacks.BulkHarvestKnobs, attacks.harvest_campaign),
    "hydra": (attacks.HydraKnobs, attacks.harvest_campaign),
    "low_and_slow": (attacks.LowAndSlowKnobs, attacks.harvest_campaign),
    "logprob_extraction": (attacks.LogprobExtractionKnobs, attacks.harvest_campaign),
    "model_pivot": (attacks.ModelPivotKnobs, attacks.harvest_campaign),
    "agentic_harvest": (attacks.AgenticHarvestKnobs, attacks.harvest_campaign),
    "campaign": (attacks.CampaignKnobs, attacks.harvest_campaign),  # all knobs explicit
    "reseller_blend": (attacks.ResellerBlendKnobs, attacks.reseller_blend),
}


def lookup(section: str, kind: str) -> tuple[type[msgspec.Struct], Generator]:
    table = LEGIT if section == "legit" else ATTACKS
    if kind not in table:
        raise ScenarioError(f"unknown {section} kind {kind!r}; known: {', '.join(sorted(table))}")
    return table[kind]


def knobs_for(section: str, entry: PopulationEntry) -> msgspec.Struct:
    cls, _ = lookup(section, entry.kind)
    try:
        return msgspec.convert(entry.knobs, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise ScenarioError(f"{entry.name} ({entry.kind}): {exc}") from exc


def validate_entry(section: str, entry: PopulationEntry) -> None:
    knobs_for(section, entry)
