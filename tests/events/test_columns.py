from __future__ import annotations

import msgspec
import pytest

from distillguard.events.columns import COLUMN_NAMES, EventFilter, decode_ints, encode_ints
from distillguard.events.schema import EVENT_FIELDS, RequestEvent

from .factory import full_event


def test_full_event_sets_every_field() -> None:
    """Guards the round-trip tests: a new schema field must be set in factory.full_event."""
    defaults = RequestEvent(request_id="", ts_start=0.0)
    same = [f for f in EVENT_FIELDS if getattr(full_event(1), f) == getattr(defaults, f)]
    assert not same, f"full_event() leaves these fields at their default: {same}"
    assert msgspec.structs.asdict(full_event(1)) != msgspec.structs.asdict(full_event(2))


def test_one_column_per_field_in_field_order() -> None:
    assert COLUMN_NAMES == EVENT_FIELDS


@pytest.mark.parametrize("values", [[], [0], [1, 2, 2**32 - 1], [2**32, 5], [2**64 - 1, 0]])
def test_int_blobs_round_trip(values: list[int]) -> None:
    blob = encode_ints(values)
    assert decode_ints(blob) == values
    assert len(blob) == 1 + len(values) * (4 if all(v < 2**32 for v in values) else 8)


def test_filter_matches_like_sql() -> None:
    flt = EventFilter(since=10.0, until=20.0, equals={"account_id": "a"})
    assert flt.matches(RequestEvent(request_id="x", ts_start=10.0, account_id="a"))
    assert not flt.matches(RequestEvent(request_id="x", ts_start=20.0, account_id="a"))
    assert not flt.matches(RequestEvent(request_id="x", ts_start=15.0, account_id="b"))
    where, params = flt.where("?")
    assert where == " WHERE ts_start >= ? AND ts_start < ? AND account_id = ?" and params == [10.0, 20.0, "a"]
    with pytest.raises(ValueError, match="cannot filter"):
        EventFilter(equals={"prompt_text": "x"})
