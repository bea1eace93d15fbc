"""Understanding a question before search: which places it names, English→Chinese expansion,
and resolving a follow-up such as `那张家港呢？` against the previous question."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from retrieval.places import Gazetteer, catalog_cities, load_place_tree
from retrieval.yaml_files import optional_yaml_list

_ASCII_LETTERS = re.compile(r"[A-Za-z]")
# What is left of a follow-up once the place is removed: fillers only.
_FOLLOWUP_FILLER = re.compile(
    r"^[\s那么这样的呢吗呀啊了还和跟与，,。.?？!！]*$|^\s*(what|how)\s+about\s*(in|for)?\s*[?.!]*\s*$|^\s*(and|in|for)\s*[?.!]*\s*$",
    re.IGNORECASE,
)


_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def is_english(text: str) -> bool:
    """True for a question written in English: without Chinese characters, or with a few only inside English
    prose, as a name is ("… planned for Nanfeng town (南丰镇)?"); "帮我把 good morning 翻译成日语" is Chinese."""
    latin = len(_LATIN_WORD.findall(text))
    cjk = len(_CJK.findall(text))
    return latin > 0 and (cjk == 0 or (latin >= 4 and cjk * 2 <= latin))


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional characters → simplified (the documents are in simplified Chinese)."""
    return _t2s().convert(text)


_AGE_RANGE_SPOKEN = re.compile(r"(\d{1,2})\s*(?:到|至|~|～)\s*(\d{1,2})\s*(周岁|岁)")


def as_documents_write(question: str) -> str:
    """`question` (simplified) with an age range written as the documents write it: 0到3岁 → 0-3岁."""
    return _AGE_RANGE_SPOKEN.sub(r"\1-\2\3", question)


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
                if _phrase_pattern(p).search(lowered):
                    terms = found.setdefault(p, [])
                    terms.extend(t for t in zh_terms if t not in terms)
        return found


@cache
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A glossary phrase as a whole-word pattern, compiled once: the glossary holds more phrases than `re`'s own
    cache, which would otherwise compile them again for every question."""
    return re.compile(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])")


@lru_cache(maxsize=4)
def load_glossary(path: Path) -> Glossary:
    """Read `knowledge/glossary.yaml` (empty when missing)."""
    entries = tuple(
        (tuple(str(p).lower() for p in item["en"]), tuple(str(t) for t in item["zh"]))
        for item in optional_yaml_list(path)
    )
    return Glossary(entries=entries)


def resolve_followup(question: str, previous: str | None, gazetteer: Gazetteer) -> str:
    """Turn a place-only follow-up (`那张家港呢？`, `what about Xiamen?`) into a full question.

    The previous question keeps its topic and wording; the place it named is replaced by the new place in
    the same spot (`How many places will Xiamen add?` → `How many places will Zhangjiagang add?`), so a chain
    of follow-ups stays one readable question. A previous question that named no place gets the new place
    in front (Chinese) or at the end (English). Any other question is returned unchanged.
    """
    if not previous:
        return question
    documented, undocumented = gazetteer.find(question)
    new_places = documented + undocumented
    if not new_places or not _FOLLOWUP_FILLER.match(gazetteer.strip_places(question)):
        return question
    place = _display_place(question, gazetteer)
    if previous.isascii() and not place.isascii():  # an English question keeps an English place name
        place = _latin_name(place, gazetteer) or place
    if gazetteer.mentions_place(previous):
        return " ".join(gazetteer.replace_places(previous, place).split())
    topic = previous.strip()
    return f"{place}{topic}" if not topic.isascii() else f"{topic.rstrip('?.! ')} in {place}?"


def _latin_name(place: str, gazetteer: Gazetteer) -> str | None:
    """A Latin-letter alias of the documented city `place` names (`张家港` → `Zhangjiagang`), if any."""
    for key in gazetteer.tree.by_alias.get(place.lower(), ()):  # the place's own names, not its towns'
        latin = [alias for alias in gazetteer.tree.nodes[key].aliases if alias.isascii()]
        if latin:
            return latin[0].title()
    city = gazetteer.documented.get(place.lower())
    if city is None:
        return None
    latin = sorted(alias for alias, target in gazetteer.extra.items() if target == city and alias.isascii())
    return latin[0].title() if latin else None


def _display_place(question: str, gazetteer: Gazetteer) -> str:
    """The place as the user wrote it (`张家港` from `那张家港呢？`); a place typed in lower-case Latin
    letters is capitalised as a name (`shanghai` → `Shanghai`)."""
    lowered = question.lower()
    for name in sorted([*gazetteer.documented, *gazetteer.undocumented], key=len, reverse=True):
        index = lowered.find(name)
        if index >= 0:
            found = question[index : index + len(name)]
            return found.title() if found.isascii() and found.islower() else found
    return question
