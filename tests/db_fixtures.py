"""Database fixtures for tests that must hold on SQLite and on PostgreSQL.

The fixtures `db_engine` (migrated to head) and `db_url` (a fresh, empty, unmigrated database) need no import:
tests/conftest.py registers this module as a pytest plugin.

Each test runs twice: `[sqlite]` on a fresh temporary file, `[postgres]` in a fresh schema (dropped
afterwards) of the server `TEST_POSTGRES_URL` names (default: the one `.ci/run` sets up,
postgresql+psycopg://tuoyu:tuoyu@127.0.0.1:5432/tuoyu_test). When that server cannot be reached the
`[postgres]` runs are skipped with the reason shown — unless `REQUIRE_POSTGRES=1` (CI), where they fail.

Use one of the two per test (each is parametrised on its own). A separate process opens the same database
(for PostgreSQL the same schema, through `options=-csearch_path=...`) with
`db.engine.make_engine(engine_url(db_engine))` or `make_engine(db_url)`.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

from db.core.engine import make_engine, run_unit, session_scope
from db.core.migrate import alembic_config, upgrade_to_head

DEFAULT_POSTGRES_URL = "postgresql+psycopg://tuoyu:tuoyu@127.0.0.1:5432/tuoyu_test"
T = TypeVar("T")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_url() -> str:
    """The PostgreSQL server for tests (TEST_POSTGRES_URL, or the CI default)."""
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def postgres_required() -> bool:
    """Whether an unreachable server is a failure rather than a skip (REQUIRE_POSTGRES=1, as in CI)."""
    return os.environ.get("REQUIRE_POSTGRES", "").strip().lower() in ("1", "true", "yes")


@lru_cache(maxsize=1)
def postgres_problem() -> str | None:
    """None when the test server answers, else why not (checked once per test session)."""
    url = postgres_url()
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        safe = make_url(url).render_as_string(hide_password=True)
        return f"PostgreSQL not reachable at {safe}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return None


def require_postgres_or_skip() -> str:
    """The server URL, or skip (fail under REQUIRE_POSTGRES=1) when it is not reachable."""
    problem = postgres_problem()
    if problem:
        if postgres_required():
            pytest.fail(f"{problem} (REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(f"{problem} — set TEST_POSTGRES_URL to run the PostgreSQL variant")
    return postgres_url()


def with_search_path(url: str, schema: str) -> str:
    """`url` with every connection's search_path set to `schema`."""
    parsed = make_url(url)
    parsed = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def fresh_postgres_schema() -> tuple[str, str]:
    """Create an empty schema on the test server; returns (schema, url whose connections use it)."""
    base = require_postgres_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        admin.dispose()
    return schema, with_search_path(base, schema)


def drop_postgres_schema(schema: str) -> None:
    """Drop a schema made by `fresh_postgres_schema`, with everything in it."""
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database: a SQLite file under `tmp_path`, or a new PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{(tmp_path / 'test.sqlite3').as_posix()}"
        return
    schema, url = fresh_postgres_schema()
    try:
        yield url
    finally:
        drop_postgres_schema(schema)


def engine_url(engine: Engine) -> str:
    """The engine's URL with its password (and the schema option), for a subprocess to open the same DB."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS, name="db_url")
def db_url_fixture(request, tmp_path) -> Iterator[str]:
    """URL of a fresh, empty, unmigrated database (SQLite and PostgreSQL variants)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=BACKENDS, name="db_engine")
def db_engine_fixture(request, tmp_path) -> Iterator[Engine]:
    """An engine on a fresh database migrated to the newest schema (SQLite and PostgreSQL variants).

    `engine_url(db_engine)` gives the URL for other processes.
    """
    with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        try:
            upgrade_to_head(engine)
            yield engine
        finally:
            engine.dispose()


# --- Migrations against the models ------------------------------------------------------------------------------


def diff_table(diff) -> str:
    """The table an autogenerate diff is about ("?" when it cannot tell, which then counts as ours)."""
    if isinstance(diff, list):  # modify_* come as a list of tuples: (op, schema, table, column, ...)
        return diff[0][2]
    op, obj = diff[0], diff[1]
    if op in ("add_table", "remove_table"):
        return obj.name
    if op in ("add_index", "remove_index", "add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        return obj.table.name
    if op in ("add_column", "remove_column"):
        return diff[2]
    return "?"


def model_drift(engine: Engine, tables: set[str], *, referenced: set[str] = frozenset()) -> list:
    """What autogenerate would change in `tables` to match the models (empty: migration and models agree).

    `referenced` are tables the compared ones point to (compared alongside, their own diffs not reported);
    tables of other features' migrations are not ours to compare.
    """
    ours = MetaData()
    for name in tables | referenced:
        SQLModel.metadata.tables[name].to_metadata(ours)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, ours)
    return [d for d in diffs if diff_table(d) in tables | {"?"}]


