"""Places in questions, read against a real place hierarchy (province › city › district › town).

`knowledge/places.yaml` holds the hierarchy; which places have documents comes from the documents
themselves (their `city`). A place inside a documented place (大碶 in 北仑) is answered from that place's
documents; a sibling (鄞州 beside 北仑) or a parent (宁波 above 北仑) is not, and the reply names the
documented places nearby instead ("no document for 鄞州; we have 北仑's").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jieba
import yaml

from retrieval.bilingual import written_in_pinyin
from retrieval.catalog import CatalogError, load_catalog

# Longest first: 特别行政区 before 区. A stem must keep at least two characters.
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "街道", "新区",
             "省", "市", "区", "县", "镇", "乡")
LEVELS = ("province", "city", "district", "town")
NATIONAL_CITY_NAMES = frozenset({"全国", "国家", "中国", "中华人民共和国"})


def stem(name: str) -> str:
    """深圳市 → 深圳, 大碶街道 → 大碶 (kept whole when too short to stand alone)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Place:
    """One node of the hierarchy."""

    key: str  # the path, e.g. 浙江省/宁波市/北仑区
    name: str
    parent: str | None
    depth: int  # 0 province (or municipality), 1 city, 2 district / county, 3 town / street
    aliases: tuple[str, ...]

    @property
    def short(self) -> str:
        """The everyday name (北仑 for 北仑区)."""
        return stem(self.name)


@dataclass(frozen=True)
class PlaceTree:
    """The hierarchy, indexed by alias."""

    nodes: dict[str, Place]
    by_alias: dict[str, tuple[str, ...]]  # lower-case alias → node keys
    national_markers: tuple[str, ...] = ()
    #: lower-case name or joined path (宁波市北仑区) → the first node in tree order that has it
    names: dict[str, str] = field(default_factory=dict)

    def ancestors(self, key: str) -> list[str]:
        """`key` and its ancestors, nearest first."""
        out = []
        current: str | None = key
        while current is not None:
            out.append(current)
            current = self.nodes[current].parent
        return out

    def locate(self, city: str) -> str | None:
        """The node a document's `city` names: by name, short name or joined path (宁波市北仑区)."""
        wanted = city.strip().lower()
        if not wanted:
            return None
        key = self.names.get(wanted)
        if key is not None:
            return key
        keys = self.by_alias.get(wanted, ())
        return keys[0] if keys else None

    def level_of(self, city: str) -> str:
        """national / province / city / district / town for a document's `city` ("" when unknown)."""
        if city.strip() in NATIONAL_CITY_NAMES:
            return "national"
        key = self.locate(city)
        if key is None:
            return ""
        node = self.nodes[key]
        if node.depth == 0 and node.name.endswith("市"):  # 北京市, 上海市: municipalities are cities
            return "city"
        return LEVELS[min(node.depth, 3)]


def pinyin_alias(name: str) -> list[str]:
    """The pinyin an English question writes a place in (凤凰 → fenghuang, 乐余 → leyu), [] when it would read as
    an English word or the name is not two Chinese characters or more."""
    spelt = written_in_pinyin(name)
    return [spelt] if spelt else []


def _read_nodes(data: dict, parent: str | None, depth: int, out: dict[str, Place]) -> None:
    for name, body in (data or {}).items():
        name = str(name)
        key = f"{parent}/{name}" if parent else name
        if isinstance(body, dict):
            aka, sub = body.get("aka") or [], body.get("sub") or {}
        else:
            aka, sub = body or [], {}
        aliases = [name, stem(name), *(str(a) for a in aka), *pinyin_alias(stem(name))]
        out[key] = Place(key, name, parent, depth, tuple(dict.fromkeys(a.lower() for a in aliases if a)))
        _read_nodes(sub, key, depth + 1, out)


