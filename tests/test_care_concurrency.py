"""No overbooking under concurrency: N parallel bookings on a session with k places → exactly k succeed,
with threads and with separate processes (each with its own engine), on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from datetime import date, datetime

from sqlalchemy import func, select

from db.care import booking
from db.care.institutions import get_session
from db.core.engine import make_engine, run_unit, session_scope
from db.core.timeutil import SHANGHAI
from db.models import Booking
from tests.db_fixtures import book, engine_url, make_institution, make_session, race

NOW = datetime(2030, 3, 4, 8, 0, tzinfo=SHANGHAI)
DAY = date(2030, 3, 5)


def confirmed_count(engine, session_id: int) -> int:
    with session_scope(engine) as session:
        return session.execute(
            select(func.count()).select_from(Booking).where(Booking.session_id == session_id, Booking.status == "confirmed")
        ).scalar_one()


def run_threads(n: int, fn) -> list[str]:
    """`fn(i)` in n threads at once: "ok" for each that booked, the error code for each refused."""

    def attempt(i: int) -> str:
        fn(i)
        return "ok"

    return race(n, attempt, errors=(booking.BookingError,))


def test_threads_exactly_k_succeed(db_engine):
    k, n = 7, 40
    sid = make_session(db_engine, make_institution(db_engine), DAY, capacity=k)
    outcomes = Counter(run_threads(n, lambda i: book(db_engine, sid, 1000 + i, 20, now=NOW)))
    assert outcomes == {"ok": k, "full": n - k}
    assert run_unit(db_engine, get_session, sid).booked == k
    assert confirmed_count(db_engine, sid) == k


def test_a_unit_that_reads_first_still_books_serialised(db_engine):
    """The handler's unit of work reads (the session, the parent's bookings) before it books and reads the booking
    after: the booking still takes the write lock (SQLite) or the parent lock (PostgreSQL) before its checks."""
    k, n = 3, 16
    sid = make_session(db_engine, make_institution(db_engine), DAY, capacity=k)

    def read_then_book(i: int) -> None:
        with session_scope(db_engine) as session:
            assert get_session(sid, session=session) is not None
            booking.list_bookings(77, session=session)
            booked = booking.book_session(booking.BookingRequest(sid, 77, 20, child_name=f"c{i % 5}"), NOW, session=session)
            assert booking.get_booking(booked.id, session=session).status == "confirmed"

    outcomes = Counter(run_threads(n, read_then_book))
    assert outcomes["ok"] == k and outcomes["ok"] + outcomes["full"] + outcomes["overlap"] == n
    assert run_unit(db_engine, get_session, sid).booked == k == confirmed_count(db_engine, sid)


def test_threads_double_tap_same_key_books_once(db_engine):
    sid = make_session(db_engine, make_institution(db_engine), DAY, capacity=5)
    ids = set()
    lock = threading.Lock()

    def tap(_i: int) -> None:
        booked = book(db_engine, sid, 77, 20, idempotency_key="tg:77:msg:5", now=NOW)
        with lock:
            ids.add(booked.id)

    outcomes = Counter(run_threads(12, tap))
    assert outcomes == {"ok": 12}
    assert len(ids) == 1
    assert run_unit(db_engine, get_session, sid).booked == 1


def test_threads_same_child_without_key_books_once(db_engine):
    """Concurrent taps without a key: one booking, the rest are reported as overlaps — never two places."""
    sid = make_session(db_engine, make_institution(db_engine), DAY, capacity=5)
    outcomes = Counter(run_threads(10, lambda i: book(db_engine, sid, 78, 20, child_name="小明", now=NOW)))
    assert outcomes == {"ok": 1, "overlap": 9}
    assert run_unit(db_engine, get_session, sid).booked == 1


def test_threads_cancel_frees_once(db_engine):
    sid = make_session(db_engine, make_institution(db_engine), DAY, capacity=3)
    booked = book(db_engine, sid, 79, 20, now=NOW)
    book(db_engine, sid, 80, 20, now=NOW)
    outcomes = Counter(run_threads(10, lambda i: run_unit(db_engine, booking.cancel_booking, booked.id, 79, now=NOW)))
    assert outcomes == {"ok": 1, "already_cancelled": 9}
    assert run_unit(db_engine, get_session, sid).booked == 1


def _process_worker(url: str, session_id: int, parents: list[int], barrier, results) -> None:
    engine = make_engine(url)
    try:
        with engine.connect():
            pass  # connect before the start signal, so the bookings really race
        barrier.wait(timeout=60)
        for parent in parents:
            try:
                book(engine, session_id, parent, 20, now=NOW)
                results.put("ok")
            except booking.BookingError as exc:
                results.put(exc.code)
            except Exception as exc:  # noqa: BLE001 - reported to the parent process
                results.put(f"crash:{type(exc).__name__}:{exc}")
    finally:
        engine.dispose()


def test_processes_exactly_k_succeed(db_engine):
    k, processes, per_process = 5, 6, 4
    sid = make_session(db_engine, make_institution(db_engine), DAY, capacity=k)
    url = engine_url(db_engine)
    db_engine.dispose()  # no pooled connection crosses the fork
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=_process_worker,
            args=(url, sid, [5000 + p * 100 + i for i in range(per_process)], barrier, results),
        )
        for p in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcomes = Counter(results.get(timeout=120) for _ in range(processes * per_process))
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert outcomes == {"ok": k, "full": processes * per_process - k}
    assert run_unit(db_engine, get_session, sid).booked == k
    assert confirmed_count(db_engine, sid) == k
