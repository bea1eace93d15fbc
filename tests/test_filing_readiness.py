"""The readiness self-check against 《托育机构设置标准(试行)》: every boundary of every class type, the mixed
class, the home-based 家庭托育点, the forgiving parser, and that the limits come from the data."""

from __future__ import annotations

import shutil

import pytest
import yaml

from db.filing.readiness import FAMILY, PlannedClass, check_plan, check_text, parse_plan
from db.filing.workflow import DEFAULT_KNOWLEDGE_DIR, load_workflow

STANDARD = "《托育机构设置标准(试行)》国卫人口发〔2019〕58号"


@pytest.fixture(scope="module")
def wf():
    return load_workflow()


def _check(wf, class_type, children, carers, youngest=None):
    return check_plan([PlannedClass(class_type, children, carers, youngest)], wf)


def _kinds(report):
    return [(v.kind, v.actual, v.limit) for v in report.violations]


# (class type, max children, children per carer) as in the domain rules
LIMITS = [("infant", "乳儿班", 10, 3), ("toddler", "托小班", 15, 5), ("older", "托大班", 20, 7)]


@pytest.mark.parametrize(("class_type", "name", "max_children", "per_carer"), LIMITS)
def test_class_size_at_max_and_one_over(wf, class_type, name, max_children, per_carer):
    enough = -(-(max_children + 1) // per_carer)  # carers enough even for max+1
    assert _check(wf, class_type, max_children, enough).ok
    report = _check(wf, class_type, max_children + 1, enough)
    assert _kinds(report) == [("max_children", max_children + 1, max_children)]
    v = report.violations[0]
    assert v.class_name.get("zh") == name and name in v.rule.get("zh") and f"{max_children} 人" in v.rule.get("zh")
    assert v.source == STANDARD


@pytest.mark.parametrize(("class_type", "name", "max_children", "per_carer"), LIMITS)
def test_ratio_exactly_met_and_one_carer_short(wf, class_type, name, max_children, per_carer):
    carers = max_children // per_carer
    children = carers * per_carer  # exactly 1:per_carer, within the class size
    assert _check(wf, class_type, children, carers).ok
    report = _check(wf, class_type, children, carers - 1)
    assert _kinds(report) == [("ratio", carers - 1, carers)]
    assert f"1:{per_carer}" in report.violations[0].rule.get("zh")
    # one child more than the carers can take also needs one more carer
    report = _check(wf, class_type, children + 1, carers)
    assert ("ratio", carers, carers + 1) in _kinds(report)


def test_a_class_over_size_and_short_of_carers_gets_both_violations(wf):
    assert _kinds(_check(wf, "infant", 12, 3)) == [("max_children", 12, 10), ("ratio", 3, 4)]


def test_mixed_class_is_for_18_months_and_up_with_at_most_18(wf):
    assert _check(wf, "mixed", 18, 1, youngest=18).ok
    assert _kinds(_check(wf, "mixed", 19, 3, youngest=24)) == [("max_children", 19, 18)]
    assert _kinds(_check(wf, "mixed", 10, 2, youngest=17)) == [("min_age", 17, 18)]
    report = _check(wf, "mixed", 18, 1)
    assert report.ok  # no ratio is set for mixed classes …
    assert (1, "mixed", "no_ratio") in report.notes  # … and that is said
    assert (1, "mixed", "age_unchecked") in report.notes


def test_family_point_limits(wf):
    assert _check(wf, FAMILY, 5, 2).ok
    assert _kinds(_check(wf, FAMILY, 6, 2)) == [("family_max", 6, 5)]
    assert _check(wf, FAMILY, 3, 1).ok
    assert _kinds(_check(wf, FAMILY, 4, 1)) == [("family_ratio", 1, 2)]
    report = _check(wf, FAMILY, 6, 1)
    assert _kinds(report) == [("family_max", 6, 5), ("family_ratio", 1, 2)]
    assert "最多照护 5 名" in report.violations[0].rule.get("zh")
    assert "家庭托育点管理办法" in report.violations[0].source


def test_class_age_minimum_when_given(wf):
    assert _kinds(_check(wf, "toddler", 10, 2, youngest=11)) == [("min_age", 11, 12)]
    assert _check(wf, "toddler", 10, 2, youngest=12).ok


def test_totals_and_counts(wf):
    parsed, report = check_text("2个托小班 15 3; 乳儿班 9 3", wf)
    assert report.ok and report.total_children == 39 and report.total_carers == 9


# --- the parser -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("乳儿班 8 3; 托小班 16 3", [("infant", 8, 3, None, 1), ("toddler", 16, 3, None, 1)]),
    ("乳儿班 8 3\n托小班 15 3", [("infant", 8, 3, None, 1), ("toddler", 15, 3, None, 1)]),
    ("乳儿班 8 3 托大班 20 3", [("infant", 8, 3, None, 1), ("older", 20, 3, None, 1)]),
    ("乳儿班：8，3、托小班：15，3", [("infant", 8, 3, None, 1), ("toddler", 15, 3, None, 1)]),
    ("托大班20人3名保育员", [("older", 20, 3, None, 1)]),
    ("保育员3 乳儿班 孩子9", [("infant", 9, 3, None, 1)]),
    ("乳儿班八个孩子三个老师", [("infant", 8, 3, None, 1)]),
    ("乳儿班 ８ ３", [("infant", 8, 3, None, 1)]),
    ("托小班 十五 三", [("toddler", 15, 3, None, 1)]),
    ("2个托小班 15 3", [("toddler", 15, 3, None, 2)]),
    ("托小班 15 3 x2", [("toddler", 15, 3, None, 2)]),
    ("托小班 15 3 ×2", [("toddler", 15, 3, None, 2)]),
    ("混合编班 18 3 20月", [("mixed", 18, 3, 20, 1)]),
    ("mixed 18 3 20m", [("mixed", 18, 3, 20, 1)]),
    ("Infant 9 3; toddler 15 3", [("infant", 9, 3, None, 1), ("toddler", 15, 3, None, 1)]),
    ("家庭 5 2", [(FAMILY, 5, 2, None, 1)]),
    ("小班 10 2", [("toddler", 10, 2, None, 1)]),
])
def test_forgiving_parser(wf, text, expected):
    result = parse_plan(text, wf)
    assert result.problems == []
    assert [(c.class_type, c.children, c.carers, c.youngest_months, c.count) for c in result.classes] == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("hello", "unknown_class"),
    ("8 3", "unknown_class"),  # no class type, and the case is not a 家庭托育点
    ("乳儿班 8", "missing_numbers"),
    ("乳儿班 1 2 3", "too_many_numbers"),
    ("乳儿班 0 3", "bad_numbers"),
    ("乳儿班 9999 3", "bad_numbers"),
])
def test_unreadable_parts_are_reported_not_guessed(wf, text, reason):
    result = parse_plan(text, wf)
    assert result.classes == []
    assert [p.reason for p in result.problems] == [reason]


