"""Structure-aware chunking of cleaned policy texts.

A document is read as an outline: the title line, `一、` (level 1), `(一)`/`（一）` (level 2), `1.`/`1．`/
`1、`/`(1)` (level 3) and `附件` headings. Every chunk carries its section path and its verbatim text,
including the heading line of the item it belongs to; chunks never cross a level-1 or level-2 boundary.
Long items are split at sentence ends, short siblings are merged. Tables scraped as one cell per line
(`cell |`) are rebuilt into rows and emitted as `header: cell; header: cell` lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
_TITLE_SUFFIX = re.compile(
    r"(?:方案|办法|意见|通知|规定|细则|措施|决定|函|规划|指南|计划|答复|条例|纲要|公告)$"
)
_SENTENCE_END = re.compile(r"[。！？；;!?]+[”’」』）)]*|\n")
_SENTENCES = re.compile(r"[^。！？；;!?\n]*(?:[。！？；;!?]+[”’」』）)]*|\n|$)")
_COMMA_END = re.compile(r"[，,、：:]")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_PIPE_ONLY = re.compile(r"^\|+$")
_ONE_CELL = re.compile(r"^[^|]+\|$")
_VALUE = re.compile(r"^[≥≤<>＞＜≈约±]?\s*[-+]?\d+(?:[.,]\d+)*\s*[%％‰]?$")
_ENUM = re.compile(r"^\d{1,2}(?:(?:[.．]\d{1,2})+[.．、]?|[.．、])\s*[^\d\s]")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, split after 。！？；;!? (with any closing quote) and at newlines, punctuation kept."""
    return [s.strip() for s in _SENTENCES.findall(text) if s.strip()]


def chunk_document(meta: DocumentMeta, text: str) -> list[Chunk]:
    """Chunks of a cleaned document, in reading order, with ids `{doc_id}:{ordinal:04d}` (from 0001)."""
    parts = _outline(meta, _segments(text.split("\n")))
    passages = _passages(parts)
    return [
        Chunk(chunk_id=f"{meta.doc_id}:{n:04d}", doc_id=meta.doc_id, ordinal=n, section=section, text=body)
        for n, (section, body) in enumerate(passages, start=1)
    ]


# --- Reading the text: lines, tables --------------------------------------------------------------------


@dataclass
class _Table:
    title: str
    rows: list[tuple[str, str]]  # (group key, rendered row)


def _segments(lines: list[str]) -> list[str | _Table]:
    """Text lines (trimmed, table pipes dropped, flattened outlines split) and rebuilt tables."""
    out: list[str | _Table] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if _is_cell_line(line):
            j = i
            while j < len(lines) and _is_cell_line(lines[j].strip()):
                j += 1
            table = _cell_table([lines[k].strip() for k in range(i, j)])
            if table:
                out.append(_Table(_take_table_title(out), table))
            else:
                out.extend(_text_lines([lines[k] for k in range(i, j)]))
            i = j
        elif _row_cells(line):
            j = i
            while j < len(lines) and _row_cells(lines[j].strip()):
                j += 1
            out.append(
                _Table(
                    _take_table_title(out), _row_table([_row_cells(lines[k].strip()) for k in range(i, j)])
                )
            )
            i = j
        else:
            out.extend(_text_lines([lines[i]]))
            i += 1
    return _join_markers(out)


def _is_cell_line(line: str) -> bool:
    return bool(_PIPE_ONLY.match(line) or _ONE_CELL.match(line))


def _row_cells(line: str) -> list[str]:
    """Cells of a `a | b | c` row (one table row per line), or [] when the line is not such a row."""
    if "|" not in line.rstrip("|"):
        return []
    cells = [c.strip() for c in line.split("|")]
    while cells and not cells[-1]:
        cells.pop()
    while cells and not cells[0]:
        cells.pop(0)
    return cells if sum(1 for c in cells if c) >= 2 else []


