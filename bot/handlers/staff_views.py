"""What the staff side shows: texts and keyboards of the knowledge base (/kb list, document card, draft preview,
change results, errors) and of roles. Pure functions: no database, no Telegram calls. Every dynamic part is
HTML-escaped (texts are sent as HTML).

The `kb:` buttons go through one `CallbackCodec` (`CODEC`, actions declared below); the list page and a pending
retire confirmation are carried by the buttons themselves (`kb:list:<page>`, `kb:retok:<doc id>`).
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import CallbackCodec, Choice, Id, Int, Token
from bot.texts import join_names, t, texts_of
from db.filing.summary import human_size

#: The draft fields a ✏️ button edits, by their one-letter code in the button's data.
FIELD_CODES = {"t": "title", "c": "city", "i": "issuer", "d": "date", "n": "doc_number"}
PAGE_SIZE = 10
_STAFF_TEXTS = texts_of("staff")  # to ask whether a `kb_kind_*`, `kb_field_*`... text exists

#: Every button of the staff flow (data formats as before: `kb:<action>[:<row id>|<doc id>|<page>]`).
CODEC = CallbackCodec("kb")
_DOC = Token(40)  # a document id (db.knowledge.registry: [a-z0-9][a-z0-9_-]{0,39})
A_LIST = CODEC.action("list", Int(0, 10_000))
A_DOC = CODEC.action("doc", _DOC)
A_PREVIEW = CODEC.action("pv", Id())
A_EDIT = CODEC.action("ed", Id(), Choice(tuple(FIELD_CODES)))
A_PUBLISH = CODEC.action("pub", Id())
A_PUBLISH_SILENT = CODEC.action("pubq", Id())  # publish without a policy-change alert
A_DISCARD = CODEC.action("dis", Id())
A_REPLACE = CODEC.action("rep", _DOC)
A_RETIRE = CODEC.action("ret", _DOC)  # asks first
A_RETIRE_CONFIRMED = CODEC.action("retok", _DOC)
A_RESTORE = CODEC.action("res", _DOC)
A_REINDEX = CODEC.action("reidx")
A_ROLES = CODEC.action("roles")

#: Human names of the binary formats the loader recognises (LoaderError.params["format"]).
_FORMATS = ("doc", "png", "jpeg", "gif", "rar", "7z", "gzip", "rtf")


def esc(text: object) -> str:
    """`text` escaped for HTML (an empty string for None)."""
    return html.escape(str(text or ""), quote=False)


def size_text(size: int) -> str:
    """A file size as staff read it (B, KB with one decimal, MB)."""
    return human_size(size, kb_decimals=1)


def clip(text: str, limit: int = 80) -> str:
    """`text` on one line, at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button(text: str, action: str, *values: object) -> InlineKeyboardButton:
    """A button of this flow; `CODEC.encode` refuses anything Telegram would reject."""
    return InlineKeyboardButton(text, callback_data=CODEC.encode(action, *values))


def _kind(kind: str, lang: str) -> str:
    key = f"kb_kind_{kind}"
    return t(key, lang) if key in _STAFF_TEXTS else kind


def _key(prefix: str, name: object, fallback: str) -> str:
    """The text key `prefix + name` when there is such a text, else `fallback`."""
    key = f"{prefix}{name}"
    return key if key in _STAFF_TEXTS else fallback


def _unsupported_text(details: dict, lang: str) -> str:
    reason = details.get("reason")
    if reason == "mislabelled":
        kind = details.get("kind", "")
        named = t(f"kb_format_{kind}", lang) if _key("kb_format_", kind, "") else kind
        return esc(t("kb_err_mislabelled", lang, suffix=details.get("suffix", ""), kind=named))
    fmt = details.get("format")
    what = t(f"kb_format_{fmt}", lang) if fmt in _FORMATS else t("kb_format_unknown", lang)
    if reason == "zip":
        what = t("kb_format_zip", lang)
    return esc(t("kb_err_unsupported_type", lang, what=what))


