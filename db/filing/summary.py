"""The end-of-checklist summary: what is ready, what is missing, where and how to file, what happens next.

Built from a case and the workflow data (every fact with its source), rendered as plain text (the Telegram
message) and as a DOCX document (python-docx) the operator can download, print or forward.

The wording around the facts (headings, "已上传", ...) belongs to the bot's texts (bot/locales/filing.yaml): callers pass a
`labels` mapping with the keys of `LABEL_KEYS` (see bot/handlers/filing_views.py `summary_labels`).

    summary = build_summary(case, workflow, "zh", readiness_lines=[...])
    text = summary_text(summary, labels)
    data = summary_docx(summary, labels)       # bytes of a .docx
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from db.core.timeutil import local_zone
from db.filing.case_view import NOT_APPLICABLE, READY, UPLOADED, CaseView, DocumentInfo, Progress
from db.filing.workflow import Workflow

__all__ = [
    "LABEL_KEYS",
    "Summary",
    "SummaryItem",
    "build_summary",
    "docx_filename",
    "summary_brief",
    "summary_docx",
    "summary_text",
]

#: Keys `labels` must provide. `file_line` is formatted with name, size, sha and time; `progress` with done
#: and total; `institution` with title; `unconfirmed` is appended to unconfirmed facts.
LABEL_KEYS = (
    "title", "institution", "nature", "city", "progress", "registration", "business_scope",
    "section_ready", "section_missing", "section_not_applicable", "section_where", "section_next",
    "section_after", "section_local", "section_readiness", "section_sources", "uploaded", "marked_ready",
    "not_applicable", "missing", "unconfirmed", "none", "generated", "file_line", "source_prefix", "col_item",
    "col_status", "col_files", "no_city", "brief_done", "brief_missing", "brief_next", "brief_attached",
)


@dataclass(frozen=True)
class SummaryItem:
    id: str
    name: str
    what: str
    status: str  # uploaded | ready | not_applicable | missing
    documents: tuple[DocumentInfo, ...]
    source: str
    confirmed: bool


@dataclass(frozen=True)
class Fact:
    text: str
    source: str
    confirmed: bool = True


@dataclass
class Summary:
    """Everything the summary says, already in the operator's language."""

    lang: str
    #: What the operator calls the case when it has no name: their own count (`CaseView.number`), never the
    #: database id (that is used only when a test builds a case by hand without a number).
    case_number: int
    title: str
    nature: str
    authority: str
    certificate: str
    city: str
    progress: Progress
    items: list[SummaryItem]
    business_scope: Fact
    where: list[Fact]
    timeline: list[Fact]
    after: list[tuple[str, Fact]]
    local_notes: list[Fact]
    readiness_lines: list[str]
    sources: list[str]
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def by_status(self, *statuses: str) -> list[SummaryItem]:
        return [i for i in self.items if i.status in statuses]


def build_summary(case: CaseView, workflow: Workflow, lang: str, *,
                  readiness_lines: list[str] | None = None) -> Summary:
    """Collect the summary of `case` (its nature must be chosen) in `lang`."""
    nature = workflow.nature(case.legal_nature)
    cited: list[str] = []

    def cite(source_id: str) -> str:
        text = workflow.source(source_id).cite()
        if text not in cited:
            cited.append(text)
        return text

    def fact(statement) -> Fact:
        return Fact(statement.text.get(lang), cite(statement.source), statement.confirmed)

    items = [
        SummaryItem(i.material.id, i.material.name.get(lang), i.material.what.get(lang), i.status, i.documents,
                    cite(i.material.source), i.material.confirmed)
        for i in case.items(workflow)
    ]
    data = workflow.data
    after = [(step.name.get(lang), Fact(step.steps.get(lang), cite(step.source), step.confirmed))
             for step in data.after_filing]
    return Summary(
        lang=lang,
        case_number=case.number or case.id,
        title=case.title,
        nature=nature.name.get(lang) if nature else case.legal_nature,
        authority=nature.authority.get(lang) if nature else "",
        certificate=nature.certificate.get(lang) if nature else "",
        city=case.city,
        progress=case.progress(workflow),
        items=items,
        business_scope=fact(data.registration.business_scope),
        where=[fact(data.filing.authority), fact(data.filing.system)],
        timeline=[fact(t) for t in workflow.timeline_for(case.city)],
        after=after,
        local_notes=[fact(n) for n in workflow.notes_for(case.city)],
        readiness_lines=list(readiness_lines or []),
        sources=cited,
    )


