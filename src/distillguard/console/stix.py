"""A campaign's indicators as a STIX 2.1 bundle, for sharing with other providers.

One `campaign` object, one `indicator` per indicator (IP prefix, user agent, prompt
skeleton hash, hashed payment fingerprint), each joined to the campaign by an `indicates`
relationship, all created by a `distillguard` identity. Skeleton hashes and payment
fingerprints have no STIX cyber-observable type, so they use custom `x-distillguard-*`
object paths (allowed by the STIX patterning grammar). Ids are UUIDv5 of the content, so
exporting the same campaign twice gives the same ids and receivers can de-duplicate.
"""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime

import stix2

from distillguard.console.data import CampaignView, Indicator

NAMESPACE = uuid.UUID("5b0f3c1e-8d36-4d7e-9a55-6b1e0d4f2a17")  # distillguard's UUIDv5 namespace
PRODUCER = "distillguard"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern_for(ind: Indicator) -> str:
    if ind.kind == "prefixes":
        net = ipaddress.ip_network(ind.value, strict=False)
        kind = "ipv4-addr" if net.version == 4 else "ipv6-addr"
        return f"[{kind}:value ISSUBSET {_quote(str(net))}]"
    if ind.kind == "user_agents":
        header = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"
        return f"[{header} = {_quote(ind.value)}]"
    if ind.kind == "skeletons":
        return f"[x-distillguard-prompt-skeleton:hash = {_quote(ind.value)}]"
    if ind.kind == "payment":
        return f"[x-distillguard-payment-fingerprint:value = {_quote(ind.value)}]"
    raise ValueError(f"no STIX pattern for indicator kind {ind.kind!r}")


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join(parts))}"


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def campaign_bundle(view: CampaignView, *, producer: str = PRODUCER) -> stix2.Bundle:
    flag = view.flag
    identity = stix2.Identity(
        id=_id("identity", producer),
        name=producer,
        identity_class="system",
        created=_when(0),
        modified=_when(0),
    )
    first = view.first_seen or flag.first_flagged or 0.0
    last = max(view.last_seen, first)
    created = _when(flag.first_flagged or first)
    campaign = stix2.Campaign(
        id=_id("campaign", producer, flag.subject_id),
        created_by_ref=identity.id,
        created=created,
        modified=created,
        name=f"LLM distillation campaign {flag.subject_id}",
        description=(
            f"Coordinated harvesting of model outputs by {len(view.members)} linked API accounts: "
            f"{view.requests} requests, {view.output_tokens} completion tokens. "
            f"Detector tier {flag.tier.name}, risk {flag.risk:.2f}. Reasons: "
            + "; ".join(f"{r.code}: {r.detail}" for r in view.reasons)
        ),
        first_seen=_when(first),
        last_seen=_when(last),
        objective="Distillation: collect model responses to train a competing model.",
    )
    objects: list[object] = [identity, campaign]
    for ind in view.indicators:
        indicator = stix2.Indicator(
            id=_id("indicator", producer, flag.subject_id, ind.kind, ind.value),
            created_by_ref=identity.id,
            created=created,
            modified=created,
            name=f"{ind.title}: {ind.value}",
            description=(
                f"Seen on {ind.members} accounts of campaign {flag.subject_id}; "
                f"{ind.accounts} accounts in all (specificity {ind.specificity:.0%})."
            ),
            indicator_types=["malicious-activity"],
            pattern=pattern_for(ind),
            pattern_type="stix",
            valid_from=_when(first),
            confidence=round(100 * ind.specificity),
            labels=[f"distillguard:{ind.kind}"],
        )
        relationship = stix2.Relationship(
            id=_id("relationship", producer, flag.subject_id, ind.kind, ind.value, "indicates"),
            created_by_ref=identity.id,
            created=created,
            modified=created,
            relationship_type="indicates",
            source_ref=indicator.id,
            target_ref=campaign.id,
        )
        objects += [indicator, relationship]
    return stix2.Bundle(objects=objects, id=_id("bundle", producer, flag.subject_id, str(len(objects))))
