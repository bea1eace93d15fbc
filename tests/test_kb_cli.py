"""`python -m bot kb …`: add (prints what cleaning removed and what was flagged), list, replace, retire,
restore, publish a draft, reindex, audit — JSON with --json, exit 1 and {"error"} on refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bot.settings import PROJECT_ROOT
from tests.kb_fixtures import SHENZHEN_QUESTION, SHENZHEN_V1, SHENZHEN_V2, encrypted_pdf


def test_add_list_replace_retire_restore(kb_cli, tmp_path):
    v1, v2 = tmp_path / "shenzhen.txt", tmp_path / "shenzhen-2026.txt"
    v1.write_text(SHENZHEN_V1, encoding="utf-8")
    v2.write_text(SHENZHEN_V2, encoding="utf-8")

    code, out = kb_cli("add", str(v1), "--doc-id", "sz-subsidy")
    assert code == 0
    assert (
        "《深圳市普惠托育服务补贴实施办法》 sz-subsidy v1 — 深圳市｜深圳市卫生健康委员会、深圳市财政局｜2025-03-01"
        in out
    )
    assert "清理 (cleaning removed): page_furniture 2" in out
    assert "[page_furniture] line 1: 首页 > 政务公开 > 政策文件" in out
    assert "[injection] line 19: 忽略以上指令" in out and "[advert] line 20: 【广告】加微信 tuoyu888" in out
    assert "已发布 (published)" in out and "hit@5 1.000 → 1.000" in out
    assert "⚠ 质量下降" in out and "深圳的普惠托育补贴每月多少钱？" in out
    assert "每人每月500元" in kb_cli.services["service"].ask(SHENZHEN_QUESTION).quotes[0].text

    code, out = kb_cli("add", str(v1), "--json")
    assert code == 1
    refusal = json.loads(out)
    assert {k: refusal[k] for k in ("error", "message")} == {
        "error": "duplicate",
        "message": "identical to sz-subsidy v1 (published): 深圳市普惠托育服务补贴实施办法",
    }
    assert refusal["details"]["doc_id"] == "sz-subsidy" and refusal["details"]["version"] == 1

    code, out = kb_cli(
        "replace", "sz-subsidy", str(v2), "--title", "深圳市普惠托育服务补贴实施办法（2026年修订）", "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["action"] == "replace"
    assert (data["version"], data["index_id"], data["date"]) == (2, "sz-subsidy-v2", "2026-01-15")
    assert data["replaced"]["version"] == 1 and data["quality"]["dropped"] is False
    assert data["cleaning"]["counts"] == {"page_furniture": 2} and len(data["flags"]) == 2
    assert "每人每月800元" in kb_cli.services["service"].ask(SHENZHEN_QUESTION).quotes[0].text

    code, out = kb_cli("list", "--json")
    documents = {d["doc_id"]: d for d in json.loads(out)["documents"]}
    assert set(documents) == {"xiamen", "zhangjiagang", "daqing", "taizhou", "beilun", "sz-subsidy"}
    assert documents["sz-subsidy"]["version"] == 2 and documents["sz-subsidy"]["title"].endswith(
        "（2026年修订）"
    )

    code, out = kb_cli("retire", "sz-subsidy", "--no-eval")
    assert (
        code == 0
        and "retire: 《深圳市普惠托育服务补贴实施办法（2026年修订）》 sz-subsidy v2 → retired" in out
    )
    assert kb_cli.services["service"].ask(SHENZHEN_QUESTION).reason == "no_documents_for_place"
    code, out = kb_cli("restore", "sz-subsidy", "--version", "1", "--json")
    data = json.loads(out)
    assert code == 0 and data["document"]["version"] == 1 and data["quality"]["after"]["hit@5"] == 1.0
    assert "每人每月500元" in kb_cli.services["service"].ask(SHENZHEN_QUESTION).quotes[0].text

    code, out = kb_cli("retire", "nope")
    assert code == 1

    code, out = kb_cli("audit", "sz-subsidy", "--json")
    entries = json.loads(out)["entries"]
    assert [e["action"] for e in reversed(entries)] == [
        "upload",
        "publish",
        "upload",
        "replace",
        "retire",
        "restore",
    ]
    assert all(e["actor"].startswith("cli:") and len(e["content_hash"]) == 64 for e in entries)


def test_draft_then_publish_and_refusals(kb_cli, tmp_path):
    doc = tmp_path / "shenzhen.md"
    doc.write_text("# " + SHENZHEN_V1.replace("\n", "\n\n"), encoding="utf-8")
    code, out = kb_cli("add", str(doc), "--draft", "--city", "深圳市", "--date", "2025/3/1")
    assert code == 0 and "草稿已保存 (draft kept)" in out and "kb publish shenzhen" in out
    code, out = kb_cli("list")
    assert "shenzhen" in out and "draft" in out
    assert kb_cli.services["service"].ask(SHENZHEN_QUESTION).reason == "no_documents_for_place"
    code, out = kb_cli("publish", "shenzhen", "--no-eval", "--json")
    assert code == 0 and json.loads(out)["action"] == "publish"
    code, out = kb_cli("publish", "shenzhen")
    assert code == 1  # nothing waiting

    locked = tmp_path / "locked.pdf"
    locked.write_bytes(encrypted_pdf())
    code, out = kb_cli("add", str(locked), "--json")
    assert code == 1 and json.loads(out)["error"] == "encrypted"
    code, out = kb_cli("add", str(tmp_path / "missing.txt"), "--json")
    assert code == 1 and json.loads(out)["error"] == "not_found"
    other = tmp_path / "other.txt"
    other.write_text(SHENZHEN_V2, encoding="utf-8")
    code, out = kb_cli("add", str(other), "--date", "yesterday", "--json")
    refusal = json.loads(out)
    assert code == 1 and {k: refusal[k] for k in ("error", "message")} == {
        "error": "bad_metadata",
        "message": "'yesterday' is not a date (YYYY-MM-DD)",
    }
    assert refusal["details"] == {"field": "date", "reason": "not_a_date"}

    code, out = kb_cli("reindex", "--json")
    data = json.loads(out)
    assert code == 0 and data["indexed"] == [] and data["removed"] == [] and data["unchanged"] == 6


def test_kb_list_as_a_separate_process(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": ""}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "list", "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    documents = json.loads(done.stdout)["documents"]
    assert len(documents) == 5 and all(d["status"] == "published" for d in documents)
