"""What changed between two versions of a policy document, in facts a parent cares about (pure functions).

Both versions are given as their passages (section path, text), as the chunk store holds them — already
cleaned, so page furniture is gone. Each passage is split into sentences; each sentence's *facts* are found —
amounts (500元, 1.2万元), percentages (50%, 百分之五十), dates (2025年4月1日, 2025-04-01), counts and durations
(12个月, 3岁, 200人) — and its *skeleton* is the sentence normalised (NFKC, no whitespace) with every fact
replaced by a placeholder.

Sentences are aligned old ↔ new: identical normalised text is unchanged; the same skeleton with other facts is
a *fact change* (500元 → 800元, with the clause it sits in); a sentence with a different skeleton is paired with
the most similar unpaired old sentence of the same clause when they are close (a reworded sentence), else it is
*added* (and an unpaired old one *removed*). Only fact changes and added or removed sentences that state a fact
make a replacement worth telling parents about; whitespace, punctuation width, page furniture and rewording
that keeps every fact are `cosmetic`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

AMOUNT, PERCENTAGE, DATE, COUNT = "amount", "percentage", "date", "count"
_NUM = r"\d+(?:[.,]\d+)*"
_CN = "零〇一二两三四五六七八九十百千"
_FACT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (DATE, re.compile(r"\d{4}年\d{1,2}月(?:\d{1,2}日)?|\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|"
                      r"\d{1,2}月\d{1,2}日|\d{4}年(?=[度底初前后起以内])")),
    (PERCENTAGE, re.compile(rf"{_NUM}%|百分之[{_CN}\d.]+")),
    (AMOUNT, re.compile(rf"{_NUM}(?:[万千百亿])?元|[{_CN}]+(?:万)?元(?![旦宵])")),
    (COUNT, re.compile(rf"{_NUM}(?:个月|个工作日|个|周岁|岁|年|天|日|周|小时|人次|人|名|家|所|次|孩|班|张|床|位|平方米|m2)"
                       rf"|(?<![第])[{_CN}]{{1,3}}(?:个月|周岁|岁|年|天|孩)")),
]
_SENTENCE_END = re.compile(r"(?<=[。；;！？!?])|\n")
_MARKER = re.compile(r"^(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.．、]|第[一二三四五六七八九十百\d]{1,4}条)")
_PLACEHOLDER = "\u2063"  # invisible separator: never in policy text
#: Skeleton similarity at which a changed sentence counts as a rewording of an old one.
REWORD_RATIO = 0.6


@dataclass(frozen=True)
class Fact:
    kind: str
    text: str  # normalised, e.g. "500元"


@dataclass(frozen=True)
class Sentence:
    clause: str  # where it is, e.g. "三、补贴标准（一）"
    text: str  # as written (stripped)
    norm: str
    skeleton: str
    facts: tuple[Fact, ...]


@dataclass(frozen=True)
class FactChange:
    """One sentence whose facts changed: the pairs old → new that differ, with the clause and both sentences."""

    clause: str
    pairs: tuple[tuple[str, str], ...]  # (old fact, new fact); "" for a fact that appeared or disappeared
    old_sentence: str
    new_sentence: str
    kinds: tuple[str, ...] = ()


@dataclass
class FactDiff:
    """The difference between two versions."""

    changes: list[FactChange] = field(default_factory=list)
    added: list[Sentence] = field(default_factory=list)  # new sentences that state a fact
    removed: list[Sentence] = field(default_factory=list)  # old sentences that stated a fact
    reworded: int = 0  # sentences reworded (or added/removed) without any fact: not worth a message

    @property
    def cosmetic(self) -> bool:
        """Nothing a parent needs to hear about: same facts, only whitespace, furniture or wording differ."""
        return not (self.changes or self.added or self.removed)


def normalise(text: str) -> str:
    """NFKC (full-width digits and punctuation folded), no whitespace, ，/, and ：/: the same."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", folded)


def facts_of(norm: str) -> list[tuple[int, int, Fact]]:
    """The facts of a normalised sentence, as non-overlapping (start, end, fact), in order."""
    taken: list[tuple[int, int, Fact]] = []
    for kind, pattern in _FACT_PATTERNS:
        for match in pattern.finditer(norm):
            start, end = match.span()
            if any(start < e and s < end for s, e, _ in taken):
                continue
            taken.append((start, end, Fact(kind, match.group())))
    return sorted(taken, key=lambda item: item[0])


def _skeleton(norm: str, spans: list[tuple[int, int, Fact]]) -> str:
    out, last = [], 0
    for start, end, _ in spans:
        out.append(norm[last:start])
        out.append(_PLACEHOLDER)
        last = end
    out.append(norm[last:])
    return "".join(out)


