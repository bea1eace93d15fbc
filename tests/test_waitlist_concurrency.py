"""The waitlist under contention, with threads and with separate processes, on SQLite and PostgreSQL.

Concurrent cancellations (a cancellation + `place_freed` in one transaction), late joins, takes, passes, claims
and expiries on one session. A monitor reads the session in single statements the whole time. Proven, at every
observed moment and at the end: a freed place is never offered to two parents at once and never lost
(booked == confirmed bookings + open offers <= capacity), every parent's child ends with at most one booking,
offers go in queue order, each offer is claimed for sending once and expired once, and no place stands idle
while someone waits.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from db.care.booking import BookingError
from db.care.waitlist import (
    PlaceRequest,
    WaitlistError,
    claim_offer_notifications,
    expire_offers,
    join,
    pass_offer,
    take_offer,
    take_offer_outcome,
)
from db.care.waitlist_models import OFFER_OPEN, WaitlistEntry, WaitlistOffer
from db.core.engine import make_engine, run_unit, session_scope
from db.models import BOOKING_CANCELLED, Booking, CareSession
from tests.db_fixtures import engine_url, race
from tests.test_waitlist_helpers import HOLD, NOW, assert_invariants, cancel_and_offer, counts, full_session

#: The expiry job runs "two hours later": every claimed offer it sees has lapsed, so it races the takes.
LATE = NOW + timedelta(hours=2)
CAPACITY = 4
QUEUE = list(range(101, 111))  # parents queued before the cancellations
LATE_JOINERS = list(range(201, 205))  # parents who try to join while places are freed


def _open_offer(engine, parent_id: int) -> int | None:
    with session_scope(engine) as session:
        return session.execute(
            select(WaitlistOffer.id).where(WaitlistOffer.parent_id == parent_id, WaitlistOffer.status == OFFER_OPEN)
        ).scalar_one_or_none()


def chaos_worker(engine, session_id: int, tasks: dict, stop, seed: int) -> dict:
    """One worker: its cancellations and joins, then until `stop`: claim, expire, answer its parents' offers."""
    rng = random.Random(seed)
    out: dict = {"outcomes": Counter(), "claimed": [], "expired": [], "taken": []}
    for booking_id, parent_id in tasks["cancel"]:
        cancel_and_offer(engine, booking_id, parent_id, now=NOW, hold=HOLD)
        out["outcomes"]["cancel:ok"] += 1
    for parent_id in tasks["join"]:
        try:
            run_unit(engine, join, PlaceRequest(session_id, parent_id, 20), now=NOW)
            out["outcomes"]["join:ok"] += 1
        except WaitlistError as exc:
            out["outcomes"][f"join:{exc.code}"] += 1
    while not stop.is_set():
        out["claimed"] += [view.offer_id for view in run_unit(engine, claim_offer_notifications, NOW, limit=3)]
        if rng.random() < 0.3:
            out["expired"] += [offer.offer_id for offer in run_unit(engine, expire_offers, LATE)]
        for parent_id in tasks["respond"]:
            offer_id = _open_offer(engine, parent_id)
            if offer_id is None:
                continue
            action = "take" if parent_id % 3 else "pass"
            try:
                if action == "take":
                    booking = run_unit(engine, take_offer, offer_id, parent_id, now=NOW)
                    out["taken"].append((offer_id, booking.id))
                else:
                    run_unit(engine, pass_offer, offer_id, parent_id, now=NOW)
                out["outcomes"][f"{action}:ok"] += 1
            except WaitlistError as exc:
                out["outcomes"][f"{action}:{exc.code}"] += 1
        time.sleep(rng.uniform(0.001, 0.006))
    return out


def split(items: list, n: int) -> list[list]:
    return [items[i::n] for i in range(n)]


def setup_chaos(engine) -> tuple[int, list[Booking]]:
    sid, bookings = full_session(engine, capacity=CAPACITY)
    for parent_id in QUEUE:
        run_unit(engine, join, PlaceRequest(sid, parent_id, 20), now=NOW)
    return sid, bookings


def tasks_for(workers: int, bookings: list[Booking]) -> list[dict]:
    cancels = split([(b.id, b.parent_id) for b in bookings], workers)
    joins = split(LATE_JOINERS, workers)
    responders = split(QUEUE + LATE_JOINERS, workers)
    return [{"cancel": cancels[i], "join": joins[i], "respond": responders[i]} for i in range(workers)]


def settled(engine, session_id: int) -> bool:
    """All cancellations done and no offer open any more."""
    with session_scope(engine) as session:
        cancelled = session.execute(
            select(func.count()).select_from(Booking).where(Booking.session_id == session_id, Booking.status == BOOKING_CANCELLED)
        ).scalar_one()
    return cancelled == CAPACITY and counts(engine, session_id)["open_offers"] == 0


