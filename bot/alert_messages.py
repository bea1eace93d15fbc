"""Policy-change alerts, the words: which place a document or a follow means, and the short message a follower
gets about a change (publish, replacement with its fact diff, retirement) — in Chinese and English.

The fact diff itself is `retrieval.fact_diff` (pure); the places are the hierarchy of knowledge/places.yaml.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from bot.settings import KNOWLEDGE_DIR
from bot.texts import t
from db.core.engine import session_scope
from db.knowledge import alerts, registry
from db.knowledge.changes import Change
from retrieval import fact_diff
from retrieval.places import NATIONAL_CITY_NAMES, load_place_tree, stem

log = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
EVERYONE = "*"  # the reach of a national document: every follower
MAX_LINES = 4
SENTENCE_CHARS = 90
TOKEN_LENGTH = 10


def _tree():
    return load_place_tree(KNOWLEDGE_DIR / "places.yaml")


def place_key(city: str) -> str:
    """The place a city name means: its path in the hierarchy (江苏省/苏州市/张家港市), the name itself when the
    hierarchy does not know it, `*` for a national document."""
    city = (city or "").strip()
    if not city:
        return ""
    if city in NATIONAL_CITY_NAMES:
        return EVERYONE
    key = _tree().locate(city)
    return (key or city)[: alerts.PLACE_MAX]


def place_name(key: str, short: bool = False) -> str:
    """How to show a place: its own name (张家港市), or the everyday short name (张家港)."""
    name = key.rsplit("/", 1)[-1] if key != EVERYONE else "全国"
    return stem(name) if short else name


def place_token(key: str) -> str:
    """A short ASCII token for a place in callback data (place names are not ASCII and may be long)."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:TOKEN_LENGTH]


def resolve_token(token: str, candidates: Sequence[str]) -> str | None:
    """The place among `candidates` (and the hierarchy) whose token this is."""
    for key in (*candidates, *_tree().nodes):
        if place_token(key) == token:
            return key
    return None


def passages_of(store, index_id: str) -> list[tuple[tuple[str, ...], str]]:
    """A version's passages in the chunk store (any status), in document order: (section path, text)."""
    got = store.collection.get(where={"doc_id": index_id}, include=["documents", "metadatas"])
    rows = sorted(
        zip(got.get("documents") or [], got.get("metadatas") or [], strict=False),
        key=lambda pair: int(pair[1].get("ordinal", 0)),
    )
    return [(tuple(s for s in str(m.get("section", "")).split("\u241e") if s), text or "") for text, m in rows]


