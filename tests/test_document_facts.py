"""Questions about a policy document itself (its number, issuer, date) are answered from its catalog entry."""

from __future__ import annotations

import pytest

from bot.cli_policy import answer_to_contract
from retrieval.document_facts import asked_field, document_fact
from retrieval.types import DocumentMeta

XIAMEN = DocumentMeta("xiamen", "厦门市普惠托育服务发展示范项目实施方案", "厦门市", issuer="厦门市卫生健康委员会",
                      date="2024-06-17", doc_number="厦卫人口家庭〔2024〕169号")


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ("厦门这个方案的文号是多少？", "doc_number"),
        ("What is the document number of Xiamen's plan?", "doc_number"),
        ("大庆的实施方案是哪个部门印发的？", "issuer"),
        ("Who issued the Daqing plan?", "issuer"),
        ("厦门这份方案，是卫健委和哪个局联合印发的？", "issuer"),  # a joint issuer asked by its kind (局)
        ("这个方案是跟哪个委一起发的？", "issuer"),
        ("北仑的试点方案什么时候发布的？", "date"),
        ("When was Beilun's pilot plan published?", "date"),
        ("On what date did the Beilun district government office issue its pilot plan?", "date"),
        ("北仑的试点方案是哪一天正式印发的？", "date"),
        ("How many departments jointly issued Taizhou's plan?", ""),  # a count of the issuers
        ("台州有多少个部门联合印发了基本公共服务标准？", ""),
        ("大庆这个实施方案什么时候到期？", ""),  # the content's deadline, not the document's date
        ("厦门托育机构房租能减免吗？", ""),
    ],
)
def test_what_about_the_document_is_asked(question, field):
    assert asked_field(question) == field


def test_a_document_described_by_what_it_did_is_another_one():
    """"the document that turned …" is one the passages name (a standard the reply letter cites), not this one."""
    question = "When did Xiamen publish the document that turned care for under-3s into a basic public service?"
    assert asked_field(question) == "date" and document_fact(question, XIAMEN) is None
    assert document_fact("When did Xiamen publish this plan?", XIAMEN) is not None


def test_a_field_the_catalog_lacks_is_no_answer():
    assert document_fact("文号是多少", XIAMEN).value == "厦卫人口家庭〔2024〕169号"
    assert document_fact("文号是多少", DocumentMeta("x", "t", "厦门市")) is None
    assert document_fact("房租能减免吗", XIAMEN) is None


@pytest.mark.parametrize(
    ("question", "lang", "fact"),
    [
        ("厦门普惠托育示范项目方案的文号是多少？", "zh", "厦卫人口家庭〔2024〕169号"),
        ("What is the document number of Xiamen's childcare demonstration plan?", "en", "厦卫人口家庭〔2024〕169号"),
    ],
)
def test_the_document_number_is_answered_from_the_catalog(policy_service, question, lang, fact):
    answer = policy_service.ask(question, use_llm=False)
    assert answer.answered and answer.fact == fact and answer.kind == "document"
    reply = answer_to_contract(answer, ["厦门市"], lang)["answer"]
    assert reply.splitlines()[0].endswith(fact), "a document number stays as written, in English too"
    assert ("文件信息" if lang == "zh" else "the document's header") in reply


def test_a_place_without_the_question_naming_it_is_not_guessed(policy_service):
    """Which document? Without a place the question is about none of them in particular."""
    answer = policy_service.ask("这个文件的文号是多少？", use_llm=False)
    assert answer.kind != "document"


def test_a_date_reads_as_the_documents_write_it():
    assert document_fact("这个方案是哪天印发的？", XIAMEN).value == "2024年6月17日"


def test_a_question_quoting_another_documents_title_is_about_that_one():
    """The reply letter describes 《台州市基本公共服务标准》: when it was issued is in the passage, not the header."""
    taizhou = DocumentMeta("taizhou", "台州市卫生健康委关于市政协六届一次会议第2022288号提案答复的函", "台州市",
                           date="2022-09-01")
    assert document_fact("《台州市基本公共服务标准(2021年版)》是哪一天联合印发的？", taizhou) is None
    assert document_fact("台州“一老一小”整体解决方案是哪天正式印发的？", taizhou) is None
    assert document_fact("《台州市卫生健康委关于市政协六届一次会议第2022288号提案答复的函》是哪一天发布的？",
                         taizhou).value == "2022年9月1日"


def test_a_question_about_another_kind_of_document_is_not_about_this_one():
    """The 奖补细则 are still to come: when they are issued is not when the 实施方案 was."""
    assert document_fact("厦门乳儿班的激励性奖补细则什么时候出台？", XIAMEN) is None
    assert document_fact("厦门这份实施方案什么时候发布的？", XIAMEN).value == "2024年6月17日"


def test_a_front_matter_field_is_read_from_the_documents_front_matter():
    from retrieval.document_facts import header_label, header_value

    front = ["- 索 引 号:XM00123-09-11-2024-004\n- 备注/文号:厦卫人口家庭〔2024〕169号\n- 公文生成日期:2024-06-20",
             "索引号: 002668346/2022-102342; 公开方式: 主动公开"]
    assert header_label("这份方案的公文生成日期是哪天？") == "公文生成日期"
    assert header_label("What's the index number of the notice?") == "索引号"
    assert header_label("这份方案的补贴是多少？") == ""
    assert header_value("索引号", front) == "XM00123-09-11-2024-004"
    assert header_value("公开方式", front) == "主动公开"
    assert header_value("主题分类", front) == ""


def test_without_the_label_in_its_front_matter_the_catalog_answers(policy_service):
    answer = policy_service.ask("大庆这个方案的发布机构是谁？", use_llm=False)
    assert answer.answered and answer.fact == "大庆市人民政府" and answer.kind == "document"


def test_the_signing_date_is_no_issuer_question():
    assert asked_field("那份托育工作方案，落款日期是几月几号？") != "issuer"