def monitor_until_settled(engine, session_id: int, crashed, timeout: float = 60.0) -> list[dict]:
    """Snapshots of the session (single statements) until it settles; returns the ones breaking the invariant.

    `crashed()` says whether a worker died (they only end when told to), which ends the watch early."""
    bad, deadline, quiet = [], time.monotonic() + timeout, 0
    while time.monotonic() < deadline and not crashed():
        c = counts(engine, session_id)
        if not (c["booked"] == c["confirmed"] + c["open_offers"] <= c["capacity"]):
            bad.append(c)
        quiet = quiet + 1 if settled(engine, session_id) else 0
        if quiet >= 3:
            return bad
        time.sleep(0.01)
    if crashed():
        return bad
    raise AssertionError(f"the waitlist did not settle in {timeout}s: {counts(engine, session_id)}")


def check_end_state(engine, session_id: int, results: list[dict]) -> None:
    outcomes = sum((r["outcomes"] for r in results), Counter())
    claimed = [i for r in results for i in r["claimed"]]
    expired = [i for r in results for i in r["expired"]]
    taken = [t for r in results for t in r["taken"]]
    assert outcomes["cancel:ok"] == CAPACITY, outcomes
    assert outcomes["join:ok"] + outcomes["join:not_full"] == len(LATE_JOINERS), outcomes
    # Exactly-once: no offer claimed twice or expired twice, over every worker.
    assert len(claimed) == len(set(claimed)), claimed
    assert len(expired) == len(set(expired)), expired
    c = assert_invariants(engine, session_id)
    with session_scope(engine) as session:
        statuses = Counter(session.execute(select(WaitlistOffer.status).where(WaitlistOffer.session_id == session_id)).scalars())
        waitlist_bookings = session.execute(
            select(func.count()).select_from(Booking).where(
                Booking.session_id == session_id, Booking.status == "confirmed", Booking.idempotency_key.like("waitlist-offer:%")
            )
        ).scalar_one()
        still_waiting = session.execute(
            select(func.count()).select_from(WaitlistEntry).where(
                WaitlistEntry.session_id == session_id, WaitlistEntry.status == "waiting"
            )
        ).scalar_one()
    # Every take that reported success is one booking; every offer ended taken, passed or expired.
    assert len(taken) == len({b for _o, b in taken}) == outcomes["take:ok"] == statuses["taken"] == waitlist_bookings
    assert statuses["expired"] == len(expired) and statuses["passed"] == outcomes["pass:ok"], (statuses, outcomes)
    assert statuses[OFFER_OPEN] == 0
    # Never lost: a place is idle only when nobody waits any more.
    assert c["booked"] == c["confirmed"] == waitlist_bookings
    if still_waiting:
        assert c["booked"] == c["capacity"], (c, still_waiting)
    # The contention was real: places moved down the queue.
    assert sum(statuses.values()) >= CAPACITY


def test_threads_chaos_keeps_every_place_accounted_for(db_engine):
    sid, bookings = setup_chaos(db_engine)
    workers = 6
    stop = threading.Event()
    barrier = threading.Barrier(workers)

    def run(i: int, tasks: dict) -> dict:
        barrier.wait(timeout=30)
        return chaos_worker(db_engine, sid, tasks, stop, seed=i)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, i, t) for i, t in enumerate(tasks_for(workers, bookings))]
        try:
            bad = monitor_until_settled(db_engine, sid, lambda: any(f.done() for f in futures))
        finally:
            stop.set()
        results = [f.result(timeout=60) for f in futures]
    assert bad == []
    check_end_state(db_engine, sid, results)


def _process_worker(url: str, session_id: int, tasks: dict, seed: int, signals: tuple) -> None:
    """One chaos worker process; `signals` is (start barrier, stop event, results queue)."""
    barrier, stop, results = signals
    engine = make_engine(url)
    try:
        with engine.connect():
            pass  # connect before the start signal, so the work really races
        barrier.wait(timeout=60)
        try:
            results.put(chaos_worker(engine, session_id, tasks, stop, seed))
        except Exception as exc:  # noqa: BLE001 - reported to the parent process
            results.put({"crash": f"{type(exc).__name__}: {exc}"})
    finally:
        engine.dispose()