def _clip(text: str, limit: int = SENTENCE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clause(clause: str, lang: str) -> str:
    return _clip(clause, 30) or t("al_msg_clause_head", lang)


def _change_words(pairs, lang: str) -> str:
    words = []
    for old, new in pairs:
        if old and new:
            words.append(f"{old} → {new}")
        elif new:
            words.append(t("al_msg_appeared", lang, new=new))
        else:
            words.append(t("al_msg_disappeared", lang, old=old))
    return "；".join(words) if lang == "zh" else "; ".join(words)


_KIND_ORDER = {fact_diff.AMOUNT: 0, fact_diff.PERCENTAGE: 1, fact_diff.COUNT: 2, fact_diff.DATE: 3}


def render_replacement(title: str, place: str, diff: fact_diff.FactDiff, lang: str) -> str:
    """The message about a new version: the facts that changed (amounts first), old → new, with the clause."""
    lines = [t("al_msg_replaced", lang, title=title, place=place)]
    items: list[tuple[int, str]] = []
    for change in diff.changes:
        rank = min((_KIND_ORDER.get(k, 4) for k in change.kinds), default=4)
        items.append((rank, t("al_msg_change_line", lang, clause=_clause(change.clause, lang),
                               changes=_change_words(change.pairs, lang), sentence=_clip(change.new_sentence))))
    for sentence in diff.added:
        items.append((5, t("al_msg_added_line", lang, clause=_clause(sentence.clause, lang),
                           sentence=_clip(sentence.text))))
    for sentence in diff.removed:
        items.append((6, t("al_msg_removed_line", lang, clause=_clause(sentence.clause, lang),
                           sentence=_clip(sentence.text))))
    items.sort(key=lambda item: item[0])  # stable: document order within a kind
    lines += [text for _, text in items[:MAX_LINES]]
    if len(items) > MAX_LINES:
        lines.append(t("al_msg_more", lang, n=len(items) - MAX_LINES))
    lines.append(t("al_msg_footer", lang))
    return "\n".join(lines)


def render_new(title: str, place: str, highlights: list[tuple[str, str]], lang: str) -> str:
    """The message about a new document: its title and the first amounts/percentages it states."""
    lines = [t("al_msg_new", lang, title=title, place=place)]
    if highlights:
        lines.append(t("al_msg_highlights", lang))
        lines += [f"• {_clip(sentence)}" for _, sentence in highlights]
    lines.append(t("al_msg_footer", lang))
    return "\n".join(lines)


def render_retired(title: str, place: str, lang: str) -> str:
    return "\n".join([t("al_msg_retired", lang, title=title, place=place), t("al_msg_footer", lang)])


def compose(action: str, title: str, city: str, new_passages, old_passages=None) -> dict[str, str] | None:
    """The message in every language, or None when there is nothing to tell (a cosmetic replacement)."""
    place = place_name(place_key(city), short=False) if city else ""
    if action == "retire":
        return {lang: render_retired(title, place, lang) for lang in LANGUAGES}
    if action == "replace" and old_passages is not None:
        diff = fact_diff.diff(old_passages, new_passages)
        if diff.cosmetic:
            return None
        return {lang: render_replacement(title, place, diff, lang) for lang in LANGUAGES}
    highlights = fact_diff.headline_facts(new_passages)
    return {lang: render_new(title, place, highlights, lang) for lang in LANGUAGES}


def reach_of(city: str) -> tuple[str, ...]:
    """The follows a document about `city` reaches (that place and those below it; everyone for national)."""
    key = place_key(city)
    return (key,) if key else ()


def plan_change(engine, store, change: Change) -> alerts.Planned:
    """What to tell followers about one knowledge-base change (the planner's `build`)."""
    rows = {}
    if change.doc_id:
        with session_scope(engine) as session:
            rows = {row.index_id: row for row in registry.versions(change.doc_id, session=session)}
    row = rows.get(change.index_id)
    if row is None:
        return alerts.Planned(None)
    old_passages = None
    if change.action == "replace" and change.previous_index_id:
        old_passages = passages_of(store, change.previous_index_id)
        if not old_passages:  # the old version is not in the store: tell about the new one as a whole
            old_passages = None
    new_passages = passages_of(store, change.index_id) if change.action != "retire" else []
    texts = compose(change.action if old_passages is not None or change.action != "replace" else "publish",
                    row.title, row.city, new_passages, old_passages)
    log.info("alert for change %s (%s): %s", change.generation, change.action, "message" if texts else "cosmetic")
    return alerts.Planned(texts, reach_of(row.city), row.doc_id, row.index_id)


def preview_for_draft(kb, row) -> tuple[int, dict[str, str] | None]:
    """For staff before publishing a draft: how many followers would be told, and the message they would get
    (None: nothing would be sent — a cosmetic replacement)."""
    with session_scope(kb.engine) as session:
        count = alerts.count_followers(reach_of(row.city), session=session)
    new_passages = [(c.section, c.text) for c in kb.preview_chunks(row)]
    old_passages = passages_of(kb.service.store, row.replaces) if row.replaces else None
    action = "replace" if old_passages else "publish"
    return count, compose(action, row.title, row.city, new_passages, old_passages or None)
