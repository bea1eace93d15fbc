"""The number of a document another one cites is read next to its title, and only for a title the question
describes: "这份方案的文号" never gets a cited document's number."""

from __future__ import annotations

from retrieval.doc_numbers import cited_number

CITING = ("为深入贯彻落实《国务院办公厅关于促进3岁以下婴幼儿照护服务发展的指导意见》(国办发〔2019〕15号)"
          "《黑龙江省人民政府办公厅关于促进3岁以下婴幼儿照护服务发展的实施意见》(黑政办规〔2020〕24号)精神")


def test_the_number_of_the_cited_document_described():
    assert cited_number(CITING, "引用的黑龙江省政府办公厅实施意见，文号是多少？") == "黑政办规〔2020〕24号"
    assert cited_number(CITING, "国务院办公厅那份指导意见的文号") == "国办发〔2019〕15号"


def test_no_number_for_a_document_the_question_does_not_describe():
    assert cited_number(CITING, "这份方案的文号是多少？") == ""
    assert cited_number("按照有关规定执行。", "引用的黑龙江省政府办公厅实施意见，文号是多少？") == ""


def test_this_documents_own_number_is_no_cited_one(policy_service):
    answer = policy_service.ask("大庆这个方案的文号是多少？", use_llm=False)
    assert not answer.answered, "Daqing's catalog entry has no number and no cited one is this plan's"