def _bad_metadata_text(details: dict, lang: str) -> str:
    if details.get("fields"):
        names = join_names([t(f"kb_field_{f}", lang) for f in details["fields"]], lang)
        return t("kb_err_missing_metadata", lang, fields=names)
    label = t(_key("kb_field_", details.get("field", ""), "kb_field_unknown"), lang)
    detail = t(_key("kb_bad_", details.get("reason"), "kb_bad_invalid"), lang, limit=details.get("limit", ""))
    return esc(t("kb_err_bad_metadata", lang, field=label, detail=detail))


def error_text(exc, lang: str) -> str:
    """A friendly explanation of an `IngestError`, built from its code and structured details only (never
    from its English `message`)."""
    code, details = exc.code, exc.details
    if code == "too_large":
        limit = int(details.get("limit") or 0)
        if details.get("reason") in ("expands", "parts"):
            return t("kb_err_too_large_zip", lang, limit=size_text(limit) if details["reason"] == "expands" else limit)
        return t("kb_err_too_large", lang, size=size_text(int(details.get("size") or 0)), limit=size_text(limit))
    if code == "unsupported_type":
        return _unsupported_text(details, lang)
    if code == "duplicate" and details.get("doc_id"):
        key = "kb_err_duplicate_kept" if details.get("status") in ("retired", "replaced") else "kb_err_duplicate"
        status = t(f"kb_status_{details.get('status', 'published')}", lang)
        return esc(
            t(key, lang, title=details.get("title", ""), doc_id=details.get("doc_id", ""),
              version=details.get("version", 1), status=status)
        )
    if code == "bad_metadata":
        return _bad_metadata_text(details, lang)
    if code in ("encrypted", "corrupt", "empty", "not_found", "bad_state"):
        return t(f"kb_err_{code}", lang)
    return t("kb_err_failed", lang)


# --- The draft preview ---------------------------------------------------------------------------------------


def _cleaning_text(cleaning: dict, lang: str) -> str:
    counts = cleaning.get("counts") or {}
    if not counts:
        return t("kb_preview_cleaned_none", lang)
    summary = join_names([t("kb_count", lang, kind=_kind(k, lang), n=n) for k, n in counts.items()], lang)
    lines = [esc(t("kb_preview_cleaned", lang, counts=summary))]
    for item in (cleaning.get("items") or [])[:5]:
        lines.append(esc(t("kb_preview_item", lang, kind=_kind(item["kind"], lang), text=clip(item["text"]))))
    total = sum(counts.values())
    if total > 5:
        lines.append(t("kb_preview_more", lang, n=total - 5))
    return "\n".join(lines)


def _flags_text(flags: list, lang: str) -> str:
    lines = [t("kb_preview_flags", lang)]
    for flag in flags[:6]:
        line = t("kb_preview_flag_line", lang, kind=_kind(flag["kind"], lang), line=flag["line"],
                 text=clip(flag["text"], 100))
        lines.append(esc(line))
    if len(flags) > 6:
        lines.append(t("kb_preview_more", lang, n=len(flags) - 6))
    return "\n".join(lines)


def render_preview(row, lang: str, old=None) -> str:
    """The draft preview: detected metadata, structure, what cleaning removed, what was flagged; `old`: the
    version the draft replaces, if any."""
    unknown = t("kb_unknown_value", lang)
    parts = [t("kb_preview_title", lang)]
    if row.replaces and old is not None:
        parts.append(esc(t("kb_preview_replace", lang, title=old.title, version=old.version, new=row.version)))
    parts.append(
        esc(t("kb_preview_file", lang, name=row.file_name, kind=row.file_kind.upper(), size=size_text(row.file_size)))
    )
    meta = t(
        "kb_preview_meta", lang, title=row.title or unknown, city=row.city or unknown, issuer=row.issuer or unknown,
        date=row.date or unknown, doc_number=row.doc_number or "—", doc_id=row.doc_id,
    )
    parts.append(esc(meta))
    parts.append(t("kb_preview_structure", lang, sections=row.sections, chunks=row.chunks))
    parts.append(_cleaning_text(row.cleaning or {}, lang))
    if row.flags:
        parts.append(_flags_text(row.flags, lang))
    parts.append(t("kb_preview_hint", lang))
    return "\n\n".join(parts)


