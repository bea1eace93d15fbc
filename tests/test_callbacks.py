"""The callback-data codec: what a button carries round-trips; anything forged is refused."""

from __future__ import annotations

from datetime import date

import pytest

from bot.callbacks import (
    CALLBACK_LIMIT,
    MAX_ID,
    REGISTRY,
    CallbackCodec,
    CallbackError,
    Choice,
    Id,
    Int,
    IsoDate,
    Optional,
    Token,
    sample_malformed,
)


@pytest.fixture
def codec():
    REGISTRY.pop("t", None)
    c = CallbackCodec("t")
    c.action("inst", Id())
    c.action("page", Int(0, 1000))
    c.action("set:age", Optional(Int(0, 36)))
    c.action("set:svc", Choice(("a", "b")))
    c.action("set:date", IsoDate())
    c.action("ed", Id(), Token(4))
    c.action("drop")
    yield c
    REGISTRY.pop("t", None)


def test_round_trip(codec):
    cases = [
        ("inst", (7,)),
        ("page", (0,)),
        ("set:age", (None,)),
        ("set:age", (36,)),
        ("set:svc", ("b",)),
        ("set:date", (date(2026, 12, 1),)),
        ("ed", (MAX_ID, "ttl")),
        ("drop", ()),
    ]
    for action, values in cases:
        data = codec.encode(action, *values)
        assert len(data.encode()) <= CALLBACK_LIMIT
        decoded = codec.decode(data)
        assert (decoded.action, decoded.args) == (action, values)


@pytest.mark.parametrize(
    "data",
    [
        None, "", "t", "t:", "t:inst", "t:inst:", "t:inst:0", "t:inst:-1", "t:inst:abc", "t:inst:1:2",
        "t:inst:99999999999999999999", f"t:inst:{MAX_ID + 1}", "t:inst:٣", "t:inst:1.5", "t:page:1001",
        "t:set:age:-5", "t:set:age:37", "t:set:svc:c", "t:set:date:2026-02-30", "t:set:date:tomorrow",
        "t:ed:1:toolong", "t:ed:1:a b", "t:drop:1", "u:inst:1", "t:nope:1", "t:inst:\ud800", "t:" + "9" * 70,
    ],
)
def test_forged_data_is_refused(codec, data):
    with pytest.raises(CallbackError):
        codec.decode(data)


def test_encode_refuses_what_telegram_would_reject(codec):
    with pytest.raises(CallbackError):
        codec.encode("inst", 0)
    with pytest.raises(CallbackError):
        codec.encode("set:svc", "c")
    with pytest.raises(CallbackError):
        codec.encode("inst")
    long = CallbackCodec("a" * 40)
    try:
        long.action("b" * 10, Token(16))
        with pytest.raises(CallbackError):
            long.encode("b" * 10, "c" * 16)
    finally:
        REGISTRY.pop("a" * 40)


def test_one_prefix_one_codec(codec):
    with pytest.raises(ValueError):
        CallbackCodec("t")


def test_declaring_twice_is_a_programming_error(codec):
    with pytest.raises(ValueError):
        codec.action("inst", Id())


def test_sample_malformed_is_refused_or_in_range(codec):
    """Every generated sample either fails to decode or decodes to declared, in-range values."""
    samples = sample_malformed(codec)
    assert len(samples) > 50
    refused = 0
    for data in samples:
        try:
            codec.decode(data)
        except CallbackError:
            refused += 1
    assert refused >= len(samples) - 10