def _text_lines(raw_lines: list[str]) -> list[str]:
    out: list[str] = []
    for raw in raw_lines:
        line = raw.strip()
        if _PIPE_ONLY.match(line):
            continue
        line = line.rstrip("|").rstrip()
        if not line:
            continue
        pieces = _INLINE_MARKER.split(line) if len(line) > 200 else [line]
        pieces = [a for piece in pieces for a in _INLINE_ARTICLE.split(piece)]
        out.extend(p.strip() for p in pieces if p.strip())
    return out


def _join_markers(segments: list[str | _Table]) -> list[str | _Table]:
    """A marker alone on its line (`一、` then `总体要求`) belongs to the next line."""
    joined: list[str | _Table] = []
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


def _take_table_title(out: list[str | _Table]) -> str:
    """The short caption line just before a table, if any (removed from the text flow)."""
    if out and isinstance(out[-1], str):
        last = out[-1]
        if len(last) <= 60 and "。" not in last and not _heading_level(last, False):
            out.pop()
            return last
    return ""


# --- Tables ------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    # Scraped cells wrap inside words (`产出 指标`); the space is layout, not content.
    return _CJK_GAP.sub("", text.strip().rstrip("|").strip())


def _cell_table(lines: list[str]) -> list[tuple[str, str]] | None:
    """Rebuild a table flattened to one `cell |` per line; None when the block is not a real table."""
    cells: list[str] = []
    for line in lines:
        if _PIPE_ONLY.match(line):
            cells.extend([""] * len(line))
        else:
            cells.append(_cell(line))
    filled = [c for c in cells if c]
    if len(filled) < 4 or any(len(c) > 300 for c in filled):
        return None  # e.g. a whole letter stored as one table cell
    split = _split_header(cells)
    if split is None:
        return [("", " | ".join(filled[k : k + 4])) for k in range(0, len(filled), 4)]
    header, rest = split
    rest = _drop_repeated_headers(rest, header)
    if any(_VALUE.match(c) for c in rest):
        return _numeric_rows(header, rest)
    return _text_rows(header, rest)


