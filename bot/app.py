"""Builds the python-telegram-bot Application: the same one runs against Telegram, a local Bot API
server (tests), or the in-process console transport."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from concurrent.futures import ThreadPoolExecutor

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.context import BotContext
from bot.handlers import alerts, care, common, filing, policy, staff
from bot.policy_render import SOURCE_CODEC
from bot.runtime import Runtime
from bot.settings import Settings, configure_layers
from bot.texts import t
from bot.update_guard import GuardedApplication
from bot.update_processor import PerUserUpdateProcessor
from db.core.engine import make_engine

log = logging.getLogger(__name__)
MENU_COMMANDS = ("start", "help", "lang", "find", "bookings", "filing", "alerts", "kb")


def make_policy_service(settings: Settings, *, with_llm: bool = True, engine=None):
    """The policy service the settings describe (nothing is loaded or built yet). With `engine`, it follows
    the knowledge base's change log in that database, so changes made by other workers reach it."""
    from db.knowledge.changes import ChangeLog
    from retrieval.service import PolicyService, ServiceOptions

    llm = None
    if with_llm and settings.llm_base_url and settings.llm_model:
        from retrieval.llm import make_chat_model

        llm = make_chat_model(settings.llm_base_url, settings.llm_model, settings.llm_api_key)
    from bot.cpu_gate import OneThreadEmbedder

    options = ServiceOptions(
        embedding_model=settings.embedding_model,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
        llm=llm,
        sync_seconds=settings.kb_sync_seconds,
    )
    return PolicyService(
        settings.index_dir,
        settings.knowledge_dir,
        embedder=OneThreadEmbedder(settings.embedding_model),  # loaded on first use, one thread (bot/cpu_gate.py)
        change_feed=ChangeLog(engine) if engine is not None else None,
        options=options,
    )


def load_policy_service(settings: Settings, engine=None):
    """Open the index (building it if missing or stale), load the model and warm up the searcher. A build
    that changed documents is logged as a re-index in `engine`'s change log (other workers re-read)."""
    service = make_policy_service(settings, engine=engine)
    report = service.build()
    if report.changed and engine is not None:
        from db.core.engine import session_scope
        from db.knowledge.changes import record_change

        with session_scope(engine) as session:
            record_change("reindex", session=session)
    service.warm_up()
    return service


def register_handlers(application: Application) -> None:
    """All handlers, most specific first; anything unmatched gets a polite answer.

    Each flow module registers its own handlers (conversations included) before the catch-alls,
    so a flow sees its messages first and free text outside any flow goes to policy QA.
    """
    application.add_handler(TypeHandler(object, common.screen_update), group=-100)
    application.add_handler(CommandHandler("start", common.start))
    application.add_handler(CommandHandler("help", common.help_command))
    application.add_handler(CommandHandler("lang", common.lang_command))
    for flow in (care, filing, staff, alerts):
        flow.register(application)
    application.add_handler(CallbackQueryHandler(common.choose_role, pattern=common.ROLE_CODEC.pattern))
    application.add_handler(CallbackQueryHandler(common.choose_language, pattern=common.LANG_CODEC.pattern))
    application.add_handler(CallbackQueryHandler(policy.show_source, pattern=SOURCE_CODEC.pattern))
    application.add_handler(CallbackQueryHandler(common.stale_callback))
    application.add_handler(MessageHandler(filters.COMMAND, common.unknown_command))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, policy.ask))
    application.add_handler(MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, common.unsupported_message))
    application.add_error_handler(common.on_error)


async def _post_init(application: Application) -> None:
    rt: Runtime = application.bot_data["runtime"]
    for lang, language_code in (("zh", None), ("en", "en")):
        commands = [BotCommand(name, t(f"cmd_{name}", lang)) for name in MENU_COMMANDS]
        await application.bot.set_my_commands(commands, language_code=language_code)
    if rt.policy is None:
        application.create_task(_load_policy(application, rt))
    else:
        rt.policy_ready.set()


