"""Questions about a policy document itself: its number (文号), who issued it and when.

The catalog holds these for every document (`knowledge/policies/catalog.yaml`, or what staff entered for an
upload), taken from the document's own header; the passages often do not (the header is not a clause). Such a
question is answered from the metadata of the document the question's place points at, and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.types import DocumentMeta

# field of DocumentMeta → what asks for it (Chinese and English)
_ASKS: dict[str, re.Pattern[str]] = {
    "doc_number": re.compile(r"文号|发文字号|发文号|文件编号|document number|reference number", re.I),
    "issuer": re.compile(
        r"(?:哪个|哪些|什么|哪家)(?:部门|单位|机关|机构|局|委|厅)(?:联合|一起|共同)?(?:发布|印发|发的|出台|制定|颁布|下发)|"
        r"(?:谁|哪里)(?:发布|印发|发的|出台|颁布|下发)|发文(?:机关|单位)|发布(?:机关|机构|单位)|落款(?!日期|时间|的日期)|"
        r"\bwho (?:issued|published|released)\b|\bissued by\b|"
        r"\bwhich (?:departments?|authorit(?:y|ies)|bod(?:y|ies)|agenc(?:y|ies)|offices?) (?:issued|published)\b",
        re.I,
    ),
    "date": re.compile(
        r"(?:什么时候|何时|哪天|哪一天|哪年|几月几号|几号)[^，,。？?]{0,4}(?:发布|印发|出台|发的|颁布|下发)|"
        r"(?:发布|印发|发文|成文)(?:时间|日期)|"
        r"\b(?:when|(?:on )?(?:what|which) (?:date|day|year))\b.{0,80}\b(?:issu|publish|releas|promulgat)\w*|"
        r"\b(?:issue|publication|release) date\b",
        re.I,
    ),
}
# Counting the issuers is a count, not this ("How many departments jointly issued …").
_COUNTING = re.compile(r"多少(?:个|家|部门|单位)|几个|几家|how many", re.I)


@dataclass(frozen=True)
class DocumentFact:
    """One piece of a document's metadata that answers a question."""

    meta: DocumentMeta
    field: str  # "doc_number" | "issuer" | "date"
    value: str


def asked_field(question: str) -> str:
    """The metadata field a question asks for ("" when it asks about the content)."""
    if _COUNTING.search(question):
        return ""
    return next((field for field, pattern in _ASKS.items() if pattern.search(question)), "")


def names_another_document(question: str, title: str) -> bool:
    """True when the question quotes the title of a document other than `title` (《台州市基本公共服务标准》 in
    the reply letter): it asks about that one, which the passages describe, not about this document."""
    own = _BARE_TITLE.sub("", title)
    if any(name not in own for name in _QUOTED_NAME.findall(question)):  # “一老一小”整体解决方案
        return True
    if any(kind not in own for kind in _DOCUMENT_KIND.findall(question)):  # 奖补细则 asked of a 实施方案
        return True
    if _DESCRIBED_DOCUMENT.search(question):  # "the document that turned care … into a basic public service"
        return True
    for quoted in _QUOTED_TITLE.findall(question):
        bare = _BARE_TITLE.sub("", quoted)
        if bare and bare not in own and own not in bare:
            return True
    return False


def document_fact(question: str, meta: DocumentMeta | None) -> DocumentFact | None:
    """The answer to a question about document `meta` itself, when it asks for a field the catalog holds (a
    date as the documents write it: 2024-06-17 → 2024年6月17日)."""
    if meta is not None and names_another_document(question, meta.title):
        return None
    field = asked_field(question)
    value = getattr(meta, field, "") if field and meta is not None else ""
    if field == "date":
        value = _ISO_DATE.sub(lambda m: f"{m[1]}年{int(m[2])}月{int(m[3])}日", value)
    return DocumentFact(meta, field, value) if value else None