@lru_cache(maxsize=4)
def load_place_tree(path: Path) -> PlaceTree:
    """Read the hierarchy of `knowledge/places.yaml`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    nodes: dict[str, Place] = {}
    _read_nodes(data.get("places") or {}, None, 0, nodes)
    by_alias: dict[str, list[str]] = {}
    for key, node in nodes.items():
        for alias in node.aliases:
            by_alias.setdefault(alias, []).append(key)
    markers = tuple(str(m).lower() for m in data.get("national") or [])
    names: dict[str, str] = {}
    for key, node in nodes.items():
        parts = key.split("/")
        for i in range(len(parts)):
            names.setdefault("".join(parts[i:]).lower(), key)
        names.setdefault(node.name.lower(), key)
    return PlaceTree(nodes, {a: tuple(k) for a, k in by_alias.items()}, markers, names)


@dataclass
class PlaceReading:
    """What a question says about places."""

    cities: list[str] = field(default_factory=list)  # documented cities that answer (in order of mention)
    unknown: list[str] = field(default_factory=list)  # named places without documents (short names)
    nearby: dict[str, list[str]] = field(default_factory=dict)  # unknown place → documented places near it
    sub_places: list[str] = field(default_factory=list)  # places named below a documented city (towns…)
    sub_place_names: list[str] = field(default_factory=list)  # their full names (杨舍镇 for 杨舍)
    sub_place_aliases: list[str] = field(default_factory=list)  # every name of theirs (张家港保税区, 保税区…)
    national: bool = False  # asks about national rules and names no place


def unlisted_places(text: str) -> list[str]:
    """Places the hierarchy does not list but jieba's dictionary names as places with an administrative suffix
    (安达市, 宁海县): a question about one of them is about a place without documents, not about every document."""
    names = _dictionary_places()
    return [token for token in jieba.cut(text) if token in names]


@lru_cache(maxsize=1)
def _dictionary_places() -> frozenset[str]:
    """The entries of jieba's dictionary tagged as place names (ns) that end in 市, 县, 区 or 旗 (3,438)."""
    with jieba.dt.get_dict_file() as lines:
        entries = (line.decode("utf-8").split() for line in lines)
        return frozenset(
            entry[0] for entry in entries if len(entry) == 3 and entry[2] == "ns" and len(entry[0]) >= 3
            and entry[0][-1] in "市县区旗"
        )