def preview_keyboard(row, lang: str) -> InlineKeyboardMarkup:
    """The preview's buttons: ✏️ per field, publish (with or without an alert), discard."""
    edits = [
        button(t("kb_btn_edit", lang, field=t(f"kb_field_{name}", lang)), A_EDIT, row.id, code)
        for code, name in FIELD_CODES.items()
    ]
    finish = [
        button(t("kb_btn_publish", lang), A_PUBLISH, row.id),
        button(t("kb_btn_publish_silent", lang), A_PUBLISH_SILENT, row.id),
        button(t("kb_btn_discard", lang), A_DISCARD, row.id),
    ]
    return InlineKeyboardMarkup([edits[:3], edits[3:], finish])


def alert_preview_text(count: int, texts: dict[str, str] | None, lang: str) -> str:
    """Before publishing: how many followers the alert would reach, and the message they would get (`texts`
    None: a cosmetic replacement, nothing would be sent)."""
    if not count:
        return t("kb_alert_none", lang)
    if texts is None:
        return t("kb_alert_cosmetic", lang, n=count)
    return t("kb_alert_preview", lang, n=count) + "\n<blockquote>" + esc(texts[lang]) + "</blockquote>"


def ask_value_text(field: str, lang: str) -> str:
    """After ✏️: which value to type (with an example for dates and cities)."""
    example = t(f"kb_example_{field}", lang) if field in ("date", "city") else ""
    return t("kb_ask_value", lang, field=t(f"kb_field_{field}", lang), example=example)


# --- Results ---------------------------------------------------------------------------------------------------


def _pct(value) -> str:
    return f"{100 * float(value or 0):.1f}%"


def render_quality(change, lang: str) -> str:
    """Hit rate before/after and the questions that got worse."""
    if change is None:
        return t("kb_quality_none", lang)
    b, a = change.before, change.after
    lines = [
        t(
            "kb_quality", lang, n=a.get("questions", 0),
            b5=_pct(b.get("hit@5")), a5=_pct(a.get("hit@5")), b1=_pct(b.get("hit@1")), a1=_pct(a.get("hit@1")),
            bm=f"{b.get('mrr@5', 0):.3f}", am=f"{a.get('mrr@5', 0):.3f}",
            br=_pct(b.get("refusal_accuracy")), ar=_pct(a.get("refusal_accuracy")),
        )
    ]
    if change.dropped:
        lines.append(t("kb_quality_drop", lang))
        lines.extend(f"• {esc(q)}" for q in change.worse[:10])
    else:
        lines.append(t("kb_quality_ok", lang))
    if change.better:
        lines.append(t("kb_quality_better", lang, n=len(change.better)))
    return "\n".join(lines)


def render_change(result, lang: str, notify: bool = True) -> str:
    """The message after publish / replace / retire / restore (and a note when published silently)."""
    doc = result.document
    if result.action == "replace":
        head = t("kb_replaced", lang, title=doc.title, version=doc.version, old=result.previous.version)
    elif result.action == "publish":
        head = t("kb_published", lang, title=doc.title, version=doc.version, chunks=doc.chunks)
    elif result.action == "retire":
        head = t("kb_retired", lang, title=doc.title, version=doc.version)
    else:
        head = t("kb_restored", lang, title=doc.title, version=doc.version)
    silent = "" if notify else "\n\n" + esc(t("kb_published_silently", lang))
    return esc(head) + "\n\n" + render_quality(result.quality, lang) + silent


def reindex_text(result, lang: str) -> str:
    """What a re-index did."""
    text = t(
        "kb_reindexed", lang, indexed=len(result.indexed), fixed=len(result.status_fixed),
        removed=len(result.removed), unchanged=result.unchanged, seconds=result.seconds,
    )
    if result.missing_files:
        text += "\n" + t("kb_reindex_missing", lang, ids=", ".join(result.missing_files))
    return text


