"""Structure-aware chunking of cleaned policy texts.

A document is read as an outline: the title line, `一、` (level 1), `(一)`/`（一）` (level 2), `1.`/`1．`/
`1、`/`(1)` (level 3) and `附件` headings. Every chunk carries its section path and its verbatim text,
including the heading line of the item it belongs to; chunks never cross a level-1 or level-2 boundary.
Long items are split at sentence ends, short siblings are merged. Tables scraped as one cell per line
(`cell |`) are rebuilt into rows and emitted as `header: cell; header: cell` lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from retrieval.tables import PIPE_ONLY, Table, cell_table, is_cell_line, row_cells, row_table
from retrieval.types import Chunk, DocumentMeta

TARGET_CHARS = 360  # a long item is cut at the last sentence end before this length...
MIN_CHARS = 150  # ...but no piece is cut shorter than this
MAX_CHARS = 450  # a piece still longer (one huge sentence) is cut at commas
MERGE_LIMIT = 300  # short siblings (and table rows) are merged while the result stays under this
SHORT_CHARS = 100  # only items shorter than this count as short (longer ones keep their own section path)
HEADING_MAX = 40  # section path elements are kept short

_CN_NUM = "一二三四五六七八九十百零〇"
_LEVEL1 = re.compile(rf"^[{_CN_NUM}]+、")
_LEVEL2 = re.compile(rf"^[(（][{_CN_NUM}]+[)）]")
_LEVEL3 = re.compile(r"^\d{1,2}(?:[.．](?![\d.．])|、)")  # 1. 1． 1、 but not 3.30 or 1.1
_LEVEL3_PAREN = re.compile(r"^[(（]\d{1,2}[)）]")
# Article-style documents (regulations, measures): 第一章 … 第一条 … Each article is its own passage.
_CHAPTER = re.compile(rf"^第[{_CN_NUM}\d]+章(?=$|\s|[^\u4e00-\u9fff]|[\u4e00-\u9fff])")
_ARTICLE = re.compile(rf"^第[{_CN_NUM}\d]+条(?=$|\s|[　:：、.．]|[\u4e00-\u9fff])")
# An article starting mid-line after a space or a sentence end (articles run together on one line);
# "依照第三条规定" inside a sentence is not one.
_INLINE_ARTICLE = re.compile(rf"(?:\s+|(?<=[。；;]))(?=第[{_CN_NUM}\d]+条[\s　])")
_ANNEX = re.compile(r"^附\s*件\s*\d{0,2}(?=$|\s|[:：(（．.、])")
_MARKER_ONLY = re.compile(rf"^(?:[{_CN_NUM}]+、|[(（][{_CN_NUM}]+[)）]|\d{{1,2}}[.．、])$")
# A marker preceded by whitespace inside a long line: a flattened outline (e.g. a whole reply on one line).
_INLINE_MARKER = re.compile(
    rf"\s+(?=(?:第[{_CN_NUM}\d]+[章条]|[{_CN_NUM}]+、|[(（][{_CN_NUM}]+[)）]|\d{{1,2}}[.．]\s*[^\d\s.．]|\d{{1,2}}、[^\d\s]))"
)
_HEADING_MARKER = re.compile(
    rf"^(?:[{_CN_NUM}]+、|[(（][{_CN_NUM}\d]{{1,3}}[)）]|\d{{1,2}}(?:[.．]\d{{1,2}})*[.．、]?|附\s*件\s*\d{{0,2}})\s*"
)
#: Words a policy document's title ends with (… 实施方案, … 通知): a short first line ending so is the title.
TITLE_WORDS = ("方案", "办法", "意见", "通知", "规定", "细则", "措施", "决定", "函", "规划", "指南", "计划", "答复",
               "条例", "纲要", "公告")
_TITLE_SUFFIX = re.compile(f"(?:{'|'.join(TITLE_WORDS)})$")
_SENTENCE_END = re.compile(r"[。！？；;!?]+[”’」』）)]*|\n")
_SENTENCES = re.compile(r"[^。！？；;!?\n]*(?:[。！？；;!?]+[”’」』）)]*|\n|$)")
_COMMA_END = re.compile(r"[，,、：:]")
# A sentence that only continues the one before ("其中:普惠型托育机构353个…" breaks down the total just given)
# is never cut from it: alone, its figures no longer say what they are a part of.
_CONTINUES = re.compile(r"\s*其中")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, split after 。！？；;!? (with any closing quote) and at newlines, punctuation kept;
    a sentence that only continues the one before (其中…) stays with it."""
    sentences: list[str] = []
    for sentence in (s.strip() for s in _SENTENCES.findall(text)):
        if sentence and sentences and _CONTINUES.match(sentence):
            sentences[-1] += sentence
        elif sentence:
            sentences.append(sentence)
    return sentences


def chunk_document(meta: DocumentMeta, text: str) -> list[Chunk]:
    """Chunks of a cleaned document, in reading order, with ids `{doc_id}:{ordinal:04d}` (from 0001)."""
    parts = _outline(meta, _segments(text.split("\n")))
    passages = _passages(parts)
    return [
        Chunk(chunk_id=f"{meta.doc_id}:{n:04d}", doc_id=meta.doc_id, ordinal=n, section=section, text=body)
        for n, (section, body) in enumerate(passages, start=1)
    ]


