"""Plain data types shared by the ingest, index, search and answer steps."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DocumentMeta:
    """Descriptive metadata of one policy document (from `knowledge/policies/catalog.yaml`)."""

    doc_id: str
    title: str
    city: str
    issuer: str = ""
    date: str = ""
    doc_number: str = ""
    source_file: str = ""
    province: str = ""
    aliases: tuple[str, ...] = ()
    level: str = ""  # national / province / city / district ("" = inferred from the place hierarchy)


@dataclass
class Removal:
    """One thing cleaning took out of a document, for staff review."""

    kind: str  # e.g. "spam", "url", "page_furniture", "share_prompt"
    text: str
    line: int
    replacement: str = ""


@dataclass
class CleaningReport:
    """What cleaning removed from one document."""

    removals: list[Removal] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Number of removals per kind."""
        out: dict[str, int] = {}
        for removal in self.removals:
            out[removal.kind] = out.get(removal.kind, 0) + 1
        return out


@dataclass(frozen=True)
class Chunk:
    """A passage of a document, as indexed: verbatim cleaned text plus its place in the outline."""

    chunk_id: str
    doc_id: str
    ordinal: int
    section: tuple[str, ...]
    text: str

    @property
    def section_path(self) -> str:
        """Human-readable outline path, e.g. `二、重点任务 › (二)政策支持示范行动 › 3.加强特殊婴幼儿关心关爱`."""
        return " › ".join(self.section)
