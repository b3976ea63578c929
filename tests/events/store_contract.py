"""Behaviour every writable EventStore must have; the SQLite and PostgreSQL tests run it."""

from __future__ import annotations

from typing import Any

import pytest

from distillguard.events.schema import RequestEvent

from .factory import full_event


def check_round_trip_every_field(store: Any) -> None:
    events = [full_event(i) for i in range(5)]
    bare = RequestEvent(request_id="bare", ts_start=1_800_000_000.0)  # None/empty everywhere
    store.write_many([*events, bare])
    back = list(store.iter_events())
    assert back == [*events, bare]
    assert back[0].minhash == [0, 1, 2**32 - 1, 123456789]
    assert back[-1].minhash is None and back[-1].temperature is None and back[-1].reasons == []
    assert isinstance(back[0].stream, bool) and isinstance(back[-1].logprobs, bool)


def check_time_order(store: Any) -> None:
    stamps = [5.0, 1.0, 3.0, 2.0, 4.0]
    store.write_many([full_event(i, ts=t) for i, t in enumerate(stamps)])
    assert [e.ts_start for e in store.iter_events()] == sorted(stamps)
    assert [e.ts_start for e in store.iter_events(since=2.0, until=4.0)] == [2.0, 3.0]
    assert [e.ts_start for e in store.iter_events(limit=2)] == [1.0, 2.0]


def check_tailing_by_seq(store: Any) -> None:
    assert store.last_seq() == 0
    store.write_many([full_event(i, ts=100.0 - i) for i in range(3)])
    mark = store.last_seq()
    assert mark >= 3
    second = [full_event(i, ts=1.0 + i) for i in range(10, 14)]  # earlier timestamps, later writes
    store.write_many(second)
    tail = list(store.iter_with_seq(after_seq=mark))
    assert [e for _, e in tail] == second  # write order, not time order
    seqs = [s for s, _ in tail]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4 and seqs[0] > mark
    assert list(store.iter_with_seq(after_seq=seqs[-1])) == []
    assert store.last_seq() == seqs[-1]


def check_filters_and_counts(store: Any) -> None:
    events = [full_event(i) for i in range(40)]
    store.write_many(events)

    def ids(**filters: Any) -> list[str]:
        return [e.request_id for e in store.iter_events(**filters)]

    def expected(pred: Any) -> list[str]:
        return [e.request_id for e in events if pred(e)]

    assert ids(account_id="acct-1") == expected(lambda e: e.account_id == "acct-1")
    assert ids(org_id="org-0") == expected(lambda e: e.org_id == "org-0")
    assert ids(client_ip="10.0.0.3") == expected(lambda e: e.client_ip == "10.0.0.3")
    assert ids(skeleton_hash="skel-2") == expected(lambda e: e.skeleton_hash == "skel-2")
    assert ids(campaign_id="camp-1") == expected(lambda e: e.campaign_id == "camp-1")
    assert ids(key_id="key-0", account_id="acct-0") == expected(
        lambda e: e.key_id == "key-0" and e.account_id == "acct-0"
    )
    t0 = events[10].ts_start
    assert ids(since=t0, until=t0 + 1.0, account_id="acct-2") == expected(
        lambda e: t0 <= e.ts_start < t0 + 1.0 and e.account_id == "acct-2"
    )
    assert ids(account_id="nobody") == []

    assert store.count() == 40
    assert store.count(org_id="org-1") == 20
    assert store.count(since=t0) == 30
    counts = store.counts_by("account_id")
    assert sorted(counts) == [("acct-0", 10), ("acct-1", 10), ("acct-2", 10), ("acct-3", 10)]
    assert store.counts_by("client_ip", limit=2) == [("10.0.0.0", 8), ("10.0.0.1", 8)]
    assert store.counts_by("org_id", since=t0) == [("org-0", 15), ("org-1", 15)]
    with pytest.raises(ValueError, match="group"):
        store.counts_by("prompt_text; DROP TABLE events")
    with pytest.raises(ValueError, match="filter"):
        list(store.iter_events(prompt_text="x"))
