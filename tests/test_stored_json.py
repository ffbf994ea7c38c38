"""Stored JSON is read as the standard library reads it (events.sql.loads, by orjson
with `json` behind it): the store refuses the integers orjson would read otherwise."""

from __future__ import annotations

import json
import math
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import EventRegistry, EventStore, InvalidEvent, NewEvent
from events.serialization import STORED_INTEGERS, canonical_json
from events.sql import loads
from workflow.dates import LOCAL_TZ

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(STORED_INTEGERS.start, STORED_INTEGERS.stop - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()  # Vietnamese, controls, quotes, backslashes, astral characters
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def same(a, b) -> bool:
    """Equal, and of the same types all the way down (1 and 1.0 are equal in Python)."""
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return type(b) is list and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


@given(DOCUMENTS)
def test_a_stored_document_reads_back_as_json_reads_it(value):
    text = canonical_json(value)
    assert same(loads(text), json.loads(text))
    assert same(loads(text.encode()), json.loads(text))
    assert same(loads(json.dumps(value)), value)  # \u escapes, spaces after separators


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"n":18446744073709551615}', {"n": 2**64 - 1}),
        ('{"n":-9223372036854775808}', {"n": -(2**63)}),
        ('"\\ud800"', "\ud800"),  # an escaped lone surrogate: orjson refuses it
        ('[1,"Sở Xây dựng"]', [1, "Sở Xây dựng"]),
    ],
)
def test_the_edges_read_as_json_reads_them(text, expected):
    assert same(loads(text), expected) and same(json.loads(text), expected)


@pytest.mark.parametrize("wide", [2**64, -(2**63) - 1, 10**30])
def test_the_store_refuses_an_integer_it_could_not_read_back(engine, wide):
    types = EventRegistry()
    types.register("t.noted")
    store = EventStore(engine, types)
    noted = NewEvent("t.noted", {"counts": [1, {"n": wide}]}, datetime(2026, 3, 2, tzinfo=LOCAL_TZ))
    with pytest.raises(InvalidEvent, match=r"t\.noted\.data\.counts\[1\]\.n: số nguyên .* 64 bit"):
        store.append("t:1", [noted])
    assert store.count() == 0
    edges = {"low": -(2**63), "high": 2**64 - 1}
    store.append("t:1", [NewEvent("t.noted", edges, noted.occurred_at)])
    assert [e.data for batch in store.feed_batches(1) for e in batch] == [edges]


def test_not_a_number_is_read_as_json_reads_it():
    assert math.isnan(loads("NaN")) and loads("[-Infinity]") == [-math.inf]


@pytest.mark.parametrize("text", ['{"a":', "", '{"a":1} x', "{'a':1}"])
def test_text_that_is_not_json_fails_with_json_s_own_message(text):
    with pytest.raises(json.JSONDecodeError) as raised:
        loads(text)
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    assert str(raised.value) == str(expected.value)