class Gazetteer:
    """Place names in questions: which documented cities they mean, and which places have no documents.

    `documented` (alias → city) and `undocumented` (names) keep the simple view other modules use.
    """

    def __init__(self, tree: PlaceTree, documented_cities: Iterable[str], extra_aliases: dict[str, str] | None = None):
        self.tree = tree
        self.doc_nodes: dict[str, str] = {}  # node key → document city
        self.extra: dict[str, str] = {}  # aliases of documented cities the hierarchy lacks
        for city in documented_cities:
            key = tree.locate(city)
            if key is not None:
                self.doc_nodes.setdefault(key, city)
            else:
                for alias in (city, stem(city)):
                    if len(alias) >= 2:
                        self.extra[alias.lower()] = city
        for alias, city in (extra_aliases or {}).items():
            alias = alias.strip().lower()
            # A document's alias never overrides the hierarchy (宁波 stays the city, not 北仑).
            if len(alias) >= 2 and alias not in tree.by_alias and alias not in self.extra:
                self.extra[alias] = city
        self.documented: dict[str, str] = dict(self.extra)
        undocumented: set[str] = set()
        for alias, keys in tree.by_alias.items():
            city = self._documented_city(keys[0])
            if city:
                self.documented.setdefault(alias, city)
            else:
                undocumented.add(alias)
        self.undocumented = frozenset(undocumented - set(self.documented))
        names = sorted({*self.extra, *tree.by_alias}, key=lambda a: (-len(a), a))
        # Chinese names: one alternation, longest first, so 张家港 wins over a shorter overlapping name. Latin
        # names (beijing, xi'an, hong kong) stand as words ("dalian" is not inside "dalianlu"): looked up word by
        # word, since an alternation of hundreds of them is tried at every character of every question.
        chinese = "|".join(re.escape(a) for a in names if not a.isascii())
        self._pattern = re.compile(chinese) if chinese else None
        self._latin = frozenset(a for a in names if a.isascii())

    @property
    def documented_cities(self) -> list[str]:
        """Every city with documents."""
        return list(dict.fromkeys([*self.doc_nodes.values(), *self.extra.values()]))

    def _documented_city(self, key: str) -> str:
        for ancestor in self.tree.ancestors(key):
            if ancestor in self.doc_nodes:
                return self.doc_nodes[ancestor]
        return ""

    def _mentions(self, text: str) -> list[tuple[int, str, bool]]:
        lowered = text.lower()
        found = [(m.start(), m.group(0)) for m in self._pattern.finditer(lowered)] if self._pattern else []
        if self._latin:
            found += _latin_mentions(lowered, self._latin)
        return [(at, name, name in self.extra) for at, name in sorted(found)]

    def read(self, text: str) -> PlaceReading:
        """Documented cities, places without documents (with documented places near them), sub-places."""
        reading = PlaceReading()
        mentions = self._mentions(text)
        node_of: list[tuple[str, str | None]] = []
        for _, alias, extra in mentions:
            if extra:
                node_of.append((alias, None))
                continue
            keys = self.tree.by_alias[alias]
            # An ambiguous name (鼓楼区 in two cities) means the documented one if there is one.
            node_of.append((alias, next((k for k in keys if self._documented_city(k)), keys[0])))
        named = {key for _, key in node_of if key}
        for alias, key in node_of:
            if key is None:
                _add(reading.cities, self.extra[alias])
                continue
            if any(other != key and key in self.tree.ancestors(other) for other in named):
                continue  # 宁波 in 宁波北仑区: the more specific place speaks
            city = self._documented_city(key)
            if city:
                _add(reading.cities, city)
                if key not in self.doc_nodes:
                    _add(reading.sub_places, self.tree.nodes[key].short)
                    _add(reading.sub_place_names, self.tree.nodes[key].name)
                    for name in self.tree.nodes[key].aliases:
                        _add(reading.sub_place_aliases, name)
                continue
            name = self.tree.nodes[key].short
            _add(reading.unknown, name)
            reading.nearby[name] = self._near(key)
        if not mentions:
            for name in unlisted_places(text):
                _add(reading.unknown, name)
                reading.nearby[name] = []
        if not mentions and not reading.unknown:
            lowered = text.lower()
            reading.national = any(
                (m in lowered) if not m.isascii() else bool(re.search(rf"(?<![a-z]){re.escape(m)}(?![a-z])", lowered))
                for m in self.tree.national_markers
            )
        return reading

    def _near(self, key: str) -> list[str]:
        """Documented places inside `key` (a parent), else inside its parent (a sibling)."""
        for scope in (key, self.tree.nodes[key].parent):
            if scope is None:
                continue
            inside = [city for node, city in self.doc_nodes.items() if node.startswith(scope + "/")]
            if inside:
                return list(dict.fromkeys(inside))
        return []

    def mentions_place(self, text: str) -> bool:
        """True when `text` names any place of the hierarchy."""
        return bool(self._mentions(text))

    def _places_named(self, text: str) -> set[str]:
        """The places `text` names, as hierarchy keys (a document alias as itself): 厦门 and 厦门市 are one."""
        named: set[str] = set()
        for _, alias, extra in self._mentions(text):
            named.update([alias] if extra else self.tree.by_alias[alias])
        return named

    def names_another_place(self, text: str, question: str) -> bool:
        """True when `text` names a place of the hierarchy that `question` does not name: where something is
        (思明区), not the city the parent asked about (厦门市 in "厦门…示范园在哪里")."""
        # A place inside a title (《苏州市托育服务质量评估指南》) names the document, not where anything is.
        return bool(self._places_named(_TITLE.sub("", text)) - self._places_named(question))

    def find(self, text: str) -> tuple[list[str], list[str]]:
        """Cities named in `text`: (documented catalog cities, places without documents), in order."""
        reading = self.read(text)
        return reading.cities, reading.unknown

    def strip_places(self, text: str) -> str:
        """`text` with every place name removed."""
        return self.replace_places(text, "")

    def replace_places(self, text: str, replacement: str) -> str:
        """`text` with every place name it mentions replaced by `replacement`."""
        result = text
        for start, alias, _ in reversed(self._mentions(text)):
            result = result[:start] + replacement + result[start + len(alias):]
        return result


_TITLE = re.compile(r"《[^》]*》")
_LATIN_WORD = re.compile(r"[a-z0-9]+")


def _latin_mentions(lowered: str, names: frozenset[str]) -> list[tuple[int, str]]:
    """(position, name) of the Latin names in `lowered`, whole words only; a name of two words (hong kong,
    xi'an) before one of its words."""
    words = list(_LATIN_WORD.finditer(lowered))
    found: list[tuple[int, str]] = []
    i = 0
    while i < len(words):
        start = words[i].start()
        if i + 1 < len(words) and lowered[words[i].end() : words[i + 1].start()] in (" ", "'"):
            pair = lowered[start : words[i + 1].end()]
            if pair in names:
                found.append((start, pair))
                i += 2
                continue
        if words[i].group(0) in names:
            found.append((start, words[i].group(0)))
        i += 1
    return found


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def catalog_cities(knowledge_dir: Path) -> tuple[list[str], dict[str, str]]:
    """Cities of the catalog documents and their aliases (alias → city); empty when there is no catalog."""
    try:
        metas = [meta for meta, _ in load_catalog(knowledge_dir)]
    except CatalogError:
        return [], {}
    return [m.city for m in metas], {a: m.city for m in metas for a in m.aliases}