def _split_header(cells: list[str]) -> tuple[list[str], list[str]] | None:
    kinds = [
        "" if not c else "value" if _VALUE.match(c) else "enum" if _ENUM.match(c) else "text" for c in cells
    ]
    first_data = next((i for i, k in enumerate(kinds) if k in ("value", "enum")), len(cells))
    first_empty = next((i for i, k in enumerate(kinds) if k == ""), len(cells))
    if 2 <= first_empty < first_data:
        return cells[:first_empty], cells[first_empty:]
    if "value" in kinds:
        # The first data row is complete (no merged cells yet), so header and that row have the same
        # width h: k cells before its first value = h + (h - v) where v = its value slots.
        first_value = kinds.index("value")
        k = first_value
        v = 0
        for kind in kinds[first_value:]:
            if kind not in ("value", ""):
                break
            v += 1
        if (k + v) % 2 == 0 and 2 <= (h := (k + v) // 2) <= k and h > v:
            return cells[:h], cells[h:]
    first_enum = next((i for i, kind in enumerate(kinds) if kind == "enum"), None)
    if first_enum is not None and first_enum >= 2:
        return cells[:first_enum], cells[first_enum:]
    return None


def _drop_repeated_headers(cells: list[str], header: list[str]) -> list[str]:
    """Remove header rows repeated at page breaks (the whole header or a run of it)."""
    out: list[str] = []
    i = 0
    while i < len(cells):
        run = 0
        if cells[i] in header:
            start = header.index(cells[i])
            while (
                i + run < len(cells) and start + run < len(header) and cells[i + run] == header[start + run]
            ):
                run += 1
        if run >= 2:
            i += run
        else:
            out.append(cells[i])
            i += 1
    return out


def _numeric_rows(header: list[str], cells: list[str]) -> list[tuple[str, str]]:
    """Rows of label cells followed by value cells; merged (omitted) label cells are filled down."""
    records: list[tuple[list[str], list[str]]] = []
    keys: list[str] = []
    values: list[str] = []
    for cell in cells:
        if cell and not _VALUE.match(cell):
            if values:
                records.append((keys, values))
                keys, values = [], []
            keys.append(cell)
        elif keys:  # a value, or an empty value slot, after the row's labels
            values.append(cell)
    if keys:
        records.append((keys, values))
    if not records:
        return []
    n_values = min(len(records[0][1]), len(header) - 1) or 1
    value_headers = header[len(header) - n_values :]
    key_headers = header[: len(header) - n_values]
    width = len(records[0][0])
    previous = [""] * width
    rows: list[tuple[str, str]] = []
    for row_keys, row_values in records:
        row_keys = row_keys[-width:] if len(row_keys) > width else row_keys
        full = previous[: width - len(row_keys)] + row_keys
        previous = full
        if len(key_headers) == width:
            parts = [f"{h}: {k}" for h, k in zip(key_headers, full, strict=True) if k]
        else:
            label = "、".join(key_headers) or "项目"
            parts = [f"{label}: {' / '.join(k for k in full if k)}"]
        parts += [f"{h}: {v}" for h, v in zip(value_headers, row_values, strict=False) if v]
        rows.append((full[0], "; ".join(parts)))
    return rows


def _text_kind(cell: str) -> str:
    if _ENUM.match(cell):
        return "enum"
    return "sentence" if re.search(r"[。；;]", cell) or len(cell) > 60 else "short"


def _text_rows(header: list[str], cells: list[str]) -> list[tuple[str, str]]:
    """Rows of a text table: a row ends at a cell shaped like the last column right after one shaped
    like the one before it (e.g. a measure ending in 。 then the list of departments)."""
    filled = [c for c in cells if c]
    width = len(header)
    first = [_text_kind(c) for c in filled[:width]]
    ends_by_shape = len(first) == width >= 2 and first[-1] != first[-2]
    records: list[list[str]] = []
    current: list[str] = []
    for cell in filled:
        current.append(cell)
        shape_end = (
            ends_by_shape
            and len(current) >= 2
            and _text_kind(current[-1]) == first[-1]
            and _text_kind(current[-2]) == first[-2]
        )
        if shape_end or len(current) == width:
            records.append(current)
            current = []
    if current:
        records.append(current)
    previous = [""] * width
    rows: list[tuple[str, str]] = []
    for record in records:
        full = previous[: width - len(record)] + record
        previous = full
        parts = [f"{h}: {c}" for h, c in zip(header, full, strict=True) if c]
        rows.append((full[0], "; ".join(parts)))
    return rows


def _row_table(rows: list[list[str]]) -> list[tuple[str, str]]:
    """A table with one row per line (`a | b | c`, as DOCX/HTML/Markdown tables are loaded)."""
    key_value = all(
        len(r) % 2 == 0 and all(r[k].endswith((":", "：")) for k in range(0, len(r), 2)) for r in rows
    )
    if key_value:
        return [("", "; ".join(f"{r[k]} {r[k + 1]}" for k in range(0, len(r), 2))) for r in rows]
    if len(rows) == 1:
        return [("", " | ".join(rows[0]))]
    header = rows[0]
    out = []
    for row in rows[1:]:
        parts = [f"{h}: {c}" if h else c for h, c in zip(header, row, strict=False) if c]
        parts += [c for c in row[len(header) :] if c]
        out.append((row[0] if row else "", "; ".join(parts)))
    return out


# --- Outline -------------------------------------------------------------------------------------------


@dataclass
class _Part:
    path: tuple[str, ...]
    level: int  # 0 = front matter / title, 1..4 = outline depth, -1 = table
    lines: list[str] = field(default_factory=list)
    headed: bool = False
    table: _Table | None = None


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


def _outline(meta: DocumentMeta, segments: list[str | _Table]) -> list[_Part]:
    parts: list[_Part] = []
    headings: dict[int, str] = {}
    current = _Part(path=(meta.title,), level=0)
    title_seen = False
    wanted_title = _normalise_title(meta.title)

    def path() -> tuple[str, ...]:
        return tuple(headings[k] for k in sorted(headings))

    for segment in segments:
        if isinstance(segment, _Table):
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
    for end in [*(m.end() for m in boundary.finditer(text, start, stop)), stop]:
        if end - start > TARGET_CHARS and last - start >= MIN_CHARS:
            spans.append((start, last))
            start = last
        last = end
    spans.append((start, stop))
    return spans
