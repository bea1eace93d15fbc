"""Understanding a question before search: which places it names, English→Chinese expansion,
and resolving a follow-up such as `那张家港呢？` against the previous question."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from retrieval.places import Gazetteer, catalog_cities, load_place_tree

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


@lru_cache(maxsize=4)
def load_gazetteer(path: Path) -> Gazetteer:
    """The place hierarchy of `knowledge/places.yaml`, with the catalog's documents attached."""
    return Gazetteer(load_place_tree(path), *catalog_cities(path.parent))


@dataclass(frozen=True)
class Glossary:
    """English phrases → Chinese domain terms."""

    entries: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = field(default_factory=tuple)

    def expand(self, text: str) -> list[str]:
        """Chinese terms for the English phrases found in `text` (empty for a Chinese question)."""
        terms: list[str] = []
        for zh_terms in self.expand_phrases(text).values():
            terms.extend(t for t in zh_terms if t not in terms)
        return terms

    def expand_phrases(self, text: str) -> dict[str, list[str]]:
        """{English phrase found in `text`: its Chinese terms} (empty for a Chinese question)."""
        if not _ASCII_LETTERS.search(text):
            return {}
        lowered = f" {text.lower()} "
        found: dict[str, list[str]] = {}
        for phrases, zh_terms in self.entries:
            for p in phrases:
                if re.search(rf"(?<![a-z]){re.escape(p)}(?![a-z])", lowered):
                    terms = found.setdefault(p, [])
                    terms.extend(t for t in zh_terms if t not in terms)
        return found


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
