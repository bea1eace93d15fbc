"""Engine and session factory for SQLite (default) and PostgreSQL (via DATABASE_URL).

Every engine is built so that a slow or absent database fails fast instead of stalling the bot:
SQLite waits at most `busy_timeout_s` for a write lock; PostgreSQL connections time out after
`connect_timeout_s` and carry `statement_timeout` / `lock_timeout`; pooled connections are pinged
before use (a restarted server is picked up by itself); waiting for a pooled connection is bounded.
Bound parameters are never put into error messages or logs (`hide_parameters=True`): they carry
user data. A SQLite file is created readable by its owner only (0600, and its WAL/SHM files inherit
that mode), in a directory created 0700.

A SQLite file is local: its connections are cheap, cannot be dropped by a server restart and are all kept
open (`pool_size + max_overflow`, no overflow churn: reopening one ran the pragmas again), without a ping on
every checkout; WAL with `synchronous=NORMAL` commits without an fsync (the file stays consistent; only a power
cut or OS crash, not a crash of the bot, can lose the last commits) — under a burst every write of every update
otherwise queues behind one fsync at a time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, TypeVar, Unpack

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_BUSY_TIMEOUT_S = 5.0
DEFAULT_CONNECT_TIMEOUT_S = 5
DEFAULT_STATEMENT_TIMEOUT_MS = 15_000
DEFAULT_LOCK_TIMEOUT_MS = 5_000


def _private_sqlite_file(path: Path) -> None:
    """Create the database's folder (0700) and file (0600); tighten an existing file and its WAL/SHM."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if candidate.exists() and candidate.stat().st_uid == os.getuid() and candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)
        except OSError:  # pragma: no cover - a file we may not change; SQLite will report real problems
            log.warning("Could not restrict permissions of a database file")


@dataclass(frozen=True)
class EngineLimits:
    """The bounded waits and pool sizes of an engine (see the module docstring); defaults suit the bot."""

    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S
    connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS
    pool_size: int = 10
    max_overflow: int = 20
    pool_timeout_s: float = 5.0


class EngineLimitOptions(TypedDict, total=False):
    """`EngineLimits` fields as keyword arguments of `make_engine` (each optional)."""

    busy_timeout_s: float
    connect_timeout_s: int
    statement_timeout_ms: int
    lock_timeout_ms: int
    pool_size: int
    max_overflow: int
    pool_timeout_s: float


def make_engine(url: str, **options: Unpack[EngineLimitOptions]) -> Engine:
    """Create an engine with bounded waits (see the module docstring); `options` override `EngineLimits`.

    SQLite: the file's folder is created, WAL (`synchronous=NORMAL`) and foreign keys are enabled, `busy_timeout`
    is set; all `pool_size + max_overflow` connections are kept, not pinged.
    PostgreSQL: `connect_timeout`, `statement_timeout` and `lock_timeout` (0 disables either timeout).
    """
    limits = EngineLimits(**options)
    busy_timeout_s, connect_timeout_s = limits.busy_timeout_s, limits.connect_timeout_s
    statement_timeout_ms, lock_timeout_ms = limits.statement_timeout_ms, limits.lock_timeout_ms
    pool_size, max_overflow, pool_timeout_s = limits.pool_size, limits.max_overflow, limits.pool_timeout_s
    pool_args = {
        "pool_pre_ping": True,
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        "pool_timeout": pool_timeout_s,
    }
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        if path and path != ":memory:" and not path.startswith("file:"):
            _private_sqlite_file(Path(path))
        if not path or path == ":memory:":
            pool_args = {}  # in-memory databases use a single-connection pool
        else:
            pool_args.update(pool_pre_ping=False, pool_size=pool_size + max_overflow, max_overflow=0)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_s},
            hide_parameters=True,
            **pool_args,
        )
        busy_ms = int(busy_timeout_s * 1000)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.close()

        return engine
    connect_args: dict[str, object] = {}
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = int(connect_timeout_s)
        existing = parsed.query.get("options")  # e.g. -csearch_path=... : keep it, connect_args would replace it
        options = [" ".join(existing) if isinstance(existing, tuple) else existing] if existing else []
        if statement_timeout_ms:
            options.append(f"-c statement_timeout={int(statement_timeout_ms)}")
        if lock_timeout_ms:
            options.append(f"-c lock_timeout={int(lock_timeout_ms)}")
        if options:
            connect_args["options"] = " ".join(options)
    return create_engine(url, connect_args=connect_args, hide_parameters=True, **pool_args)


def is_database_unavailable(error: BaseException | None) -> bool:
    """True when `error` (or an exception it was raised from) means the database is busy, slow or away:
    a lock or statement timeout, a refused or dropped connection, no free pooled connection."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sa_exc.OperationalError | sa_exc.TimeoutError | sa_exc.DisconnectionError):
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        error = error.__cause__ or error.__context__
    return False


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


def run_unit(engine: Engine, work: Callable[..., T], /, *args, **kwargs) -> T:
    """`work(*args, session=…, **kwargs)` as one unit of work: commits when `work` returns, rolls back when it
    raises. How the command line, the jobs and the tests call the domain functions (`BotContext.db` runs the
    same in a worker thread)."""
    with session_scope(engine) as session:
        return work(*args, session=session, **kwargs)


def serialize_writes(session: Session, lock_key: str | None = None) -> None:
    """Make the session's transaction one that other writers wait for, before it reads what it will change.

    SQLite: the transaction takes the write lock up front (`BEGIN IMMEDIATE`), so reads inside see the latest
    committed state and no snapshot can go stale between checks and writes (one writer at a time). When the
    transaction has written already it holds that lock: nothing to do. PostgreSQL: row locks and conditional
    UPDATEs do the work; `lock_key` additionally serialises the transactions that name the same key (a
    transaction-level advisory lock, released at commit or rollback).
    """
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        # pysqlite opens a transaction only before a write statement: no transaction yet means no lock held.
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql" and lock_key is not None:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": lock_key})