def test_processes_chaos_keeps_every_place_accounted_for(db_engine):
    sid, bookings = setup_chaos(db_engine)
    url = engine_url(db_engine)
    db_engine.dispose()  # no pooled connection crosses the fork
    processes = 4
    ctx = multiprocessing.get_context("fork")
    barrier, stop, queue = ctx.Barrier(processes), ctx.Event(), ctx.Queue()
    workers = [
        ctx.Process(target=_process_worker, args=(url, sid, tasks, i, (barrier, stop, queue)))
        for i, tasks in enumerate(tasks_for(processes, bookings))
    ]
    for worker in workers:
        worker.start()
    try:
        bad = monitor_until_settled(db_engine, sid, lambda: any(not w.is_alive() for w in workers))
    finally:
        stop.set()
    results = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert [r["crash"] for r in results if "crash" in r] == []
    assert bad == []
    check_end_state(db_engine, sid, results)


def run_threads(n: int, fn) -> list:
    """`fn(i)` in n threads at once: each result, or the code of a waitlist or booking refusal."""
    return race(n, fn, errors=(WaitlistError, BookingError))


def test_threads_double_tap_take_books_once(db_engine):
    sid, bookings = full_session(db_engine, capacity=1)
    run_unit(db_engine, join, PlaceRequest(sid, 101, 20), now=NOW)
    offer = cancel_and_offer(db_engine, bookings[0].id, bookings[0].parent_id)
    results = run_threads(10, lambda i: run_unit(db_engine, take_offer_outcome, offer.offer_id, 101, now=NOW))
    assert len({booking.id for booking, _created in results}) == 1
    assert sum(created for _booking, created in results) == 1
    assert assert_invariants(db_engine, sid) == {"booked": 1, "capacity": 1, "confirmed": 1, "open_offers": 0}


def test_threads_take_pass_and_expiry_race_on_one_offer(db_engine):
    """Take, pass and expiry of the same claimed offer at once: exactly one of them wins."""
    for r in range(2):
        first, second = 101 + 10 * r, 102 + 10 * r  # new parents each round (same day and time)
        sid, bookings = full_session(db_engine, capacity=1, first_parent=1 + 10 * r)
        run_unit(db_engine, join, PlaceRequest(sid, first, 20), now=NOW)
        run_unit(db_engine, join, PlaceRequest(sid, second, 20), now=NOW)
        offer = cancel_and_offer(db_engine, bookings[0].id, bookings[0].parent_id)
        run_unit(db_engine, claim_offer_notifications, NOW)

        def take(offer_id=offer.offer_id, first=first) -> str:
            run_unit(db_engine, take_offer, offer_id, first, now=NOW)
            return "take"

        def pass_(offer_id=offer.offer_id, first=first) -> str:
            run_unit(db_engine, pass_offer, offer_id, first, now=NOW)
            return "pass"

        def expire(offer_id=offer.offer_id) -> str:  # (earlier rounds' offers may expire too: not counted)
            return "expire" if offer_id in {o.offer_id for o in run_unit(db_engine, expire_offers, LATE)} else "nothing"

        actions = [take, pass_, expire] * 3
        outcomes = Counter(run_threads(len(actions), lambda i, todo=actions: todo[i]()))
        winners = outcomes["take"] + outcomes["pass"] + outcomes["expire"]
        # A take may repeat (same booking) but never alongside a pass or an expiry.
        assert winners >= 1 and (outcomes["take"] == 0 or outcomes["pass"] == outcomes["expire"] == 0), outcomes
        assert outcomes["pass"] <= 1 and outcomes["expire"] <= 1, outcomes
        assert_invariants(db_engine, sid)


def test_threads_claims_are_disjoint(db_engine):
    sessions = []
    for s in range(5):
        sid, bookings = full_session(db_engine, capacity=2, first_parent=1 + 10 * s)
        for parent_id in (500 + 10 * s, 501 + 10 * s):
            run_unit(db_engine, join, PlaceRequest(sid, parent_id, 20), now=NOW)
        for booking in bookings:
            cancel_and_offer(db_engine, booking.id, booking.parent_id)
        sessions.append(sid)
    results = run_threads(8, lambda i: [v.offer_id for v in run_unit(db_engine, claim_offer_notifications, NOW, limit=2)])
    claimed = [offer_id for got in results for offer_id in got]
    with session_scope(db_engine) as session:
        every = set(session.execute(select(WaitlistOffer.id)).scalars())
        booked = dict(session.execute(select(CareSession.id, CareSession.booked)).all())
    assert len(claimed) == len(set(claimed))
    # Whatever the interleaving (PostgreSQL workers skip each other's locked rows), each offer is claimed once.
    rest = [v.offer_id for v in run_unit(db_engine, claim_offer_notifications, NOW, limit=50)]
    assert not set(rest) & set(claimed) and set(claimed) | set(rest) == every
    assert len(every) == 10 and all(booked[sid] == 2 for sid in sessions)