# A document named by a quoted name and its kind (“一老一小”整体解决方案, “十四五”规划).
_QUOTED_NAME = re.compile(r"[“\"「]([^”\"」]{2,20})[”\"」][\u4e00-\u9fff]{0,8}?(?:方案|办法|意见|通知|标准|规划|计划|细则|决定|条例)")
# The kind of document a question names (细则, 办法, 通知…): one the title is not is another document.
_DOCUMENT_KIND = re.compile(r"方案|办法|意见|通知|规定|细则|措施|决定|规划|指南|条例|纲要|公告|标准|报告")
# A document named by what it did ("the document that turned …", "the notice which set …"): one the passages
# describe, not the one holding them; the city's own plan is named as such ("Xiamen's plan", "this plan").
_DESCRIBED_DOCUMENT = re.compile(
    r"\bthe (?:document|notice|file|paper|regulation|standard|guideline|opinion)s? (?:that|which)\b", re.I
)
_QUOTED_TITLE = re.compile(r"[《<]([^》>]{2,80})[》>]")
_BARE_TITLE = re.compile(r"[\s《》<>()（）\[\]【】“”\"'、，,·.]")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


# The fields closing a letter (联系人:孙海渝 联系电话:… 邮 编:318000): read from all of the document, one field a
# word, as the letter writes them on one line.
FOOTER_LABELS = ("联系人", "邮编", "联系单位")
# The labels of a document's front matter other than those the catalog holds (索 引 号:XM00123-…, 公开方式:
# 主动公开): answered from the front matter itself.
# A label the catalog also holds in other words (发布机构, the web page's publishing office, not the issuers) is
# answered as the front matter writes it when the front matter has it.
HEADER_LABELS = ("索引号", "公文生成日期", "生成日期", "公开方式", "公开范围", "主题分类", "体裁分类", "有效性", "成文日期", "发布机构",
                 *FOOTER_LABELS)
_ENGLISH_LABELS = {"index number": "索引号", "disclosure": "公开方式", "subject category": "主题分类",
                   "postcode": "邮编", "postal code": "邮编", "zip code": "邮编", "contact person": "联系人"}
_HEADER_LINE = re.compile(r"^[-•\s]*([^:：;\n]{2,12}?)\s*[:：]\s*([^;\n]+)")


# Whom the document is sent to (印发给哪些单位, 主送): the line before its body, "各街道办事处,区政府…有关单位:".
ADDRESSEES = "主送"
_ASKS_ADDRESSEES = re.compile(r"(?:印发|发|下发|送)给(?:了)?(?:哪些|哪个|谁|什么)|主送|addressed to|sent to", re.I)
_ADDRESSEE_LINE = re.compile(r"^([^:：\n。]{4,160}(?:单位|部门|政府|办事处|管委会|委员会|局|委|办))\s*[:：]\s*$", re.M)


def header_label(question: str) -> str:
    """The front-matter label `question` asks for (索引号, 公文生成日期, 主送…), "" when none."""
    if _ASKS_ADDRESSEES.search(question):
        return ADDRESSEES
    squashed = re.sub(r"\s+", "", question)
    lowered = question.lower()
    found = next((label for label in HEADER_LABELS if label in squashed), "")
    return found or next((label for english, label in _ENGLISH_LABELS.items() if english in lowered), "")


def header_value(label: str, front_matter: list[str]) -> str:
    """The value the front matter gives `label` ("" when it gives none): a line "索 引 号:XM…" or a table cell
    "索引号: 002668346/…"."""
    if label in FOOTER_LABELS:
        spaced = r"\s*".join(map(re.escape, label))
        found = (re.search(rf"{spaced}\s*[:：]\s*(\S+)", text) for text in front_matter)
        return next((match.group(1) for match in found if match), "")
    if label == ADDRESSEES:
        return next((m.group(1).strip() for text in front_matter for m in _ADDRESSEE_LINE.finditer(text)), "")
    for text in front_matter:
        for line in re.split(r"\n|; ", text):
            match = _HEADER_LINE.match(line.strip())
            if match and re.sub(r"\s+", "", match.group(1)) == label:
                return match.group(2).strip()
    return ""
