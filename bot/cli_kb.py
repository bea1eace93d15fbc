"""Knowledge-base commands for staff: `python -m bot kb add|list|replace|retire|restore|reindex|publish|discard|audit`.

    python -m bot kb add FILE [--city C --title T --issuer I --date D --doc-number N] [--draft] [--json]
    python -m bot kb list [--json]
    python -m bot kb replace DOC_ID FILE [same options] [--draft] [--json]
    python -m bot kb retire DOC_ID | restore DOC_ID [--version N] | reindex | publish DOC_ID | discard DOC_ID
    python -m bot kb audit [DOC_ID]

The same operations as `/kb` in the bot, on the knowledge base under the data directory and the database
DATABASE_URL names. Every change is in the audit log as `cli:<login>`. With --json one JSON object is
printed; a refusal exits 1 with {"error": code, "message": ...}.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from pathlib import Path

from bot.settings import Settings

_META_OPTIONS = (
    ("--title", "title"),
    ("--city", "city"),
    ("--issuer", "issuer"),
    ("--date", "date"),
    ("--doc-number", "doc_number"),
    ("--province", "province"),
    ("--aliases", "aliases"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register `kb` and its sub-commands."""
    kb = subparsers.add_parser("kb", help="staff: manage the policy knowledge base")
    sub = kb.add_subparsers(dest="kb_command", required=True)

    def common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        return parser

    def meta_options(parser: argparse.ArgumentParser) -> None:
        for flag, dest in _META_OPTIONS:
            parser.add_argument(
                flag, dest=dest, default=None, help=f"the document's {dest} (detected when not given)"
            )
        parser.add_argument("--draft", action="store_true", help="keep it as a draft (publish later)")
        parser.add_argument("--no-eval", action="store_true", help="skip the development-set check")
        parser.add_argument("--silent", action="store_true", help="publish without a policy-change alert to followers")

    add = common(sub.add_parser("add", help="ingest a document and publish it (or keep a draft)"))
    add.add_argument("file", type=Path)
    add.add_argument("--doc-id", default=None, help="the document id (default: from the file name)")
    meta_options(add)
    add.set_defaults(func=cmd_add)

    replace = common(sub.add_parser("replace", help="replace a document with a new version"))
    replace.add_argument("doc_id")
    replace.add_argument("file", type=Path)
    meta_options(replace)
    replace.set_defaults(func=cmd_add)

    common(sub.add_parser("list", help="documents with city, date, version, status")).set_defaults(
        func=cmd_list
    )

    retire = common(sub.add_parser("retire", help="stop a document answering (kept)"))
    retire.add_argument("doc_id")
    retire.add_argument("--no-eval", action="store_true")
    retire.set_defaults(func=cmd_change)

    restore = common(sub.add_parser("restore", help="make a retired or replaced version answer again"))
    restore.add_argument("doc_id")
    restore.add_argument("--version", type=int, default=None)
    restore.add_argument("--no-eval", action="store_true")
    restore.set_defaults(func=cmd_change)

    publish = common(sub.add_parser("publish", help="publish a document's waiting draft"))
    publish.add_argument("doc_id")
    publish.add_argument("--no-eval", action="store_true")
    publish.add_argument("--silent", action="store_true", help="no policy-change alert to followers")
    publish.set_defaults(func=cmd_change)

    discard = common(sub.add_parser("discard", help="throw a document's waiting draft away"))
    discard.add_argument("doc_id")
    discard.set_defaults(func=cmd_change)

    common(sub.add_parser("reindex", help="bring the index in line with the registry")).set_defaults(
        func=cmd_reindex
    )

    audit = common(sub.add_parser("audit", help="the audit log, newest first"))
    audit.add_argument("doc_id", nargs="?")
    audit.add_argument("--limit", type=int, default=30)
    audit.set_defaults(func=cmd_audit)


# --- Opening things (tests replace `make_service`) -------------------------------------------------------------


def make_service(settings: Settings, *, with_model: bool, engine=None):
    """The policy service; with the model loaded and the index up to date when it will change things."""
    if with_model:
        from bot.app import load_policy_service

        return load_policy_service(settings, engine)
    from bot.app import make_policy_service

    return make_policy_service(settings, with_llm=False, engine=engine)


def _open(settings: Settings, with_model: bool):
    from db.core.engine import make_engine
    from db.core.migrate import upgrade_to_head
    from knowledge.admin import KnowledgeBase

    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    engine = make_engine(settings.sqlalchemy_url)
    upgrade_to_head(engine)
    return KnowledgeBase(engine, make_service(settings, with_model=with_model, engine=engine))


