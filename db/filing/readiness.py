"""Readiness self-check against 《托育机构设置标准(试行)》: planned classes vs. class size and carer ratio.

The limits are data (`readiness` in knowledge/filing.yaml); this module only parses the operator's plan and
compares. The plan is a short, forgiving text — one class per part, parts separated by `;`, `；`, a new line
or simply by the next class name:

    乳儿班 8 3; 托小班 16 3            class type, children, carers
    托大班 20人 3名保育员               words after the numbers are fine (人/名/个, 孩子/保育员, children/carers)
    2个托小班 15 3   /  托小班 15 3 x2   several classes of the same kind
    混合编班 18 3 20月                  an age in months = the youngest child (checked against the class's minimum)
    家庭 5 2                           a home-based 家庭托育点 (or just "5 2" when the case is a 家庭托育点)

Full-width digits and simple Chinese numerals (八, 十五, 两) are understood.

    result = parse_plan("乳儿班 11 3", workflow)
    report = check_plan(result.classes, workflow)
    for v in report.violations: v.kind, v.class_name.get("zh"), v.actual, v.limit, v.rule.get("zh")
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

from db.filing.workflow import LocalText, Workflow

__all__ = [
    "FAMILY",
    "PlanProblem",
    "PlanResult",
    "PlannedClass",
    "ReadinessReport",
    "Violation",
    "check_plan",
    "check_text",
    "parse_plan",
]

FAMILY = "family"
MAX_CHILDREN_PER_LINE = 500
MAX_CLASSES = 50

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百]+")
_SEPARATORS = re.compile(r"[;；\n\r。]+")
_AGE = re.compile(r"(\d+)\s*(?:个月|月龄|月|months?|mos?|m)(?![a-z])")
_COUNT_AFTER = re.compile(r"(?:[x×*]\s*(\d+)(?!\d))|(?:共\s*(\d+)\s*个?班)|(?:(\d+)\s*个班)")
_NUMBER = re.compile(r"\d+")
_CHILD_WORDS = ("孩子", "婴幼儿", "幼儿", "宝宝", "儿童", "小孩", "名幼儿", "children", "child", "kids", "kid", "babies")
_CARER_WORDS = ("保育员", "保育", "老师", "教师", "照护人员", "照护", "阿姨", "育婴员", "carers", "carer", "caregivers",
                "caregiver", "staff", "teachers", "teacher", "adults", "adult")


def _cn_to_int(token: str) -> int | None:
    """十五 → 15, 两 → 2, 二十 → 20, 一百 → 100 (simple numerals only)."""
    if "百" in token:
        head, _, tail = token.partition("百")
        hundreds = _CN_DIGITS.get(head, 1) if head else 1
        rest = _cn_to_int(tail.lstrip("零〇")) if tail else 0
        return None if rest is None or len(head) > 1 else hundreds * 100 + rest
    if "十" in token:
        head, _, tail = token.partition("十")
        if len(head) > 1 or len(tail) > 1 or "十" in tail:
            return None
        tens = _CN_DIGITS.get(head, 1) if head else 1
        ones = _CN_DIGITS.get(tail, 0) if tail else 0
        return tens * 10 + ones
    if len(token) == 1:
        return _CN_DIGITS.get(token)
    digits = [_CN_DIGITS.get(c) for c in token]
    return None if None in digits else int("".join(str(d) for d in digits))


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _CN_NUMBER.sub(lambda m: str(v) if (v := _cn_to_int(m.group(0))) is not None else m.group(0), text)


@dataclass(frozen=True)
class PlannedClass:
    """One planned class (or `count` identical classes)."""

    class_type: str  # a class-type id from the workflow, or FAMILY
    children: int
    carers: int
    youngest_months: int | None = None
    count: int = 1
    text: str = ""  # the part of the input it came from

    def as_dict(self) -> dict:
        return {"class_type": self.class_type, "children": self.children, "carers": self.carers,
                "youngest_months": self.youngest_months, "count": self.count}

    @classmethod
    def from_dict(cls, d: dict) -> PlannedClass:
        return cls(class_type=str(d["class_type"]), children=int(d["children"]), carers=int(d["carers"]),
                   youngest_months=d.get("youngest_months"), count=int(d.get("count") or 1))


@dataclass(frozen=True)
class PlanProblem:
    """A part of the input that could not be read: `reason` is unknown_class | missing_numbers |
    too_many_numbers | bad_numbers | too_many_classes."""

    text: str
    reason: str


@dataclass
class PlanResult:
    classes: list[PlannedClass] = field(default_factory=list)
    problems: list[PlanProblem] = field(default_factory=list)


@dataclass(frozen=True)
class Violation:
    """One broken rule. `kind`: max_children | ratio | min_age (class types) or family_max | family_ratio.

    `actual`/`limit`: children vs. the maximum (max_children, family_max), carers vs. the carers needed
    (ratio, family_ratio), youngest age vs. the minimum age in months (min_age).
    """

    index: int  # 1-based position of the class in the plan
    class_type: str
    class_name: LocalText
    kind: str
    actual: int
    limit: int
    children: int
    carers: int
    rule: LocalText
    source: str  # 《title》number


@dataclass
class ReadinessReport:
    classes: list[PlannedClass]
    violations: list[Violation]
    #: Class types in the plan whose rule has no carer ratio (so none was checked), and mixed classes whose
    #: youngest age was not given (the age rule could not be checked): (index, class_type, reason).
    notes: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def total_children(self) -> int:
        return sum(c.children * c.count for c in self.classes)

    @property
    def total_carers(self) -> int:
        return sum(c.carers * c.count for c in self.classes)


def _aliases(workflow: Workflow) -> list[tuple[str, str]]:
    """(alias casefolded and normalised, class type id), longest alias first."""
    pairs = [(_normalise(a), ct.id) for ct in workflow.data.readiness.class_types for a in ct.aliases]
    family = workflow.data.readiness.family
    if family is not None:
        pairs += [(_normalise(a), FAMILY) for a in family.aliases]
    return sorted(pairs, key=lambda p: -len(p[0]))


def _alias_pattern(alias: str) -> str:
    escaped = re.escape(alias)
    if alias.isascii() and alias[:1].isalpha():
        return rf"(?<![a-z]){escaped}(?![a-z])"
    return escaped


def _split_by_class_names(segment: str, aliases: list[tuple[str, str]]) -> list[str]:
    """Cut a segment before every class name after the first ("乳儿班 8 3 托小班 16 3" → two parts)."""
    taken: list[tuple[int, int]] = []
    for alias, _ in aliases:
        for m in re.finditer(_alias_pattern(alias), segment):
            if not any(s < m.end() and m.start() < e for s, e in taken):
                taken.append((m.start(), m.end()))
    starts = sorted(s for s, _ in taken)
    if len(starts) <= 1:
        return [segment]
    cuts: list[int] = []
    for s in starts[1:]:
        # a "2个" directly before the name belongs to the next part
        prefix = re.search(r"\d+\s*个\s*$", segment[:s])
        cuts.append(prefix.start() if prefix else s)
    bounds = [0, *cuts, len(segment)]
    return [segment[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if segment[a:b].strip()]


def _classify_numbers(rest: str) -> tuple[list[int], int | None, int | None]:
    """Plain numbers, plus numbers labelled as children / carers by the word right after (or before) them."""
    plain: list[int] = []
    children = carers = None
    for m in _NUMBER.finditer(rest):
        value = int(m.group(0))
        after = rest[m.end():m.end() + 8].lstrip(" 人名个位:：")
        before = rest[max(0, m.start() - 6):m.start()].rstrip(" :：")
        if after.startswith(_CARER_WORDS) or before.endswith(_CARER_WORDS):
            carers = value if carers is None else carers
            if carers != value:
                plain.append(value)
        elif after.startswith(_CHILD_WORDS) or before.endswith(_CHILD_WORDS):
            children = value if children is None else children
            if children != value:
                plain.append(value)
        else:
            plain.append(value)
    return plain, children, carers


def _class_named(text: str, aliases: list[tuple[str, str]]) -> tuple[str | None, int, str]:
    """(the class type the first matching alias names, the count before it ("2个托小班", else 1), the text
    without them); (None, 1, text) when no alias matches."""
    for alias, type_id in aliases:
        m = re.search(_alias_pattern(alias), text)
        if m:
            before = re.search(r"(\d+)\s*个\s*$", text[:m.start()])
            if before:
                return type_id, int(before.group(1)), text[:before.start()] + " " + text[m.end():]
            return type_id, 1, text[:m.start()] + " " + text[m.end():]
    return None, 1, text


def _parse_segment(segment: str, aliases: list[tuple[str, str]], default_type: str | None) -> PlannedClass | PlanProblem:
    original = segment.strip()
    class_type, count, text = _class_named(segment, aliases)
    if class_type is None:
        if not _NUMBER.search(text):
            return PlanProblem(original, "unknown_class")
        if default_type is None:
            return PlanProblem(original, "unknown_class")
        class_type = default_type
    youngest = None
    age = _AGE.search(text)
    if age:
        youngest = int(age.group(1))
        text = text[:age.start()] + " " + text[age.end():]
    cm = _COUNT_AFTER.search(text)
    if cm:
        count = int(next(g for g in cm.groups() if g))
        text = text[:cm.start()] + " " + text[cm.end():]
    plain, children, carers = _classify_numbers(text)
    if children is None and plain:
        children = plain.pop(0)
    if carers is None and plain:
        carers = plain.pop(0)
    if plain:
        return PlanProblem(original, "too_many_numbers")
    if children is None or carers is None:
        return PlanProblem(original, "missing_numbers")
    if children < 1 or children > MAX_CHILDREN_PER_LINE or carers > MAX_CHILDREN_PER_LINE or count < 1 or count > MAX_CLASSES:
        return PlanProblem(original, "bad_numbers")
    return PlannedClass(class_type, children, carers, youngest, count, original)


def parse_plan(text: str, workflow: Workflow, *, family_default: bool = False) -> PlanResult:
    """Read the operator's planned classes; parts that cannot be read are listed as problems, never guessed.

    With `family_default` (the case is a 家庭托育点), a part without a class name is the home-based point.
    """
    aliases = _aliases(workflow)
    result = PlanResult()
    normal = _normalise(text or "")
    default_type = FAMILY if family_default and workflow.data.readiness.family is not None else None
    for segment in _SEPARATORS.split(normal):
        if not segment.strip(" ,，、.:："):
            continue
        for part in _split_by_class_names(segment, aliases):
            part = part.strip(" ,，、.:：")
            if not part:
                continue
            parsed = _parse_segment(part, aliases, default_type)
            (result.classes if isinstance(parsed, PlannedClass) else result.problems).append(parsed)
    if len(result.classes) > MAX_CLASSES:
        result.problems.append(PlanProblem(text[:40], "too_many_classes"))
        result.classes = result.classes[:MAX_CLASSES]
    return result


def _family_violations(index: int, planned: PlannedClass, family, workflow: Workflow) -> list[Violation]:
    """A family care point's (家庭托育点) size and carer-ratio violations."""
    source = workflow.source(family.source).cite()
    common = dict(index=index, class_type=FAMILY, class_name=family.name, children=planned.children,
                  carers=planned.carers, rule=family.rule, source=source)
    found = []
    if planned.children > family.max_children:
        found.append(Violation(kind="family_max", actual=planned.children, limit=family.max_children, **common))
    needed = math.ceil(planned.children / family.children_per_carer)
    if planned.carers < needed:
        found.append(Violation(kind="family_ratio", actual=planned.carers, limit=needed, **common))
    return found


