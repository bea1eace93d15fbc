"""Remove scraping noise from a policy text and report what was removed.

Three kinds of noise, all described as patterns in `knowledge/cleaning_rules.yaml` (not as a list of
known strings): injected gambling spam (with the overwritten word restored where the context shows
which word it was), page furniture / share prompts, and bare URLs. Everything else stays verbatim;
only line endings and trailing spaces are normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from retrieval.types import CleaningReport, Removal

DEFAULT_RULES_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "cleaning_rules.yaml"


@dataclass(frozen=True)
class RestoreRule:
    """Put `insert` back where spam sat between text matching `before` (at its end) and `after` (at its start)."""

    name: str
    insert: str
    before: re.Pattern[str]
    after: re.Pattern[str]


@dataclass(frozen=True)
class CleaningRules:
    """Compiled form of `cleaning_rules.yaml`."""

    spam_token: re.Pattern[str]
    spam_keyword: re.Pattern[str]
    spam_strong: re.Pattern[str]
    spam_joiner: re.Pattern[str]
    spam_tail: re.Pattern[str]
    restore: tuple[RestoreRule, ...]
    line_rules: tuple[tuple[str, re.Pattern[str]], ...]
    inline_rules: tuple[tuple[str, re.Pattern[str]], ...]
    ad_signal: re.Pattern[str] = re.compile(r"(?!)")
    ad_max_length: int = 60
    sentence_end: re.Pattern[str] = re.compile(r"[。；;]")


@lru_cache(maxsize=4)
def load_rules(path: Path = DEFAULT_RULES_PATH) -> CleaningRules:
    """Read and compile the cleaning rules file."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    spam = data["spam"]
    strong = _alternation(spam["strong_keywords"])
    keyword = _alternation(list(spam["strong_keywords"]) + list(spam["weak_keywords"]))
    brackets = "|".join(
        f"{re.escape(o)}[^{re.escape(o + c)}\\n]{{1,30}}?{re.escape(c)}" for o, c in spam["brackets"]
    )
    restore = tuple(
        RestoreRule(r["name"], r["insert"], re.compile(r["before"]), re.compile(r["after"]))
        for r in data.get("restore", [])
    )
    line_rules, inline_rules = [], []
    for rule in data.get("furniture", []):
        compiled = re.compile(rule["pattern"])
        (line_rules if rule.get("scope") == "line" else inline_rules).append((rule["kind"], compiled))
    inline_rules.extend(("url", re.compile(pattern)) for pattern in data.get("urls", []))
    ad_lines = data.get("ad_lines") or {}
    return CleaningRules(
        ad_signal=re.compile(ad_lines.get("signals", r"(?!)"), re.IGNORECASE),
        ad_max_length=int(ad_lines.get("max_length", 60)),
        sentence_end=re.compile(ad_lines.get("sentence_end", r"[。；;]")),
        spam_token=re.compile(f"(?P<bracket>{brackets})|(?P<keyword>{keyword})"),
        spam_keyword=re.compile(keyword),
        spam_strong=re.compile(strong),
        spam_joiner=re.compile(spam["joiners"]),
        spam_tail=re.compile(spam["tail"]),
        restore=restore,
        line_rules=tuple(line_rules),
        inline_rules=tuple(inline_rules),
    )


def _alternation(words: list[str]) -> str:
    # Longest first, so 娱乐网站 wins over 娱乐.
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@dataclass
class _Line:
    number: int
    original: str  # trimmed
    text: str  # after inline removals
    removals: list[Removal]
    ad: bool = False  # an advert line: dropped whole


