"""What an upload becomes before it is a draft: the `Upload` itself, its metadata (detected, overridden by staff,
checked by `clean_field`), the registry fields of a draft or of a catalog document, and the stored file.

Pure helpers of `knowledge.admin.KnowledgeBase` (no database, no chunk store).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.errors import IngestError
from retrieval.ingest import flags_json, ingest_bytes, outline_counts, report_json, text_fingerprint
from retrieval.loaders import detect_kind
from retrieval.metadata import normalise_date
from retrieval.screening import screen_sentence, screen_text
from retrieval.types import Chunk, DocumentMeta

_EXTENSIONS = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "text": ".txt"}
_TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".html", ".htm"}
EDITABLE_FIELDS = ("title", "city", "issuer", "date", "doc_number", "province", "aliases")
_FIELD_LIMITS = {"title": 200, "city": 32, "issuer": 120, "doc_number": 64, "province": 32}


@dataclass(frozen=True)
class Upload:
    """A file staff want in the knowledge base: its bytes and name, metadata they gave (`overrides`, checked),
    the document it is a new version of (`replace_doc_id`) or the id a new document should get (`doc_id`)."""

    data: bytes
    file_name: str
    overrides: dict = field(default_factory=dict)
    replace_doc_id: str | None = None
    doc_id: str | None = None

    @property
    def summary(self) -> str:
        """Size and content hash, for the audit log (never the file name: it is user text)."""
        return f"{len(self.data)} bytes, sha256 {hashlib.sha256(self.data).hexdigest()[:16]}"


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


def draft_fields(inspection, old, overrides: dict) -> dict:
    """A draft's metadata: what was detected (the replaced version's place when none was), staff's
    overrides (checked), and no field that itself looks like an advert or an injection."""
    fields = {
        "title": inspection.meta.title,
        "city": inspection.meta.city or (old.city if old else ""),
        "province": inspection.meta.province or (old.province if old else ""),
        "issuer": inspection.meta.issuer,
        "date": inspection.meta.date,
        "doc_number": inspection.meta.doc_number,
        "aliases": sorted(set(inspection.meta.aliases) | set(old.aliases if old else [])),
    }
    for name, value in overrides.items():
        if value is not None:
            fields[name] = clean_field(name, value)
    for name in ("title", "issuer", "doc_number", "city"):
        if fields[name] and screen_sentence(fields[name]):
            fields[name] = ""
    return fields


def stored_path(inspection) -> str:
    """Where the raw file is kept, relative to the knowledge-base folder: named by its content hash."""
    suffix = Path(inspection.file_name).suffix.lower()
    if inspection.kind in ("pdf", "docx") or suffix not in _TEXT_SUFFIXES:
        suffix = _EXTENSIONS[inspection.kind]
    return f"files/{inspection.content_hash}{suffix}"


def draft_values(inspection, fields: dict, relative: str, chunks: list[Chunk]) -> dict:
    """The registry fields of a draft: its metadata, its file and what ingest found in it."""
    return dict(
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


def catalog_entry(meta: DocumentMeta, path: Path) -> dict:
    """The registry fields of a catalog document, read from its file as the catalog build indexes it."""
    raw = path.read_bytes()
    ingested = ingest_bytes(meta, raw, path.name)
    chunks = ingested.chunks
    # Duplicates are found by the hash of the *screened* text, as uploads are (see inspect_upload).
    text = screen_text(ingested.text)[0]
    return {
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


def slug_base(fields: dict, file_name: str) -> str:
    """What a new document's id is made from: the file name when it is ascii enough, else `kb-<year>`."""
    stem = Path(file_name).stem
    ascii_stem = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    if len(ascii_stem) >= 3:
        return ascii_stem
    year = (fields.get("date") or "")[:4]
    return f"kb-{year}" if year else "kb"


def write_atomic(path: Path, data: bytes) -> None:
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