async def _load_policy(application: Application, rt: Runtime) -> None:
    try:
        service = await asyncio.to_thread(load_policy_service, rt.settings, rt.engine)
        if rt.settings.search_concurrency > 0 and not (rt.settings.llm_base_url and rt.settings.llm_model):
            from bot.cpu_gate import GatedPolicyService

            # CPU-bound searches one (or N) at a time; with an LLM, `ask` waits on the network instead.
            service = GatedPolicyService(service, rt.settings.search_concurrency)
        rt.policy = service
    except Exception:
        log.exception("Could not load the policy knowledge base")
        return
    rt.policy_ready.set()
    # Long-lived objects (model weights, indexes) out of the collector's sight: no GC pauses in searches.
    gc.freeze()
    log.info("Policy knowledge base ready")


class MessageRateLimiter(AIORateLimiter):
    """`AIORateLimiter` for messages. Chat actions ("typing…") skip its queue: they are not messages, and one
    held back behind a burst of replies would show "typing" after the answer arrived (callers ignore a
    failed chat action)."""

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # noqa: PLR0913
        """Send a chat action at once; everything else through the limiter."""
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


def make_rate_limiter(settings: Settings) -> AIORateLimiter:
    """Outgoing limits: Telegram's overall rate (setting; 0 = none), 20/min per group, and `retry_after`
    honoured on a 429 (retried up to TELEGRAM_MAX_RETRIES times)."""
    return MessageRateLimiter(
        overall_max_rate=settings.telegram_rate_limit,
        overall_time_period=1 if settings.telegram_rate_limit else 0,
        max_retries=max(1, settings.telegram_max_retries),
    )


def private_data_dir(settings: Settings) -> None:
    """Create the data directory readable by the owner only (0700); tighten it if it exists and is ours."""
    path = settings.data_dir
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError:  # pragma: no cover - e.g. a mount we may not change
        log.warning("Could not restrict permissions of the data directory")


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    policy_service=None,
    engine=None,
    token: str | None = None,
    with_updater: bool = True,
) -> Application:
    """The Application with every handler; `request` objects replace HTTP (console mode).

    Updates run concurrently (CONCURRENT_UPDATES at once), each user's in order; outgoing calls go
    through the rate limiter. `with_updater=False` builds a webhook worker (no long polling).
    """
    from db.core.migrate import upgrade_to_head

    configure_layers(settings)
    if engine is None:
        if not settings.database_url:
            private_data_dir(settings)
        engine = make_engine(settings.sqlalchemy_url, **settings.engine_options)
    upgrade_to_head(engine)
    builder = (
        ApplicationBuilder()
        .application_class(GuardedApplication)
        .token(token or settings.telegram_bot_token or "0:console")
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML))  # every text is HTML: dynamic parts are escaped
        .post_init(_post_init)
        .concurrent_updates(PerUserUpdateProcessor(max(1, settings.concurrent_updates)))
        .rate_limiter(make_rate_limiter(settings))
    )
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url)
    if settings.telegram_base_file_url:
        builder = builder.base_file_url(settings.telegram_base_file_url)
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    if not with_updater:
        builder = builder.updater(None)
    if not settings.run_jobs:  # another process sends the reminders (see docs/deploy.md)
        builder = builder.job_queue(None)
    application = builder.build()
    application.bot_data["runtime"] = Runtime(settings=settings, engine=engine, policy=policy_service)
    register_handlers(application)
    return application


def new_event_loop(settings: Settings) -> asyncio.AbstractEventLoop:
    """A fresh event loop, set as current, whose default executor (used by `asyncio.to_thread` for the
    database and CPU work) has WORKER_THREADS threads, and at least one per concurrent update plus a
    margin: one slow query, or searches waiting for their turn, must not starve everyone else."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.set_default_executor(ThreadPoolExecutor(max_workers=max(4, settings.worker_threads, settings.concurrent_updates + 8), thread_name_prefix="tuoyu"))
    return loop


def run_polling(settings: Settings) -> None:
    """Run the real bot by long polling until interrupted."""
    application = build_application(settings)
    new_event_loop(settings)
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
