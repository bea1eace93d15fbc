"""Incremental indexing against a real embedded Chroma: unchanged → no work, changed → replaced, gone → removed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.settings import KNOWLEDGE_DIR
from retrieval.service import PolicyService


@pytest.fixture
def knowledge_copy(tmp_path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


def _texts(service: PolicyService, doc_id: str) -> list[str]:
    return [i.chunk.text for i in service.store.all_chunks() if i.meta.doc_id == doc_id]


def test_changed_document_replaces_its_passages_and_removed_one_disappears(tmp_path, knowledge_copy, embedder):
    service = PolicyService(tmp_path / "index", knowledge_copy, embedder=embedder)
    first = service.build()
    assert {d.action for d in first.documents} == {"indexed"}
    assert any("年度新增不少于2000个普惠托位" in t for t in _texts(service, "xiamen"))

    path = knowledge_copy / "policies" / "xiamen-2024-puhui-tuoyu-demo-project.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("2000个普惠托位", "3000个普惠托位"), encoding="utf-8")
    second = service.build()
    actions = {d.doc_id: d.action for d in second.documents}
    assert actions["xiamen"] == "indexed"
    assert {a for doc, a in actions.items() if doc != "xiamen"} == {"unchanged"}
    xiamen = _texts(service, "xiamen")
    assert any("3000个普惠托位" in t for t in xiamen) and not any("2000个普惠托位" in t for t in xiamen)
    assert len(set(xiamen)) == len(xiamen), "old passages were not left behind"

    catalog = knowledge_copy / "policies" / "catalog.yaml"
    lines = catalog.read_text(encoding="utf-8").split("\n  - ")
    kept = [block for block in lines if "doc_id: beilun" not in block]
    catalog.write_text("\n  - ".join(kept), encoding="utf-8")
    third = service.build()
    assert {d.doc_id: d.action for d in third.documents}["beilun"] == "removed"
    assert _texts(service, "beilun") == []
    answer = service.ask("北仑区普惠托育率要达到多少？")
    assert not any(s.doc_id == "beilun" for s in answer.sources)
