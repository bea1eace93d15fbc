"""The fact diff between two versions of a policy (pure): amounts, dates, percentages and counts old → new with the
clause; whitespace, page furniture and rewording without new facts are cosmetic."""

from __future__ import annotations

from retrieval import fact_diff
from retrieval.chunking import chunk_document
from retrieval.cleaning import clean_text
from retrieval.screening import screen_text
from retrieval.types import DocumentMeta
from tests.kb_fixtures import SHENZHEN_V1, SHENZHEN_V2


def passages(text: str):
    cleaned, _ = screen_text(clean_text(text)[0])
    return [(c.section, c.text) for c in chunk_document(DocumentMeta("x", "t", "深圳市"), cleaned)]


def test_changed_amount_and_dates_old_to_new_with_the_clause():
    diff = fact_diff.diff(passages(SHENZHEN_V1), passages(SHENZHEN_V2))
    assert not diff.cosmetic
    by_pair = {pair: change for change in diff.changes for pair in change.pairs}
    amount = by_pair[("500元", "800元")]
    assert amount.clause.startswith("三、补贴标准")
    assert "全日托婴幼儿按每人每月800元" in amount.new_sentence and "500元" in amount.old_sentence
    assert amount.kinds == ("amount",)
    assert ("2025年4月1日", "2026年2月1日") in by_pair
    assert by_pair[("2025年4月1日", "2026年2月1日")].clause == "六、附则"
    # The unchanged amounts are not reported.
    assert all("250元" not in pair for pair in by_pair)


def test_cosmetic_changes_are_not_news():
    noisy = (
        SHENZHEN_V1.replace("，", "， ").replace("\n", "\n\n").replace("500", "５００")
        + "\n【打印本页】【关闭窗口】\n首页 > 政务公开 > 政策文件\n"
    )
    diff = fact_diff.diff(passages(SHENZHEN_V1), passages(noisy))
    assert diff.cosmetic, diff


def test_rewording_keeping_the_facts_is_cosmetic_but_a_new_fact_is_not():
    old = [(("三、补贴标准",), "全日托婴幼儿按每人每月500元的标准发放托育服务补贴。")]
    reworded = [(("三、补贴标准",), "全日托的婴幼儿，按照每人每月500元的标准发放托育补贴。")]
    assert fact_diff.diff(old, reworded).cosmetic
    added = [*old, (("三、补贴标准",), "双胞胎家庭每月另加300元。")]
    diff = fact_diff.diff(old, added)
    assert [s.text for s in diff.added] == ["双胞胎家庭每月另加300元。"]
    removed = fact_diff.diff(added, old)
    assert [s.text for s in removed.removed] == ["双胞胎家庭每月另加300元。"]


def test_percentages_counts_and_clause_markers():
    old = [(("二、标准",), "（二）减免保育费的50%，最多12个月。")]
    new = [(("二、标准",), "（二）减免保育费的60%，最多18个月。")]
    [change] = fact_diff.diff(old, new).changes
    assert change.pairs == (("50%", "60%"), ("12个月", "18个月"))
    assert change.clause == "二、标准(二)"
    assert set(change.kinds) == {"percentage", "count"}


def test_headline_facts_of_a_new_document():
    found = fact_diff.headline_facts(passages(SHENZHEN_V1))
    assert found[0][1].startswith("（一）全日托婴幼儿按每人每月500元")
    assert len(found) == 3
