"""`python -m bot kb … --silent` and the `followers` / `notify` fields of the JSON output."""

from __future__ import annotations

import json

from db.core.engine import make_engine, run_unit
from db.knowledge import alerts
from db.knowledge.changes import changes_since
from tests.kb_fixtures import SHENZHEN_V1, SHENZHEN_V2


def test_silent_publish_and_follower_counts(kb_cli, tmp_path, settings):
    v1, v2 = tmp_path / "shenzhen.txt", tmp_path / "shenzhen-2026.txt"
    v1.write_text(SHENZHEN_V1, encoding="utf-8")
    v2.write_text(SHENZHEN_V2, encoding="utf-8")
    code, out = kb_cli("add", str(v1), "--doc-id", "sz", "--draft", "--json")
    assert code == 0 and json.loads(out)["notify"] is False
    engine = make_engine(settings.sqlalchemy_url)
    try:
        run_unit(engine, alerts.follow, 1, "广东省/深圳市")
        run_unit(engine, alerts.follow, 2, "广东省")  # a province's follower does not hear of one city's rules
        run_unit(engine, alerts.follow, 3, "广东省/深圳市/南山区")  # a district's follower does
        code, out = kb_cli("publish", "sz", "--no-eval", "--silent", "--json")
        data = json.loads(out)
        assert code == 0 and data["action"] == "publish" and data["followers"] == 2 and data["notify"] is False
        code, out = kb_cli("replace", "sz", str(v2), "--no-eval", "--json")
        data = json.loads(out)
        assert data["action"] == "replace" and data["followers"] == 2 and data["notify"] is True
        logged = run_unit(engine, changes_since, 0)
        assert [(c.action, c.notify) for c in logged if c.doc_id == "sz"] == [("publish", False), ("replace", True)]
    finally:
        engine.dispose()


def test_alerts_status_and_follows_commands(settings, capsys):
    from bot.cli import build_parser

    def run_alerts(*argv):
        args = build_parser().parse_args(["alerts", *argv])
        code = args.func(args, settings)
        return code, capsys.readouterr().out

    code, out = run_alerts("follow", "张家港", "--user", "7", "--json")
    assert code == 0 and json.loads(out) == {"user": 7, "place": "江苏省/苏州市/张家港市", "changed": True}
    code, out = run_alerts("follow", "张家港市", "--user", "7", "--json")
    assert json.loads(out)["changed"] is False
    code, out = run_alerts("follows", "--user", "7", "--json")
    assert json.loads(out) == {"user": 7, "places": ["江苏省/苏州市/张家港市"]}
    code, out = run_alerts("status", "--json")
    status = json.loads(out)
    assert code == 0 and status["follows"] == 1 and status["followers"] == 1 and status["behind"] == 0
    assert status["deliveries"] == {"pending": 0, "sending": 0, "sent": 0, "failed": 0, "unknown": 0}
    code, out = run_alerts("follow", "全国", "--user", "7", "--json")
    assert code == 1 and json.loads(out)["error"] == "bad_place"
    code, out = run_alerts("unfollow", "张家港", "--user", "7", "--json")
    assert json.loads(out)["changed"] is True
