"""The command-line contract of DESIGN.md: `slots search`, `book`, `bookings list|cancel`, `institutions demo|import`.

The main path runs as real subprocesses (`python -m bot ...`); variants run in-process through the same
parser to keep the suite fast. The PostgreSQL variant goes through the same commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bot.cli import build_parser
from bot.settings import Settings
from db.core.timeutil import local_today
from tests.db_fixtures import engine_url, make_institution, make_session

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "chromadb", "sentence_transformers", "transformers", "retrieval", "langchain", "telegram")


def run_cli(args: list[str], url: str, tmp_path: Path, *extra_python: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATA_DIR")}
    env |= {"DATABASE_URL": url, "DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, *extra_python, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def run_inprocess(args: list[str], url: str, tmp_path: Path, capsys) -> tuple[int, str]:
    parsed = build_parser().parse_args(args)
    code = parsed.func(parsed, Settings(database_url=url, data_dir=tmp_path / "data"))
    return code, capsys.readouterr().out


def test_contract_end_to_end_in_subprocesses(tmp_path):
    url = f"sqlite:///{(tmp_path / 'cli.sqlite3').as_posix()}"
    day = local_today() + timedelta(days=2)
    # Schema and one institution with a 2-place session, through the library (the CLI migrates on its own too).
    from db.core.engine import make_engine
    from db.core.migrate import upgrade_to_head

    engine = make_engine(url)
    upgrade_to_head(engine)
    inst = make_institution(engine, name="厦门测试托育（演示）", lat=24.4620, lon=118.1180, is_demo=True)
    sid = make_session(engine, inst, day, "09:00", "12:00", capacity=2, price=88)
    engine.dispose()

    # slots search --json, and proof that no model library was imported on the way.
    search = run_cli(
        ["slots", "search", "--lat", "24.4625", "--lon", "118.1185", "--radius-km", "3", "--age-months", "18",
         "--service", "临时托", "--date", day.isoformat(), "--json"],
        url, tmp_path, "-X", "importtime",
    )  # fmt: skip
    assert search.returncode == 0, search.stderr[-2000:]
    out = json.loads(search.stdout)
    assert list(out) == ["results"]
    result = out["results"][0]
    assert result["institution_id"] == inst and result["name"] == "厦门测试托育（演示）"
    assert set(result) == {"institution_id", "name", "district", "distance_km", "puhui", "prices", "sessions"}
    assert result["sessions"] == [
        {"session_id": sid, "date": day.isoformat(), "start": "09:00", "end": "12:00", "price": 88, "capacity": 2,
         "free": 2}
    ]  # fmt: skip
    imported = {line.split("|")[-1].strip() for line in search.stderr.splitlines() if line.startswith("import time:")}
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == [], heavy

    first = run_cli(["book", "--session", str(sid), "--user", "5123456789", "--child-age-months", "18", "--json"],
                    url, tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr
    booking = json.loads(first.stdout)
    assert set(booking) == {"booking_id", "code", "status"} and booking["status"] == "confirmed"
    assert len(booking["code"]) == 6

    second = run_cli(["book", "--session", str(sid), "--user", "2", "--child-age-months", "20", "--child", "小红",
                      "--json"], url, tmp_path)  # fmt: skip
    assert second.returncode == 0, second.stderr

    full = run_cli(["book", "--session", str(sid), "--user", "3", "--child-age-months", "20", "--json"], url, tmp_path)
    assert full.returncode == 1
    error = json.loads(full.stdout)
    assert error["error"] == "full" and error["message"]

    cancel = run_cli(["bookings", "cancel", str(booking["booking_id"]), "--user", "5123456789", "--json"], url, tmp_path)
    assert cancel.returncode == 0, cancel.stderr
    assert json.loads(cancel.stdout) == {"booking_id": booking["booking_id"], "code": booking["code"],
                                         "status": "cancelled"}  # fmt: skip

    again = run_cli(["bookings", "cancel", str(booking["booking_id"]), "--user", "5123456789", "--json"], url, tmp_path)
    assert again.returncode == 1 and json.loads(again.stdout)["error"] == "already_cancelled"

    # The freed place is bookable again.
    retry = run_cli(["book", "--session", str(sid), "--user", "3", "--child-age-months", "20", "--json"], url, tmp_path)
    assert retry.returncode == 0 and json.loads(retry.stdout)["status"] == "confirmed"


def test_contract_in_process_both_databases(db_engine, tmp_path, capsys):
    url = engine_url(db_engine)
    day = local_today() + timedelta(days=3)
    inst = make_institution(db_engine, lat=31.8720, lon=120.5520, city="张家港市", district="杨舍镇",
                            fees={"全日托": 1700, "临时托": 90})  # fmt: skip
    sid = make_session(db_engine, inst, day, "14:00", "17:00", capacity=1)

    code, out = run_inprocess(["slots", "search", "--lat", "31.872", "--lon", "120.552", "--json"], url, tmp_path, capsys)
    assert code == 0 and json.loads(out)["results"][0]["sessions"][0]["session_id"] == sid

    code, out = run_inprocess(["slots", "search", "--district", "楊舍", "--reduction", "困境婴幼儿", "--max-price",
                               "1300", "--json"], url, tmp_path, capsys)  # fmt: skip
    result = json.loads(out)["results"][0]
    assert code == 0 and result["reduction"]["price_after"] == 1200 and "张家港" in result["reduction"]["source"]

    code, out = run_inprocess(["book", "--session", str(sid), "--user", "11", "--child-age-months", "20",
                               "--key", "tap-1", "--json"], url, tmp_path, capsys)  # fmt: skip
    assert code == 0
    booked = json.loads(out)
    code, out = run_inprocess(["book", "--session", str(sid), "--user", "11", "--child-age-months", "20",
                               "--key", "tap-1", "--json"], url, tmp_path, capsys)  # fmt: skip
    assert code == 0 and json.loads(out) == booked  # the same key books once

    code, out = run_inprocess(["book", "--session", str(sid), "--user", "12", "--child-age-months", "20", "--json"],
                              url, tmp_path, capsys)  # fmt: skip
    assert code == 1 and json.loads(out)["error"] == "full"

    code, out = run_inprocess(["bookings", "list", "--user", "11", "--json"], url, tmp_path, capsys)
    listed = json.loads(out)["bookings"]
    assert code == 0 and [b["booking_id"] for b in listed] == [booked["booking_id"]]

    code, out = run_inprocess(["bookings", "cancel", str(booked["booking_id"]), "--user", "12", "--json"],
                              url, tmp_path, capsys)  # fmt: skip
    assert code == 1 and json.loads(out)["error"] == "not_found"

    for args, expected in [
        (["book", "--session", "999999", "--user", "1", "--child-age-months", "20", "--json"], "not_found"),
        (["book", "--session", str(sid), "--user", "13", "--child-age-months", "2", "--json"], "age_out_of_range"),
        (["slots", "search", "--lat", "100", "--lon", "0", "--json"], "invalid"),
        (["slots", "search", "--lat", "24", "--lon", "118", "--date", "明天", "--json"], "invalid"),
        (["slots", "search", "--district", "火星", "--json"], "unknown_place"),
    ]:
        code, out = run_inprocess(args, url, tmp_path, capsys)
        assert code == 1 and json.loads(out)["error"] == expected, args


def test_readable_tables_without_json(db_engine, tmp_path, capsys):
    url = engine_url(db_engine)
    day = local_today() + timedelta(days=2)
    inst = make_institution(db_engine, name="可读托育中心（演示）", is_demo=True)
    sid = make_session(db_engine, inst, day, "09:00", "12:00", capacity=3)
    code, out = run_inprocess(["slots", "search", "--lat", "24.462", "--lon", "118.118"], url, tmp_path, capsys)
    assert code == 0 and "可读托育中心" in out and "公里" in out and f"#{sid}" in out and "演示数据" in out
    code, out = run_inprocess(["book", "--session", str(sid), "--user", "7", "--child-age-months", "20"],
                              url, tmp_path, capsys)  # fmt: skip
    assert code == 0 and "预约成功" in out and "演示数据" in out
    code, out = run_inprocess(["bookings", "list", "--user", "7"], url, tmp_path, capsys)
    assert code == 0 and "已确认" in out


def test_institutions_demo_and_import_commands(tmp_path, capsys):
    url = f"sqlite:///{(tmp_path / 'inst.sqlite3').as_posix()}"
    code, out = run_inprocess(["institutions", "demo", "--days", "2", "--json"], url, tmp_path, capsys)
    report = json.loads(out)
    assert code == 0 and report["institutions_created"] > 200 and report["sessions_created"] > 0
    code, out = run_inprocess(["institutions", "demo", "--days", "2", "--json"], url, tmp_path, capsys)
    assert json.loads(out)["institutions_created"] == 0 and json.loads(out)["sessions_created"] == 0

    good = tmp_path / "good.csv"
    good.write_text(
        "name,city,district,address,lat,lon,puhui,total_places,fee_full_day\n"
        "导入托育中心,厦门市,集美区,厦门市集美区集美大道1号,24.60,118.07,是,30,1750\n",
        encoding="utf-8",
    )
    code, out = run_inprocess(["institutions", "import", str(good), "--json"], url, tmp_path, capsys)
    assert code == 0 and json.loads(out)["inserted"] == 1

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,city,district,address,lat,lon,puhui,total_places,fee_full_day\n"
        "好的一行,厦门市,集美区,某路1号,24.60,118.07,是,30,1750\n"
        "坏的一行,厦门市,集美区,某路2号,24.60,118.07,是,-3,1750\n",
        encoding="utf-8",
    )
    code, out = run_inprocess(["institutions", "import", str(bad), "--json"], url, tmp_path, capsys)
    result = json.loads(out)
    assert code == 1 and result["error"] == "rejected" and result["applied"] is False
    assert result["rejected"][0]["line"] == 3
    code, _ = run_inprocess(["institutions", "import", str(bad)], url, tmp_path, capsys)
    assert code == 1
