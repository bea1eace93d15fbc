"""The number of a document another one cites (根据《黑龙江省人民政府办公厅关于…的实施意见》(黑政办规〔2020〕24号)):
the answer to "引用的黑龙江省政府办公厅实施意见，文号是多少". A document's own number comes from the catalog
(`retrieval.document_facts`); this reads the numbers the passages give next to the titles they cite, and takes
one only when its title shares words with the question (so "这份方案的文号" never gets a cited document's)."""

from __future__ import annotations

import re

_CITED = re.compile(r"《(?P<title>[^》]{4,80})》\s*[(（](?P<number>[^()（）]{1,20}?〔\d{4}〕\d+号)[)）]")
MIN_SHARED = 3  # two-character words of the question that the cited title holds


def _shared_words(question: str, title: str) -> int:
    pairs = {question[i : i + 2] for i in range(len(question) - 1)}
    return sum(1 for pair in pairs if re.fullmatch(r"[\u4e00-\u9fff]{2}", pair) and pair in title)


def cited_number(text: str, question: str) -> str:
    """The number `text` gives for the cited document `question` describes ("" when it cites none such)."""
    scored = [(_shared_words(question, m.group("title")), m.group("number")) for m in _CITED.finditer(text)]
    best = max(scored, default=(0, ""))
    return best[1] if best[0] >= MIN_SHARED else ""
