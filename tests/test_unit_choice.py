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


def test_an_open_question_quotes_its_sentence_with_the_one_after_it():
    """"除了照护孩子，还要做什么研究": the chosen sentence names the class; the next says what research."""
    passage = ("2.开展0-3岁特殊儿童托育服务支持专项。依托市妇幼保健院开设特殊儿童托育实验班,提供专业化多模式照护服务。"
               "在实验班开展特殊儿童托育标准研究,制定0-3岁特殊儿童托育服务规范。(责任部门:市卫健委、市财政局)")
    question = "厦门的特殊儿童托育实验班除了照护孩子，还要做什么研究？"
    result = SearchResult(question=question, hits=[], query_terms=[], kinds=at.detect_all(question),
                          salient=[Salient("特殊儿童", 4.2), Salient("实验班", 7.3), Salient("照护", 8.3),
                                   Salient("研究", 0.5)], asked=at.asked_of(question))
    _, quote, fact = _best_unit(result, passage, "")
    assert fact == "" and "开设特殊儿童托育实验班" in quote and "标准研究" in quote
    assert "责任部门" not in quote  # a note of responsible units is never the sentence after


def test_the_sentence_after_is_never_a_note_nor_past_the_end():
    from retrieval.answer import _with_next

    units = ["开设实验班。", "开展标准研究。", "(责任部门:市卫健委)"]
    assert _with_next(units, 0) == "开设实验班。开展标准研究。"
    assert _with_next(units, 1) == "开展标准研究。"
    assert _with_next(units, 2) == "(责任部门:市卫健委)"