def _actor():
    from db.core.audit import Actor

    try:
        login = getpass.getuser()
    except Exception:  # no login name in some containers
        login = "unknown"
    return Actor(cli_user=login)


def _fail(args: argparse.Namespace, code: str, message: str, details: dict | None = None) -> int:
    """Exit 1 with `{"error": code, "message": ..., "details": {...}}` (details: the structured fields, e.g.
    `reason`, `size`, `limit` — scripts use those, not the English message)."""
    if args.json:
        payload = {"error": code, "message": message}
        if details:
            payload["details"] = {k: v for k, v in details.items() if isinstance(v, str | int | float | bool | list)}
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(f"✗ {code}: {message}", file=sys.stderr)
    return 1


#: What the `kb` commands print of a registry row with --json, in this order.
_ROW_FIELDS = (
    "doc_id", "version", "index_id", "status", "origin", "title", "city", "issuer", "date", "doc_number",
    "sections", "chunks", "file_name", "content_hash",
)


def _row_dict(row) -> dict:
    return {name: getattr(row, name) for name in _ROW_FIELDS}


def _print_quality(quality) -> None:
    if quality is None:
        return
    b, a = quality.before, quality.after
    print(
        f"开发问题集 (dev set, {a['questions']}): hit@5 {b['hit@5']:.3f} → {a['hit@5']:.3f}, "
        f"hit@1 {b['hit@1']:.3f} → {a['hit@1']:.3f}, MRR@5 {b['mrr@5']:.3f} → {a['mrr@5']:.3f}, "
        f"refusal accuracy {b['refusal_accuracy']:.3f} → {a['refusal_accuracy']:.3f}"
    )
    if quality.dropped:
        print("⚠ 质量下降 (quality dropped); questions that got worse:")
        for question in quality.worse:
            print(f"  - {question}")
    else:
        print("✓ 质量没有下降 (no drop)")


# --- Commands ----------------------------------------------------------------------------------------------------


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    """`kb add FILE` / `kb replace DOC_ID FILE`: ingest, show what cleaning removed, publish unless --draft."""
    from knowledge.uploads import Upload
    from retrieval.errors import IngestError

    replace_doc_id = getattr(args, "doc_id", None) if args.kb_command == "replace" else None
    if not args.file.is_file():
        return _fail(args, "not_found", f"no such file: {args.file}")
    overrides = {dest: getattr(args, dest) for _, dest in _META_OPTIONS if getattr(args, dest) is not None}
    kb = _open(settings, with_model=not args.draft)
    actor = _actor()
    try:
        upload = Upload(
            args.file.read_bytes(),
            args.file.name,
            overrides=overrides,
            replace_doc_id=replace_doc_id,
            doc_id=getattr(args, "doc_id", None) if args.kb_command == "add" else None,
        )
        row = kb.ingest(upload, actor)
        result = None if args.draft else kb.publish(row.id, actor, evaluate=not args.no_eval, notify=not args.silent)
    except IngestError as exc:
        return _fail(args, exc.code, exc.message, exc.details)
    if result is not None:
        row = result.document
    if args.json:
        out = _row_dict(row)
        out["cleaning"] = row.cleaning
        out["flags"] = row.flags
        out["action"] = result.action if result else "draft"
        out["replaced"] = _row_dict(result.previous) if result and result.previous else None
        out["quality"] = result.quality.to_dict() if result and result.quality else None
        out.update(_alert_fields(kb, row, result.action if result else "draft", args))
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(
        f"《{row.title}》 {row.doc_id} v{row.version} — {row.city}｜{row.issuer or '—'}｜{row.date or '—'}｜{row.doc_number or '—'}"
    )
    print(f"结构 (structure): {row.sections} sections, {row.chunks} passages")
    counts = (row.cleaning or {}).get("counts") or {}
    removed = "，".join(f"{kind} {n}" for kind, n in counts.items()) or "无 (nothing)"
    print(f"清理 (cleaning removed): {removed}")
    for item in (row.cleaning or {}).get("items", []):
        print(f"  - [{item['kind']}] line {item['line']}: {item['text']}")
    if row.flags:
        print("⚠ 可疑内容，已排除 (flagged and excluded, never quoted to parents):")
        for flag in row.flags:
            print(f"  - [{flag['kind']}] line {flag['line']}: {flag['text']}")
    if result is None:
        print(f"草稿已保存 (draft kept): publish with `python -m bot kb publish {row.doc_id}`")
    else:
        verb = "已替换 (replaced)" if result.action == "replace" else "已发布 (published)"
        print(f"{verb} in {result.seconds:.1f}s")
        _print_quality(result.quality)
    return 0


