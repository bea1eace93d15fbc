"""The salient words of a question and how much of them a passage covers.

A word's weight comes from jieba's own frequency dictionary (general Chinese, not our documents): rare words
such as 护照, 发烧 or 个税 weigh the most, so a passage that lacks them covers little of the question even
when it shares the common words. Everyday words count as covered by the words the documents use for them
(`knowledge/synonyms.yaml`), English words by their Chinese renderings (glossary and CC-CEDICT).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba

from retrieval.bilingual import content_words
from retrieval.tokenize import CJK_CHAR
from retrieval.yaml_files import optional_yaml_list

# How rare a word must be before it weighs: ln(total/freq) of very common words is about 7 or less.
COMMON_LN = 7.0
MIN_WEIGHT = 0.5
UNKNOWN_ENGLISH_WEIGHT = 3.0  # an English word with no Chinese rendering
PARTIAL_CREDIT = 0.3  # a word whose characters occur in the passage, but not the word itself
SPLIT_CREDIT = 0.8  # a word spelt out with a few characters between its halves (托育服务的机构)
SPLIT_GAP = 4
# A dictionary entry this rare is a phrase jieba happens to list (订出来, 哪些因素), not a rare word.
RARE_COMPOUND = 10
# Words that ask, not name a topic (besides the stop-word list).
_ASKING = frozenset(
    ["一共", "具体", "最多", "最高", "最少", "现在", "已经", "目前", "需要", "必须", "应该", "能够", "可不可以", "能不能", "会不会", "是不是", "是否", "哪家", "哪个", "多大", "多少", "几个", "几家", "几天", "几年", "几月", "怎么办", "怎么样", "还是", "还有", "那边", "这边", "那种", "这种", "这件", "这块", "这事", "这件事", "事情", "东西", "一下", "大概", "一般", "比较", "知道", "告诉", "想", "想要", "请", "帮", "帮忙", "办", "打算", "记得", "之前", "之后", "以后", "以前", "能拿", "拿到", "我家", "我是", "我们", "住", "住在", "有个", "有些", "一点", "时候", "方面", "情况", "家住", "住在", "我家", "我们家", "这边", "那边", "那里", "这里", "不能", "能不能", "不会", "会不会", "没有", "有没有", "可不可以", "了吗", "的话"]
)
_PUNCT = re.compile(r"^[\s\W_]+$", re.UNICODE)
_NUMERAL_MEASURE = re.compile(r"^[一二两三四五六七八九十几每这那哪\d]+[个家所名位件项次种些点块]?$")


@dataclass(frozen=True)
class Salient:
    """One topic word of a question."""

    word: str
    weight: float
    alternatives: tuple[str, ...] = ()  # document words that also cover it

    def covered_by(self, text: str) -> float:
        """1 when `text` contains the word (or an alternative), partial credit for its characters."""
        if self.word in text or any(alt in text for alt in self.alternatives):
            return 1.0
        if any(_split_in(form, text) for form in (self.word, *self.alternatives)):
            return SPLIT_CREDIT
        best = 0.0
        for form in (self.word, *self.alternatives):
            chars = CJK_CHAR.findall(form)
            if len(chars) >= 2:
                best = max(best, sum(1 for c in chars if c in text) / len(chars))
        return PARTIAL_CREDIT * best


def _split_in(word: str, text: str) -> bool:
    """True when `text` holds `word` with a few characters between its two halves (托育机构 in
    托育服务的机构, 托育服务机构): a compound and its spelt-out form name the same thing."""
    if len(word) < 4 or word[:2] not in text or word[-2:] not in text or not CJK_CHAR.match(word):
        return False
    return any(
        re.search(f"{re.escape(word[:cut])}[\u4e00-\u9fff]{{1,{SPLIT_GAP}}}{re.escape(word[cut:])}", text)
        for cut in range(2, len(word) - 1)
    )


@lru_cache(maxsize=1)
def _frequencies() -> tuple[dict[str, int], int]:
    jieba.initialize()
    return jieba.dt.FREQ, max(jieba.dt.total, 1)


def word_weight(word: str) -> float:
    """How telling `word` is in general Chinese: ln(total / frequency) above the common level."""
    freq, total = _frequencies()
    return max(MIN_WEIGHT, math.log(total / (freq.get(word, 0) + 1)) - COMMON_LN)


@dataclass(frozen=True)
class Synonyms:
    """Everyday words → document words."""

    groups: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()

    def alternatives(self, word: str) -> tuple[str, ...]:
        """Document words for the everyday word `word`."""
        out: list[str] = []
        for ask, doc in self.groups:
            if word in ask:
                out.extend(d for d in doc if d not in out)
        return tuple(out)

    def expand(self, text: str) -> list[str]:
        """Document words for every everyday word in `text`."""
        out: list[str] = []
        for ask, doc in self.groups:
            if any(a in text for a in ask):
                out.extend(d for d in doc if d not in out)
        return out


@lru_cache(maxsize=4)
def load_synonyms(path: Path) -> Synonyms:
    """Read `knowledge/synonyms.yaml` (empty when missing)."""
    data = optional_yaml_list(path)
    return Synonyms(tuple((tuple(map(str, g["ask"])), tuple(map(str, g["doc"]))) for g in data))


def _never(word: str) -> bool:
    return False


def _known(word: str) -> bool:
    return _frequencies()[0].get(word, 0) > RARE_COMPOUND


def _dictionary_words(phrase: str) -> list[str]:
    """`phrase` cut into the longest dictionary words from the left (a character where none starts)."""
    out: list[str] = []
    i = 0
    while i < len(phrase):
        j = next((j for j in range(len(phrase), i + 1, -1) if _known(phrase[i:j])), i + 1)
        out.append(phrase[i:j])
        i = j
    return out


def _tokens(text: str, document_word: Callable[[str], bool] = _never) -> list[str]:
    """jieba's words of `text`, with a glued phrase cut into its dictionary words.

    jieba's guesser joins unknown runs (收多大, 带娃) and its dictionary lists rare phrases (订出来, 哪些因素);
    weighed as one word, such a token would be the rarest word of the question although it is common words
    in a row, so a passage lacking the phrase would seem to miss the question's topic. A word the documents
    use (`document_word`: 普惠) is a word of their own, however rare in general Chinese, and stays whole.
    """
    out: list[str] = []
    for token in jieba.cut(text):
        if len(token) > 1 and CJK_CHAR.match(token) and not _known(token) and not document_word(token):
            out.extend(_dictionary_words(token))
        else:
            out.append(token)
    return out


def _without_particles(word: str, stopwords: frozenset[str]) -> str:
    """`word` without a particle jieba glued to it (租个 → 租); a dictionary word is kept whole (个税, 不怎么)."""
    if _known(word):
        return word
    while len(word) > 1 and word[-1] in stopwords:
        word = word[:-1]
    while len(word) > 1 and word[0] in stopwords:
        word = word[1:]
    return word


def _term_weight(term: str) -> float:
    """A document term's weight: general Chinese's, or its parts' for a term general Chinese does not list."""
    return word_weight(term) if _known(term) or len(term) < 2 else _phrase_weight(term)


