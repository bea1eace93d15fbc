"""`python -m bot book` on a full session: `{"error": "full", "waitlist": true}` once parents queue for it, the
plain `{"error": "full"}` while nobody does (issue 12 §1); and a cancellation through the CLI offers the place."""

from __future__ import annotations

import json

from bot.cli import build_parser
from bot.settings import Settings
from db.care import waitlist
from db.core.engine import run_unit
from tests.db_fixtures import engine_url
from tests.test_care_cli import run_inprocess
from tests.test_waitlist_cli import full_session


def test_book_full_session_reports_the_waitlist(db_engine, tmp_path, capsys):
    url = engine_url(db_engine)
    sid = full_session(db_engine)
    book = ["book", "--session", str(sid), "--user", "77", "--child-age-months", "20", "--json"]

    code, out = run_inprocess(book, url, tmp_path, capsys)
    error = json.loads(out)
    assert code == 1 and error["error"] == "full" and "waitlist" not in error

    run_unit(db_engine, waitlist.join, waitlist.PlaceRequest(sid, 78, 20))
    code, out = run_inprocess(book, url, tmp_path, capsys)
    error = json.loads(out)
    assert code == 1 and error["error"] == "full" and error["waitlist"] is True and error["message"]

    parsed = build_parser().parse_args(book[:-1])  # without --json: a sentence on stderr naming the command
    assert parsed.func(parsed, Settings(database_url=url, data_dir=tmp_path / "data")) == 1
    assert "waitlist join" in capsys.readouterr().err

    # The booked parent (user 1, see full_session) cancels through the CLI: the place is offered, not freed.
    code, out = run_inprocess(["bookings", "list", "--user", "1", "--json"], url, tmp_path, capsys)
    [mine] = json.loads(out)["bookings"]
    code, _ = run_inprocess(["bookings", "cancel", str(mine["booking_id"]), "--user", "1", "--json"], url, tmp_path, capsys)
    assert code == 0
    [entry] = run_unit(db_engine, waitlist.entries_for_parent, 78)
    assert entry.status == "offered" and entry.offer_id is not None
    code, out = run_inprocess(book, url, tmp_path, capsys)
    assert code == 1 and json.loads(out)["error"] == "full"  # the freed place is held for the queue