def _alert_fields(kb, row, action: str, args: argparse.Namespace) -> dict:
    """`followers`: how many users follow the document's place (or a place below it); `notify`: whether they get
    a policy-change alert for this change (not for drafts, silent publishes, restores or discards; a replacement
    whose facts did not change is dropped later by the alerts job)."""
    from bot.alert_messages import reach_of
    from db.core.engine import session_scope
    from db.knowledge.alerts import count_followers

    with session_scope(kb.engine) as session:
        followers = count_followers(reach_of(row.city), session=session)
    notify = action in ("publish", "replace", "retire") and not getattr(args, "silent", False)
    return {"followers": followers, "notify": notify}


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """`kb list`: one line per document, then drafts."""
    kb = _open(settings, with_model=False)
    rows = kb.documents()
    drafts = kb.drafts()
    if args.json:
        print(
            json.dumps(
                {"documents": [_row_dict(r) for r in rows], "drafts": [_row_dict(r) for r in drafts]},
                ensure_ascii=False,
            )
        )
        return 0
    for row in rows:
        print(
            f"{row.doc_id:<20} v{row.version:<2} {row.status:<9} {row.city}｜{row.date or '—'}｜《{row.title}》"
        )
    for row in drafts:
        print(
            f"{row.doc_id:<20} v{row.version:<2} draft     {row.city}｜{row.date or '—'}｜《{row.title}》 ({row.file_name})"
        )
    return 0


def cmd_change(args: argparse.Namespace, settings: Settings) -> int:
    """`kb retire|restore|publish|discard DOC_ID`."""
    from retrieval.errors import IngestError

    command = args.kb_command
    kb = _open(settings, with_model=command != "discard")
    actor = _actor()
    evaluate = not getattr(args, "no_eval", False)
    try:
        if command in ("publish", "discard"):
            waiting = [d for d in kb.drafts() if d.doc_id == args.doc_id]
            if not waiting:
                raise IngestError("not_found", f"{args.doc_id} has no draft waiting")
            if command == "publish":
                result = kb.publish(waiting[0].id, actor, evaluate=evaluate, notify=not args.silent)
            else:
                result = kb.discard(waiting[0].id, actor)
        elif command == "retire":
            result = kb.retire(args.doc_id, actor, evaluate=evaluate)
        else:
            result = kb.restore(args.doc_id, actor, version=args.version, evaluate=evaluate)
    except IngestError as exc:
        return _fail(args, exc.code, exc.message, exc.details)
    if args.json:
        out = {"action": result.action, "document": _row_dict(result.document)}
        out["replaced"] = _row_dict(result.previous) if result.previous else None
        out["quality"] = result.quality.to_dict() if result.quality else None
        out.update(_alert_fields(kb, result.document, result.action, args))
        print(json.dumps(out, ensure_ascii=False))
        return 0
    row = result.document
    print(f"{result.action}: 《{row.title}》 {row.doc_id} v{row.version} → {row.status}")
    if result.previous is not None:
        print(f"  v{result.previous.version} → replaced (kept)")
    _print_quality(result.quality)
    return 0


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """`kb reindex`: catalog and registry → chunk store."""
    kb = _open(settings, with_model=True)
    result = kb.reindex(_actor())
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    print(
        f"re-indexed {len(result.indexed)}, statuses fixed {len(result.status_fixed)}, removed {len(result.removed)}, "
        f"unchanged {result.unchanged} in {result.seconds:.1f}s"
    )
    if result.missing_files:
        print(f"⚠ missing files: {', '.join(result.missing_files)}")
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """`kb audit [DOC_ID]`: who changed what, when, with which content hash."""
    from db.core import audit
    from db.core.engine import make_engine, session_scope
    from db.core.migrate import upgrade_to_head

    engine = make_engine(settings.sqlalchemy_url)
    upgrade_to_head(engine)
    with session_scope(engine) as session:
        entries = audit.entries(session=session, doc_id=args.doc_id, limit=args.limit)
    rows = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "doc_id": e.doc_id,
            "version": e.version,
            "content_hash": e.content_hash,
            "detail": e.detail,
        }
        for e in entries
    ]
    if args.json:
        print(json.dumps({"entries": rows}, ensure_ascii=False))
        return 0
    for r in rows:
        target = f"{r['doc_id']} v{r['version']}" if r["doc_id"] else ""
        print(
            f"{r['at'][:19]} {r['actor']:<16} {r['action']:<14} {target:<22} {r['content_hash'][:12]} {r['detail']}"
        )
    return 0