# --- Reading the text: lines, tables --------------------------------------------------------------------


def _segments(lines: list[str]) -> list[str | Table]:
    """Text lines (trimmed, table pipes dropped, flattened outlines split) and rebuilt tables."""
    out: list[str | Table] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if is_cell_line(line):
            j = _run_end(lines, i, is_cell_line)
            table = cell_table([lines[k].strip() for k in range(i, j)])
            if table:
                out.append(Table(_take_table_title(out), table))
            else:
                out.extend(_text_lines(lines[i:j]))
            i = j
        elif row_cells(line):
            j = _run_end(lines, i, row_cells)
            out.append(Table(_take_table_title(out), row_table([row_cells(lines[k].strip()) for k in range(i, j)])))
            i = j
        else:
            out.extend(_text_lines([lines[i]]))
            i += 1
    return _join_markers(out)


def _run_end(lines: list[str], start: int, belongs: Callable[[str], object]) -> int:
    """The index after the run of (stripped) lines from `start` that `belongs` accepts."""
    end = start
    while end < len(lines) and belongs(lines[end].strip()):
        end += 1
    return end


def _text_lines(raw_lines: list[str]) -> list[str]:
    out: list[str] = []
    for raw in raw_lines:
        line = raw.strip()
        if PIPE_ONLY.match(line):
            continue
        line = line.rstrip("|").rstrip()
        if not line:
            continue
        pieces = _INLINE_MARKER.split(line) if len(line) > 200 else [line]
        pieces = [a for piece in pieces for a in _INLINE_ARTICLE.split(piece)]
        out.extend(p.strip() for p in pieces if p.strip())
    return out


def _join_markers(segments: list[str | Table]) -> list[str | Table]:
    """A marker alone on its line (`一、` then `总体要求`) belongs to the next line."""
    joined: list[str | Table] = []
    for segment in segments:
        if (
            joined
            and isinstance(segment, str)
            and isinstance(joined[-1], str)
            and _MARKER_ONLY.match(joined[-1])
        ):
            joined[-1] += segment
        else:
            joined.append(segment)
    return joined


def _take_table_title(out: list[str | Table]) -> str:
    """The short caption line just before a table, if any (removed from the text flow)."""
    if out and isinstance(out[-1], str):
        last = out[-1]
        if len(last) <= 60 and "。" not in last and not _heading_level(last, False):
            out.pop()
            return last
    return ""


# --- Outline -------------------------------------------------------------------------------------------


@dataclass
class _Part:
    path: tuple[str, ...]
    level: int  # 0 = front matter / title, 1..4 = outline depth, -1 = table
    lines: list[str] = field(default_factory=list)
    headed: bool = False
    table: Table | None = None


def _heading_level(line: str, in_level3: bool) -> int:
    if _ARTICLE.match(line):
        return 2
    if _ANNEX.match(line) or _LEVEL1.match(line) or _CHAPTER.match(line):
        return 1
    if _LEVEL2.match(line):
        return 2
    if _LEVEL3.match(line):
        return 3
    if _LEVEL3_PAREN.match(line):
        return 4 if in_level3 else 3
    return 0


def heading_text(line: str) -> str:
    """The short form of a heading line for a section path: up to its first 。 (or ；, or the space
    that ends a run-in heading), at most `HEADING_MAX` characters."""
    article = _ARTICLE.match(line)
    if article:
        return article.group(0)  # 第三条: the article number is how such documents are cited
    if _CHAPTER.match(line):
        return " ".join(line.split())[:HEADING_MAX]
    marker = _HEADING_MARKER.match(line)
    head_len = marker.end() if marker else 0
    body = line[head_len:]
    cut = re.search(r"[。；;]|\s", body)
    text = line[: head_len + (cut.start() if cut else len(body))].rstrip()
    if len(text) > HEADING_MAX:
        comma = re.search(r"[，,]", text[head_len:])
        if comma and comma.start() >= 4:
            text = text[: head_len + comma.start()]
    return text[:HEADING_MAX].rstrip()


def _normalise_title(text: str) -> str:
    return re.sub(r"[\s《》|]", "", text)


