"""The filing summary as a PDF — what operators print and send.

Rendered with reportlab and its built-in Adobe CID font `STSong-Light` (`UnicodeCIDFont`): Chinese renders
without any font file on disk or download at run time (PDF readers supply the font). The content is the
same as the DOCX (`db.filing_summary.summary_docx`): the header, a table of every item with its status and
files, what is still missing and what it is, where and how to file, what happens next, sources.

    data = summary_pdf(summary, labels)   # bytes of a .pdf
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from xml.sax.saxutils import escape

from db.filing.case_view import NOT_APPLICABLE
from db.filing.summary import (
    Fact,
    Summary,
    _fact_line,
    _file_line,
    _header_lines,
    _named,
    _status_label,
    _when,
    docx_filename,
)

__all__ = ["FONT", "pdf_filename", "summary_pdf"]

FONT = "STSong-Light"
# Symbols the CID font has no glyph for (they would print as blanks); the words around them carry the meaning.
_NO_GLYPH = str.maketrans({"✅": "", "⬜": "", "➖": "", "📎": "", "…": "..."})


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _p(text: str, style) -> object:
    from reportlab.platypus import Paragraph

    lines = (escape(line.translate(_NO_GLYPH).strip()) for line in str(text).split("\n"))
    return Paragraph("<br/>".join(lines), style)


def pdf_filename(s: Summary) -> str:
    """The DOCX's file name with .pdf (ASCII, e.g. filing-summary-12-20250301.pdf)."""
    return docx_filename(s)[: -len(".docx")] + ".pdf"


def summary_pdf(s: Summary, labels: Mapping[str, str]) -> bytes:
    """The summary as an A4 PDF with Chinese text (or English: the font has Latin glyphs too)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

    _register_font()
    zh = s.lang == "zh"
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=15, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=12)
    title = ParagraphStyle("title", parent=body, fontSize=17, leading=24, spaceAfter=6)
    heading = ParagraphStyle("heading", parent=body, fontSize=12.5, leading=18, spaceBefore=8, spaceAfter=3)
    bullet = ParagraphStyle("bullet", parent=body, leftIndent=10, bulletIndent=0)

    story: list = [_p(labels["title"], title)]
    story += [_p(line, body) for line in _header_lines(s, labels)]

    story.append(_p(labels["section_ready"] + " / " + labels["section_missing"], heading))
    rows = [[_p(labels["col_item"], body), _p(labels["col_status"], body), _p(labels["col_files"], body)]]
    for item in s.items:
        name = item.name + (labels["unconfirmed"] if not item.confirmed else "")
        files = "\n".join(_file_line(d, labels) for d in item.documents) or "—"
        rows.append([_p(name, body), _p(_status_label(item.status, labels), body), _p(files, small)])
    table = Table(rows, colWidths=[55 * mm, 30 * mm, 85 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    story.append(table)

    def bullets(heading_text: str, lines: list[str]) -> None:
        if not lines:
            return
        story.append(_p(heading_text, heading))
        story.extend(_p(line, bullet) for line in lines)

    missing = s.by_status("missing")
    bullets(labels["section_missing"],
            [_named(i.name, i.what, zh) for i in missing] or [labels["none"]])
    na = s.by_status(NOT_APPLICABLE)
    bullets(labels["section_not_applicable"], [i.name for i in na])

    def fact_lines(rows_: list[Fact]) -> list[str]:
        return [_fact_line(f, labels, zh) for f in rows_]

    bullets(labels["section_where"], fact_lines(s.where))
    bullets(labels["section_next"], fact_lines(s.timeline))
    bullets(labels["section_local"], fact_lines(s.local_notes))
    bullets(labels["section_readiness"], s.readiness_lines)
    bullets(labels["section_after"], [_named(name, _fact_line(f, labels, zh), zh) for name, f in s.after])
    bullets(labels["section_sources"], s.sources)
    story += [Spacer(1, 6 * mm), _p(labels["generated"].format(time=_when(s.generated_at)), small)]

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
        title=labels["title"], author="托育助手",
    )
    document.build(story)
    return buffer.getvalue()
