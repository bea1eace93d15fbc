"""Claims of reminders and operator notes in the database (SQLite and PostgreSQL): one winner among concurrent
claimants, release for a retry, a cancelled booking is not reminded, migration 0006 marks old bookings as
notified (no flood of old notes after an upgrade), and the table matches its model."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update

from db.care import booking, booking_notices
from db.core.engine import make_engine, run_unit
from db.core.migrate import upgrade_to_head
from db.core.outbox import NoticeClaim, claim_notice, release_notice
from db.models import Booking
from tests.db_fixtures import (
    book,
    engine_url,
    make_institution,
    make_session,
    model_drift,
    race_on_own_engines,
    upgrade_to,
)

DAY = date(2030, 3, 4)
NOW = datetime(2030, 3, 3, 10, 0, tzinfo=UTC)  # the day before DAY


def _booked(engine, parents=(1, 2), operator=None):
    inst = make_institution(engine, operator_user_id=operator)
    care = make_session(engine, inst, DAY, capacity=10)
    return [book(engine, care, p, 24, idempotency_key=f"k{p}", now=NOW) for p in parents]


def test_one_claimant_wins_among_many_threads(db_engine):
    [b] = _booked(db_engine, parents=(1,))
    kinds = ["reminder", "note"] * 4

    def contend(engine, i: int) -> str | None:
        kind = kinds[i]
        if kind == "reminder" and run_unit(engine, booking_notices.claim_reminder, b.id, NOW):
            return kind
        if kind == "note" and run_unit(engine, booking_notices.claim_operator_note, b.id, "booked"):
            return kind
        return None

    wins = [kind for kind in race_on_own_engines(engine_url(db_engine), len(kinds), contend) if kind]
    assert sorted(wins) == ["note", "reminder"]


def test_release_lets_a_later_run_claim_again_and_cancelled_is_never_reminded(db_engine):
    first, second = _booked(db_engine)
    assert run_unit(db_engine, booking_notices.claim_reminder, first.id, NOW) is True
    assert [v.booking_id for v in run_unit(db_engine, booking_notices.due_reminders, NOW)] == [second.id]
    run_unit(db_engine, booking_notices.release_reminder, first.id)
    assert {v.booking_id for v in run_unit(db_engine, booking_notices.due_reminders, NOW)} == {first.id, second.id}
    run_unit(db_engine, booking.cancel_booking, second.id, second.parent_id, now=NOW)
    assert run_unit(db_engine, booking_notices.claim_reminder, second.id, NOW) is False, "a cancelled booking is not reminded"
    assert run_unit(db_engine, booking_notices.claim_reminder, 0, NOW) is False
    assert run_unit(db_engine, claim_notice, "x", 5) is True and run_unit(db_engine, claim_notice, "x", 5) is False
    assert run_unit(db_engine, claim_notice, "y", 5) is True, "kinds are separate"
    run_unit(db_engine, release_notice, "x", 5)
    assert run_unit(db_engine, claim_notice, "x", 5) is True


def test_pending_operator_notes(db_engine):
    booked, other = _booked(db_engine, operator=777)
    [no_operator] = _booked(db_engine, parents=(3,))
    soon = datetime.now(UTC) + timedelta(minutes=5)
    pending = run_unit(db_engine, booking_notices.pending_operator_notes, soon)
    assert {(k, v.booking_id) for k, v in pending} == {("booked", booked.id), ("booked", other.id)}
    assert no_operator.id not in {v.booking_id for _, v in pending}
    assert run_unit(db_engine, booking_notices.pending_operator_notes, datetime.now(UTC)) == [], "inside the grace period"
    assert run_unit(db_engine, booking_notices.pending_operator_notes, soon + timedelta(days=2)) == [], "outside the window"
    assert run_unit(db_engine, booking_notices.claim_operator_note, booked.id, "booked")
    run_unit(db_engine, booking.cancel_booking, other.id, other.parent_id, now=NOW)
    assert run_unit(db_engine, booking_notices.claim_operator_note, other.id, "booked")
    pending = run_unit(db_engine, booking_notices.pending_operator_notes, soon)
    assert [(k, v.booking_id) for k, v in pending] == [("cancelled", other.id)]


def test_upgrade_marks_existing_bookings_as_notified(db_url):
    engine = make_engine(db_url)
    try:
        upgrade_to(engine, "0004_conversation")
        kept, gone = _booked(engine, operator=777)
        with engine.begin() as connection:  # cancel without the new code path (it does not touch claims)
            connection.execute(
                update(Booking)
                .where(Booking.id == gone.id)
                .values(status="cancelled", cancelled_at=datetime.now(UTC))
            )
        upgrade_to_head(engine)
        with engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(NoticeClaim.__table__)).scalar()
        assert count == 3  # two booked notes, one cancelled note
        assert run_unit(engine, booking_notices.pending_operator_notes, datetime.now(UTC) + timedelta(minutes=5)) == []
    finally:
        engine.dispose()


def test_migration_matches_model(db_engine):
    assert model_drift(db_engine, {"notice_claims"}) == []