def check_plan(classes: list[PlannedClass], workflow: Workflow) -> ReadinessReport:
    """Every violation of the maximum class size, the carer ratio and the minimum age, named with its rule."""
    readiness = workflow.data.readiness
    types = {ct.id: ct for ct in readiness.class_types}
    standard = workflow.source(readiness.source).cite()
    violations: list[Violation] = []
    notes: list[tuple[int, str, str]] = []
    for index, planned in enumerate(classes, start=1):
        if planned.class_type == FAMILY:
            if readiness.family is not None:
                violations += _family_violations(index, planned, readiness.family, workflow)
            continue
        ct = types.get(planned.class_type)
        if ct is None:  # a stored plan naming a class type the data no longer has
            continue
        common = dict(index=index, class_type=ct.id, class_name=ct.name, children=planned.children,
                      carers=planned.carers, rule=ct.rule, source=standard)
        if planned.children > ct.max_children:
            violations.append(Violation(kind="max_children", actual=planned.children, limit=ct.max_children, **common))
        if ct.children_per_carer is not None:
            needed = math.ceil(planned.children / ct.children_per_carer)
            if planned.carers < needed:
                violations.append(Violation(kind="ratio", actual=planned.carers, limit=needed, **common))
        else:
            notes.append((index, ct.id, "no_ratio"))
        if ct.min_age_months is not None:
            if planned.youngest_months is not None and planned.youngest_months < ct.min_age_months:
                violations.append(Violation(kind="min_age", actual=planned.youngest_months,
                                            limit=ct.min_age_months, **common))
            elif planned.youngest_months is None and ct.children_per_carer is None:
                notes.append((index, ct.id, "age_unchecked"))
    return ReadinessReport(classes=list(classes), violations=violations, notes=notes)


def check_text(text: str, workflow: Workflow, *, family_default: bool = False) -> tuple[PlanResult, ReadinessReport]:
    """`parse_plan` then `check_plan` on what could be read."""
    parsed = parse_plan(text, workflow, family_default=family_default)
    return parsed, check_plan(parsed.classes, workflow)
