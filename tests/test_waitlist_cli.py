"""`python -m bot waitlist join|leave|list` contract: in-process on SQLite and PostgreSQL, once as subprocesses."""

from __future__ import annotations

import json
from datetime import timedelta

from db.core.timeutil import local_today
from tests.db_fixtures import book, engine_url, make_institution, make_session
from tests.test_care_cli import run_cli, run_inprocess

ENTRY_KEYS = {
    "entry_id", "session_id", "status", "position", "offer_id", "offer_expires_at", "institution_id",
    "institution", "service", "date", "start", "end", "child", "child_age_months",
}  # fmt: skip


def full_session(engine, capacity: int = 1) -> int:
    """A session two days ahead (the CLI uses the real clock) with every place booked."""
    day = local_today() + timedelta(days=2)
    sid = make_session(engine, make_institution(engine, name="排队测试托育"), day, "09:00", "12:00", capacity=capacity)
    for i in range(capacity):
        book(engine, sid, 1 + i, 20)
    return sid


def test_waitlist_cli_in_process_both_databases(db_engine, tmp_path, capsys):
    url = engine_url(db_engine)
    sid = full_session(db_engine)

    def cli(*args: str) -> tuple[int, dict]:
        code, out = run_inprocess(["waitlist", *args, "--json"], url, tmp_path, capsys)
        return code, json.loads(out)

    code, first = cli("join", "--session", str(sid), "--user", "5123456789", "--child-age-months", "18")
    assert code == 0 and first == {"entry_id": first["entry_id"], "position": 1, "status": "waiting"}
    code, second = cli("join", "--session", str(sid), "--user", "42", "--child-age-months", "20", "--child", "小红")
    assert code == 0 and second["position"] == 2 and second["entry_id"] != first["entry_id"]
    code, again = cli("join", "--session", str(sid), "--user", "42", "--child-age-months", "20", "--child", "小红")
    assert code == 0 and again == second

    code, listing = cli("list", "--user", "42")
    assert code == 0 and list(listing) == ["entries"]
    [entry] = listing["entries"]
    assert set(entry) == ENTRY_KEYS
    assert (entry["entry_id"], entry["session_id"], entry["position"], entry["child"]) == (
        second["entry_id"], sid, 2, "小红",
    )  # fmt: skip

    code, left = cli("leave", str(first["entry_id"]), "--user", "5123456789")
    assert code == 0 and left == {"entry_id": first["entry_id"], "status": "left"}
    code, listing = cli("list", "--user", "42")
    assert listing["entries"][0]["position"] == 1
    code, listing = cli("list", "--user", "5123456789")
    assert code == 0 and listing == {"entries": []}
    code, human = run_inprocess(["waitlist", "list", "--user", "42"], url, tmp_path, capsys)
    assert code == 0 and "排第 1 位" in human and "排队测试托育" in human and "小红" in human

    # Failures: exit 1 with {"error": code, "message": ...}.
    free = make_session(db_engine, make_institution(db_engine), local_today() + timedelta(days=2), capacity=3)
    for args, expected in (
        (["leave", str(second["entry_id"]), "--user", "5123456789"], "not_found"),
        (["join", "--session", str(free), "--user", "7", "--child-age-months", "18"], "not_full"),
        (["join", "--session", str(sid), "--user", "7", "--child-age-months", "60"], "age_out_of_range"),
        (["join", "--session", str(sid), "--user", "7", "--child-age-months", "-3"], "invalid"),
        (["join", "--session", "987654", "--user", "7", "--child-age-months", "18"], "not_found"),
        (["join", "--session", str(sid), "--user", "1", "--child-age-months", "20"], "already_booked"),
    ):
        code, error = cli(*args)
        assert code == 1 and error["error"] == expected and error["message"], (args, error)


def test_waitlist_cli_subprocess(tmp_path):
    from db.core.engine import make_engine
    from db.core.migrate import upgrade_to_head

    url = f"sqlite:///{(tmp_path / 'cli.sqlite3').as_posix()}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    sid = full_session(engine)
    engine.dispose()

    joined = run_cli(["waitlist", "join", "--session", str(sid), "--user", "9", "--child-age-months", "18", "--json"],
                     url, tmp_path)  # fmt: skip
    assert joined.returncode == 0, joined.stderr[-2000:]
    entry = json.loads(joined.stdout)
    assert entry["position"] == 1 and entry["status"] == "waiting"

    # A failure is the process's exit code 1 with the JSON error object.
    refused = run_cli(["waitlist", "leave", str(entry["entry_id"]), "--user", "10", "--json"], url, tmp_path)
    assert refused.returncode == 1 and json.loads(refused.stdout)["error"] == "not_found"
