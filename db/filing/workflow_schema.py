"""The schema of the filing workflow files (`knowledge/filing.yaml`, `knowledge/filing_cities/*.yaml`) as frozen
pydantic models, and the file types a checklist item may accept. Loading and cross-checking: `db.filing.workflow`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Telegram lets a bot download files up to 20 MB, so no item may accept more.
MAX_UPLOAD_MB = 20
_ID = r"^[a-z][a-z0-9_]{0,23}$"  # short: ids travel in callback data (≤ 64 bytes)


@dataclass(frozen=True)
class FileType:
    """A file type the checklist can accept: how to recognise it by name, MIME type and content."""

    key: str
    extensions: tuple[str, ...]
    mime_types: tuple[str, ...]
    magic: tuple[bytes, ...]
    label: str


FILE_TYPES: dict[str, FileType] = {
    ft.key: ft
    for ft in (
        FileType("pdf", (".pdf",), ("application/pdf",), (b"%PDF-",), "PDF"),
        FileType("jpg", (".jpg", ".jpeg"), ("image/jpeg", "image/jpg", "image/pjpeg"), (b"\xff\xd8\xff",), "JPG"),
        FileType("png", (".png",), ("image/png",), (b"\x89PNG\r\n\x1a\n",), "PNG"),
        FileType(
            "docx",
            (".docx",),
            ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
            (b"PK\x03\x04",),
            "Word (.docx)",
        ),
        FileType("doc", (".doc",), ("application/msword",), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",), "Word (.doc)"),
    )
}


# --- Schema ---------------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalText(_Model):
    """A text in Chinese (required) and English (optional; falls back to Chinese)."""

    zh: str = Field(min_length=1)
    en: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"zh": value}
        return value

    @field_validator("zh", "en")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    def get(self, lang: str) -> str:
        """The text in `lang` (Chinese when there is no English)."""
        return (self.en if lang == "en" else "") or self.zh


class Source(_Model):
    """A document facts are taken from."""

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    number: str = ""
    issuer: str = ""
    year: int | None = None
    note: LocalText | None = None

    def cite(self) -> str:
        """《title》number — how the bot names the source."""
        return f"《{self.title}》{self.number}"


class SourcedFact(_Model):
    """Anything stated on the authority of a source (`source` is a source id; `confirmed`: checked by staff)."""

    source: str = Field(min_length=1)
    confirmed: bool = True


class Statement(SourcedFact):
    """One fact: a text and where it comes from."""

    text: LocalText


class LegalNature(SourcedFact):
    """A legal nature (法人性质) and where an institution of that nature registers."""

    id: str = Field(pattern=_ID)
    name: LocalText
    explain: LocalText
    authority: LocalText
    certificate: LocalText


class Material(SourcedFact):
    """A 备案 checklist item."""

    id: str = Field(pattern=_ID)
    name: LocalText
    what: LocalText
    who: LocalText
    #: Accepted file types (keys of FILE_TYPES); defaults.accept when not given.
    accept: tuple[str, ...] | None = None
    max_mb: float | None = Field(default=None, gt=0, le=MAX_UPLOAD_MB)
    can_mark_ready: bool = True
    can_be_not_applicable: bool = False
    #: Legal-nature ids this item applies to; all when not given.
    natures: tuple[str, ...] | None = None

    @field_validator("accept")
    @classmethod
    def _known_types(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return _check_types(value)

    @property
    def max_bytes(self) -> int:
        return int((self.max_mb or MAX_UPLOAD_MB) * 1024 * 1024)

    def applies_to(self, nature: str) -> bool:
        return self.natures is None or nature in self.natures


def _check_types(value: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not value:
        raise ValueError("must list at least one file type")
    keys = tuple(v.lower().lstrip(".") for v in value)
    for key in keys:
        if key not in FILE_TYPES:
            raise ValueError(f"unknown file type {key!r} (known: {', '.join(sorted(FILE_TYPES))})")
    return tuple(dict.fromkeys(keys))


class TimelineFact(Statement):
    """A timeline fact (e.g. 5 working days to complete the filing)."""

    id: str = Field(pattern=_ID)
    working_days: int | None = Field(default=None, ge=0)


class AfterStep(SourcedFact):
    """What to do after filing (变更, 注销, …)."""

    id: str = Field(pattern=_ID)
    name: LocalText
    steps: LocalText


class Registration(_Model):
    business_scope: Statement
    handover: Statement | None = None


class FilingFacts(_Model):
    authority: Statement
    system: Statement


class ClassType(_Model):
    """A class type of 《托育机构设置标准(试行)》 with its maximum size and carer ratio."""

    id: str = Field(pattern=_ID)
    name: LocalText
    aliases: tuple[str, ...] = Field(min_length=1)
    age: LocalText
    min_age_months: int | None = Field(default=None, ge=0, le=36)
    max_children: int = Field(gt=0)
    #: Children per carer at most (1:3 → 3); None when the standard sets no ratio for this class type.
    children_per_carer: int | None = Field(default=None, gt=0)
    rule: LocalText


class FamilyRule(SourcedFact):
    """The limits of a home-based 家庭托育点."""

    id: str = Field(pattern=_ID)
    name: LocalText
    aliases: tuple[str, ...] = Field(min_length=1)
    max_children: int = Field(gt=0)
    children_per_carer: int = Field(gt=0)
    rule: LocalText


class Readiness(_Model):
    source: str = Field(min_length=1)
    class_types: tuple[ClassType, ...] = Field(min_length=1)
    family: FamilyRule | None = None


class Defaults(_Model):
    accept: tuple[str, ...] = ("pdf", "jpg", "png")
    max_mb: float = Field(default=10, gt=0, le=MAX_UPLOAD_MB)

    @field_validator("accept")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_types(value)  # type: ignore[return-value]


class WorkflowFile(_Model):
    """knowledge/filing.yaml."""

    version: Literal[1]
    sources: tuple[Source, ...] = Field(min_length=1)
    defaults: Defaults = Defaults()
    legal_natures: tuple[LegalNature, ...] = Field(min_length=1)
    registration: Registration
    filing: FilingFacts
    materials: tuple[Material, ...] = Field(min_length=1)
    timeline: tuple[TimelineFact, ...] = ()
    after_filing: tuple[AfterStep, ...] = ()
    readiness: Readiness


class CityAdditions(_Model):
    """knowledge/filing_cities/<city>.yaml: local facts and extra checklist items."""

    city: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    notes: tuple[Statement, ...] = ()
    materials: tuple[Material, ...] = ()
    timeline: tuple[TimelineFact, ...] = ()

    def names(self) -> set[str]:
        return {self.city.casefold(), *(a.casefold() for a in self.aliases)}
