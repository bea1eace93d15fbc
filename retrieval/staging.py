"""Staff keep the knowledge base current: ingest an upload into a draft, preview it, publish, replace,
retire, restore, re-index — without ever leaving the published knowledge base half-changed.

How an upload travels:

1. `inspect_upload` reads the bytes (type by content, size limit, encrypted/corrupt PDFs, zip bombs and
   empty files are refused by `retrieval.loaders`), cleans the text (`retrieval.cleaning`), screens it for
   injected adverts and prompt-injection attempts (`screen_text`: flagged sentences are cut out of what
   gets indexed, so they are never quoted to parents), and detects title, city, issuer, date and number.
2. `KnowledgeBase.ingest` refuses a file identical to a known document, stores the raw file under the
   data directory and records a *draft*. Nothing reaches the chunk store, so nothing reaches parents.
3. `KnowledgeBase.publish` is the switch. The draft is chunked and embedded in memory (the staging step),
   added to the chunk store under its own index id (a new version never overwrites the old one's
   passages), then the registry flips draft → published and old → replaced in one transaction, then the
   old passages are marked replaced and the searcher is rebuilt and swapped in. A failure at any step
   undoes the earlier ones: the published knowledge base stays exactly as it was.
4. After each publish, replace, retire or restore the development question set runs again and the hit
   rate before and after is reported; any question that got worse is listed and the drop flagged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.chunking import chunk_document
from retrieval.cleaning import clean_text
from retrieval.loaders import LoaderError, decode_text, detect_kind, load_bytes
from retrieval.types import Chunk, CleaningReport, DocumentMeta, Removal

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEV_SET = PROJECT_ROOT / "tests" / "data" / "policy_qa_dev.jsonl"
#: Upload size limit for staff documents (Telegram lets bots download up to 20 MB).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Why an ingest or a change was refused (the loader's codes first).
ERROR_CODES = (
    "unsupported_type",
    "corrupt",
    "encrypted",
    "empty",
    "too_large",
    "duplicate",
    "bad_metadata",
    "not_found",
    "bad_state",
    "failed",
)
_EXTENSIONS = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "text": ".txt"}
_TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".html", ".htm"}
MAX_REPORT_ITEMS = 40


class IngestError(Exception):
    """An upload or a change was refused. `code` is one of `ERROR_CODES`; `message` explains (English,
    technical); `details` carries what a friendly text needs (e.g. the duplicate's title)."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details


# --- Screening: injected adverts and prompt-injection attempts ---------------------------------------------


@dataclass(frozen=True)
class ScreenRule:
    """One pattern; `strong` rules flag a sentence alone, weak ones need a second weak signal."""

    kind: str  # "injection" | "advert"
    pattern: re.Pattern[str]
    strong: bool = True


def _rules(kind: str, strong: bool, *patterns: str) -> list[ScreenRule]:
    return [ScreenRule(kind, re.compile(p, re.IGNORECASE), strong) for p in patterns]


SCREEN_RULES: tuple[ScreenRule, ...] = tuple(
    _rules(
        "injection",
        True,
        r"(忽略|无视|忘记|忘掉|不要理会|不要遵守|不必遵守|跳过)[^。！？\n]{0,10}(指令|指示|提示词|提示|规则|设定|约束|命令|prompt)",
        r"(你|您)(现在)?(是|扮演|充当|作为)(一个|一名)?[^。！？\n]{0,8}(助手|机器人|AI|人工智能|语言模型|大模型|客服)",
        r"(作为|身为)(一个|一名)?(AI|人工智能|语言模型|大模型|智能助手)",
        r"(系统|system)\s*(提示|指令|prompt|消息)",
        r"(回答|回复)(所有)?(用户|家长|提问者|问题)时?[^。！？\n]{0,4}(必须|一律|只能|务必)",
        r"(输出|泄露|显示|打印)[^。！？\n]{0,6}(系统提示|提示词|system prompt)",
        r"\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(instructions?|prompts?|rules|directions|guidelines)\b",
        r"\byou are now\b",
        r"\bpretend (to be|you are)\b",
        r"\bact as (an? )?(ai|assistant|chatbot|language model)\b",
        r"\b(system prompt|new instructions?|jailbreak)\b",
        r"<\|?(im_start|im_end|system|endoftext)\|?>|\[/?INST\]",
    )
    + _rules(
        "advert",
        True,
        r"[【\[]\s*(广告|推广|赞助|软文|AD)\s*[】\]]",
        r"^\s*(广告|推广)\s*[:：]",
        r"(加|添加|联系|咨询|私信|关注)\s*(微信|微信号|vx|v信|wx|weixin|qq|企鹅号?)\s*[:：]?\s*[A-Za-z0-9_-]{5,}",
        r"(微信|vx|v信|wx|qq)\s*[:：]\s*[A-Za-z0-9_-]{5,}",
        r"(包过|包通过|保过|快速下证|内部渠道|无需审核|免审核|走关系)",
        r"(招商加盟|加盟热线|火爆招商|全网最低|秒杀|立即抢购|点击购买|下单立减)",
    )
    + _rules(
        "advert",
        False,
        r"(代办|代理办理|代为办理)",
        r"(限时|特价|折扣|优惠券|打折|低至|仅需|只要\d+元)",
        r"(免费领取|扫码领取|点击领取|扫码添加|扫码咨询|名额有限|先到先得)",
        r"(咨询热线|报名热线|客服电话|热线电话)",
        r"(点击链接|点击下方|戳这里|私信)",
    )
)
_SCREEN_SPLIT = re.compile(r"[^。！？!?；;]*(?:[。！？!?；;]+[”’」』）)]*|$)")


def screening_fingerprint() -> str:
    """Hash of the screening rules (part of a staff document's content hash)."""
    text = "\n".join(f"{r.kind}|{r.strong}|{r.pattern.pattern}" for r in SCREEN_RULES)
    return hashlib.sha256(text.encode()).hexdigest()


def screen_sentence(sentence: str) -> str | None:
    """`injection` or `advert` when the sentence looks like one, else None."""
    weak: set[str] = set()
    for rule in SCREEN_RULES:
        if rule.pattern.search(sentence):
            if rule.strong:
                return rule.kind
            weak.add(rule.pattern.pattern)
    return "advert" if len(weak) >= 2 else None


def screen_text(text: str) -> tuple[str, list[Removal]]:
    """The text without flagged sentences, and one `Removal` (kind injection/advert) per flagged sentence."""
    flags: list[Removal] = []
    kept: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            kept.append(line)
            continue
        pieces = [p for p in _SCREEN_SPLIT.findall(line) if p]
        out = []
        for piece in pieces:
            kind = screen_sentence(piece)
            if kind:
                flags.append(Removal(kind, piece.strip(), number))
            else:
                out.append(piece)
        rest = "".join(out)
        if rest.strip():
            kept.append(rest.rstrip())
    cleaned = "\n".join(kept).strip("\n")
    return (cleaned + "\n" if cleaned else ""), flags


# --- Metadata detection ------------------------------------------------------------------------------------

_TITLE_END = re.compile(
    r"(?:方案|办法|意见|通知|规定|细则|措施|决定|函|规划|指南|计划|答复|条例|纲要|公告|通告|标准|规范|政策|实施方案)$"
)
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
    from retrieval.query import load_gazetteer

    gazetteer = load_gazetteer(PROJECT_ROOT / "knowledge" / "places.yaml")
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
    stem = _city_stem(meta.city)
    meta.aliases = [stem] if stem and stem != meta.city else []
    return meta


def _city_stem(city: str) -> str:
    from retrieval.service import _city_stem as stem

    return stem(city)


# --- Inspecting an upload ------------------------------------------------------------------------------------


@dataclass
class Inspection:
    """What ingest learned about an upload, before anything is stored."""

    file_name: str
    kind: str  # text | html | pdf | docx
    size: int
    content_hash: str  # sha256 of the bytes
    text_hash: str  # sha256 of the cleaned, screened text (whitespace ignored)
    text: str  # cleaned and screened: what will be chunked
    cleaning: CleaningReport  # what cleaning removed
    flags: list[Removal]  # what screening removed (injection / advert)
    meta: DetectedMeta


def text_fingerprint(text: str) -> str:
    """Hash of a text with all whitespace removed (the same text in another format hashes the same)."""
    return hashlib.sha256("".join(text.split()).encode()).hexdigest()


def inspect_upload(data: bytes, file_name: str, max_bytes: int = MAX_UPLOAD_BYTES) -> Inspection:
    """Read, clean, screen and describe an upload. Raises `IngestError` (loader codes) when it cannot be
    used: too large, unsupported or mislabelled type, corrupt, encrypted, empty."""
    file_name = Path(file_name or "upload").name[:255]
    chrome: list[Removal] = []
    try:
        source, limit = data, max_bytes
        if len(data) <= max_bytes and data.strip() and detect_kind(data) == "html":
            from retrieval.html_page import strip_page_chrome

            page = strip_page_chrome(decode_text(data))  # nav bar, share bar, footer, the title's site name
            source, chrome = page.html.encode("utf-8"), page.removals
            limit = max(max_bytes, len(source))  # the upload itself was within the limit
        raw_text = load_bytes(source, file_name, max_bytes=limit)
        kind = detect_kind(data)
    except LoaderError as exc:
        details = {"file_name": file_name, "limit": max_bytes, "size": len(data), **exc.params}
        raise IngestError(exc.code, exc.message, **details) from exc
    cleaned, report = clean_text(raw_text)
    report.removals[:0] = chrome
    screened, flags = screen_text(cleaned)
    if len("".join(screened.split())) < 20:
        raise IngestError(
            "empty",
            f"{file_name} has no policy text left after cleaning ({len(report.removals) + len(flags)} removals)",
            file_name=file_name,
        )
    return Inspection(
        file_name=file_name,
        kind=kind,
        size=len(data),
        content_hash=hashlib.sha256(data).hexdigest(),
        text_hash=text_fingerprint(screened),
        text=screened,
        cleaning=report,
        flags=flags,
        meta=detect_metadata(screened, file_name),
    )


def outline_counts(chunks: list[Chunk]) -> int:
    """Number of top-level sections the chunks fall into (at least 1)."""
    return max(1, len({c.section[1] for c in chunks if len(c.section) > 1}))


def report_json(report: CleaningReport, limit: int = MAX_REPORT_ITEMS) -> dict:
    """A cleaning report as stored in the registry: counts per kind and the first removals."""
    return {
        "counts": report.counts(),
        "items": [
            {"kind": r.kind, "text": r.text[:200], "line": r.line, "replacement": r.replacement}
            for r in report.removals[:limit]
        ],
    }


def flags_json(flags: list[Removal], limit: int = MAX_REPORT_ITEMS) -> list[dict]:
    """Screening flags as stored in the registry."""
    return [{"kind": f.kind, "text": f.text[:300], "line": f.line} for f in flags[:limit]]


# --- Quality before/after -------------------------------------------------------------------------------------


@dataclass
class QualityChange:
    """The development set before and after a change."""

    before: dict
    after: dict
    worse: list[str] = field(default_factory=list)  # questions whose outcome got worse
    better: list[str] = field(default_factory=list)

    @property
    def dropped(self) -> bool:
        """True when the hit rate, MRR or refusal accuracy fell, or any question got worse."""
        return bool(self.worse) or any(
            self.after.get(key, 0) < self.before.get(key, 0) - 1e-9
            for key in ("hit@5", "mrr@5", "refusal_accuracy")
        )

    def to_dict(self) -> dict:
        """JSON-ready form."""
        keys = (
            "questions",
            "hit@1",
            "hit@5",
            "mrr@5",
            "refusal_accuracy",
            "answerable_refused",
            "unanswerable_refused",
        )
        return {
            "before": {k: self.before.get(k) for k in keys},
            "after": {k: self.after.get(k) for k in keys},
            "dropped": self.dropped,
            "worse": self.worse,
            "better": self.better,
        }


def compare_reports(before, after) -> QualityChange:
    """Compare two `EvalReport`s of the same question set question by question."""
    change = QualityChange(before.summary(), after.summary())
    for old, new in zip(before.rows, after.rows, strict=True):
        if old.answerable:
            old_score = 0 if not old.answered or old.rank is None else 6 - old.rank
            new_score = 0 if not new.answered or new.rank is None else 6 - new.rank
        else:
            old_score, new_score = int(not old.answered), int(not new.answered)
        if new_score < old_score:
            change.worse.append(new.question)
        elif new_score > old_score:
            change.better.append(new.question)
    return change


# --- The knowledge base ---------------------------------------------------------------------------------------


@dataclass
class ChangeResult:
    """The outcome of publish / replace / retire / restore."""

    action: str  # publish | replace | retire | restore | discard
    document: object  # db.models.KnowledgeDocument (the version concerned)
    previous: object | None = None  # the version it replaced, if any
    quality: QualityChange | None = None
    seconds: float = 0.0


@dataclass
class ReindexResult:
    """The outcome of `KnowledgeBase.reindex`."""

    indexed: list[str] = field(default_factory=list)
    unchanged: int = 0
    status_fixed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "indexed": self.indexed,
            "unchanged": self.unchanged,
            "status_fixed": self.status_fixed,
            "removed": self.removed,
            "missing_files": self.missing_files,
            "seconds": self.seconds,
        }


