"""Chunking: outline-aware passages with section paths, rebuilt tables, bounded sizes, stable ids."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from retrieval.catalog import load_catalog
from retrieval.chunking import MAX_CHARS, chunk_document, heading_text, split_sentences
from retrieval.cleaning import clean_text
from retrieval.loaders import load_document
from retrieval.types import Chunk, DocumentMeta

ROOT = Path(__file__).resolve().parent.parent
DOC_IDS = ["xiamen", "zhangjiagang", "daqing", "taizhou", "beilun"]
LEVEL1 = re.compile(r"^[一二三四五六七八九十]+、")
LEVEL2 = re.compile(r"^[(（][一二三四五六七八九十]+[)）]")


def squash(text: str) -> str:
    """Text without whitespace or table pipes (layout, not content)."""
    return re.sub(r"[\s|]+", "", text)


@cache
def corpus() -> dict[str, tuple[DocumentMeta, str, tuple[Chunk, ...]]]:
    out = {}
    for meta, path in load_catalog(ROOT / "knowledge"):
        text, _ = clean_text(load_document(path))
        out[meta.doc_id] = (meta, text, tuple(chunk_document(meta, text)))
    return out


def chunks(doc_id: str) -> tuple[Chunk, ...]:
    return corpus()[doc_id][2]


def find(doc_id: str, needle: str) -> list[Chunk]:
    return [c for c in chunks(doc_id) if squash(needle) in squash(c.text)]


def is_table_text(text: str) -> bool:
    return all(re.match(r"^[^:：]+[:：] ?\S", line) for line in text.split("\n"))


# --- section paths -----------------------------------------------------------------------------------


def test_xiamen_item_4_has_its_own_section() -> None:
    [chunk] = find("xiamen", "4.开展乳儿班、托小班激励性奖补。制定激励性奖补细则")
    assert chunk.section[0] == "二、重点任务"
    assert chunk.section[1].startswith("(二)实施“开心托”工程")
    assert chunk.section[-1].startswith("4.")
    assert chunk.section[-1] == "4.开展乳儿班、托小班激励性奖补"
    assert chunk.section_path.startswith("二、重点任务 › (二)")


def test_zhangjiagang_section_path_with_half_width_markers() -> None:
    [chunk] = find("zhangjiagang", "3. 加强特殊婴幼儿关心关爱。对全市0~3岁困境婴幼儿")
    assert chunk.section == ("三、重点任务", "(二)政策支持示范行动", "3. 加强特殊婴幼儿关心关爱")


def test_heading_split_over_two_lines_is_joined() -> None:
    # daqing writes `一、` and `总体要求` on separate lines
    sections = {c.section[0] for c in chunks("daqing")}
    assert {"一、总体要求", "二、发展目标", "三、主要任务", "四、组织实施"} <= sections


def test_run_in_outline_on_one_line_is_split() -> None:
    # taizhou's whole reply is one line; its outline markers still give sections
    [chunk] = find("taizhou", "相关申报资料从43件缩减至18件")
    assert chunk.section == (
        "二、主要做法与突出成效",
        "(三)集成优化工作体系",
        "1.探索部门集成联办最多跑一次改革机制",
    )
    assert chunk.text.startswith("(三)集成优化工作体系\n1.探索部门集成联办")


def test_chunk_text_includes_the_item_heading() -> None:
    # A string spanning heading and body is findable.
    assert find("xiamen", "5.托育机构租金减免。制定租金减免细则")
    assert find("beilun", "(二)具体目标1.全区所有街道普惠托育服务全覆盖")
    assert find("daqing", "5.丰富托育照护服务方式。独立开办的婴幼儿照护服务机构一般设置乳儿班")


def test_section_elements_are_short() -> None:
    for doc_id in DOC_IDS:
        for chunk in chunks(doc_id):
            assert chunk.section, chunk.chunk_id
            assert all(0 < len(part) <= 40 for part in chunk.section), chunk.section


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_no_chunk_crosses_a_level_1_or_2_boundary(doc_id: str) -> None:
    for chunk in chunks(doc_id):
        lines = chunk.text.split("\n")
        level1 = [i for i, line in enumerate(lines) if LEVEL1.match(line)]
        level2 = [i for i, line in enumerate(lines) if LEVEL2.match(line)]
        assert level1 in ([], [0]), chunk.chunk_id
        assert len(level2) <= 1 and all(i <= 1 for i in level2), chunk.chunk_id


# --- evidence and coverage ----------------------------------------------------------------------------


def dev_questions() -> list[dict]:
    lines = (ROOT / "knowledge" / "eval" / "policy_qa_dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [q for q in map(json.loads, lines) if q.get("doc")]


@pytest.mark.parametrize("question", dev_questions(), ids=lambda q: q["question"][:20])
def test_dev_evidence_is_inside_a_chunk_of_the_right_document(question: dict) -> None:
    assert find(question["doc"], question["evidence"]), question


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_passages_are_verbatim_cleaned_text(doc_id: str) -> None:
    cleaned = squash(corpus()[doc_id][1])
    for chunk in chunks(doc_id):
        assert squash(chunk.text) in cleaned or is_table_text(chunk.text), chunk.chunk_id


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_nothing_is_lost(doc_id: str) -> None:
    indexed = squash("".join(c.text + "".join(c.section) for c in chunks(doc_id)))
    # Clause by clause (a run-in heading may start a new chunk in mid-sentence).
    for line in corpus()[doc_id][1].split("\n"):
        for clause in re.split(r"[|,，:：;；。！？!?\s]+", line):
            assert squash(clause) in indexed, (doc_id, clause)


# --- tables -------------------------------------------------------------------------------------------


def test_indicator_table_rows_carry_their_headers() -> None:
    row = "一级指标: 产出指标; 二级指标: 数量指标; 三级指标: 1.每千人口拥有3岁以下婴幼儿托位数(个); 2024年目标值: ≥4.5"
    [chunk] = [c for c in chunks("zhangjiagang") if row in c.text.split("\n")]
    assert chunk.section[:2] == ("附件1", "张家港市普惠托育服务发展示范项目绩效指标表")
    # merged (row-spanning) cells are filled down into later rows
    [later] = find("zhangjiagang", "12.3岁以下婴幼儿入托家庭服务满意度")
    assert "一级指标: 满意度指标; 二级指标: 满意度指标;" in later.text and "2024年目标值: ≥95" in later.text
    [middle] = find("zhangjiagang", "4.2岁以下婴幼儿托位占比(%)")
    assert (
        "一级指标: 产出指标; 二级指标: 质量指标; 三级指标: 4.2岁以下婴幼儿托位占比(%); 2024年目标值: ≥30"
        in middle.text
    )


def test_target_table_values_keep_their_columns() -> None:
    [chunk] = find("zhangjiagang", "辖区总托位数(个)")
    line = next(line for line in chunk.text.split("\n") if "辖区总托位数" in line)
    for pair in [
        "市级: 6520",
        "保税区 (含三个街道): 1140",
        "杨舍镇: 2730",
        "锦丰镇: 680",
        "常阴沙示范园区: 60",
    ]:
        assert pair in line
    assert chunk.section[:2] == ("附件2", "张家港市普惠托育服务发展示范项目目标任务数")
    [price] = find("zhangjiagang", "1787")
    assert "全日托平均价格(在2022年基础上下浮100~300元/月); 市级: 1787" in price.text
    # empty cells keep later values in their own column
    [provincial] = find("zhangjiagang", "新增省普惠性托育机构数")
    assert "新增省普惠性托育机构数(个); 市级: 1; 大新镇: 1" in provincial.text


def test_task_table_rows_fill_down_merged_cells() -> None:
    [chunk] = find("zhangjiagang", "减免500元/人/月")
    line = next(line for line in chunk.text.split("\n") if "500元" in line)
    assert line.startswith(
        "具体任务: 2.政策支持示范行动; 主要内容: 2.3加强特殊婴幼儿关心关爱; 具体举措: 托育机构收托困境婴幼儿的"
    )
    assert line.endswith("市民政局、市卫生健康委、市财政局、市残联,各区镇、街道")
    assert chunk.section == ("附件3", "张家港市普惠托育服务发展示范项目重点任务分解表", "2.政策支持示范行动")
    # the header repeated at a page break is not a row
    assert not find("zhangjiagang", "具体任务: 主要内容")
    assert all("主要内容: 主要内容" not in c.text for c in chunks("zhangjiagang"))


def test_key_value_header_table() -> None:
    [chunk] = find("taizhou", "索引号: 002668346/2022-102342")
    assert chunk.text.split("\n")[0] == "索引号: 002668346/2022-102342; 公开方式: 主动公开"
    assert "|" not in chunk.text


def test_long_cell_block_is_text_not_table() -> None:
    # taizhou's body sits in one giant table cell; it must come out as prose, without pipes.
    assert all("|" not in c.text for c in chunks("taizhou"))
    assert find("taizhou", "梁丽萍、方安平、陈斌、张炳峰等4位委员")


# --- sizes and ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize("doc_id", DOC_IDS)
def test_chunk_lengths_are_bounded(doc_id: str) -> None:
    lengths = sorted(len(c.text) for c in chunks(doc_id))
    assert lengths[0] >= 20
    assert lengths[-1] <= MAX_CHARS
    assert 80 <= lengths[len(lengths) // 2] <= 360


def test_chunk_ids_unique_sequential_and_stable() -> None:
    all_ids: list[str] = []
    for doc_id in DOC_IDS:
        meta, text, first = corpus()[doc_id]
        again = chunk_document(meta, text)
        assert [c.chunk_id for c in first] == [f"{doc_id}:{n:04d}" for n in range(1, len(first) + 1)]
        assert list(first) == again
        assert all(c.doc_id == doc_id and c.chunk_id.endswith(f"{c.ordinal:04d}") for c in first)
        all_ids.extend(c.chunk_id for c in first)
    assert len(all_ids) == len(set(all_ids))


# --- generic structure ----------------------------------------------------------------------------------

META = DocumentMeta(doc_id="demo", title="示例市托育服务实施办法", city="示例市")


def test_full_width_markers_and_long_items() -> None:
    sentence = "各级各部门要按照属地管理原则,加强对托育机构的日常监督检查和安全管理,确保婴幼儿安全健康成长。"
    text = "\n".join(
        [
            "示例市托育服务实施办法",
            "为促进托育服务发展,制定本办法。",
            "一、总体要求",
            "（一）基本原则",
            "1．坚持普惠优先。" + sentence * 20,
            "2、强化安全。" + sentence,
            "(1)落实备案。托育机构应当备案。",
            "附件1",
            "托育机构名单",
            "机构 | 地址 | 托位",
            "示例托育园 | 示例路1号 | 60",
        ]
    )
    result = chunk_document(META, text + "\n")
    assert result[0].section == ("示例市托育服务实施办法",)
    long_pieces = [c for c in result if c.section[-1] == "1．坚持普惠优先"]
    assert len(long_pieces) >= 3
    assert all(150 <= len(c.text) <= MAX_CHARS for c in long_pieces[:-1])
    assert all(c.text.endswith("。") for c in long_pieces)
    assert long_pieces[0].text.startswith("一、总体要求\n（一）基本原则\n1．坚持普惠优先。")
    assert squash("".join(c.text for c in long_pieces)).count(squash(sentence)) == 20
    nested = [c for c in result if "(1)落实备案" in c.text]
    assert nested and nested[0].section[-1] in ("(1)落实备案", "2、强化安全", "（一）基本原则")
    [table] = [c for c in result if "示例托育园" in c.text]
    assert table.text == "机构: 示例托育园; 地址: 示例路1号; 托位: 60"
    assert table.section[:2] == ("附件1", "托育机构名单")


def test_heading_text() -> None:
    assert heading_text("(一)指导思想。以习近平新时代中国特色社会主义思想为指导") == "(一)指导思想"
    assert heading_text("1. 推进托育综合服务中心建设。依托市实验幼儿园") == "1. 推进托育综合服务中心建设"
    assert heading_text("一、我市托育服务工作概况 近年来,全市上下") == "一、我市托育服务工作概况"
    assert heading_text("1.全区所有街道普惠托育服务全覆盖;") == "1.全区所有街道普惠托育服务全覆盖"
    assert (
        len(
            heading_text(
                "3.完成北仑区托育综合服务中心和实训基地建设,至少建立一家街道社区卫生服务中心“医、防、护”三位一体"
            )
        )
        <= 40
    )


def test_split_sentences() -> None:
    text = "托育机构应当备案。费用减免500元/人/月；详见附件！是否适用?是\n新的一行“引号。”结束"
    assert split_sentences(text) == [
        "托育机构应当备案。",
        "费用减免500元/人/月；",
        "详见附件！",
        "是否适用?",
        "是",
        "新的一行“引号。”",
        "结束",
    ]
    assert split_sentences("") == []
    assert "".join(split_sentences("甲。乙;丙")) == "甲。乙;丙"


def test_a_breakdown_after_其中_stays_with_the_total_it_breaks_down() -> None:
    total = "全市共建成机构446家,总托位数22015个。"
    part = "其中:普惠型托育机构353个,普惠托位15317个,占比达70%。"
    assert split_sentences(total + part + "下一句。") == [total + part, "下一句。"]
    # In chunks too: no passage of the initial documents starts with 其中, and Taizhou's total keeps its parts.
    chunks = [chunk for _, _, doc_chunks in corpus().values() for chunk in doc_chunks]
    assert not [c.chunk_id for c in chunks if c.text.lstrip().startswith("其中")]
    assert any("机构446家" in c.text and "普惠型托育机构353个" in c.text for c in chunks)
