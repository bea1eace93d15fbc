"""The one ingest pipeline: bytes → text (`retrieval.loaders`) → cleaned (`retrieval.cleaning`) → screened
(`retrieval.screening`, staff uploads) → passages (`retrieval.chunking`).

The catalog build (`retrieval.indexer`), staff uploads (`inspect_upload`, then the knowledge-base admin
service staging a draft) and the registry's catalog sync all go through `prepare_bytes`/`inspect_upload`,
so they agree on what a document's passages are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from retrieval.chunking import chunk_document
from retrieval.cleaning import clean_text
from retrieval.errors import IngestError
from retrieval.html_page import strip_page_chrome
from retrieval.loaders import LoaderError, decode_text, detect_kind, load_bytes
from retrieval.metadata import DetectedMeta, detect_metadata
from retrieval.screening import screen_text
from retrieval.types import Chunk, CleaningReport, DocumentMeta, Removal

#: Upload size limit for staff documents (Telegram lets bots download up to 20 MB).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_REPORT_ITEMS = 40


@dataclass(frozen=True)
class Ingested:
    """A document through the pipeline: its text as indexed, the passages, what cleaning (and screening)
    removed."""

    text: str
    chunks: list[Chunk]
    report: CleaningReport


def ingest_bytes(meta: DocumentMeta, raw: bytes, name: str = "", screen: bool = False) -> Ingested:
    """Load, clean and chunk one document held in memory. With `screen` (staff uploads) the text also
    loses what `retrieval.screening.screen_text` flags (injected adverts, prompt-injection attempts)."""
    cleaned, report = clean_text(load_bytes(raw, name))
    if screen:
        cleaned, flags = screen_text(cleaned)
        report.removals.extend(flags)
    return Ingested(cleaned, chunk_document(meta, cleaned), report)


def prepare_bytes(
    meta: DocumentMeta, raw: bytes, name: str = "", screen: bool = False
) -> tuple[list[Chunk], CleaningReport]:
    """`ingest_bytes` as (passages, cleaning report)."""
    ingested = ingest_bytes(meta, raw, name, screen)
    return ingested.chunks, ingested.report


def prepare_document(meta: DocumentMeta, path: Path) -> tuple[list[Chunk], CleaningReport]:
    """Load, clean and chunk one document file."""
    return prepare_bytes(meta, path.read_bytes(), path.name)


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
