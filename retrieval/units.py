"""Quotable units of a passage: table rows whole, other text sentence by sentence."""

from __future__ import annotations

import re

from retrieval.chunking import split_sentences

MIN_SENTENCE_CHARS = 16  # a heading alone says little: quote the sentence after it too
TABLE_CELL = re.compile(r"^([^:：;]{1,60})[:：]\s*(.+)$")

# The note closing an item of a plan that names who carries it out: (责任部门:市发改委、市财政局,各县区政府),
# (牵头单位:市卫健委;配合单位:市教育局).
RESPONSIBLE_NOTE = re.compile(r"^[(（]\s*(?:责任|牵头|主责|配合)(?:部门|单位)\s*[:：](?P<units>[^()（）]+)[)）][。；;]?$")


def quotable_units(text: str) -> list[str]:
    """Quotable units of a passage: table rows whole, other text by sentence (a short heading joined to
    the sentence after it; a note of responsible units stays a unit of its own)."""
    if is_table(text):
        return [line.strip() for line in text.split("\n") if line.strip()]
    sentences = [s.strip() for s in split_sentences(text) if s.strip()]
    units: list[str] = []
    i = 0
    while i < len(sentences):
        unit = sentences[i].strip(";；").strip()
        while (len(unit) < MIN_SENTENCE_CHARS and i + 1 < len(sentences) and not RESPONSIBLE_NOTE.match(unit)
               and not RESPONSIBLE_NOTE.match(sentences[i + 1].strip())):
            i += 1
            unit = f"{unit}{sentences[i].strip()}"
        units.append(unit)
        i += 1
    return units


def with_responsible_notes(units: list[str]) -> list[str]:
    """`units` for a question asking who is responsible: each sentence carries the note of responsible units
    that closes its item (a note is said of every sentence before it, back to the previous note); the notes
    are not units of their own then. Units of a passage without notes are returned as they are."""
    if not has_notes(units):
        return units
    out: list[str] = []
    pending: list[str] = []
    for unit in units:
        if not RESPONSIBLE_NOTE.match(unit):
            pending.append(unit)
            continue
        # Verbatim: a sentence further up is joined to the note with "…" marking what stands between.
        out.extend(f"{sentence}{'' if i == len(pending) - 1 else '…'}{unit}" for i, sentence in enumerate(pending))
        if not pending:
            out.append(unit)
        pending = []
    return out + pending


def has_notes(units: list[str]) -> bool:
    """True when a unit of the passage is a note of responsible units."""
    return any(RESPONSIBLE_NOTE.match(unit) for unit in units)


def _note_start(unit: str) -> int:
    return max(unit.rfind("("), unit.rfind("（"))


def responsible_units(unit: str) -> str:
    """The responsible units a unit's closing note names ("" without one): 市发改委、市财政局,各县区政府."""
    at = _note_start(unit)
    match = RESPONSIBLE_NOTE.match(unit[at:]) if at >= 0 else None
    return match.group("units").strip() if match else ""


def without_note(unit: str) -> str:
    """`unit` without its closing note of responsible units: what the sentence itself says (the note's label,
    责任部门, must not make a sentence look like it is about departments)."""
    return unit[: _note_start(unit)].rstrip("…") if responsible_units(unit) else unit


_AGE_RANGE = re.compile(r"(\d)\s*[-~～至到]\s*(\d)\s*(?:周)?岁")


def ages_in_ranges(text: str) -> str:
    """The ages of the age ranges in `text`, spelt out ("3-6岁" → "3岁 4岁 5岁 6岁"): what a question naming one
    age (两岁, 2岁) is covered by."""
    return " ".join(f"{age}岁" for low, high in _AGE_RANGE.findall(text) for age in range(int(low), int(high) + 1))


def is_table(text: str) -> bool:
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and all("; " in line and TABLE_CELL.match(line.split("; ")[0]) for line in lines)
