"""Understanding a question before search: which places it names, English→Chinese expansion,
and resolving a follow-up such as `那张家港呢？` against the previous question."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

_ASCII_LETTERS = re.compile(r"[A-Za-z]")
# What is left of a follow-up once the place is removed: fillers only.
_FOLLOWUP_FILLER = re.compile(
    r"^[\s那么这样的呢吗呀啊了还和跟与，,。.?？!！]*$|^\s*(what|how)\s+about\s*(in|for)?\s*[?.!]*\s*$|^\s*(and|in|for)\s*[?.!]*\s*$",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional characters → simplified (the documents are in simplified Chinese)."""
    return _t2s().convert(text)


@dataclass(frozen=True)
class Gazetteer:
    """Place names: documented ones map to a catalog city, undocumented ones to themselves."""

    documented: dict[str, str]  # alias (lower-case) → catalog city
    undocumented: frozenset[str]  # lower-case names of cities we have no documents for

    def find(self, text: str) -> tuple[list[str], list[str]]:
        """Cities named in `text`: (documented catalog cities, undocumented names), in order of appearance."""
        lowered = text.lower()
        hits: list[tuple[int, str, bool]] = []
        taken: list[tuple[int, int]] = []
        names = [(alias, city, True) for alias, city in self.documented.items()]
        names += [(name, name, False) for name in self.undocumented]
        # Longest names first so `张家港` wins over a shorter overlapping name.
        for alias, city, documented in sorted(names, key=lambda item: -len(item[0])):
            for match in _find_all(lowered, alias):
                span = (match, match + len(alias))
                if any(a < span[1] and span[0] < b for a, b in taken):
                    continue
                taken.append(span)
                hits.append((match, city, documented))
        hits.sort()
        documented_cities = _unique(city for _, city, doc in hits if doc)
        undocumented_cities = _unique(city for _, city, doc in hits if not doc)
        return documented_cities, undocumented_cities

    def strip_places(self, text: str) -> str:
        """`text` with every place name removed (to see what a follow-up asks besides the place)."""
        result = text
        for name in sorted([*self.documented, *self.undocumented], key=len, reverse=True):
            result = re.sub(re.escape(name), "", result, flags=re.IGNORECASE)
        return result


def _find_all(haystack: str, needle: str) -> list[int]:
    ascii_name = needle.isascii()
    positions = []
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        # ASCII names must stand as words ("dalian" is not inside "dalianlu").
        if not ascii_name or (
            (start == 0 or not haystack[start - 1].isalnum()) and (end == len(haystack) or not haystack[end].isalnum())
        ):
            positions.append(start)
        start = haystack.find(needle, start + 1)
    return positions


def _unique(items) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


@lru_cache(maxsize=4)
def load_gazetteer(path: Path) -> Gazetteer:
    """Read `knowledge/places.yaml`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    documented = {
        str(alias).lower(): city for city, aliases in data.get("documented", {}).items() for alias in [city, *aliases]
    }
    undocumented = frozenset(str(name).lower() for name in data.get("undocumented", []))
    return Gazetteer(documented=documented, undocumented=undocumented - set(documented))


@dataclass(frozen=True)
class Glossary:
    """English phrases → Chinese domain terms."""

    entries: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = field(default_factory=tuple)

    def expand(self, text: str) -> list[str]:
        """Chinese terms for the English phrases found in `text` (empty for a Chinese question)."""
        if not _ASCII_LETTERS.search(text):
            return []
        lowered = f" {text.lower()} "
        terms: list[str] = []
        for phrases, zh_terms in self.entries:
            if any(re.search(rf"(?<![a-z]){re.escape(p)}(?![a-z])", lowered) for p in phrases):
                terms.extend(t for t in zh_terms if t not in terms)
        return terms


@lru_cache(maxsize=4)
def load_glossary(path: Path) -> Glossary:
    """Read `knowledge/glossary.yaml`."""
    if not path.exists():
        return Glossary()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    entries = tuple(
        (tuple(str(p).lower() for p in item["en"]), tuple(str(t) for t in item["zh"])) for item in data
    )
    return Glossary(entries=entries)


def resolve_followup(question: str, previous: str | None, gazetteer: Gazetteer) -> str:
    """Turn a place-only follow-up (`那张家港呢？`, `what about Xiamen?`) into a full question.

    The previous question keeps its topic; its place names are replaced by the new place.
    Any other question is returned unchanged.
    """
    if not previous:
        return question
    documented, undocumented = gazetteer.find(question)
    new_places = documented + undocumented
    if not new_places or not _FOLLOWUP_FILLER.match(gazetteer.strip_places(question)):
        return question
    topic = gazetteer.strip_places(previous).strip()
    place = _display_place(question, gazetteer)
    return f"{place}{topic}" if not topic.isascii() else f"{topic} ({place})"


def _display_place(question: str, gazetteer: Gazetteer) -> str:
    """The place as the user wrote it, e.g. `张家港` from `那张家港呢？`."""
    lowered = question.lower()
    for name in sorted([*gazetteer.documented, *gazetteer.undocumented], key=len, reverse=True):
        index = lowered.find(name)
        if index >= 0:
            return question[index : index + len(name)]
    return question
