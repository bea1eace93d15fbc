"""Article-style documents chunk by article; annex table rows are passages of their own."""

from __future__ import annotations

from retrieval.chunking import chunk_document
from retrieval.types import DocumentMeta

META = DocumentMeta("demo", "某市托育机构管理办法", "某市")
ARTICLES = """某市托育机构管理办法
第一章 总则
第一条 为规范托育机构管理，保障婴幼儿安全，制定本办法。
第二条 本办法适用于本市行政区域内的托育机构。
第二章 收费
第三条 普惠托育机构全日托收费不得超过每人每月2000元。
第四条 本办法自2025年1月1日起施行。"""


def test_article_style_document_chunks_by_article():
    chunks = chunk_document(META, ARTICLES)
    by_article = {c.section[-1]: c for c in chunks}
    assert {"第一条", "第二条", "第三条", "第四条"} <= set(by_article)
    assert by_article["第三条"].text.endswith("第三条 普惠托育机构全日托收费不得超过每人每月2000元。")
    assert by_article["第三条"].section[0] == "第二章 收费"
    assert "第四条" not in by_article["第三条"].text


TABLE = """附件2
目标任务数
项目 | 市级 | 杨舍镇 | 锦丰镇
辖区总托位数(个) | 6520 | 2730 | 680
新增社区普惠托育点(个) | 10 | 3 | 1
"""


def test_each_table_row_is_its_own_passage_with_headers():
    chunks = chunk_document(META, TABLE)
    rows = [c for c in chunks if "杨舍镇" in c.text]
    assert len(rows) == 2
    total = next(c for c in rows if "辖区总托位数" in c.text)
    assert "杨舍镇: 2730" in total.text and "新增社区普惠托育点" not in total.text
    assert "目标任务数" in total.section


def test_articles_run_together_on_one_line_are_still_split():
    text = "某市托育机构管理办法\n第一条 为规范管理，制定本办法。 第二条 依照第一条规定适用于本市。第三条 全日托收费不超过每月2000元。"
    chunks = chunk_document(META, text)
    assert [c.section[-1] for c in chunks if c.section[-1].startswith("第")] == ["第一条", "第二条", "第三条"]
    assert any("依照第一条规定" in c.text for c in chunks)