EDITABLE_FIELDS = ("title", "city", "issuer", "date", "doc_number", "province", "aliases")
_FIELD_LIMITS = {"title": 200, "city": 32, "issuer": 120, "doc_number": 64, "province": 32}


def clean_field(name: str, value) -> object:
    """A metadata value as stored: trimmed, one line, within its length; dates normalised; a value that
    itself looks like an advert or an injection attempt is refused (titles are shown to parents)."""
    if name not in EDITABLE_FIELDS:
        raise IngestError("bad_metadata", f"unknown field {name!r}", field=name, reason="unknown_field")
    if name == "aliases":
        items = value if isinstance(value, list | tuple) else re.split(r"[,，、\s]+", str(value or ""))
        return [a.strip()[:32] for a in items if a and a.strip()][:10]
    text = " ".join(str(value or "").split())
    if name == "title":
        text = text.strip("《》")
    if name == "date":
        return normalise_date(text)
    if len(text) > _FIELD_LIMITS[name]:
        raise IngestError(
            "bad_metadata", f"{name} is longer than {_FIELD_LIMITS[name]} characters", field=name,
            reason="too_long", limit=_FIELD_LIMITS[name],
        )
    if text and screen_sentence(text):
        raise IngestError(
            "bad_metadata", f"{name} {text!r} looks like an advert or an instruction", field=name,
            reason="suspicious",
        )
    return text