def upgrade_to(engine: Engine, revision: str) -> None:
    """Migrate `engine`'s database up to `revision` only (to test a later upgrade on older data)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


# --- Races --------------------------------------------------------------------------------------------------------


def race(n: int, fn: Callable[[int], T], *, errors: tuple[type[Exception], ...] = ()) -> list:
    """`fn(i)` for i in range(n), in n threads released together; each result in order, or the `code` of one of
    the expected `errors` it raised."""
    barrier = threading.Barrier(n)

    def task(i: int):
        barrier.wait(timeout=30)
        try:
            return fn(i)
        except errors as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(task, range(n)))


def race_on_own_engines(url: str, n: int, fn: Callable[[Engine, int], T]) -> list[T]:
    """`race` where each thread works as a process of its own would: `fn(engine, i)` on its own engine on `url`."""

    def on_own_engine(i: int) -> T:
        engine = make_engine(url)
        try:
            return fn(engine, i)
        finally:
            engine.dispose()

    return race(n, on_own_engine)


# --- Small builders for care tests ------------------------------------------------------------------------------


def insert(engine: Engine, row) -> int:
    """Add `row` (a table model) in a unit of its own and return its id."""
    with session_scope(engine) as session:
        session.add(row)
        session.flush()
        return row.id


# A community centre (社区嵌入式, from 12 months, day and temporary care): `make_institution`'s overrides.
COMMUNITY_CENTRE = dict(
    name="鹭岛托育中心",
    address="思明区测试路2号",
    lat=24.49,
    lon=118.09,
    form="社区嵌入式",
    age_min_months=12,
    classes=[],
    services=["全日托", "临时托"],
    fees={"全日托": 1600, "临时托": 120},
    total_places=40,
    free_places=5,
)


def make_institution(engine: Engine, **overrides) -> int:
    """Insert an institution (sensible defaults, Xiamen 思明) and return its id."""
    from db.models import Institution

    values = dict(
        name="测试托育中心",
        city="厦门市",
        district="思明区",
        address="厦门市思明区测试路1号",
        lat=24.4620,
        lon=118.1180,
        legal_nature="营利性",
        form="独立托育机构",
        puhui=True,
        filing_status="已备案",
        age_min_months=6,
        age_max_months=36,
        classes=["乳儿班", "托小班", "托大班"],
        services=["全日托", "临时托", "计时托"],
        fees={"全日托": 1800, "临时托": 100, "计时托": 30},
        total_places=50,
        free_places=10,
    )
    values.update(overrides)
    return insert(engine, Institution(**values))


def make_session(engine: Engine, institution_id: int, day, start="09:00", end="12:00", **overrides) -> int:
    """Insert a temporary-care session and return its id (times as "HH:MM")."""
    from db.core.timeutil import parse_time
    from db.models import CareSession

    values = dict(
        institution_id=institution_id,
        service="临时托",
        date=day,
        start_time=parse_time(start),
        end_time=parse_time(end),
        age_min_months=6,
        age_max_months=36,
        capacity=5,
        booked=0,
        price=100.0,
    )
    values.update(overrides)
    return insert(engine, CareSession(**values))


# --- Units of work for care tests --------------------------------------------------------------------------------


def book_outcome(engine: Engine, *request, now=None, **fields):
    """`booking.book_session_outcome` in one unit; `request`/`fields` are those of `booking.BookingRequest`."""
    from db.care.booking import BookingRequest, book_session_outcome

    return run_unit(engine, book_session_outcome, BookingRequest(*request, **fields), now)


def book(engine: Engine, *request, now=None, **fields):
    """`booking.book_session` in one unit; `request`/`fields` are those of `booking.BookingRequest`."""
    return book_outcome(engine, *request, now=now, **fields)[0]


def add_care_session(engine: Engine, institution_id: int, *, now=None, **fields):
    """`booking.add_session` in one unit, from keyword fields: service, day, start_time, end_time, capacity,
    price, age_min_months, age_max_months (a `SessionSpec`), operator_user_id."""
    from db.care.booking import add_session
    from db.care.session_spec import SessionSpec

    options = {key: fields.pop(key) for key in ("operator_user_id",) if key in fields}
    spec = SessionSpec(
        day=fields.pop("day"), start=fields.pop("start_time"), end=fields.pop("end_time"), service=fields.pop("service"),
        capacity=fields.pop("capacity"), price=fields.pop("price"), age_min=fields.pop("age_min_months", None),
        age_max=fields.pop("age_max_months", None),
    )
    if fields:
        raise TypeError(f"unknown session fields: {sorted(fields)}")
    return run_unit(engine, add_session, institution_id, spec, now, **options)
