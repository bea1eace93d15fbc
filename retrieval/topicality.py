"""Is a question about childcare at all?

The documents are local childcare policies, so the nearest passage to "明天从厦门飞大庆的航班" still names
厦门 and shares a word or two with it. A question that uses none of the domain's words
(`knowledge/topic_words.yaml`) and whose best passage covers little of it (`OFF_TOPIC_COVERAGE`) is off
topic: it is refused as out of scope, with a reply saying what the assistant can do, before any confidence
is weighed. The coverage condition keeps questions in the documents' own words that need no domain word
("台州1+9+X培训模式里，理论培训由谁负责？").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

#: Below this share of the question's topic words covered by the best passage, a question without a domain
#: word is off topic (off-topic questions naming a city reach 0.03–0.32; domain questions without a domain
#: word 0.46 and more on the development sets).
OFF_TOPIC_COVERAGE = 0.4


@dataclass(frozen=True)
class TopicWords:
    """The words of the domain, Chinese (matched anywhere) and English (matched at a word's start)."""

    chinese: tuple[str, ...] = ()
    english: re.Pattern[str] | None = None

    def in_question(self, question: str) -> bool:
        """True when `question` uses a word of the domain (always true when no words are loaded)."""
        if not self.chinese and self.english is None:
            return True
        if any(word in question for word in self.chinese):
            return True
        return self.english is not None and self.english.search(question) is not None


def load_topic_words(path: Path) -> TopicWords:
    """The domain words of `path` (`zh:` and `en:` lists); none (every question on topic) when it is missing."""
    if not path.exists():
        return TopicWords()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    english = [re.escape(str(word).lower()) for word in data.get("en", [])]
    pattern = re.compile(r"\b(?:" + "|".join(english) + ")", re.I) if english else None
    return TopicWords(tuple(str(word) for word in data.get("zh", [])), pattern)


def off_topic(question: str, best_coverage: float, words: TopicWords) -> bool:
    """True when `question` uses no word of the domain and its best passage covers little of it."""
    return best_coverage < OFF_TOPIC_COVERAGE and not words.in_question(question)
