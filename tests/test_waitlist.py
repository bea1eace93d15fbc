"""Waitlist rules (db.care.waitlist), on SQLite and PostgreSQL: joining and positions, every error code, offers on a
freed place in queue order, take / pass / leave / expiry, exactly-once claims, more capacity, the migration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, update

from db.care.booking import BookingError, list_bookings
from db.care.waitlist import (
    CapacityChange,
    PlaceRequest,
    WaitlistError,
    change_capacity,
    claim_offer_notifications,
    entries_for_parent,
    expire_offers,
    get_offer,
    join,
    leave,
    offer_freed_places,
    pass_offer,
    queue_length,
    queue_lengths,
    release_offer_notification,
    take_offer,
    take_offer_outcome,
)
from db.core.engine import make_engine, run_unit, session_scope
from db.core.migrate import current_revision, head_revision, upgrade_to_head
from db.models import CareSession
from tests.db_fixtures import book, make_institution, make_session, model_drift, upgrade_to
from tests.test_waitlist_helpers import (
    DAY,
    HOLD,
    NOW,
    assert_invariants,
    cancel_and_offer,
    counts,
    full_session,
)

TABLES = {"waitlist_entries", "waitlist_offers"}


def code_of(fn) -> str:
    with pytest.raises(WaitlistError) as info:
        fn()
    assert info.value.message
    return info.value.code


# --- join, positions, leave ------------------------------------------------------------------------------------


def test_join_gives_positions_and_is_idempotent(db_engine):
    sid, _ = full_session(db_engine)
    first = run_unit(db_engine, join, PlaceRequest(sid, 101, 20), now=NOW)
    second = run_unit(db_engine, join, PlaceRequest(sid, 102, 20, "小红"), now=NOW)
    third = run_unit(db_engine, join, PlaceRequest(sid, 102, 22, "小明"), now=NOW)  # a sibling: a separate entry
    assert [first.position, second.position, third.position] == [1, 2, 3]
    assert first.status == "waiting" and first.offer_id is None
    again = run_unit(db_engine, join, PlaceRequest(sid, 102, 20, " 小红 "), now=NOW)
    assert again.entry_id == second.entry_id and again.position == 2
    assert run_unit(db_engine, queue_length, sid) == 3
    # Leaving moves those behind up; leaving twice is harmless.
    left = run_unit(db_engine, leave, first.entry_id, 101, now=NOW)
    assert left.status == "left" and left.position is None
    assert run_unit(db_engine, leave, first.entry_id, 101, now=NOW).status == "left"
    assert [(v.entry_id, v.position) for v in run_unit(db_engine, entries_for_parent, 102, now=NOW)] == [
        (second.entry_id, 1),
        (third.entry_id, 2),
    ]
    assert run_unit(db_engine, entries_for_parent, 101, now=NOW) == []
    # Rejoining after leaving queues at the back.
    back = run_unit(db_engine, join, PlaceRequest(sid, 101, 20), now=NOW)
    assert back.entry_id != first.entry_id and back.position == 3


def test_join_error_codes(db_engine):
    sid, bookings = full_session(db_engine, age_min_months=12, age_max_months=24)
    inst = make_institution(db_engine, name="另一家")
    assert code_of(lambda: run_unit(db_engine, join, PlaceRequest(999_999, 101, 20), now=NOW)) == "not_found"
    assert code_of(lambda: run_unit(db_engine, join, PlaceRequest(sid, 101, 30), now=NOW)) == "age_out_of_range"
    assert code_of(lambda: run_unit(db_engine, join, PlaceRequest(sid, 101, 20), now=NOW.replace(day=5, hour=9))) == "past"
    assert code_of(lambda: run_unit(db_engine, join, PlaceRequest(sid, bookings[0].parent_id, 20), now=NOW)) == "already_booked"
    for bad in (
        lambda: run_unit(db_engine, join, PlaceRequest(sid, 0, 20), now=NOW),
        lambda: run_unit(db_engine, join, PlaceRequest(sid, 101, -1), now=NOW),
        lambda: run_unit(db_engine, join, PlaceRequest(sid, 101, 20, "长" * 33), now=NOW),
    ):
        assert code_of(bad) == "invalid"
    # A session with a free place: book it normally.
    open_sid = make_session(db_engine, inst, DAY, capacity=3)
    assert code_of(lambda: run_unit(db_engine, join, PlaceRequest(open_sid, 101, 20), now=NOW)) == "not_full"
    # The same child already booked elsewhere at an overlapping time.
    book(db_engine, open_sid, 101, 20, "小明", now=NOW)
    assert code_of(lambda: run_unit(db_engine, join, PlaceRequest(sid, 101, 20, "小明"), now=NOW)) == "overlap"
    # ...but another child of the same parent may queue.
    assert run_unit(db_engine, join, PlaceRequest(sid, 101, 20, "小红"), now=NOW).position == 1
    assert run_unit(db_engine, queue_lengths, [sid, open_sid, 424242]) == {sid: 1, open_sid: 0, 424242: 0}


def test_leave_errors_and_leaving_with_an_offer(db_engine):
    sid, bookings = full_session(db_engine, capacity=2)
    entry = run_unit(db_engine, join, PlaceRequest(sid, 101, 20), now=NOW)
    b = run_unit(db_engine, join, PlaceRequest(sid, 102, 20), now=NOW)
    assert code_of(lambda: run_unit(db_engine, leave, entry.entry_id, 999, now=NOW)) == "not_found"
    assert code_of(lambda: run_unit(db_engine, leave, 987_654, 101, now=NOW)) == "not_found"
    offer = cancel_and_offer(db_engine, bookings[0].id, bookings[0].parent_id)
    run_unit(db_engine, pass_offer, offer.offer_id, 101, now=NOW)
    assert code_of(lambda: run_unit(db_engine, leave, entry.entry_id, 101, now=NOW)) == "not_waiting"
    # Leaving while holding an offer passes the place on to the next in line.
    c = run_unit(db_engine, join, PlaceRequest(sid, 103, 20), now=NOW)
    assert [v.status for v in run_unit(db_engine, entries_for_parent, 102, now=NOW)] == ["offered"]
    assert run_unit(db_engine, leave, b.entry_id, 102, now=NOW).status == "left"
    [view] = run_unit(db_engine, entries_for_parent, 103, now=NOW)
    assert view.entry_id == c.entry_id and view.status == "offered" and view.offer_id is not None
    assert_invariants(db_engine, sid)


# --- offers: freed places, take, pass, leave with an offer -----------------------------------------------------


def test_freed_place_goes_to_the_first_in_line_and_take_books_it(db_engine):
    sid, bookings = full_session(db_engine, capacity=2)
    a = run_unit(db_engine, join, PlaceRequest(sid, 101, 20, "阿宝"), now=NOW)
    b = run_unit(db_engine, join, PlaceRequest(sid, 102, 22), now=NOW)
    offer = cancel_and_offer(db_engine, bookings[0].id, bookings[0].parent_id)
    assert offer is not None and offer.entry_id == a.entry_id and offer.parent_id == 101
    assert offer.expires_at == NOW + HOLD
    # The held place is not free for anyone else.
    assert counts(db_engine, sid) == {"booked": 2, "capacity": 2, "confirmed": 1, "open_offers": 1}
    with pytest.raises(BookingError) as info:
        book(db_engine, sid, 555, 20, now=NOW)
    assert info.value.code == "full"
    views = run_unit(db_engine, entries_for_parent, 101, now=NOW)
    assert [(v.status, v.position, v.offer_id) for v in views] == [("offered", None, offer.offer_id)]
    assert run_unit(db_engine, entries_for_parent, 102, now=NOW)[0].position == 1
    assert run_unit(db_engine, queue_length, sid) == 2  # waiting + holding an offer

    booking, created = run_unit(db_engine, take_offer_outcome, offer.offer_id, 101, now=NOW + timedelta(minutes=29))
    assert created and booking.status == "confirmed" and len(booking.code) == 6
    assert (booking.session_id, booking.parent_id, booking.child_name, booking.child_age_months) == (sid, 101, "阿宝", 20)
    assert counts(db_engine, sid) == {"booked": 2, "capacity": 2, "confirmed": 2, "open_offers": 0}
    assert [v.code for v in run_unit(db_engine, list_bookings, 101, now=NOW)] == [booking.code]
    # A second tap returns the same booking and takes nothing more.
    again, created_again = run_unit(db_engine, take_offer_outcome, offer.offer_id, 101, now=NOW)
    assert again.id == booking.id and not created_again
    assert run_unit(db_engine, entries_for_parent, 101, now=NOW) == []
    assert [v.position for v in run_unit(db_engine, entries_for_parent, b.parent_id, now=NOW)] == [1]
    assert_invariants(db_engine, sid)


def test_take_error_codes(db_engine):
    sid, bookings = full_session(db_engine, capacity=2)
    run_unit(db_engine, join, PlaceRequest(sid, 101, 20), now=NOW)
    run_unit(db_engine, join, PlaceRequest(sid, 102, 20), now=NOW)
    offer = cancel_and_offer(db_engine, bookings[0].id, bookings[0].parent_id)
    assert code_of(lambda: run_unit(db_engine, take_offer, offer.offer_id, 102, now=NOW)) == "not_found"
    assert code_of(lambda: run_unit(db_engine, take_offer, 31_337, 101, now=NOW)) == "not_found"
    assert code_of(lambda: run_unit(db_engine, take_offer, offer.offer_id, 101, now=NOW + HOLD)) == "expired"
    nxt = run_unit(db_engine, pass_offer, offer.offer_id, 101, now=NOW)
    assert code_of(lambda: run_unit(db_engine, take_offer, offer.offer_id, 101, now=NOW)) == "passed"
    assert code_of(lambda: run_unit(db_engine, pass_offer, offer.offer_id, 101, now=NOW)) == "passed"
    run_unit(db_engine, take_offer, nxt.offer_id, 102, now=NOW)
    assert code_of(lambda: run_unit(db_engine, pass_offer, nxt.offer_id, 102, now=NOW)) == "taken"
    # The child meanwhile booked elsewhere at the same time: the offer stays open (pass or expiry frees it).
    other = make_session(db_engine, make_institution(db_engine), DAY, capacity=3)
    run_unit(db_engine, join, PlaceRequest(sid, 103, 20), now=NOW)
    third = cancel_and_offer(db_engine, bookings[1].id, bookings[1].parent_id)
    book(db_engine, other, 103, 20, now=NOW)
    assert code_of(lambda: run_unit(db_engine, take_offer, third.offer_id, 103, now=NOW)) == "overlap"
    assert run_unit(db_engine, get_offer, third.offer_id).status == "open"
    assert code_of(lambda: run_unit(db_engine, offer_freed_places, sid, NOW, timedelta(0))) == "invalid"
    assert_invariants(db_engine, sid)


def test_pass_moves_the_place_down_the_queue_then_releases_it(db_engine):
    sid, bookings = full_session(db_engine, capacity=1)
    a = run_unit(db_engine, join, PlaceRequest(sid, 101, 20), now=NOW)
    b = run_unit(db_engine, join, PlaceRequest(sid, 102, 20), now=NOW)
    offer_a = cancel_and_offer(db_engine, bookings[0].id, bookings[0].parent_id)
    offer_b = run_unit(db_engine, pass_offer, offer_a.offer_id, 101, now=NOW + timedelta(minutes=5))
    assert offer_b.entry_id == b.entry_id and offer_b.expires_at == NOW + timedelta(minutes=35)
    assert run_unit(db_engine, entries_for_parent, a.parent_id, now=NOW) == []  # passing leaves the queue
    assert_invariants(db_engine, sid)
    assert run_unit(db_engine, pass_offer, offer_b.offer_id, 102, now=NOW) is None
    assert counts(db_engine, sid) == {"booked": 0, "capacity": 1, "confirmed": 0, "open_offers": 0}
    assert book(db_engine, sid, 555, 20, now=NOW).status == "confirmed"  # the place is public again


def test_no_waiting_entry_frees_the_place_and_holds_end_at_the_start(db_engine):
    sid, bookings = full_session(db_engine, capacity=2)
    assert cancel_and_offer(db_engine, bookings[0].id, bookings[0].parent_id) is None
    assert counts(db_engine, sid)["booked"] == 1
    book(db_engine, sid, 3, 20, now=NOW)
    run_unit(db_engine, join, PlaceRequest(sid, 101, 20), now=NOW)
    late = NOW.replace(day=5, hour=8, minute=50)  # the session starts at 09:00
    offer = cancel_and_offer(db_engine, bookings[1].id, bookings[1].parent_id, now=late)
    assert offer.expires_at == NOW.replace(day=5, hour=9, minute=0)


def test_more_capacity_offers_the_added_places_in_queue_order(db_engine):
    inst = make_institution(db_engine, operator_user_id=900)
    sid = make_session(db_engine, inst, DAY, capacity=1)
    book(db_engine, sid, 1, 20, now=NOW)
    entries = [run_unit(db_engine, join, PlaceRequest(sid, 101 + i, 20), now=NOW) for i in range(3)]
    assert code_of(lambda: run_unit(db_engine, change_capacity, CapacityChange(sid, 3, operator_user_id=901), now=NOW)) == "forbidden"
    assert code_of(lambda: run_unit(db_engine, change_capacity, CapacityChange(123_456, 3), now=NOW)) == "not_found"
    assert code_of(lambda: run_unit(db_engine, change_capacity, CapacityChange(sid, 0), now=NOW)) == "invalid"
    offers = run_unit(db_engine, change_capacity, CapacityChange(sid, 3, operator_user_id=900), now=NOW, hold=HOLD)
    assert [o.entry_id for o in offers] == [entries[0].entry_id, entries[1].entry_id]
    assert counts(db_engine, sid) == {"booked": 3, "capacity": 3, "confirmed": 1, "open_offers": 2}
    # Not below the places booked or held.
    assert code_of(lambda: run_unit(db_engine, change_capacity, CapacityChange(sid, 2), now=NOW)) == "invalid"
    assert assert_invariants(db_engine, sid)["booked"] == 3
    # Capacity raised elsewhere (own transaction): offer_freed_places hands out every free place, in order.
    later = run_unit(db_engine, join, PlaceRequest(sid, 201, 20), now=NOW)
    with session_scope(db_engine) as session:
        session.execute(update(CareSession).where(CareSession.id == sid).values(capacity=CareSession.capacity + 2))
    assert code_of(lambda: run_unit(db_engine, join, PlaceRequest(sid, 202, 20), now=NOW)) == "not_full"  # free places: book normally
    offers = run_unit(db_engine, offer_freed_places, sid, NOW, HOLD)
    assert [o.entry_id for o in offers] == [entries[2].entry_id, later.entry_id]
    assert run_unit(db_engine, offer_freed_places, sid, NOW, HOLD) == []  # nothing left to offer
    assert assert_invariants(db_engine, sid)["booked"] == 5


# --- notifications and expiry ----------------------------------------------------------------------------------


def test_claims_are_exactly_once_and_restart_the_hold(db_engine):
    sid, bookings = full_session(db_engine, capacity=2)
    run_unit(db_engine, join, PlaceRequest(sid, 101, 20, "阿宝"), now=NOW)
    run_unit(db_engine, join, PlaceRequest(sid, 102, 20), now=NOW)
    first = cancel_and_offer(db_engine, bookings[0].id, bookings[0].parent_id)
    second = cancel_and_offer(db_engine, bookings[1].id, bookings[1].parent_id)
    later = NOW + timedelta(minutes=10)
    [view] = run_unit(db_engine, claim_offer_notifications, later, limit=1)
    assert view.offer_id == first.offer_id and view.parent_id == 101 and view.child_name == "阿宝"
    assert view.date == DAY and view.institution_name
    assert view.offer.notified_at == later and view.offer.expires_at == later + HOLD
    assert [v.offer_id for v in run_unit(db_engine, claim_offer_notifications, later)] == [second.offer_id]
    assert run_unit(db_engine, claim_offer_notifications, later) == []
    # A failed send gives the offer back for another claim; only claimed offers can be released.
    assert run_unit(db_engine, release_offer_notification, first.offer_id)
    assert not run_unit(db_engine, release_offer_notification, first.offer_id)
    assert [v.offer_id for v in run_unit(db_engine, claim_offer_notifications, later)] == [first.offer_id]


def test_expiry_moves_the_place_on_exactly_once(db_engine):
    sid, bookings = full_session(db_engine, capacity=1)
    run_unit(db_engine, join, PlaceRequest(sid, 101, 20), now=NOW)
    b = run_unit(db_engine, join, PlaceRequest(sid, 102, 20), now=NOW)
    offer_a = cancel_and_offer(db_engine, bookings[0].id, bookings[0].parent_id)
    run_unit(db_engine, claim_offer_notifications, NOW)
    assert run_unit(db_engine, expire_offers, NOW + HOLD - timedelta(seconds=1)) == []
    # The bot was down for two hours: the lapsed offer is processed when it comes back.
    back = NOW + timedelta(hours=2)
    [expired] = run_unit(db_engine, expire_offers, back)
    assert expired.offer_id == offer_a.offer_id and expired.status == "expired"
    assert run_unit(db_engine, expire_offers, back) == []
    [view] = run_unit(db_engine, entries_for_parent, 102, now=back)
    assert view.entry_id == b.entry_id and view.status == "offered"
    assert view.offer_expires_at == back + HOLD
    assert code_of(lambda: run_unit(db_engine, take_offer, offer_a.offer_id, 101, now=back)) == "expired"
    assert code_of(lambda: run_unit(db_engine, pass_offer, offer_a.offer_id, 101, now=back)) == "expired"
    assert_invariants(db_engine, sid)


def test_an_offer_never_sent_is_rearmed_not_expired(db_engine):
    sid, bookings = full_session(db_engine, capacity=1)
    run_unit(db_engine, join, PlaceRequest(sid, 101, 20), now=NOW)
    offer = cancel_and_offer(db_engine, bookings[0].id, bookings[0].parent_id)
    back = NOW + timedelta(hours=3)
    assert run_unit(db_engine, expire_offers, back) == []
    assert run_unit(db_engine, get_offer, offer.offer_id).expires_at == back + HOLD
    [view] = run_unit(db_engine, claim_offer_notifications, back + timedelta(minutes=1))
    assert view.offer.expires_at == back + timedelta(minutes=1) + HOLD
    assert run_unit(db_engine, take_offer, offer.offer_id, 101, now=back + timedelta(minutes=20)).status == "confirmed"


def test_offers_of_a_started_session_are_closed_and_the_place_released(db_engine):
    sid, bookings = full_session(db_engine, capacity=1)
    run_unit(db_engine, join, PlaceRequest(sid, 101, 20), now=NOW)
    run_unit(db_engine, join, PlaceRequest(sid, 102, 20), now=NOW)
    cancel_and_offer(db_engine, bookings[0].id, bookings[0].parent_id)  # never sent
    started = NOW.replace(day=5, hour=9, minute=30)
    assert run_unit(db_engine, claim_offer_notifications, started) == []
    assert len(run_unit(db_engine, expire_offers, started)) == 1
    assert counts(db_engine, sid) == {"booked": 0, "capacity": 1, "confirmed": 0, "open_offers": 0}
    assert run_unit(db_engine, entries_for_parent, 102, now=NOW)[0].status == "waiting"  # nobody offered a past session
    assert run_unit(db_engine, entries_for_parent, 102, now=started) == []
    assert_invariants(db_engine, sid)


# --- schema ----------------------------------------------------------------------------------------------------


def test_migration_creates_the_tables_and_matches_the_models(db_engine):
    assert set(inspect(db_engine).get_table_names()) >= TABLES
    assert model_drift(db_engine, TABLES, referenced={"care_sessions", "bookings", "institutions"}) == []
    unique = {ix["name"] for ix in inspect(db_engine).get_indexes("waitlist_entries") if ix["unique"]}
    assert "uq_waitlist_entries_active" in unique


def test_upgrade_from_0004_keeps_the_care_data(db_url):
    engine = make_engine(db_url)
    try:
        upgrade_to(engine, "0004_conversation")
        assert "waitlist_entries" not in inspect(engine).get_table_names()
        sid, _ = full_session(engine, capacity=1)
        upgrade_to_head(engine)
        assert current_revision(engine) == head_revision()
        assert counts(engine, sid)["confirmed"] == 1
        assert run_unit(engine, join, PlaceRequest(sid, 101, 20), now=NOW).position == 1
    finally:
        engine.dispose()