class KnowledgeBase:
    """The staff operations over one policy service (its chunk store) and one database (its registry).

    The bot and the CLI share it. Changes are serialised by `service.kb_lock`.
    """

    def __init__(
        self,
        engine,
        service,
        dev_set: Path | None = DEFAULT_DEV_SET,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
    ) -> None:
        self.engine = engine
        self.service = service
        self.kb_dir: Path = service.kb_dir
        self.dev_set = dev_set if dev_set is not None and Path(dev_set).exists() else None
        self.max_upload_bytes = max_upload_bytes
        self._quality: tuple[int, object] | None = None
        self._catalog_synced = False

    # ---- registry helpers
    @property
    def registry(self):
        from db import knowledge_registry

        return knowledge_registry

    def sync_catalog(self) -> int:
        """Give the catalog documents registry rows (once)."""
        if self._catalog_synced:
            return 0
        from retrieval.catalog import load_catalog

        known = {row.doc_id for row in self.registry.all_rows(self.engine)}
        entries = []
        for meta, path in load_catalog(self.service.knowledge_dir):
            if meta.doc_id in known:
                continue
            raw = path.read_bytes()
            text, _ = screen_text(clean_text(load_bytes(raw, path.name))[0])
            chunks = chunk_document(meta, text)
            entries.append(
                {
                    "doc_id": meta.doc_id,
                    "title": meta.title,
                    "city": meta.city,
                    "province": meta.province,
                    "issuer": meta.issuer,
                    "date": meta.date,
                    "doc_number": meta.doc_number,
                    "aliases": list(meta.aliases),
                    "content_hash": hashlib.sha256(raw).hexdigest(),
                    "text_hash": text_fingerprint(text),
                    "file_path": meta.source_file,
                    "file_name": path.name,
                    "file_kind": detect_kind(raw),
                    "file_size": len(raw),
                    "sections": outline_counts(chunks),
                    "chunks": len(chunks),
                    "created_by": "catalog",
                }
            )
        added = self.registry.sync_catalog(self.engine, entries)
        self._catalog_synced = True
        return added

    def documents(self):
        """One row per document (published first), as `/kb` and `kb list` show them."""
        self.sync_catalog()
        return self.registry.list_documents(self.engine)

    def refresh_if_changed(self) -> bool:
        """Rebuild the searcher when the store's published documents differ from what it answers from (e.g.
        after `python -m bot kb …` changed a shared Chroma server). Returns True when it did."""
        if self.service.change_feed is not None:
            return self.service.sync(force=True)
        stored = {doc_id: doc.content_hash for doc_id, doc in self.service.store.documents().items() if doc.live}
        answering = self.service.searcher.corpus.live_summary()
        if stored == answering:
            return False
        with self.service.kb_lock:
            self.service.refresh()
        return True

    def drafts(self, actor=None):
        """Drafts waiting, newest first (only `actor`'s when given)."""
        return self.registry.drafts(self.engine, actor.label if actor is not None else None)

    def file_path(self, row) -> Path:
        """Where a version's raw file is."""
        if row.origin == "catalog" and row.version == 1:
            from retrieval.catalog import catalog_path

            return catalog_path(self.service.knowledge_dir).parent / row.file_path
        return self.kb_dir / row.file_path

    def meta_for(self, row) -> DocumentMeta:
        """The chunk-store metadata of a version."""
        return DocumentMeta(
            doc_id=row.index_id,
            title=row.title,
            city=row.city,
            issuer=row.issuer,
            date=row.date,
            doc_number=row.doc_number,
            source_file=row.file_path,
            province=row.province,
            aliases=tuple(row.aliases or ()),
        )

    # ---- ingest
    def ingest(
        self,
        data: bytes,
        file_name: str,
        actor,
        *,
        overrides: dict | None = None,
        replace_doc_id: str | None = None,
        doc_id: str | None = None,
    ):
        """Turn an upload into a draft (nothing is published). `replace_doc_id` makes it the next version of
        that document. Raises `IngestError` with the reason when the file cannot be used; the refusal is
        recorded in the audit log."""
        registry = self.registry
        self.sync_catalog()
        try:
            if len(data) > self.max_upload_bytes:
                raise IngestError(
                    "too_large",
                    f"{file_name} is {len(data)} bytes; the limit is {self.max_upload_bytes}",
                    file_name=file_name,
                    limit=self.max_upload_bytes,
                    size=len(data),
                )
            inspection = inspect_upload(data, file_name, self.max_upload_bytes)
            old = None
            if replace_doc_id:
                old = registry.current(self.engine, replace_doc_id)
                if old is None:
                    raise IngestError("not_found", f"no document {replace_doc_id}", doc_id=replace_doc_id)
            same = registry.find_same_content(self.engine, inspection.content_hash, inspection.text_hash)
            if same is not None:
                raise IngestError(
                    "duplicate",
                    f"identical to {same.doc_id} v{same.version} ({same.status}): {same.title}",
                    doc_id=same.doc_id,
                    version=same.version,
                    status=same.status,
                    title=same.title,
                )
            fields = {
                "title": inspection.meta.title,
                "city": inspection.meta.city or (old.city if old else ""),
                "province": inspection.meta.province or (old.province if old else ""),
                "issuer": inspection.meta.issuer,
                "date": inspection.meta.date,
                "doc_number": inspection.meta.doc_number,
                "aliases": sorted(set(inspection.meta.aliases) | set(old.aliases if old else [])),
            }
            for name, value in (overrides or {}).items():
                if value is not None:
                    fields[name] = clean_field(name, value)
            for name in ("title", "issuer", "doc_number", "city"):
                if fields[name] and screen_sentence(fields[name]):
                    fields[name] = ""
        except IngestError as exc:
            # The outcome, size and content hash: not the file name or the loader's text (user text).
            registry.record_for(
                self.engine, actor, "reject",
                detail=f"{exc.code}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}",
            )
            raise
        suffix = Path(inspection.file_name).suffix.lower()
        if inspection.kind in ("pdf", "docx") or suffix not in _TEXT_SUFFIXES:
            suffix = _EXTENSIONS[inspection.kind]
        relative = f"files/{inspection.content_hash}{suffix}"
        _write_atomic(self.kb_dir / relative, data)
        meta = DocumentMeta(doc_id="draft", title=fields["title"], city=fields["city"])
        chunks = chunk_document(meta, inspection.text)
        values = dict(
            fields,
            content_hash=inspection.content_hash,
            text_hash=inspection.text_hash,
            file_path=relative,
            file_name=inspection.file_name,
            file_kind=inspection.kind,
            file_size=inspection.size,
            sections=outline_counts(chunks),
            chunks=len(chunks),
            cleaning=report_json(inspection.cleaning),
            flags=flags_json(inspection.flags),
        )
        if old is not None:
            return registry.create_draft(
                self.engine, actor, doc_id=old.doc_id, replaces=old.index_id, **values
            )
        new_id = doc_id or registry.suggest_doc_id(self.engine, _slug_base(fields, inspection.file_name))
        try:
            return registry.create_draft(self.engine, actor, doc_id=new_id, **values)
        except registry.RegistryError as exc:
            if exc.code == "bad_doc_id":
                raise IngestError("bad_metadata", exc.message, field="doc_id", reason="bad_doc_id") from exc
            raise IngestError("duplicate", exc.message) from exc

    def edit(self, row_id: int, actor, **fields):
        """Change a draft's metadata (checked by `clean_field`); a new city brings its short name as alias."""
        cleaned = {name: clean_field(name, value) for name, value in fields.items()}
        row = self.registry.get_row(self.engine, row_id)
        if row is None:
            raise IngestError("not_found", f"no draft #{row_id}")
        if "city" in cleaned and cleaned["city"] and not fields.get("aliases"):
            stem = _city_stem(cleaned["city"])
            cleaned["aliases"] = [stem] if stem != cleaned["city"] else []
        try:
            return self.registry.update_draft(self.engine, row_id, actor, **cleaned)
        except self.registry.RegistryError as exc:
            raise IngestError(exc.code, exc.message) from exc

    def discard(self, row_id: int, actor) -> ChangeResult:
        """Throw a draft away (its file is deleted unless another version uses it)."""
        try:
            row = self.registry.discard(self.engine, row_id, actor)
        except self.registry.RegistryError as exc:
            raise IngestError(exc.code, exc.message) from exc
        others = [
            r for r in self.registry.all_rows(self.engine) if r.file_path == row.file_path and r.id != row.id
        ]
        if not any(r.status != "discarded" for r in others):
            (self.kb_dir / row.file_path).unlink(missing_ok=True)
        return ChangeResult("discard", row)

    # ---- staging and the switch
    def stage(self, row) -> tuple[DocumentMeta, list[Chunk], object, str]:
        """Chunk and embed a version in memory: (meta, chunks, vectors, content hash). Touches no store."""
        from retrieval.indexer import content_hash, embedding_text, prepare_bytes, staff_pipeline_fingerprint

        path = self.file_path(row)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise IngestError(
                "not_found", f"the file of {row.doc_id} v{row.version} is missing: {path}"
            ) from exc
        meta = self.meta_for(row)
        try:
            chunks, _ = prepare_bytes(meta, raw, path.name, screen=True)
        except LoaderError as exc:
            raise IngestError(exc.code, exc.message) from exc
        if not chunks:
            raise IngestError("empty", f"{row.file_name} yields no passages")
        vectors = self.service.embedder.encode([embedding_text(meta, c) for c in chunks])
        digest = content_hash(
            raw, meta, self.service.embedder_name, staff_pipeline_fingerprint(self.service.knowledge_dir)
        )
        return meta, chunks, vectors, digest

    def publish(self, row_id: int, actor, evaluate: bool = True, notify: bool = True) -> ChangeResult:
        """Switch a draft in: it answers from now on; the version it replaces stops answering (kept).
        `notify=False` publishes silently: followers of the place get no policy-change alert."""
        import time

        started = time.perf_counter()
        registry = self.registry
        store = self.service.store
        with self.service.kb_lock:
            row = registry.get_row(self.engine, row_id)
            if row is None or row.status != "draft":
                raise IngestError(
                    "bad_state", f"#{row_id} is not a draft", status=getattr(row, "status", None)
                )
            missing = [name for name in ("title", "city") if not getattr(row, name).strip()]
            if missing:
                raise IngestError("bad_metadata", "a document needs a title and a city", fields=missing)
            same = registry.find_same_content(self.engine, row.content_hash, row.text_hash, ("published",))
            if same is not None:
                raise IngestError(
                    "duplicate", f"identical to {same.doc_id} v{same.version}", title=same.title
                )
            before = self.quality() if evaluate else None
            meta, chunks, vectors, digest = self.stage(row)
            store.delete_document(meta.doc_id)  # leftovers of an earlier failed attempt, never published
            store.add_document(meta, chunks, vectors, digest, status="published", origin="staff")
            try:
                published, old = registry.publish(self.engine, row_id, actor)
            except Exception:
                store.delete_document(meta.doc_id)
                raise
            if old is not None:
                try:
                    store.set_status(old.index_id, "replaced")
                except Exception:
                    log.exception(
                        "Could not mark %s replaced in the store; undoing the publish", old.index_id
                    )
                    self._undo_publish(published, old, actor)
                    raise
            self._record_change(
                "replace" if old else "publish", published, old.index_id if old else None, notify=notify
            )
            self.service.refresh([published.index_id] + ([old.index_id] if old else []))
            result = ChangeResult("replace" if old else "publish", published, old)
            if before is not None:
                result.quality = compare_reports(before, self.quality())
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    def _undo_publish(self, published, old, actor) -> None:
        from db.engine import session_scope
        from db.models import KnowledgeDocument

        self.service.store.delete_document(published.index_id)
        self.service.store.set_status(old.index_id, "published")
        with session_scope(self.engine) as session:
            session.get(KnowledgeDocument, published.id).status = "draft"
            session.get(KnowledgeDocument, old.id).status = "published"
        self.registry.record_for(self.engine, actor, "undo", published, "publish undone after a store error")

    def retire(self, doc_id: str, actor, evaluate: bool = True) -> ChangeResult:
        """Stop a document answering (kept; `restore` brings it back)."""
        registry = self.registry
        self.sync_catalog()
        with self.service.kb_lock:
            before = self.quality() if evaluate else None
            try:
                row = registry.retire(self.engine, doc_id, actor)
            except registry.RegistryError as exc:
                raise IngestError(exc.code, exc.message, doc_id=doc_id) from exc
            try:
                self._ensure_in_store(row, "retired")
            except Exception:
                from db.engine import session_scope
                from db.models import KnowledgeDocument

                with session_scope(self.engine) as session:
                    session.get(KnowledgeDocument, row.id).status = "published"
                registry.record_for(self.engine, actor, "undo", row, "retire undone after a store error")
                raise
            self._record_change("retire", row)
            self.service.refresh([row.index_id])
            result = ChangeResult("retire", row)
            if before is not None:
                result.quality = compare_reports(before, self.quality())
        return result

    def restore(self, doc_id: str, actor, version: int | None = None, evaluate: bool = True) -> ChangeResult:
        """Make a retired or replaced version answer again (a version published meanwhile is replaced)."""
        registry = self.registry
        self.sync_catalog()
        with self.service.kb_lock:
            before = self.quality() if evaluate else None
            rows_before = {r.id: r.status for r in registry.versions(self.engine, doc_id)}
            try:
                row, old = registry.restore(self.engine, doc_id, actor, version)
            except registry.RegistryError as exc:
                raise IngestError(exc.code, exc.message, doc_id=doc_id) from exc
            try:
                self._ensure_in_store(row, "published")
                if old is not None:
                    self._ensure_in_store(old, "replaced")
            except Exception:
                from db.engine import session_scope
                from db.models import KnowledgeDocument

                with session_scope(self.engine) as session:
                    for rid, status in rows_before.items():
                        session.get(KnowledgeDocument, rid).status = status
                for r in (row, old):
                    if r is not None:
                        try:
                            self.service.store.set_status(r.index_id, rows_before[r.id])
                        except Exception:  # the store is what failed; `reindex` repairs it later
                            log.exception("Could not reset %s", r.index_id)
                registry.record_for(self.engine, actor, "undo", row, "restore undone after a store error")
                raise
            self._record_change("restore", row, old.index_id if old else None)
            self.service.refresh([row.index_id] + ([old.index_id] if old else []))
            result = ChangeResult("restore", row, old)
            if before is not None:
                result.quality = compare_reports(before, self.quality())
        return result

    def _record_change(self, action: str, row=None, previous_index_id: str | None = None, notify: bool = True) -> None:
        """Append the change to the database's log, so every other worker picks it up (see
        `db.knowledge_changes`); this worker's searcher is refreshed by the caller."""
        from db import knowledge_changes

        generation = knowledge_changes.record_change(
            self.engine, action,
            doc_id=row.doc_id if row is not None else "",
            index_id=row.index_id if row is not None else "",
            previous_index_id=previous_index_id,
            notify=notify,
        )
        self.service.note_generation(generation)

    def _ensure_in_store(self, row, status: str) -> None:
        """Give a version `status` in the chunk store, indexing it from its file when it is not there."""
        store = self.service.store
        if store.set_status(row.index_id, status) == 0:
            meta, chunks, vectors, digest = self.stage(row)
            origin = "catalog" if row.origin == "catalog" and row.version == 1 else "staff"
            store.add_document(meta, chunks, vectors, digest, status=status, origin=origin)

    def reindex(self, actor) -> ReindexResult:
        """Bring the chunk store in line with the registry and the pipeline: catalog documents rebuilt when
        changed, staff documents indexed from their files when missing or stale, every status as the
        registry says, passages of unknown staff documents removed."""
        import time

        from retrieval.indexer import content_hash, staff_pipeline_fingerprint

        started = time.perf_counter()
        result = ReindexResult()
        registry = self.registry
        self.sync_catalog()
        with self.service.kb_lock:
            build = self.service.build()
            result.indexed += [d.doc_id for d in build.documents if d.action == "indexed"]
            result.removed += [d.doc_id for d in build.documents if d.action == "removed"]
            store = self.service.store
            stored = store.documents()
            pipeline = staff_pipeline_fingerprint(self.service.knowledge_dir)
            wanted: dict[str, object] = {}
            for row in registry.all_rows(self.engine):
                if row.status in ("published", "retired", "replaced"):
                    wanted[row.index_id] = row
            for index_id, row in wanted.items():
                catalog_v1 = row.origin == "catalog" and row.version == 1
                have = stored.get(index_id)
                if not catalog_v1:
                    path = self.file_path(row)
                    if not path.is_file():
                        result.missing_files.append(index_id)
                        continue
                    digest = content_hash(
                        path.read_bytes(), self.meta_for(row), self.service.embedder_name, pipeline
                    )
                    if have is None or have.content_hash != digest:
                        meta, chunks, vectors, digest = self.stage(row)
                        store.replace_document(
                            meta, chunks, vectors, digest, status=row.status, origin="staff"
                        )
                        result.indexed.append(index_id)
                        continue
                if have is not None and have.status != row.status:
                    store.set_status(index_id, row.status)
                    result.status_fixed.append(index_id)
                elif have is not None:
                    result.unchanged += 1
            for index_id, have in stored.items():
                if have.origin == "staff" and index_id not in wanted:
                    store.delete_document(index_id)
                    result.removed.append(index_id)
            if result.indexed or result.removed or result.status_fixed:
                self._record_change("reindex")
            self.service.refresh()
        registry.record_for(
            self.engine,
            actor,
            "reindex",
            detail=f"indexed {len(result.indexed)}, statuses fixed {len(result.status_fixed)}, removed {len(result.removed)}",
        )
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    # ---- quality
    def quality(self):
        """The development set's `EvalReport` for the knowledge base as it is now (cached until it changes);
        None when there is no development set."""
        if self.dev_set is None:
            return None
        from retrieval.evaluation import evaluate, read_eval_file

        generation = self.service.generation
        if self._quality is None or self._quality[0] != generation or self._quality[1] is None:
            items = read_eval_file(self.dev_set)
            report = evaluate(lambda q: self.service.ask(q, use_llm=False), items)
            self._quality = (generation, report)
        return self._quality[1]

    def preview_chunks(self, row) -> list[Chunk]:
        """The passages a draft would be indexed as (for a preview)."""
        from retrieval.indexer import prepare_bytes

        path = self.file_path(row)
        chunks, _ = prepare_bytes(self.meta_for(row), path.read_bytes(), path.name, screen=True)
        return chunks


def _slug_base(fields: dict, file_name: str) -> str:
    stem = Path(file_name).stem
    ascii_stem = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    if len(ascii_stem) >= 3:
        return ascii_stem
    year = (fields.get("date") or "")[:4]
    return f"kb-{year}" if year else "kb"


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see either nothing or all of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = [
    "DEFAULT_DEV_SET",
    "ERROR_CODES",
    "MAX_UPLOAD_BYTES",
    "ChangeResult",
    "DetectedMeta",
    "IngestError",
    "Inspection",
    "KnowledgeBase",
    "QualityChange",
    "ReindexResult",
    "compare_reports",
    "detect_metadata",
    "inspect_upload",
    "normalise_date",
    "screen_sentence",
    "screen_text",
    "screening_fingerprint",
]
