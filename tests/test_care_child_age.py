"""Typed child ages: the ways parents write an age become months; anything else is refused (None)."""

from __future__ import annotations

import pytest

from db.care.child_age import MAX_MONTHS, parse_child_age

ACCEPTED = [
    ("18", 18), ("0", 0), (" 20 ", 20), ("18个月", 18), ("18 个月", 18), ("18個月", 18), ("18月", 18),
    ("18个月大", 18), ("1岁半", 18), ("一岁半", 18), ("两岁", 24), ("兩歲", 24), ("2岁", 24), ("2岁3个月", 27),
    ("2岁零3个月", 27), ("两岁三个月", 27), ("2岁3", 27), ("1y6m", 18), ("1Y6M", 18), ("1 y 6 m", 18),
    ("18 months", 18), ("18 Months", 18), ("18m", 18), ("1 year 6 months", 18), ("2 years", 24),
    ("1.5岁", 18), ("1.5 years", 18), ("半岁", 6), ("１８", 18), ("１８个月", 18), ("十八个月", 18),
    ("二十个月", 20), ("3岁", 36), ("宝宝18个月", 18), ("18 months old", 18), ("72", 72),
]
REFUSED = [
    "", "   ", "①", "①⑧", "٣", "100", "73", "-3", "-18个月", "99999999999999", "1e3", "abc", "十八岁半个月",
    "2岁13个月", "1.5", "18.5个月", "两", "岁", "1岁半半", "厦门", "我想问一下补贴", "x" * 100, "\ud800",
    "18 个 月 ?", "12岁",
]


@pytest.mark.parametrize(("text", "months"), ACCEPTED)
def test_accepted(text, months):
    assert parse_child_age(text) == months


@pytest.mark.parametrize("text", REFUSED)
def test_refused(text):
    assert parse_child_age(text) is None


def test_every_month_round_trips_in_each_notation():
    for months in range(0, MAX_MONTHS + 1):
        years, rest = divmod(months, 12)
        assert parse_child_age(str(months)) == months
        assert parse_child_age(f"{months}个月") == months
        assert parse_child_age(f"{months} months") == months
        if years:
            assert parse_child_age(f"{years}岁{rest}个月") == months
            assert parse_child_age(f"{years}y{rest}m") == months