def clean_text(text: str, rules: CleaningRules | None = None) -> tuple[str, CleaningReport]:
    """Cleaned text and a report of every removal (kind, text, 1-based line, replacement).

    An advert goes as a whole: its line (and the short advert lines next to it) rather than only the
    words the spam patterns know."""
    rules = rules or load_rules()
    report = CleaningReport()
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines: list[_Line] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip()
        stripped = line.strip()
        whole = next(
            (kind for kind, pattern in rules.line_rules if stripped and pattern.fullmatch(stripped)), None
        )
        if whole:
            lines.append(_Line(number, stripped, "", [Removal(whole, stripped, number)]))
            continue
        removals: list[Removal] = []
        scratch = CleaningReport(removals)
        line = _remove_spam(line, number, rules, scratch)
        had_spam = bool(removals)
        for kind, pattern in rules.inline_rules:
            line = _remove_inline(line, number, kind, pattern, scratch)
        line = line.rstrip()
        item = _Line(number, stripped, line, removals)
        item.ad = had_spam and _reads_like_ad(line, rules)
        lines.append(item)
    _spread_ad_blocks(lines, rules)
    kept: list[str] = []
    for item in lines:
        if item.ad:
            report.removals.append(Removal("spam", item.original, item.number))
            continue
        report.removals.extend(item.removals)
        if item.original and not item.text.strip():
            continue  # the whole line was noise
        kept.append(item.text)
    cleaned = "\n".join(kept).strip("\n")
    return (cleaned + "\n" if cleaned else ""), report


def _reads_like_ad(rest: str, rules: CleaningRules) -> bool:
    """What is left of a line once its spam spans and URLs are cut: nothing, or advert words, not a sentence."""
    rest = rest.strip()
    if not rest:
        return True
    return (
        len(rest) <= rules.ad_max_length
        and rules.sentence_end.search(rest) is None
        and rules.ad_signal.search(rest) is not None
    )


def _spread_ad_blocks(lines: list[_Line], rules: CleaningRules) -> None:
    """Short advert-like lines right before or after an advert line belong to the same advert block."""
    def ad_like(item: _Line) -> bool:
        # Judged on what the line would keep: a heading the spam was injected into keeps its words.
        return (
            bool(item.text.strip())
            and len(item.original) <= rules.ad_max_length
            and rules.sentence_end.search(item.original) is None
            and rules.ad_signal.search(item.text) is not None
        )

    for index, item in enumerate(lines):
        if not item.ad:
            continue
        for step in (-1, 1):
            other = index + step
            while 0 <= other < len(lines) and not lines[other].ad and ad_like(lines[other]):
                lines[other].ad = True
                other += step


def _remove_inline(
    line: str, number: int, kind: str, pattern: re.Pattern[str], report: CleaningReport
) -> str:
    matches = [m for m in pattern.finditer(line) if m.group(0).strip()]
    for match in matches:
        report.removals.append(Removal(kind, match.group(0).strip(), number))
    return pattern.sub(lambda m: "" if m.group(0).strip() else m.group(0), line) if matches else line


def spam_spans(line: str, rules: CleaningRules | None = None) -> list[tuple[int, int]]:
    """(start, end) of every spam span in one line, left to right."""
    rules = rules or load_rules()
    groups: list[list[re.Match[str]]] = []
    for token in rules.spam_token.finditer(line):
        if token.group("bracket") and not rules.spam_keyword.search(token.group("bracket")):
            continue  # an ordinary bracketed phrase
        if groups and rules.spam_joiner.fullmatch(line, groups[-1][-1].end(), token.start()):
            groups[-1].append(token)
        else:
            groups.append([token])
    spans: list[tuple[int, int]] = []
    for tokens in groups:
        start, end = tokens[0].start(), tokens[-1].end()
        has_strong = rules.spam_strong.search(line, start, end) is not None
        # A lone word (e.g. 赌博 in "严禁赌博") is policy text, not an advert.
        looks_like_ad = len(tokens) >= 2 or any(t.group("bracket") for t in tokens)
        if has_strong and looks_like_ad:
            tail = rules.spam_tail.match(line, end)
            spans.append((start, tail.end() if tail else end))
    return spans


def _remove_spam(line: str, number: int, rules: CleaningRules, report: CleaningReport) -> str:
    spans = spam_spans(line, rules)
    # Right to left, so earlier offsets stay valid and each rule sees the original text before the span.
    for start, end in reversed(spans):
        before, after = line[:start], line[end:]
        insert = _restored_word(before, after, rules)
        report.removals.append(Removal("spam", line[start:end], number, insert))
        line = before + insert + after
    if spans:
        report.removals[-len(spans) :] = reversed(report.removals[-len(spans) :])
    return line


def _restored_word(before: str, after: str, rules: CleaningRules) -> str:
    if not before.strip() or not after.strip():
        return ""  # spam at a line edge replaced nothing inside a sentence
    for rule in rules.restore:
        if rule.before.search(before) and rule.after.match(after):
            return rule.insert
    return ""