def _phrase_weight(word: str) -> float:
    """A document word general Chinese does not list (普惠, 公共卫生 as one entry) weighs what its dictionary
    words weigh together: kept whole it matches as one, but it is no rarer than its parts."""
    return sum(min(word_weight(part), 1.0) if len(part) == 1 else word_weight(part) for part in _dictionary_words(word))


def chinese_salient(
    text: str, stopwords: frozenset[str], synonyms: Synonyms, document_word: Callable[[str], bool] = _never
) -> list[Salient]:
    """Topic words of a Chinese question (places already removed), with their weights; `document_word`
    tells the words the documents use (kept whole, see `_tokens`)."""
    words: list[Salient] = []
    seen: set[str] = set()
    for token in _tokens(text, document_word):
        word = original = token.strip().lower()
        word = _without_particles(word, stopwords)
        if _NUMERAL_MEASURE.match(word):
            continue  # 一家, 几个: counting words, not the topic
        if len(word) == 1 and len(original) > 1:
            continue  # 那边 → 边, 没有 → 没: what is left is no topic
        if not word or word in seen or _PUNCT.match(word) or word in stopwords or word in _ASKING:
            continue
        if word.isascii() and not word.isdigit():
            continue  # Latin words in a Chinese question are handled by the English path
        seen.add(word)
        alts = synonyms.alternatives(word)
        weight = _phrase_weight(word) if document_word(word) and not _known(word) else word_weight(word)
        if len(word) == 1 and not alts:
            weight = min(weight, 1.0)  # a lone character is weak evidence either way
        words.append(Salient(word, weight, alts))
    return words


def english_salient(words: list[str], renderings: dict[str, list[str]], figures: list[str] = ()) -> list[Salient]:
    """Topic words of an English question: each covered by its Chinese renderings (none: unknown, weighty),
    and the figures it quotes ("the task of 5,200 places": a passage holding 5200 is about it)."""
    out: list[Salient] = [Salient(figure, UNKNOWN_ENGLISH_WEIGHT, ()) for figure in dict.fromkeys(figures)]
    for phrase, terms in renderings.items():
        weight = min((_term_weight(t) for t in terms), default=UNKNOWN_ENGLISH_WEIGHT)
        out.append(Salient(phrase, max(weight, 1.0), tuple(terms)))
    covered = {w for phrase in renderings for w in content_words(phrase)}
    for word in words:
        if word not in covered:
            out.append(Salient(word, UNKNOWN_ENGLISH_WEIGHT, ()))
            covered.add(word)
    return out


def coverage(salient: list[Salient], text: str) -> float:
    """Weighted share of the salient words that `text` covers (0 when the question has none)."""
    total = sum(s.weight for s in salient)
    if total <= 0:
        return 0.0
    return sum(s.weight * s.covered_by(text) for s in salient) / total