def human_size(size: int, *, kb_decimals: int = 0) -> str:
    """A file size as people read it: 2.0 MB, 12 KB (12.3 KB with `kb_decimals=1`), 300 B."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.{kb_decimals}f} KB"
    return f"{size} B"


def _when(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")


def _file_line(doc: DocumentInfo, labels: Mapping[str, str]) -> str:
    return labels["file_line"].format(name=doc.file_name or doc.file_unique_id, size=human_size(doc.file_size),
                                      sha=doc.sha256[:12], time=_when(doc.uploaded_at))


def _fact_line(f: Fact, labels: Mapping[str, str], zh: bool) -> str:
    flag = labels["unconfirmed"] if not f.confirmed else ""
    if zh:
        return f"{f.text}{flag}（{labels['source_prefix']}{f.source}）"
    return f"{f.text}{flag} ({labels['source_prefix']}{f.source})"


def _count(heading: str, n: int, zh: bool) -> str:
    return f"{heading}（{n}）" if zh else f"{heading} ({n})"


def _named(name: str, text: str, zh: bool) -> str:
    return f"{name}：{text}" if zh else f"{name}: {text}"


def _status_label(status: str, labels: Mapping[str, str]) -> str:
    return {UPLOADED: labels["uploaded"], READY: labels["marked_ready"],
            NOT_APPLICABLE: labels["not_applicable"]}.get(status, labels["missing"])


def _header_lines(s: Summary, labels: Mapping[str, str]) -> list[str]:
    lines = [
        labels["institution"].format(title=s.title or f"#{s.case_number}"),
        f"{labels['nature']}{s.nature}",
        f"{labels['city']}{s.city or labels['no_city']}",
        labels["registration"].format(authority=s.authority, certificate=s.certificate),
        f"{labels['business_scope']}{_fact_line(s.business_scope, labels, s.lang == 'zh')}",
        labels["progress"].format(done=s.progress.done, total=s.progress.total),
    ]
    return lines


def summary_text(s: Summary, labels: Mapping[str, str]) -> str:
    """The summary as plain text (for a Telegram message; split it if longer than 4096 characters)."""
    zh = s.lang == "zh"
    out: list[str] = [labels["title"], *_header_lines(s, labels), ""]
    done = s.by_status(UPLOADED, READY)
    out.append("✅ " + _count(labels["section_ready"], len(done), zh))
    for item in done:
        out.append(f"• {item.name} — {_status_label(item.status, labels)}")
        out += [f"   {_file_line(d, labels)}" for d in item.documents]
    if not done:
        out.append(f"• {labels['none']}")
    missing = s.by_status("missing")
    out += ["", "⬜ " + _count(labels["section_missing"], len(missing), zh)]
    out += [f"• {item.name}{labels['unconfirmed'] if not item.confirmed else ''}" for item in missing] or \
        [f"• {labels['none']}"]
    na = s.by_status(NOT_APPLICABLE)
    if na:
        out += ["", f"➖ {labels['section_not_applicable']}"]
        out += [f"• {item.name}" for item in na]
    out += ["", f"📍 {labels['section_where']}"]
    out += [f"• {_fact_line(f, labels, zh)}" for f in s.where]
    out += ["", f"⏱ {labels['section_next']}"]
    out += [f"• {_fact_line(f, labels, zh)}" for f in s.timeline]
    if s.local_notes:
        out += ["", f"🏙 {labels['section_local']}"]
        out += [f"• {_fact_line(f, labels, zh)}" for f in s.local_notes]
    if s.readiness_lines:
        out += ["", f"👶 {labels['section_readiness']}"]
        out += [f"• {line}" for line in s.readiness_lines]
    out += ["", f"🔁 {labels['section_after']}"]
    out += ["• " + _named(name, _fact_line(f, labels, zh), zh) for name, f in s.after]
    out += ["", f"📚 {labels['section_sources']}"]
    out += [f"• {src}" for src in s.sources]
    return "\n".join(out)


def summary_brief(s: Summary, labels: Mapping[str, str], *, max_names: int = 12) -> str:
    """The short message that goes with the documents: progress, what is missing, the next step, and a
    pointer to the DOCX/PDF for everything else (every material explained, deadlines, sources)."""
    zh = s.lang == "zh"
    missing = s.by_status("missing")
    out = [
        labels["title"],
        labels["institution"].format(title=s.title or f"#{s.case_number}"),
        labels["progress"].format(done=s.progress.done, total=s.progress.total),
        "",
    ]
    if missing:
        out.append("⬜ " + labels["brief_missing"].format(n=len(missing)))
        shown = missing[:max_names]
        out += [f"• {item.name}" for item in shown]
        if len(missing) > len(shown):
            out.append("• …")
    else:
        out.append("✅ " + labels["brief_done"])
    where = "；".join(f.text for f in s.where) if zh else " ".join(f.text for f in s.where)
    out += ["", "👉 " + labels["brief_next"].format(where=where), "", labels["brief_attached"]]
    return "\n".join(out)


def docx_filename(s: Summary) -> str:
    """An ASCII file name, e.g. filing-summary-12-20250301.docx."""
    return f"filing-summary-{s.case_number}-{_when(s.generated_at)[:10].replace('-', '')}.docx"


def _docx_fonts(doc) -> None:
    """SimSun body text and SimHei headings, also for the East Asian glyphs."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    normal = doc.styles["Normal"]
    normal.font.name = "SimSun"
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")
    for style_name in ("Title", "Heading 1", "Heading 2"):
        style = doc.styles[style_name]
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimHei")


