"""Rendering answers for people: Telegram HTML (escaped) and plain text, and splitting long messages."""

from __future__ import annotations

import html

from bot.texts import join_names, t
from retrieval.answer import Answer, Source
from retrieval.query import is_english

TELEGRAM_LIMIT = 4096
MAX_QUOTE_CHARS = 900


def answer_language(question: str, user_language: str) -> str:
    """Answer an English question in English even for a user whose setting is Chinese."""
    if is_english(question):
        return "en"
    return user_language


def _clip(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def covered_cities(sources_cities: list[str], lang: str) -> str:
    """Comma list of the cities the knowledge base covers."""
    return join_names(sources_cities, lang)


def render_answer(answer: Answer, lang: str, covered: list[str], *, as_html: bool = True) -> str:
    """The answer message: intro naming the city, quoted sentences with their sources, a footer."""
    esc = html.escape if as_html else (lambda s: s)
    bold = (lambda s: f"<b>{s}</b>") if as_html else (lambda s: s)
    if not answer.answered:
        if answer.reason == "no_documents_for_place":
            return esc(
                t("no_documents_for_place", lang, places=join_names(answer.unknown_places, lang),
                  covered=join_names(covered, lang))
            )
        return esc(t("not_found", lang))
    lines: list[str] = []
    if answer.effective_question and answer.effective_question != answer.question:
        lines.append(esc(t("answer_followup", lang, question=answer.effective_question)))
    cities = join_names(answer.cities, lang)
    lines.append(bold(esc(t("answer_differs" if answer.differs_by_city else "answer_intro_city", lang, cities=cities))))
    if answer.generated:
        lines.append(esc(answer.generated))
        for i, source in enumerate(_cited_sources(answer), start=1):
            lines.append(f"[{i}] " + esc(t("answer_source", lang, title=source.title, section=source.section)))
    else:
        for quote in answer.quotes:
            prefix = f"【{quote.source.city}】" if answer.differs_by_city else ""
            lines.append(f"{esc(prefix)}“{esc(_clip(quote.text))}”")
            lines.append("— " + esc(t("answer_source", lang, title=quote.source.title, section=quote.source.section)))
    lines.append(esc(t("answer_footer", lang)))
    return "\n\n".join(_pair_lines(lines))


def _pair_lines(lines: list[str]) -> list[str]:
    """Keep each quote next to its source line (a single newline), paragraphs between quotes."""
    out: list[str] = []
    for line in lines:
        if line.startswith("— ") and out:
            out[-1] = f"{out[-1]}\n{line}"
        else:
            out.append(line)
    return out


def _cited_sources(answer: Answer) -> list[Source]:
    return answer.sources


def answer_sources_for_buttons(answer: Answer) -> list[Source]:
    """The passages to offer "show source" buttons for: the quoted ones, or the cited ones."""
    if not answer.answered:
        return []
    if answer.generated:
        return answer.sources[:3]
    seen: list[Source] = []
    for quote in answer.quotes:
        if quote.source not in seen:
            seen.append(quote.source)
    return seen


def render_source(source: Source, lang: str, issuer: str = "", date: str = "", doc_number: str = "") -> str:
    """The full passage with its document's details, escaped for Telegram HTML."""
    number = f"｜{doc_number}" if doc_number and lang == "zh" else (f" | {doc_number}" if doc_number else "")
    meta = t("source_meta", lang, city=source.city, issuer=issuer or "—", date=date or "—", number=number)
    return t(
        "source_full",
        lang,
        title=html.escape(source.title),
        meta=html.escape(meta),
        section=html.escape(source.section or "—"),
        text=html.escape(_clip(source.text, 3000)),
    )


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split at paragraph, then line boundaries so each part fits Telegram's limit.

    Rendered messages never open an HTML tag across a line break, so line boundaries are safe.
    A single over-long line is cut at the limit (only plain text can be that long).
    """
    parts: list[str] = []
    current = ""
    for block in text.split("\n"):
        candidate = f"{current}\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(block) > limit:
            parts.append(block[:limit])
            block = block[limit:]
        current = block
    if current:
        parts.append(current)
    return parts or [""]
