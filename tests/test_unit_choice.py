"""Which sentence of a passage is quoted: one that gives the fact goes before one that states the kind of fact
but singles out no figure ("分别为131%、109%"), however many of the question's words that one holds."""

from __future__ import annotations

from retrieval import answer_type as at
from retrieval.answer import UNSINGLED_SHARE, _best_unit
from retrieval.salience import Salient
from retrieval.search import SearchResult

GIVES = "其中:普惠型托育机构353个,普惠托位15317个,占比达70%。"
RESPECTIVE = "普惠托位和普惠机构两项任务的普惠完成率分别为131%、109%,普惠托位占比提高。"


def _result(question: str) -> SearchResult:
    salient = [Salient("普惠", 2.9), Salient("托位", 3.0), Salient("占比", 3.5), Salient("完成率", 4.0)]
    return SearchResult(question=question, hits=[], query_terms=[], kinds=at.detect_all(question), salient=salient,
                        asked=at.asked_of(question))


def test_a_sentence_giving_the_fact_is_quoted_before_one_that_singles_out_none():
    result = _result("台州普惠托位占比是多少？")
    _, quote, fact = _best_unit(result, GIVES + RESPECTIVE, "")
    assert fact == "70%" and quote.startswith("其中")


def test_without_the_discount_the_sentence_without_a_fact_would_win():
    """The case above can fail: the respective sentence holds more of the question's words."""
    from retrieval.salience import coverage

    salient = _result("台州普惠托位占比是多少？").salient
    assert coverage(salient, RESPECTIVE) > coverage(salient, GIVES)
    assert UNSINGLED_SHARE < 1.0