def _docx_items_table(doc, s: Summary, labels: Mapping[str, str]) -> None:
    """Every checklist item with its status and files, as a table."""
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    head = table.rows[0].cells
    head[0].text, head[1].text, head[2].text = labels["col_item"], labels["col_status"], labels["col_files"]
    for item in s.items:
        cells = table.add_row().cells
        cells[0].text = item.name + (labels["unconfirmed"] if not item.confirmed else "")
        mark = {UPLOADED: "✅ ", READY: "✅ ", NOT_APPLICABLE: "➖ "}.get(item.status, "⬜ ")
        cells[1].text = mark + _status_label(item.status, labels)
        cells[2].text = "\n".join(_file_line(d, labels) for d in item.documents) or "—"


def summary_docx(s: Summary, labels: Mapping[str, str]) -> bytes:
    """The summary as a .docx (a table of every item with its status and files, then the facts)."""
    from docx import Document

    zh = s.lang == "zh"
    doc = Document()
    _docx_fonts(doc)

    doc.add_heading(labels["title"], level=0)
    for line in _header_lines(s, labels):
        doc.add_paragraph(line)

    doc.add_heading(labels["section_ready"] + " / " + labels["section_missing"], level=1)
    _docx_items_table(doc, s, labels)

    missing = s.by_status("missing")
    doc.add_heading(labels["section_missing"], level=1)
    for item in missing:
        doc.add_paragraph(_named(item.name, item.what, zh), style="List Bullet")
    if not missing:
        doc.add_paragraph(labels["none"])

    def facts(heading: str, rows: list[Fact]) -> None:
        if not rows:
            return
        doc.add_heading(heading, level=1)
        for f in rows:
            doc.add_paragraph(_fact_line(f, labels, zh), style="List Bullet")

    facts(labels["section_where"], s.where)
    facts(labels["section_next"], s.timeline)
    facts(labels["section_local"], s.local_notes)
    if s.readiness_lines:
        doc.add_heading(labels["section_readiness"], level=1)
        for line in s.readiness_lines:
            doc.add_paragraph(line, style="List Bullet")
    doc.add_heading(labels["section_after"], level=1)
    for name, f in s.after:
        doc.add_paragraph(_named(name, _fact_line(f, labels, zh), zh), style="List Bullet")
    doc.add_heading(labels["section_sources"], level=1)
    for src in s.sources:
        doc.add_paragraph(src, style="List Bullet")
    doc.add_paragraph(labels["generated"].format(time=_when(s.generated_at)))

    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