def test_readable_parts_are_kept_next_to_unreadable_ones(wf):
    result = parse_plan("乳儿班 8 3; 大象班 5 1", wf)
    assert [c.class_type for c in result.classes] == ["infant"]
    assert [p.reason for p in result.problems] == ["unknown_class"]


def test_family_case_needs_no_class_name(wf):
    result = parse_plan("5 2", wf, family_default=True)
    assert [(c.class_type, c.children, c.carers) for c in result.classes] == [(FAMILY, 5, 2)]


def test_plan_round_trips_through_json(wf):
    planned = PlannedClass("mixed", 18, 3, 20, 2)
    assert PlannedClass.from_dict(planned.as_dict()) == PlannedClass("mixed", 18, 3, 20, 2)


def test_limits_come_from_the_data_not_the_code(tmp_path):
    target = tmp_path / "knowledge"
    target.mkdir()
    raw = yaml.safe_load((DEFAULT_KNOWLEDGE_DIR / "filing.yaml").read_text(encoding="utf-8"))
    raw["readiness"]["class_types"][0]["max_children"] = 12
    raw["readiness"]["class_types"][0]["children_per_carer"] = 4
    raw["readiness"]["class_types"][0]["aliases"].append("baby room")
    (target / "filing.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR / "filing_cities", target / "filing_cities")
    wf = load_workflow(target)
    assert _check(wf, "infant", 12, 3).ok
    assert _kinds(_check(wf, "infant", 13, 4)) == [("max_children", 13, 12)]
    assert [c.class_type for c in parse_plan("baby room 8 2", wf).classes] == ["infant"]
