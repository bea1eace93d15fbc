"""Tables in policy texts, rebuilt into rows for chunking (`retrieval.chunking`).

Scraped web pages flatten a table to one `cell |` per line (merged cells omitted, headers repeated at page
breaks); DOCX, HTML and Markdown tables arrive one `a | b | c` row per line. Either way each row comes out
as one `header: cell; header: cell` line with the key (first cell) that groups it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PIPE_ONLY = re.compile(r"^\|+$")
_ONE_CELL = re.compile(r"^[^|]+\|$")
#: A cell that is a bare figure (1787, ≥90%, 约3.5‰): a value column, not a label.
BARE_VALUE = re.compile(r"^[≥≤<>＞＜≈约±]?\s*[-+]?\d+(?:[.,]\d+)*\s*[%％‰]?$")
_ENUM = re.compile(r"^\d{1,2}(?:(?:[.．]\d{1,2})+[.．、]?|[.．、])\s*[^\d\s]")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


@dataclass
class Table:
    """A table found in the text: its caption (may be empty) and its rows as (group key, rendered row)."""

    title: str
    rows: list[tuple[str, str]]


def is_cell_line(line: str) -> bool:
    """A line of a table flattened to one cell per line (`cell |`, or only pipes)."""
    return bool(PIPE_ONLY.match(line) or _ONE_CELL.match(line))


def row_cells(line: str) -> list[str]:
    """Cells of a `a | b | c` row (one table row per line), or [] when the line is not such a row."""
    if "|" not in line.rstrip("|"):
        return []
    cells = [c.strip() for c in line.split("|")]
    while cells and not cells[-1]:
        cells.pop()
    while cells and not cells[0]:
        cells.pop(0)
    return cells if sum(1 for c in cells if c) >= 2 else []


def _cell(text: str) -> str:
    # Scraped cells wrap inside words (`产出 指标`); the space is layout, not content.
    return _CJK_GAP.sub("", text.strip().rstrip("|").strip())


def cell_table(lines: list[str]) -> list[tuple[str, str]] | None:
    """Rebuild a table flattened to one `cell |` per line; None when the block is not a real table."""
    cells: list[str] = []
    for line in lines:
        if PIPE_ONLY.match(line):
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
    if any(BARE_VALUE.match(c) for c in rest):
        return _numeric_rows(header, rest)
    return _text_rows(header, rest)


def _split_header(cells: list[str]) -> tuple[list[str], list[str]] | None:
    kinds = [
        "" if not c else "value" if BARE_VALUE.match(c) else "enum" if _ENUM.match(c) else "text" for c in cells
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
        if cell and not BARE_VALUE.match(cell):
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


def row_table(rows: list[list[str]]) -> list[tuple[str, str]]:
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


# The unit a row's label gives its figures: 辖区总托位数(个), 举办职业技能竞赛(场).
_LABEL_UNIT = re.compile(r"[(（](个|家|场|名|人|人次|次|所|项|处|张|件|种|班|批|元|万元|天|小时|%|％|‰)[)）]")
_ROW_VALUE = re.compile(r"(?<=[:：] )([≥≤<>＞＜≈约±]?\s*[-+]?\d+(?:[.,]\d+)*)(?=;|$)")


def row_unit(row: str) -> str:
    """The unit the labels of a `header: cell; …` row give its bare figures ("" when none): the last one named
    in a cell that is no figure (三级指标: 1.每千人口拥有3岁以下婴幼儿托位数(个))."""
    units = [match.group(1) for cell in row.split("; ") if not BARE_VALUE.match(cell.rpartition(": ")[2].strip())
             for match in _LABEL_UNIT.finditer(cell)]
    return units[-1] if units else ""


def with_row_unit(row: str) -> str:
    """`row` with its labels' unit written after each bare figure ("凤凰镇: 430" → "凤凰镇: 430个" in a row
    labelled 辖区总托位数(个)), so that the figure states a count of what the label counts."""
    if "; " not in row or not _LABEL_UNIT.search(row):  # a sentence, or a row without a unit: as it is
        return row
    unit = row_unit(row)
    return _ROW_VALUE.sub(lambda m: m.group(1) + unit, row) if unit else row
