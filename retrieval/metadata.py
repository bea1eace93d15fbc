"""Metadata read from a policy document's text: title, city, province, issuer, date and document number
(every field editable by staff before publishing)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.chunking import TITLE_WORDS
from retrieval.errors import IngestError
from retrieval.places import stem as city_stem
from retrieval.query import load_gazetteer

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"


# Detection reads any document staff upload, so it knows a few more title endings than the outline does.
_TITLE_END = re.compile(f"(?:{'|'.join((*TITLE_WORDS, '通告', '标准', '规范', '政策', '实施方案'))})$")
_ISSUER_END = re.compile(
    r"(?:人民政府|办公室|办公厅|委员会|卫生健康委|卫健委|财政局|民政局|教育局|局|厅|委|中心|联合会)$"
)
_LABELLED_ISSUER = re.compile(
    r"(?:发文机关|发布机构|发文单位|发布单位|信息来源|来源)\s*[:：]\s*([^\s|，,。]{2,40})"
)
_LABELLED_NUMBER = re.compile(r"(?:文号|发文字号)\s*[:：]\s*([^\s|，,。]{4,40}号)")
_LABELLED_DATE = re.compile(
    r"(?:发布日期|发布时间|成文日期|发文日期|印发日期)\s*[:：]\s*(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
)
_CN_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}\s*[〔\[［【(（]\s*\d{4}\s*[〕\]］】)）]\s*\d{1,4}\s*号")
_CITY_PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{2,3}省)?([\u4e00-\u9fff]{2,4}?(?:市|县|区|州))")
_PROVINCE = re.compile(r"([\u4e00-\u9fff]{2,3}省)")


@dataclass
class DetectedMeta:
    """Metadata read from a document's text (every field editable by staff before publishing)."""

    title: str = ""
    city: str = ""
    province: str = ""
    issuer: str = ""
    date: str = ""
    doc_number: str = ""
    aliases: list[str] = field(default_factory=list)


def _real_date(year: str, month: str, day: str) -> str:
    try:
        return dt.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return ""


def normalise_date(value: str) -> str:
    """`2025-03-01` from 2025-3-1, 2025/03/01, 2025.3.1 or 2025年3月1日; "" for an empty value.
    Raises `IngestError("bad_metadata")` for anything else."""
    value = value.strip()
    if not value:
        return ""
    match = _CN_DATE.fullmatch(value) or _ISO_DATE.fullmatch(value)
    date = _real_date(*match.groups()) if match else ""
    if not date:
        raise IngestError("bad_metadata", f"{value!r} is not a date (YYYY-MM-DD)", field="date", reason="not_a_date")
    return date


def _places() -> tuple[dict[str, str], list[str]]:
    gazetteer = load_gazetteer(KNOWLEDGE_DIR / "places.yaml")
    return gazetteer.documented, sorted(gazetteer.undocumented, key=len, reverse=True)


def _city_in(text: str) -> str:
    documented, undocumented = _places()
    lowered = text.lower()
    best: tuple[int, str] | None = None
    for alias, city in sorted(documented.items(), key=lambda kv: -len(kv[0])):
        if not alias.isascii() and (index := lowered.find(alias)) >= 0 and (best is None or index < best[0]):
            best = (index, city)
    for name in undocumented:
        if not name.isascii() and (index := lowered.find(name)) >= 0 and (best is None or index < best[0]):
            best = (index, name if name.endswith(("市", "区", "县", "州")) else f"{name}市")
    if best is not None:
        return best[1]
    match = _CITY_PREFIX.match(text.strip())
    return match.group(1) if match else ""


def _strip_cells(line: str) -> str:
    """A scraped table row `发布机构: | 市卫生健康委 |` as plain text `发布机构: 市卫生健康委`."""
    return " ".join(part.strip() for part in line.split("|") if part.strip())


def _date_only(line: str) -> str:
    match = _DATE_LINE.search(line)
    return _real_date(*match.groups()) if match else ""


_DATE_LINE = re.compile(r"(?:^|\s)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(?:印发|发布)?\s*$")
_OUTLINE_MARKER = re.compile(r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）])")
_LABEL_LINE = re.compile(r"^[-•·*\s]*[^:：]{1,10}[:：]")


