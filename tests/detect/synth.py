"""Small hand-built traffic for the detection tests: no simulator needed.

Fingerprints are filled in directly (skeleton hashes, MinHash-like signatures, intent
scores), so these tests exercise the engine alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from distillguard.events.schema import AccountInfo, RequestEvent

T0 = 1_760_000_000.0
HOUR = 3600.0
DAY = 86400.0


@dataclass
class Traffic:
    events: list[RequestEvent] = field(default_factory=list)
    accounts: list[AccountInfo] = field(default_factory=list)
    label: dict[str, str] = field(default_factory=dict)  # account -> persona
    campaign: dict[str, str] = field(default_factory=dict)  # account -> campaign id

    def sorted_events(self) -> list[RequestEvent]:
        return sorted(self.events, key=lambda e: e.ts_start)


def _sig(rng: random.Random, base: list[int] | None = None, noise: int = 0, length: int = 32) -> list[int]:
    if base is None:
        return [rng.getrandbits(32) for _ in range(length)]
    sig = list(base)
    for i in rng.sample(range(length), noise):
        sig[i] = rng.getrandbits(32)
    return sig


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


class Builder:
    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.t = Traffic()
        self.seq = 0

    def account(self, persona: str, *, campaign: str | None = None, **info: object) -> str:
        self.seq += 1
        acct = f"acct-{persona}-{self.seq:04d}"
        created = float(info.pop("created_at", T0 - 30 * DAY))  # type: ignore[arg-type]
        self.t.accounts.append(
            AccountInfo(
                account_id=acct, org_id=str(info.pop("org_id", f"org-{acct}")), created_at=created, **info
            )  # type: ignore[arg-type]
        )
        self.t.label[acct] = persona
        if campaign:
            self.t.campaign[acct] = campaign
        return acct

    def event(self, acct: str, ts: float, **kw: object) -> None:
        self.seq += 1
        rng = self.rng
        fields: dict[str, object] = {
            "request_id": f"req-{self.seq:07d}",
            "account_id": acct,
            "ts_start": ts,
            "client_ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
            "user_agent": "OpenAI/Python 1.40.0",
            "n_messages": 1,
            "n_user_turns": 1,
            "prompt_tokens": 50,
            "completion_tokens": 400,
            "skeleton_hash": _hex(rng),
            "minhash": _sig(rng),
            "cot_score": 0.0,
            "rubric_score": 0.0,
            "datagen_score": 0.0,
            "lang": "en",
        }
        fields.update(kw)
        self.t.events.append(RequestEvent(**fields))  # type: ignore[arg-type]

    # ---- personas -----------------------------------------------------------------
    def chat_users(self, n: int, days: float = 3) -> None:
        rng = self.rng
        for _ in range(n):
            acct = self.account("chat_user", email_domain="gmail.com", payment_fingerprint=_hex(rng))
            ip = f"82.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
            for day in range(int(days)):
                for _ in range(rng.randrange(2, 12)):
                    ts = T0 + day * DAY + rng.uniform(9, 22) * HOUR
                    turns = rng.randrange(1, 6)
                    self.event(
                        acct,
                        ts,
                        client_ip=ip,
                        n_user_turns=turns,
                        n_messages=2 * turns - 1,
                        cot_score=0.9 if rng.random() < 0.15 else 0.0,
                        user_agent="Mozilla/5.0",
                    )

    def students(self, n: int, days: float = 3) -> None:
        rng = self.rng
        for _ in range(n):
            acct = self.account("student", email_domain="uni.example.edu", payment_fingerprint=_hex(rng))
            for day in range(int(days)):
                for _ in range(rng.randrange(3, 15)):
                    ts = T0 + day * DAY + rng.uniform(8, 23) * HOUR
                    turns = rng.randrange(1, 4)
                    self.event(
                        acct,
                        ts,
                        client_ip=f"130.1.7.{rng.randrange(256)}",
                        n_user_turns=turns,
                        cot_score=0.9 if rng.random() < 0.7 else 0.0,
                        user_agent="Mozilla/5.0",
                    )

    def batch_pipeline(self, per_day: int = 3000, days: float = 3) -> str:
        rng = self.rng
        acct = self.account("batch_pipeline", email_domain="corp.example.com")
        skel = _hex(rng)
        base = _sig(rng)
        system = _hex(rng)
        start = T0
        for _i in range(int(per_day * days)):
            ts = start + rng.uniform(0, days * DAY)
            self.event(
                acct,
                ts,
                skeleton_hash=skel,
                minhash=_sig(rng, base, noise=12),
                system_hash=system,
                client_ip="52.1.1.1",
                user_agent="python-httpx/0.27",
                completion_tokens=120,
            )
        return acct

    def company(self, n: int, days: float = 3) -> None:
        rng = self.rng
        system = _hex(rng)
        pay = _hex(rng)
        for _ in range(n):
            acct = self.account(
                "company_employee",
                org_id="org-acme",
                email_domain="acme.example.com",
                payment_fingerprint=pay,
            )
            for day in range(int(days)):
                for _ in range(rng.randrange(5, 20)):
                    ts = T0 + day * DAY + rng.uniform(9, 18) * HOUR
                    self.event(
                        acct,
                        ts,
                        system_hash=system,
                        client_ip=f"44.2.3.{rng.randrange(256)}",
                        n_user_turns=rng.randrange(1, 8),
                        n_tools=3,
                        has_tool_results=rng.random() < 0.5,
                    )

    def hydra(
        self,
        n: int,
        per_account_day: int = 60,
        days: float = 3,
        *,
        shared_payment: bool = True,
        templates: int = 30,
        start: float = T0,
        cid: str = "hydra-1",
    ) -> list[str]:
        rng = self.rng
        pay = _hex(rng)
        skels = [_hex(rng) for _ in range(templates)]
        bases = [_sig(rng) for _ in range(templates)]
        accts = []
        for i in range(n):
            acct = self.account(
                "hydra",
                campaign=cid,
                created_at=start - 600 + i * 7.0,
                email_domain="gmail.com",
                payment_fingerprint=pay if shared_payment else _hex(rng),
            )
            accts.append(acct)
            for _ in range(int(per_account_day * days)):
                ts = start + rng.uniform(0, days * DAY)
                k = rng.randrange(templates)
                self.event(
                    acct,
                    ts,
                    skeleton_hash=skels[k],
                    minhash=_sig(rng, bases[k], noise=10),
                    cot_score=0.9,
                    client_ip=f"{rng.randrange(256)}.{rng.randrange(256)}.9.9",
                    completion_tokens=900,
                )
        return accts

    def extractor(self, requests: int = 400, days: float = 1) -> str:
        rng = self.rng
        acct = self.account("extractor")
        skel = _hex(rng)
        base = _sig(rng)
        for _ in range(requests):
            ts = T0 + rng.uniform(0, days * DAY)
            self.event(
                acct,
                ts,
                skeleton_hash=skel,
                minhash=_sig(rng, base, noise=2),
                logprobs=True,
                top_logprobs=20,
                logit_bias=True,
                max_tokens=1,
                completion_tokens=1,
            )
        return acct

    def product_backend(
        self,
        per_day: int = 2000,
        days: float = 3,
        *,
        harvest_share: float = 0.0,
        intent_tokens: int = 1200,
        other_tokens: int = 350,
    ) -> str:
        """A product key serving many end users (multi-turn, own system prompts, broad real
        prompts); with `harvest_share` > 0 a reseller blends one-shot reasoning requests with
        long answers into the same key, IPs and system prompts."""
        rng = self.rng
        acct = self.account("reseller" if harvest_share else "saas_backend", email_domain="app.example.com")
        systems = [_hex(rng) for _ in range(20)]
        for _ in range(int(per_day * days)):
            ts = T0 + rng.uniform(0, days * DAY)
            if rng.random() < harvest_share:
                self.event(
                    acct,
                    ts,
                    system_hash=rng.choice(systems),
                    client_ip="52.9.9.9",
                    n_messages=2,
                    cot_score=0.9,
                    completion_tokens=intent_tokens,
                )
            else:
                turns = rng.randrange(1, 5)
                self.event(
                    acct,
                    ts,
                    system_hash=rng.choice(systems),
                    client_ip="52.9.9.9",
                    n_user_turns=turns,
                    n_messages=2 * turns,
                    cot_score=0.9 if rng.random() < 0.01 else 0.0,
                    completion_tokens=other_tokens,
                )
        return acct

    def eval_labs(self, n: int, per_day: int = 1500, days: float = 3, items: int = 8) -> list[str]:
        """Labs at different institutions re-running the same public benchmark: the same few
        templated items (shared skeletons and near-duplicates), step-by-step, in bursts."""
        rng = self.rng
        skels = [_hex(rng) for _ in range(items)]
        bases = [_sig(rng) for _ in range(items)]
        labs = []
        for i in range(n):
            acct = self.account("eval_researcher", email_domain=f"lab{i}.example.edu")
            labs.append(acct)
            for day in range(int(days)):
                burst = T0 + day * DAY + rng.uniform(9, 17) * HOUR
                for j in range(per_day):
                    k = rng.randrange(items)
                    self.event(
                        acct,
                        burst + j * 2.0,
                        skeleton_hash=skels[k],
                        minhash=_sig(rng, bases[k], noise=4),
                        cot_score=0.9,
                        client_ip=f"171.64.{i}.{rng.randrange(256)}",
                        completion_tokens=350,
                    )
        return labs