def sentences(passages: Iterable[tuple[Sequence[str], str]]) -> list[Sentence]:
    """Every sentence of the passages (section path, text), with its clause, skeleton and facts."""
    out: list[Sentence] = []
    for section, text in passages:
        head = section[0] if section else ""
        for raw in _SENTENCE_END.split(text or ""):
            line = raw.strip()
            if not line:
                continue
            norm = normalise(line)
            if not norm or norm == normalise(head):
                continue  # the heading line itself
            marker = _MARKER.match(norm)
            clause = head + (marker.group() if marker and marker.group() not in head else "")
            spans = facts_of(norm)
            out.append(Sentence(clause, line, norm, _skeleton(norm, spans), tuple(f for _, _, f in spans)))
    return out


def _pairs(old: Sentence, new: Sentence) -> tuple[tuple[str, str], ...]:
    olds, news = [f.text for f in old.facts], [f.text for f in new.facts]
    matcher = SequenceMatcher(a=olds, b=news, autojunk=False)
    pairs: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        a, b = olds[i1:i2], news[j1:j2]
        for k in range(max(len(a), len(b))):
            pairs.append((a[k] if k < len(a) else "", b[k] if k < len(b) else ""))
    return tuple(pairs)


def _kinds(old: Sentence, new: Sentence, pairs) -> tuple[str, ...]:
    by_text = {f.text: f.kind for f in (*old.facts, *new.facts)}
    return tuple(dict.fromkeys(by_text.get(a or b, COUNT) for a, b in pairs))


def diff(old_passages: Iterable[tuple[Sequence[str], str]], new_passages: Iterable[tuple[Sequence[str], str]]) -> FactDiff:
    """What changed from the old version's passages to the new one's: identical sentences are matched first
    (the great majority), then the same sentence with other facts, then reworded ones by similarity."""
    old = sentences(old_passages)
    result = FactDiff()
    unmatched = list(range(len(old)))
    _, pending = _match_by(old, sentences(new_passages), unmatched, lambda s: s.norm)
    same_skeleton, pending = _match_by(old, pending, unmatched, lambda s: s.skeleton)
    for i, sentence in same_skeleton:
        _record_change(result, old[i], sentence)
    for sentence in pending:
        best = _closest(old, unmatched, sentence)
        if best is None:
            if sentence.facts:
                result.added.append(sentence)
            else:
                result.reworded += 1
            continue
        unmatched.remove(best)
        if not _record_change(result, old[best], sentence):
            result.reworded += 1
    for i in unmatched:
        if old[i].facts:
            result.removed.append(old[i])
        else:
            result.reworded += 1
    return result


def _match_by(
    old: list[Sentence], new: list[Sentence], unmatched: list[int], key
) -> tuple[list[tuple[int, Sentence]], list[Sentence]]:
    """Pair each new sentence with an unmatched old one of the same `key` (taken out of `unmatched`); returns
    the pairs (old index, new sentence) and the new sentences left over."""
    by_key: dict[str, list[int]] = {}
    for i in unmatched:
        by_key.setdefault(key(old[i]), []).append(i)
    pairs: list[tuple[int, Sentence]] = []
    left: list[Sentence] = []
    for sentence in new:
        hits = by_key.get(key(sentence))
        if not hits:
            left.append(sentence)
            continue
        i = hits.pop(0)
        unmatched.remove(i)
        pairs.append((i, sentence))
    return pairs, left


def _closest(old: list[Sentence], unmatched: list[int], sentence: Sentence) -> int | None:
    """The unmatched old sentence most like `sentence`, when at least `REWORD_RATIO` alike."""
    best, best_ratio = None, REWORD_RATIO
    for i in unmatched:
        ratio = SequenceMatcher(a=old[i].skeleton, b=sentence.skeleton, autojunk=False).ratio()
        if ratio >= best_ratio:
            best, best_ratio = i, ratio
    return best


def _record_change(result: FactDiff, before: Sentence, after: Sentence) -> bool:
    """Record the facts that differ between two versions of a sentence; False when none does."""
    pairs = _pairs(before, after)
    if pairs:
        result.changes.append(FactChange(after.clause, pairs, before.text, after.text, _kinds(before, after, pairs)))
    return bool(pairs)


def headline_facts(passages: Iterable[tuple[Sequence[str], str]], limit: int = 3) -> list[tuple[str, str]]:
    """The first sentences of a new document stating an amount or a percentage (clause, sentence): what a parent
    watching for a subsidy wants to see first."""
    out: list[tuple[str, str]] = []
    for sentence in sentences(passages):
        if any(f.kind in (AMOUNT, PERCENTAGE) for f in sentence.facts):
            out.append((sentence.clause, sentence.text))
            if len(out) >= limit:
                break
    return out