def _title_of(head: list[str], file_name: str) -> str:
    title = _find_title(head, file_name)
    # A cover letter "…关于印发《X》的通知" carries the policy X.
    match = _PROMULGATION.search(title)
    return match.group(1) if match else title


_PROMULGATION = re.compile(r"(?:印发|转发|公布)[《〈]([^》〉]{4,100})[》〉]的?(?:通知|函|决定)$")


def _find_title(head: list[str], file_name: str) -> str:
    lines = [line.strip("《》 ") for line in head]
    first_heading = next((i for i, line in enumerate(lines) if _OUTLINE_MARKER.match(line)), len(lines))
    usable = [line for line in lines[:first_heading] if not _LABEL_LINE.match(line) and not _date_only(line)]
    for line in usable:
        if 4 <= len(line) <= 80 and _TITLE_END.search(line):
            return line
    for first, second in zip(usable, usable[1:], strict=False):
        joined = first + second
        if len(joined) <= 100 and _TITLE_END.search(joined) and not first.endswith(("。", "：", ":", "，")):
            return joined
    for line in usable:
        if 4 <= len(line) <= 60 and not line.endswith(("。", "：", ":")):
            return line
    return Path(file_name).stem


def _issuers(line: str) -> list[str]:
    parts = [p for p in re.split(r"[\s、,，]+", line) if p]
    if parts and all(len(p) <= 30 and _ISSUER_END.search(p) for p in parts):
        return parts
    return []


def detect_metadata(text: str, file_name: str = "") -> DetectedMeta:
    """Title, city, province, issuer, date and document number as the text states them (best effort:
    staff check and edit them in the preview)."""
    lines = [_strip_cells(line) for line in text.split("\n")]
    lines = [line for line in lines if line]
    head, tail = lines[:15], lines[-8:]
    meta = DetectedMeta()
    meta.title = _title_of(head, file_name)[:200]

    # A signature: issuer line(s) followed by a date line, at the top (cover letter) or the bottom.
    # Under a web page's heading the three often share one line: `某卫人口〔2026〕12号 某市卫生健康委员会
    # 某市财政局 2025年12月8日` (number, issuers, date).
    signature_issuer, signature_date, signature_number = "", "", ""
    for block in (head, tail):
        for i, line in enumerate(block):
            date = _date_only(line)
            if not date:
                continue
            before = _DATE_LINE.sub("", line).strip()
            number = _DOC_NUMBER.match(before)
            if number:
                before = before[number.end():].strip()
            issuers = _issuers(before) or (_issuers(block[i - 1]) if i > 0 else [])
            if issuers:
                signature_issuer, signature_date = "、".join(dict.fromkeys(issuers)), date
                signature_number = number.group(0) if number else ""
                break
        if signature_date:
            break

    labelled = _LABELLED_ISSUER.search("\n".join(head))
    meta.issuer = (signature_issuer or (labelled.group(1) if labelled else ""))[:120]
    if not meta.issuer and "关于" in meta.title and _ISSUER_END.search(meta.title.split("关于", 1)[0]):
        meta.issuer = meta.title.split("关于", 1)[0]

    labelled_date = _LABELLED_DATE.search("\n".join(head))
    meta.date = signature_date or (_real_date(*labelled_date.groups()) if labelled_date else "")
    if not meta.date:
        meta.date = next((d for d in (_date_only(line) for line in [*head, *tail]) if d), "")

    numbered = _LABELLED_NUMBER.search("\n".join(head))
    if numbered:
        meta.doc_number = re.sub(r"\s+", "", numbered.group(1))[:64]
    elif signature_number:
        meta.doc_number = re.sub(r"\s+", "", signature_number)[:64]
    else:
        own = next(
            (line for line in [*head, *tail] if len(line) <= 30 and _DOC_NUMBER.fullmatch(line.strip())), ""
        )
        meta.doc_number = re.sub(r"\s+", "", own)[:64]

    meta.city = (_city_in(meta.title) or _city_in(meta.issuer) or _city_in(" ".join(head[:5])))[:32]
    if match := _PROVINCE.search(meta.title + " " + meta.issuer):
        meta.province = match.group(1)
    short = city_stem(meta.city)
    meta.aliases = [short] if short and short != meta.city else []
    return meta
