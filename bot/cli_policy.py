"""Policy commands: `ask`, `eval`, `index`, and the ways to start the bot (`run`, `chat`, `start`)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register the policy and bot-start commands."""
    ask = subparsers.add_parser("ask", help="answer a policy question from the indexed documents")
    ask.add_argument("question", nargs="?", help="the question (omit with --batch)")
    ask.add_argument("--json", action="store_true", help="print the JSON contract object")
    ask.add_argument("--batch", type=Path, help="file of questions: plain lines or JSON lines with 'question'")
    ask.add_argument("--lang", choices=["zh", "en"], default=None, help="language of the text answer")
    ask.set_defaults(func=cmd_ask)

    ev = subparsers.add_parser("eval", help="evaluate retrieval and refusals on a question file")
    ev.add_argument("file", type=Path)
    ev.add_argument("--details", action="store_true", help="also list misses")
    ev.set_defaults(func=cmd_eval)

    index = subparsers.add_parser("index", help="build the policy index if it is missing or stale")
    index.add_argument("--json", action="store_true")
    index.set_defaults(func=cmd_index)

    run = subparsers.add_parser("run", help="run the Telegram bot (long polling, or a webhook worker)")
    run.add_argument(
        "--webhook", action="store_true",
        help="serve TELEGRAM_WEBHOOK_URL's path on WEBHOOK_LISTEN:WEBHOOK_PORT instead of long polling",
    )
    run.set_defaults(func=cmd_run)
    subparsers.add_parser("chat", help="console mode: talk to the bot in this terminal").set_defaults(func=cmd_chat)
    subparsers.add_parser(
        "start", help="the Telegram bot when TELEGRAM_BOT_TOKEN is set, console mode otherwise"
    ).set_defaults(func=cmd_start)


def _quiet_logging() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


def open_policy_service(settings: Settings):
    """The policy service with an up-to-date index (built on first use)."""
    from bot.app import load_policy_service

    return load_policy_service(settings)


def answer_to_contract(answer, covered: list[str], lang: str) -> dict:
    """The `ask --json` object of docs/contracts.md (`reason` when not answered), plus `fact`, `kind`, `confidence`."""
    from bot.policy_render import render_policy_answer

    out = {
        "question": answer.question,
        "answered": answer.answered,
        "answer": render_policy_answer(answer, lang, covered, as_html=False),
        "sources": [s.to_dict() for s in answer.sources],
    }
    if not answer.answered:
        out["reason"] = answer.reason or "not_found"
    out["fact"] = answer.fact
    out["kind"] = answer.kind
    out["confidence"] = round(answer.confidence, 3)
    if answer.nearby:
        out["nearby"] = answer.nearby
    return out


def _read_batch(path: Path) -> list[str]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            questions.append(str(json.loads(line).get("question", "")))
        else:
            questions.append(line)
    return questions


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot ask QUESTION [--json] [--batch FILE]`."""
    from bot.render import answer_language

    _quiet_logging()
    if not args.question and not args.batch:
        print(json.dumps({"error": "no_question", "message": "give a question or --batch FILE"}, ensure_ascii=False))
        return 2
    if args.batch and not args.batch.exists():
        print(json.dumps({"error": "not_found", "message": f"no such file: {args.batch}"}, ensure_ascii=False))
        return 2
    questions = _read_batch(args.batch) if args.batch else [args.question]
    service = open_policy_service(settings)
    covered = service.searcher.cities()
    for question in questions:
        answer = service.ask(question)
        lang = args.lang or answer_language(question, settings.default_language)
        if args.json:
            print(json.dumps(answer_to_contract(answer, covered, lang), ensure_ascii=False), flush=True)
        else:
            from bot.policy_render import render_policy_answer

            print(render_policy_answer(answer, lang, covered, as_html=False))
            for i, source in enumerate(answer.sources, start=1):
                print(f"  [{i}] {source.city}《{source.title}》{source.section}  ({source.score:.3f})")
            print()
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot eval FILE.jsonl`: prints hit@1/3/5, MRR@5, refusal accuracy and latency as JSON."""
    from retrieval.evaluation import evaluate, read_eval_file

    _quiet_logging()
    if not args.file.exists():
        print(json.dumps({"error": "not_found", "message": f"no such file: {args.file}"}, ensure_ascii=False))
        return 2
    from bot.render import answer_language

    service = open_policy_service(settings)
    covered = service.searcher.cities()

    def ask(question: str):
        return service.ask(question, use_llm=False)

    def render(answer) -> str:
        lang = answer_language(answer.question, settings.default_language)
        return answer_to_contract(answer, covered, lang)["answer"]

    report = evaluate(ask, read_eval_file(args.file), render=render)
    summary = report.summary()
    summary["embedding_model"] = service.embedder.name
    if args.details:
        summary["misses"] = report.misses()
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot index`: build the index if missing or stale; report what cleaning removed."""
    from bot.app import make_policy_service

    _quiet_logging()
    report = make_policy_service(settings, with_llm=False).build()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    for doc in report.documents:
        if doc.action == "unchanged":
            print(f"✓ {doc.doc_id}: 已是最新 (up to date)")
        elif doc.action == "removed":
            print(f"− {doc.doc_id}: 已从索引移除 (removed)")
        else:
            removed = "，".join(f"{kind} {n}" for kind, n in doc.removed.items()) or "无"
            print(f"+ {doc.doc_id}: {doc.chunks} 段，清理 (removed): {removed}")
    print(f"索引完成 (index ready) in {report.seconds:.1f}s")
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot run`: the real bot by long polling; `--webhook`: a webhook worker."""
    from bot.app import run_polling

    if not settings.telegram_bot_token:
        print("TELEGRAM_BOT_TOKEN is not set. Use `python -m bot chat` for console mode.", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if getattr(args, "webhook", False):
        from bot.webhook import WebhookConfigError, check_webhook_settings, run_webhook

        try:
            check_webhook_settings(settings)
        except WebhookConfigError as exc:
            print(f"Cannot start the webhook worker: {exc}", file=sys.stderr)
            return 2
        run_webhook(settings)
        return 0
    run_polling(settings)
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot chat`: console mode, the same handlers as Telegram."""
    from bot.app import build_application, load_policy_service
    from bot.console import console_main

    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    print("正在加载政策知识库… (loading the knowledge base)", flush=True)
    policy_service = load_policy_service(settings)

    def factory(request, get_updates_request):
        return build_application(
            settings, request=request, get_updates_request=get_updates_request, policy_service=policy_service
        )

    return console_main(factory)


def cmd_start(args: argparse.Namespace, settings: Settings) -> int:
    """`make run`: Telegram when a token is configured, console mode otherwise."""
    return cmd_run(args, settings) if settings.telegram_bot_token else cmd_chat(args, settings)
