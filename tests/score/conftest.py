"""A scripted detector and a small hand-built scenario whose scores are computed by hand."""

from __future__ import annotations

import pytest

from distillguard.detect.api import Assessment, Flag, Tier
from distillguard.events.schema import AccountInfo, RequestEvent
from distillguard.sim.truth import AccountTruth, Truth


class ScriptedDetector:
    """Flags account A at tier T from the first assessment at or after time t (a script)."""

    name = "scripted"

    def __init__(self, script: dict[str, tuple[float, Tier]], campaign_script=None) -> None:
        self.script = script
        self.campaign_script = campaign_script or {}
        self.calls: list[tuple[str, object]] = []

    def observe_account(self, info: AccountInfo) -> None:
        self.calls.append(("account", info.account_id))

    def observe(self, event: RequestEvent) -> None:
        self.calls.append(("event", event.request_id))

    def assess(self, now: float) -> Assessment:
        self.calls.append(("assess", now))
        accounts = {
            acct: Flag(kind="account", subject_id=acct, risk=0.5, tier=tier)
            for acct, (t, tier) in self.script.items()
            if now >= t
        }
        campaigns = {
            cid: Flag(kind="campaign", subject_id=cid, risk=0.9, tier=tier, accounts=members)
            for cid, (t, tier, members) in self.campaign_script.items()
            if now >= t
        }
        return Assessment(at=now, accounts=accounts, campaigns=campaigns)


# (account, ts, tokens, harvest campaign or None)
REQUESTS = [
    ("L1", 50, 7, None),
    ("L2", 60, 7, None),
    ("A1", 100, 10, "C1"),
    ("L1", 120, 7, None),
    ("A2", 150, 20, "C1"),
    ("A1", 200, 10, "C1"),
    ("R1", 250, 9, None),
    ("A3", 300, 5, "C1"),
    ("R1", 350, 9, "C3"),
    ("B1", 400, 50, "C2"),
    ("A2", 500, 20, "C1"),
    ("A1", 650, 10, "C1"),
    ("A1", 700, 10, "C1"),
    ("A3", 800, 5, "C1"),
    ("L3", 800, 3, None),
    ("L3", 850, 3, None),
    ("L3", 950, 3, None),
    ("B1", 1000, 50, "C2"),
    ("A2", 1100, 20, "C1"),
    ("A2", 1250, 20, "C1"),
    ("A3", 1300, 5, "C1"),
    ("R1", 1400, 9, "C3"),
    ("R1", 1600, 9, "C3"),
    ("R1", 1700, 9, None),
]

PERSONAS = {
    "L1": ("chat_user", None),
    "L2": ("chat_user", None),
    "L3": ("student", None),
    "L4": ("chat_user", None),  # dormant: never sends, never flagged -> not scored
    "A1": ("hydra", "C1"),
    "A2": ("hydra", "C1"),
    "A3": ("hydra", "C1"),
    "B1": ("low_and_slow", "C2"),
    "R1": ("reseller", "C3"),
}

SCRIPT = {
    "L1": (0.0, Tier.WATCH),  # below threshold: not a flag
    "A1": (600.0, Tier.SUSPECT),
    "A2": (1200.0, Tier.LIKELY),
    "L3": (900.0, Tier.SUSPECT),
    "R1": (1500.0, Tier.CONFIRMED),
}


@pytest.fixture
def hand_case() -> tuple[list[RequestEvent], list[AccountInfo], Truth]:
    events = [
        RequestEvent(request_id=f"r{i}", account_id=acct, ts_start=float(ts), completion_tokens=tok)
        for i, (acct, ts, tok, _) in enumerate(REQUESTS)
    ]
    accounts = [AccountInfo(account_id=a, created_at=0.0) for a in PERSONAS]
    truth = Truth(
        scenario="hand",
        seed=7,
        accounts={
            a: AccountTruth(account_id=a, persona=p, campaign_id=c, is_attack=c is not None)
            for a, (p, c) in PERSONAS.items()
        },
        attack_requests={f"r{i}": c for i, (_, _, _, c) in enumerate(REQUESTS) if c is not None},
        campaigns={
            "C1": {"strategy": "hydra"},
            "C2": {"strategy": "low_and_slow"},
            "C3": {"strategy": "blending"},
        },
    )
    return events, accounts, truth


@pytest.fixture
def script() -> dict[str, tuple[float, Tier]]:
    return dict(SCRIPT)


@pytest.fixture
def scripted() -> type[ScriptedDetector]:
    return ScriptedDetector


def write_run(directory, events, accounts, truth) -> None:
    """Write a run the way `distillguard simulate --out DIR` does."""
    import msgspec

    directory.mkdir(parents=True, exist_ok=True)
    enc = msgspec.json.Encoder()
    (directory / "events.jsonl").write_bytes(b"".join(enc.encode(e) + b"\n" for e in events))
    (directory / "accounts.jsonl").write_bytes(b"".join(enc.encode(a) + b"\n" for a in accounts))
    (directory / "truth.json").write_bytes(enc.encode(truth))


@pytest.fixture
def run_dir(tmp_path, hand_case):
    directory = tmp_path / "hand-run"
    write_run(directory, *hand_case)
    return directory
