"""Builds the python-telegram-bot Application: the same one runs against Telegram, a local Bot API
server (tests), or the in-process console transport.

Lifecycle: every mode (polling, `bot.webhook`, `bot.console_transport`) runs `initialize()`, `post_init`,
`start()` … `stop()`, `shutdown()`, `post_shutdown`. `post_init` starts the services (menu commands, the
policy service loading in the background) and `post_shutdown` closes what the Application created (see
`build_application` for who owns what)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypedDict, Unpack

from sqlalchemy.engine import Engine
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

from bot.context import BotContext, Runtime
from bot.cpu_gate import GatedPolicyService, OneThreadEmbedder
from bot.handlers import alerts, care, common, filing, policy, staff
from bot.policy_render import SOURCE_CODEC
from bot.settings import Settings, configure_layers
from bot.texts import t
from bot.update_guard import GuardedApplication
from bot.update_processor import PerUserUpdateProcessor
from db.core.engine import make_engine, session_scope
from db.core.migrate import upgrade_to_head
from db.knowledge.changes import ChangeLog, NewChange, record_change
from retrieval.service import PolicyService, ServiceOptions

log = logging.getLogger(__name__)
MENU_COMMANDS = ("start", "help", "lang", "find", "bookings", "filing", "alerts", "kb")


def make_policy_service(settings: Settings, *, with_llm: bool = True, engine=None):
    """The policy service the settings describe (nothing is loaded or built yet). With `engine`, it follows
    the knowledge base's change log in that database, so changes made by other workers reach it."""
    llm = None
    if with_llm and settings.llm_base_url and settings.llm_model:
        from retrieval.llm import make_chat_model  # langchain: imported only when an LLM is configured

        llm = make_chat_model(settings.llm_base_url, settings.llm_model, settings.llm_api_key)
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
        with session_scope(engine) as session:
            record_change(NewChange("reindex"), session=session)
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


@dataclass
class OwnedServices:
    """What the Application created and therefore closes in `post_shutdown`: the engine (None when the caller
    passed one in), whether the policy service is its own (loaded in `post_init`) and the task loading it."""

    engine: Engine | None
    owns_policy: bool
    loading: asyncio.Task | None = None


async def post_init(application: Application) -> None:
    """Start the services: the menu commands are set and the policy service is loaded in the background
    (handlers that need it wait on `runtime.policy_ready`); an injected policy service is ready at once."""
    rt: Runtime = application.bot_data["runtime"]
    owned: OwnedServices = application.bot_data["services"]
    for lang, language_code in (("zh", None), ("en", "en")):
        commands = [BotCommand(name, t(f"cmd_{name}", lang)) for name in MENU_COMMANDS]
        await application.bot.set_my_commands(commands, language_code=language_code)
    if rt.policy is None:
        # Not `application.create_task`: that one is not awaited when created before `start()`; ours is
        # owned here and cancelled in `post_shutdown` if still running.
        owned.loading = asyncio.get_running_loop().create_task(_load_policy(rt))
    else:
        rt.policy_ready.set()


async def post_shutdown(application: Application) -> None:
    """Close what the Application created: a policy load still running is cancelled, its policy service
    closed (Chroma client) and its engine disposed (connection pool). Injected services are the caller's."""
    rt: Runtime = application.bot_data["runtime"]
    owned: OwnedServices = application.bot_data["services"]
    if owned.loading is not None and not owned.loading.done():
        owned.loading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await owned.loading
    if owned.owns_policy and rt.policy is not None:
        policy, rt.policy = rt.policy, None
        rt.policy_ready.clear()
        await asyncio.to_thread(close_policy_service, policy)
    if owned.engine is not None:
        owned.engine.dispose()
    log.info("Services closed")


def close_policy_service(service) -> None:
    """Release a policy service's resources (its Chroma client), gated or not."""
    close = getattr(service, "close", None)
    if close is not None:
        close()


async def _load_policy(rt: Runtime) -> None:
    try:
        service = await asyncio.to_thread(load_policy_service, rt.settings, rt.engine)
        if rt.settings.search_concurrency > 0 and not (rt.settings.llm_base_url and rt.settings.llm_model):
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

    async def process_request(  # noqa: PLR0913 - the signature of AIORateLimiter.process_request
        self, callback, args, kwargs, endpoint, data, rate_limit_args
    ):
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


class BuildOptions(TypedDict, total=False):
    """What a caller may pass to `build_application` besides the settings."""

    request: BaseRequest | None  # replaces HTTP for the Bot API calls (console mode)
    get_updates_request: BaseRequest | None  # …and for getUpdates
    policy_service: object | None  # the caller's policy service (else loaded in post_init, the app's own)
    engine: Engine | None  # the caller's engine (else made from the settings, the app's own)
    token: str | None  # instead of TELEGRAM_BOT_TOKEN
    with_updater: bool  # False: a webhook worker (no long polling)


def build_application(settings: Settings, **options: Unpack[BuildOptions]) -> Application:
    """The Application with every handler; `request` objects replace HTTP (console mode).

    Updates run concurrently (CONCURRENT_UPDATES at once), each user's in order; outgoing calls go
    through the rate limiter. `with_updater=False` builds a webhook worker (no long polling).

    Services and who closes them: an engine or policy service passed in belongs to the caller (tests share
    one between Applications), who disposes of it; the ones the Application makes are its own — the engine
    is made here (the database is brought to the newest schema now, since the CLI and tests use
    `runtime.engine` before the bot runs), the policy service is loaded in `post_init`, and `post_shutdown`
    closes both.
    """
    configure_layers(settings)
    engine = options.get("engine")
    owned = OwnedServices(engine=None, owns_policy=options.get("policy_service") is None)
    if engine is None:
        if not settings.database_url:
            private_data_dir(settings)
        engine = owned.engine = make_engine(settings.sqlalchemy_url, **settings.engine_options)
    upgrade_to_head(engine)
    application = _builder(settings, options).build()
    application.bot_data["runtime"] = Runtime(settings=settings, engine=engine, policy=options.get("policy_service"))
    application.bot_data["services"] = owned
    register_handlers(application)
    return application


def _builder(settings: Settings, options: BuildOptions) -> ApplicationBuilder:
    builder = (
        ApplicationBuilder()
        .application_class(GuardedApplication)
        .token(options.get("token") or settings.telegram_bot_token or "0:console")
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML))  # every text is HTML: dynamic parts are escaped
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(PerUserUpdateProcessor(max(1, settings.concurrent_updates)))
        .rate_limiter(make_rate_limiter(settings))
    )
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url)
    if settings.telegram_base_file_url:
        builder = builder.base_file_url(settings.telegram_base_file_url)
    if options.get("request") is not None:
        builder = builder.request(options["request"])
    if options.get("get_updates_request") is not None:
        builder = builder.get_updates_request(options["get_updates_request"])
    if not options.get("with_updater", True):
        builder = builder.updater(None)
    if not settings.run_jobs:  # another process sends the reminders (see docs/deploy.md)
        builder = builder.job_queue(None)
    return builder


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
