"""Pure care rules: session lengths, the full-day price, opening days, /addsession arguments."""

from __future__ import annotations

from datetime import date, time

import pytest

from db.care.prices import FULL_DAY_FACTOR, full_day_fee, open_weekdays, session_length
from db.care.session_spec import SessionSpec, SpecError, parse_session_spec

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("service", "start", "end", "kind", "hours"),
    [
        ("临时托", time(8, 30), time(11, 30), "half_day", 3), ("临时托", time(14), time(18), "half_day", 4),
        ("临时托", time(8, 30), time(17), "full_day", 8.5), ("计时托", time(18), time(20), "hours", 2),
    ],
)
def test_session_length(service, start, end, kind, hours):
    length = session_length(service, start, end)
    assert (length.kind, length.hours) == (kind, hours)


def test_full_day_fee():
    assert full_day_fee(85) == round(85 * FULL_DAY_FACTOR) == 144


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("周一至周五 07:30-17:30", {0, 1, 2, 3, 4}), ("周一至周六 07:30-18:00", {0, 1, 2, 3, 4, 5}),
        ("星期一到星期五", {0, 1, 2, 3, 4}), ("每天 8:00-20:00", set(range(7))), ("周六至周一", {5, 6, 0}),
        ("周一、周三", {0, 2}), ("08:00-18:00", None), ("", None), (None, None),
    ],
)
def test_open_weekdays(text, days):
    assert open_weekdays(text) == (frozenset(days) if days is not None else None)


def test_a_good_spec_round_trips():
    spec = parse_session_spec(["2026-12-01", "09:00-12:00", "临时托", "5", "120", "12-36"], TODAY)
    assert spec == SessionSpec(date(2026, 12, 1), time(9), time(12), "临时托", 5, 120.0, 12, 36)
    assert SessionSpec.from_dict(spec.to_dict()) == spec
    assert parse_session_spec(["２０２６-１２-０１", "9:00－12:00", "hourly", "5", "40.5"], TODAY).service == "计时托"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ([], "usage"), (["tomorrow"], "usage"), (["2026-12-01", "09:00-12:00", "临时托", "5", "120", "1-2", "x"], "usage"),
        (["2026-02-30", "09:00-12:00", "临时托", "5", "120"], "date"),
        (["2026-11-26", "09:00-12:00", "临时托", "5", "120"], "date"),
        (["2099-01-01", "09:00-12:00", "临时托", "5", "120"], "date"),
        (["2026-12-01", "12:00-09:00", "临时托", "5", "120"], "time"),
        (["2026-12-01", "25:00-26:00", "临时托", "5", "120"], "time"),
        (["2026-12-01", "0900", "临时托", "5", "120"], "time"),
        (["2026-12-01", "09:00-12:00", "全日托", "5", "120"], "service"),
        (["2026-12-01", "09:00-12:00", "临时托", "99999999999999999999", "120"], "capacity"),
        (["2026-12-01", "09:00-12:00", "临时托", "-5", "120"], "capacity"),
        (["2026-12-01", "09:00-12:00", "临时托", "0", "120"], "capacity"),
        (["2026-12-01", "09:00-12:00", "临时托", "①", "120"], "capacity"),
        (["2026-12-01", "09:00-12:00", "临时托", "5", "1e400"], "price"),
        (["2026-12-01", "09:00-12:00", "临时托", "5", "nan"], "price"),
        (["2026-12-01", "09:00-12:00", "临时托", "5", "-1"], "price"),
        (["2026-12-01", "09:00-12:00", "临时托", "5", "100001"], "price"),
        (["2026-12-01", "09:00-12:00", "临时托", "5", "120", "36-12"], "ages"),
        (["2026-12-01", "09:00-12:00", "临时托", "5", "120", "12-999"], "ages"),
        (["2026-12-01", "09:00-12:00", "临时托", "5", "120", "abc"], "ages"),
    ],
)
def test_bad_specs_name_the_field(args, field):
    with pytest.raises(SpecError) as caught:
        parse_session_spec(args, TODAY)
    assert caught.value.field == field
