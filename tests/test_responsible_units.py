"""The note closing an item of a plan, (责任部门:…), names who carries out every sentence of that item.

The items of a plan stand on lines of their own, as in the documents."""

from __future__ import annotations

import pytest

from retrieval.units import quotable_units, responsible_units, with_responsible_notes, without_note

ITEM = (
    "18.落实优惠政策。婴幼儿照护服务机构用电、用水、用气实行居民价格。"
    "协调和争取地方金融机构和金融平台的借款和低息贷款扶持,为婴幼儿照护机构提供资金支持。"
    "(责任部门:市发改委、市财政局、市税务局、市金融办)\n"
    "19.支持社会力量发展普惠托育服务。积极组织普惠托育服务专项行动的项目申报。(责任部门:市卫健委)\n"
    "20.下一条还没有写完它的说明"
)


def test_every_sentence_of_an_item_carries_its_note_and_no_other():
    noted = with_responsible_notes(quotable_units(ITEM))
    loans = next(unit for unit in noted if "低息贷款" in unit)
    assert responsible_units(loans) == "市发改委、市财政局、市税务局、市金融办"
    assert responsible_units(next(unit for unit in noted if "居民价格" in unit)) == responsible_units(loans)
    assert responsible_units(next(unit for unit in noted if "项目申报" in unit)) == "市卫健委"
    assert responsible_units(next(unit for unit in noted if "20." in unit)) == "", "its note is not in the passage"
    assert not any(unit.startswith("(责任部门") for unit in noted), "a note is never a unit of its own then"
    for unit in noted:  # verbatim pieces: "…" marks the sentences between a sentence and its note
        assert all(piece in ITEM for piece in unit.split("…")), unit
    assert "…" in next(unit for unit in noted if "居民价格" in unit)
    assert "…" not in loans, "the sentence right before its note is quoted with it as it stands"


def test_a_short_note_is_not_glued_to_the_next_items_heading():
    units = quotable_units(ITEM)
    assert "(责任部门:市卫健委)" in units


def test_without_a_note_nothing_changes():
    units = quotable_units("一、总体要求。到2025年,全市每千人口拥有3岁以下婴幼儿托位数达到4.5个。")
    assert with_responsible_notes(units) == units
    assert responsible_units(units[0]) == "" and without_note(units[0]) == units[0]


def test_the_label_of_a_note_is_not_what_the_sentence_says():
    unit = "协调低息贷款扶持。(责任部门:市金融办)"
    assert without_note(unit) == "协调低息贷款扶持。"
    assert without_note("协调低息贷款扶持。…(责任部门:市金融办)") == "协调低息贷款扶持。"


@pytest.mark.parametrize(
    ("question", "fact", "not_fact"),
    [
        # The sentence names no body: the item's note answers (before: "the document does not say").
        ("大庆哪个部门负责协调低息贷款？", "市金融办", None),
        ("Which Daqing office is listed for lining up low-interest loans for childcare centres?", "市金融办", None),
        ("Which departments are responsible for Xiamen's community childcare service points?", "市卫健委", None),
        ("Which Daqing department is listed first for putting childcare facilities into new housing estates?",
         "市自然资源局", None),
        # The sentence names the body doing what was asked: that body, not the item's note.
        ("大庆的托育机构向哪个部门备案？", "县级卫生健康部门", "市委编办"),
    ],
)
def test_who_is_responsible_is_answered_from_the_note(policy_service, question, fact, not_fact):
    answer = policy_service.ask(question, use_llm=False)
    assert answer.answered, answer.reason
    assert fact in answer.fact
    assert not_fact is None or not_fact not in answer.fact
    assert answer.fact in answer.quotes[0].text, "the fact stands in the quote, verbatim"


def test_a_unit_inside_a_documents_title_is_no_answer():
    from retrieval import answer_type as at

    text = "根据《省卫生健康委等关于印发普惠托育基本公共服务试点工作方案(试行)的通知》精神要求,结合实际,特制定本实施方案"
    assert at.extract(at.UNIT, text) == ""
    assert at.extract(at.UNIT, "《通知》印发后,由县级卫生健康部门负责") == "县级卫生健康部门"


def test_the_bodies_a_sentence_names_answer_before_its_items_note(policy_service):
    answer = policy_service.ask(
        "Who will Xiamen lean on to spread the word about childcare and parenting — which organisations are named?",
        use_llm=False)
    assert answer.answered and "计生协会" in answer.quotes[0].text
    assert answer.fact in ("卫健部门", "卫健部门、计生协会、托育机构"), answer.fact


def test_whether_a_body_is_responsible_is_answered_with_the_note_naming_it(policy_service):
    answer = policy_service.ask("百湖之城在社区里提供托育服务这件事，农业农村局也有责任吗？", use_llm=False)
    assert answer.answered and answer.cities == ["大庆市"], "百湖之城 is Daqing"
    assert "市农业农村局" in answer.quotes[0].text and "社区" in answer.quotes[0].text