# --- The list and the document card ------------------------------------------------------------------------------


def _status(status: str, lang: str) -> str:
    return t(f"kb_status_{status}", lang)


def list_view(rows: list, waiting: list, page: int, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """`/kb`: one page of documents with their status, the drafts waiting, and the actions."""
    first = page * PAGE_SIZE
    page_rows = rows[first : first + PAGE_SIZE]
    lines = [t("kb_list_title", lang, n=len(rows))]
    for n, row in enumerate(page_rows, start=first + 1):
        line = t(
            "kb_list_line", lang, n=n, title=row.title, city=row.city, date=row.date or t("kb_no_date", lang),
            version=row.version, status=_status(row.status, lang),
        )
        lines.append(esc(line))
    if waiting:
        lines.append(t("kb_list_drafts", lang, n=len(waiting)))
        lines.extend(esc(t("kb_list_draft_line", lang, title=d.title, file=d.file_name)) for d in waiting[:5])
    lines.append(t("kb_list_hint", lang))
    numbers = [button(str(n), A_DOC, row.doc_id) for n, row in enumerate(page_rows, start=first + 1)]
    keyboard = [numbers[i : i + 5] for i in range(0, len(numbers), 5)]
    nav = []
    if page > 0:
        nav.append(button("⬅️", A_LIST, page - 1))
    if first + PAGE_SIZE < len(rows):
        nav.append(button("➡️", A_LIST, page + 1))
    if nav:
        keyboard.append(nav)
    keyboard.extend([button(t("kb_btn_draft", lang, title=clip(d.title, 24)), A_PREVIEW, d.id)] for d in waiting[:3])
    keyboard.append([button(t("kb_btn_reindex", lang), A_REINDEX), button(t("kb_btn_roles", lang), A_ROLES)])
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def document_view(row, versions: list, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """A document's card: its metadata, versions and the actions its status allows."""
    origin = t("kb_origin_catalog", lang) if row.origin == "catalog" else t("kb_origin_staff", lang, file=row.file_name)
    text = t(
        "kb_card", lang, title=esc(row.title), doc_id=esc(row.doc_id), city=esc(row.city),
        issuer=esc(row.issuer or "—"), date=esc(row.date or "—"), doc_number=esc(row.doc_number or "—"),
        version=row.version, status=_status(row.status, lang), chunks=row.chunks, origin=esc(origin),
    )
    shown = [v for v in versions if v.status != "discarded"]
    if len(shown) > 1:
        listed = join_names([f"v{v.version} {_status(v.status, lang)}" for v in shown], lang)
        text += "\n" + esc(t("kb_card_versions", lang, versions=listed))
    buttons = [[button(t("kb_btn_replace", lang), A_REPLACE, row.doc_id)]]
    if row.status == "published":
        buttons.append([button(t("kb_btn_retire", lang), A_RETIRE, row.doc_id)])
    else:
        buttons.append([button(t("kb_btn_restore", lang), A_RESTORE, row.doc_id)])
    buttons.append([button(t("kb_btn_back", lang), A_LIST, 0)])
    return text, InlineKeyboardMarkup(buttons)


def retire_confirm_view(row, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """停用 asks first: what stops answering, and a button to confirm (or go back to the card)."""
    keyboard = InlineKeyboardMarkup(
        [[
            button(t("kb_btn_retire_confirm", lang), A_RETIRE_CONFIRMED, row.doc_id),
            button(t("kb_btn_cancel", lang), A_DOC, row.doc_id),
        ]]
    )
    return esc(t("kb_retire_confirm", lang, title=row.title, version=row.version)), keyboard


def roles_view(people: list[tuple[int, str, str]], lang: str) -> str:
    """Who is staff, admin or operator, and how to change it."""
    lines = [t("kb_roles_title", lang)]
    lines.extend(
        esc(t("kb_roles_line", lang, id=uid, name=f" {name}" if name else "", role=t(f"kb_role_{role}", lang)))
        for uid, role, name in people
    )
    lines.append(esc(t("kb_roles_help", lang)))
    return "\n".join(lines)