def _outline(meta: DocumentMeta, segments: list[str | Table]) -> list[_Part]:
    parts: list[_Part] = []
    headings: dict[int, str] = {}
    current = _Part(path=(meta.title,), level=0)
    title_seen = False
    wanted_title = _normalise_title(meta.title)

    def path() -> tuple[str, ...]:
        return tuple(headings[k] for k in sorted(headings))

    for segment in segments:
        if isinstance(segment, Table):
            parts.append(current)
            section = (path() or (meta.title,)) + ((segment.title,) if segment.title else ())
            parts.append(_Part(path=section, level=-1, table=segment))
            current = _Part(path=path() or (meta.title,), level=max(headings, default=0))
            continue
        line = segment
        level = _heading_level(line, 3 in headings)
        norm = _normalise_title(line)
        is_title = not title_seen and (
            (wanted_title and norm == wanted_title)
            or (
                not headings
                and len(norm) <= 60
                and _TITLE_SUFFIX.search(norm)
                and not re.search(r"[。，,:：；;]", norm)
            )
        )
        if is_title:
            title_seen = True
            parts.append(current)
            current = _Part(path=(heading_text(line),), level=0, lines=[line], headed=True)
        elif level:
            parts.append(current)
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = heading_text(line)
            current = _Part(path=path(), level=level, lines=[line], headed=True)
        else:
            current.lines.append(line)
    parts.append(current)
    return [p for p in parts if p.lines or p.table]


# --- Passages ------------------------------------------------------------------------------------------


@dataclass
class _Unit:
    path: tuple[str, ...]
    level: int
    text: str
    mergeable: bool


def _passages(parts: list[_Part]) -> list[tuple[tuple[str, ...], str]]:
    units: list[_Unit] = []
    prefix: list[str] = []
    for index, part in enumerate(parts):
        following = parts[index + 1] if index + 1 < len(parts) else None
        if part.table is not None:
            prefix = []
            units.extend(_table_units(part))
            continue
        heading_only = part.headed and len(part.lines) == 1 and _is_bare_heading(part.lines[0])
        if heading_only and following is not None:
            if following.table is not None:
                continue  # the heading is already in the table's section path
            if following.level > part.level:
                prefix.append(part.lines[0])  # carried into the first child's text
                continue
        text = "\n".join(prefix + part.lines)
        prefix = []
        pieces = _split_long(text)
        units.extend(_Unit(part.path, part.level, piece, len(pieces) == 1) for piece in pieces)
    if prefix:
        units.append(_Unit(parts[-1].path, 0, "\n".join(prefix), False))
    return _merge_siblings(units)


def _is_bare_heading(line: str) -> bool:
    """True when the line is nothing but a heading (no run-in body text after it)."""
    return line.rstrip("。:：;；").strip() == heading_text(line)


def _table_units(part: _Part) -> list[_Unit]:
    """One passage per table row: a per-town or per-task question then meets its own row, whose text
    carries the column headers (`header: cell; …`) and whose section path the table's title."""
    assert part.table is not None
    return [_table_unit(part.path, key, [row]) for key, row in part.table.rows]


def _table_unit(path: tuple[str, ...], key: str | None, rows: list[str]) -> _Unit:
    section = path + ((heading_text(key),) if key else ())
    return _Unit(section, -1, "\n".join(rows), False)


def _merge_siblings(units: list[_Unit]) -> list[tuple[tuple[str, ...], str]]:
    out: list[tuple[tuple[str, ...], str]] = []
    i = 0
    while i < len(units):
        unit = units[i]
        texts = [unit.text]
        j = i + 1
        if unit.mergeable and unit.level >= 3 and len(unit.text) < SHORT_CHARS:
            parent = unit.path[:-1]
            while (
                j < len(units)
                and units[j].mergeable
                and len(units[j].text) < SHORT_CHARS
                and units[j].level == unit.level
                and units[j].path[:-1] == parent
                and len("\n".join([*texts, units[j].text])) < MERGE_LIMIT
            ):
                texts.append(units[j].text)
                j += 1
        section = unit.path if j == i + 1 else unit.path[:-1]
        out.append((section, "\n".join(texts)))
        i = j
    return out


def _split_long(text: str) -> list[str]:
    """Cut text longer than `MAX_CHARS` into verbatim pieces at sentence ends (commas as a last resort)."""
    if len(text) <= MAX_CHARS:
        return [text]
    spans: list[tuple[int, int]] = []
    for start, end in _cut(text, 0, len(text), _SENTENCE_END):
        if end - start <= MAX_CHARS:
            spans.append((start, end))
            continue
        for a, b in _cut(text, start, end, _COMMA_END):
            spans.extend((k, min(k + MAX_CHARS, b)) for k in range(a, b, MAX_CHARS))
    if (
        len(spans) >= 2
        and spans[-1][1] - spans[-1][0] < MIN_CHARS // 2
        and spans[-1][1] - spans[-2][0] <= MAX_CHARS
    ):
        spans[-2:] = [(spans[-2][0], spans[-1][1])]  # fold a scrap of a tail into the previous piece
    pieces = (text[a:b].strip() for a, b in spans)
    return [p for p in pieces if p]


def _cut(text: str, start: int, stop: int, boundary: re.Pattern[str]) -> list[tuple[int, int]]:
    """Greedy spans of text[start:stop] ending at `boundary` matches, each about `TARGET_CHARS` long."""
    spans: list[tuple[int, int]] = []
    last = start
    ends = (m.end() for m in boundary.finditer(text, start, stop) if not _CONTINUES.match(text, m.end()))
    for end in [*ends, stop]:
        if end - start > TARGET_CHARS and last - start >= MIN_CHARS:
            spans.append((start, last))
            start = last
        last = end
    spans.append((start, stop))
    return spans
