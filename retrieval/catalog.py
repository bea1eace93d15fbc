"""The document catalog: `knowledge/policies/catalog.yaml` lists each policy document with its metadata."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from retrieval.types import DocumentMeta

CATALOG_NAME = "catalog.yaml"
# libyaml's safe loader when PyYAML has it: a catalog of thousands of documents loads ~10x faster.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
REQUIRED_FIELDS = ("doc_id", "file", "title", "city")
_TEXT_FIELDS = ("title", "city", "province", "issuer", "doc_number")
_DOC_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CatalogError(ValueError):
    """The catalog file is missing, unreadable or describes a document wrongly."""


@dataclass(frozen=True)
class CatalogEntry:
    """One catalog entry: the document's metadata, where its file is, and fields `DocumentMeta` lacks."""

    meta: DocumentMeta
    path: Path
    valid_until: str = ""


def catalog_path(knowledge_dir: Path) -> Path:
    """Where the catalog lives: `<knowledge_dir>/policies/catalog.yaml` (or `<dir>/catalog.yaml` directly)."""
    nested = knowledge_dir / "policies" / CATALOG_NAME
    return (
        nested
        if nested.exists() or not (knowledge_dir / CATALOG_NAME).exists()
        else knowledge_dir / CATALOG_NAME
    )


def load_catalog(knowledge_dir: Path) -> list[tuple[DocumentMeta, Path]]:
    """Documents listed in the catalog, in catalog order, as (metadata, path of the raw file).

    Raises `CatalogError` naming the file and the entry when the catalog is malformed.
    """
    return [(entry.meta, entry.path) for entry in load_catalog_entries(knowledge_dir)]


def load_catalog_entries(knowledge_dir: Path) -> list[CatalogEntry]:
    """Like `load_catalog`, with the extra per-document fields (e.g. `valid_until`)."""
    path = catalog_path(knowledge_dir)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the catalog ({exc.strerror or exc})") from exc
    except (yaml.YAMLError, ValueError) as exc:  # PyYAML raises ValueError for dates like 2024-02-30
        raise CatalogError(f"{path}: not valid YAML ({exc})") from exc
    documents = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(documents, list):
        raise CatalogError(f"{path}: expected a top-level `documents:` list")
    entries: list[CatalogEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(documents, start=1):
        entry = _parse_entry(raw, path.parent, f"{path}: entry {index}")
        if entry.meta.doc_id in seen:
            raise CatalogError(f"{path}: entry {index}: duplicate doc_id {entry.meta.doc_id!r}")
        seen.add(entry.meta.doc_id)
        entries.append(entry)
    return entries


def _parse_entry(raw: object, base: Path, where: str) -> CatalogEntry:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected a mapping of fields")
    missing = [name for name in REQUIRED_FIELDS if not _text(raw.get(name))]
    if missing:
        raise CatalogError(f"{where}: missing required field(s): {', '.join(missing)}")
    doc_id = _text(raw["doc_id"])
    if not _DOC_ID.match(doc_id):
        raise CatalogError(f"{where}: doc_id {doc_id!r} must be lower-case letters, digits, - or _")
    where = f"{where} ({doc_id})"
    file_name = _text(raw["file"])
    file_path = (base / file_name).resolve()
    if base.resolve() not in file_path.parents:
        raise CatalogError(f"{where}: file {file_name!r} must be inside {base}")
    if not file_path.is_file():
        raise CatalogError(f"{where}: file {file_name!r} not found in {base}")
    for name in _TEXT_FIELDS:
        if raw.get(name) is not None and not isinstance(raw.get(name), str | int):
            raise CatalogError(f"{where}: {name} must be text")
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise CatalogError(f"{where}: aliases must be a list of non-empty strings")
    meta = DocumentMeta(
        doc_id=doc_id,
        title=_text(raw["title"]).strip("《》"),
        city=_text(raw["city"]),
        issuer=_text(raw.get("issuer")),
        date=_date(raw.get("date"), "date", where),
        doc_number=_text(raw.get("doc_number")),
        source_file=file_name,
        province=_text(raw.get("province")),
        aliases=tuple(a.strip() for a in aliases),
        level=_level(raw.get("level"), where),
    )
    return CatalogEntry(
        meta=meta, path=file_path, valid_until=_date(raw.get("valid_until"), "valid_until", where)
    )


LEVELS = ("national", "province", "city", "district")


def _level(value: object, where: str) -> str:
    text = _text(value).lower()
    if text and text not in LEVELS:
        raise CatalogError(f"{where}: level {text!r} must be one of {', '.join(LEVELS)}")
    return text


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _date(value: object, name: str, where: str) -> str:
    # YAML turns an unquoted 2024-06-17 into a date object; accept both spellings.
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _text(value)
    if text and not _DATE.match(text):
        raise CatalogError(f"{where}: {name} {text!r} must be YYYY-MM-DD or empty")
    if text:
        try:
            dt.date.fromisoformat(text)
        except ValueError as exc:
            raise CatalogError(f"{where}: {name} {text!r} is not a real date") from exc
    return text
