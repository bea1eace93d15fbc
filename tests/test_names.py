"""Questions that ask what something is called (叫什么名字, 哪一家托育点, "what is it called") are answered by a
proper name the passage gives, and refused when it only names the category (示范性婴幼儿照护机构)."""

from __future__ import annotations

import pytest

from retrieval.names import best_name, names_in

DIGITAL = ("5.结合“浙有善育”系统探索“医育结合”全托育数字化服务,建设完成“医呼通”智慧婴育数字化系统,"
           "实现社区养育、托育服务、行业监管、机构补助等")
EXAMPLES = "如温岭的曙光狮村级养育小组活动基地、路桥的康宝托育村级驿站、玉环的小柚子托育村级驿站、椒江的村级养育照护驿站等等。"


def test_a_quoted_name_is_one_when_what_it_names_follows_it():
    found = dict(names_in(DIGITAL))
    assert set(found) == {"“浙有善育”", "“医育结合”", "“医呼通”"}
    assert found["“医呼通”"] == "“医呼通”智慧婴育数字化系统", "up to the first word saying what it names"
    assert names_in("打通托育服务“最后一百米”,提供群众家门口服务") == [], "a slogan names nothing"
    assert names_in(DIGITAL, known=("医呼通",)) and "“医呼通”" not in dict(names_in(DIGITAL, known=("医呼通",)))


def test_names_quoted_one_after_another_are_answered_together():
    text = "打造“省心入托”“安心在托”“用心监管”三大“一件事”应用场景,全市共建成8家"
    assert best_name(text, "三大“一件事”应用场景分别叫什么？", known=("一件事",)) == "“省心入托”“安心在托”“用心监管”"


def test_the_name_that_fits_the_question_is_chosen():
    assert best_name(DIGITAL, "北仑的托育数字化系统叫什么名字？") == "“医呼通”"
    assert best_name(EXAMPLES, "温岭那个村级养育小组活动基地叫啥名字？") == "曙光狮村级养育小组活动基地"
    assert best_name(EXAMPLES, "玉环那边村里的托育驿站叫什么名字？") == "小柚子托育村级驿站"
    assert best_name("由政府提供场地设立托育服务两岸融合展厅,布设两岸托育融合服务", "展示两岸托育特色的地方叫什么？") == (
        "托育服务两岸融合展厅")
    assert best_name("打造市级示范托育机构,即厦门市托育综合实践示范园(以下简称示范园)", "厦门那个市级的示范托育机构叫什么") == (
        "厦门市托育综合实践示范园")
    # An English question is matched by the document words of its own words.
    mechanism = "服务优质的托育服务“五四三”工作机制,实施“数字托育”建设打造“省心入托”三大应用场景"
    assert best_name(mechanism, "What is the name of the working mechanism?", topic=("工作机制",)) == "“五四三”"


def test_a_category_is_no_name():
    assert names_in("高新区管委会、各县区政府要各建设1所具有一定指导功能的示范性婴幼儿照护机构") == []
    assert names_in("4月19日,路桥成功发放全国第一张合规注册并备案的家庭托育点牌照") == []


def test_a_title_is_a_name_only_when_a_document_is_asked_about():
    text = "你们提出的关于《关于加快发展0-3岁婴幼儿托育服务的建议》的提案收悉。"
    assert best_name(text, "那份提案，题目叫什么？") == "关于加快发展0-3岁婴幼儿托育服务的建议"
    assert names_in(text, "托育点叫什么名字") == []


@pytest.mark.parametrize(
    "question",
    [
        "大庆的示范性婴幼儿照护机构有哪几家，叫什么名字？",
        "路桥发出的全国第一张家庭托育点牌照，是发给了哪一家托育点？",
        "厦门给普惠托育机构配的安全保障服务包，是哪家安保公司来做的？",
    ],
)
def test_a_name_the_documents_do_not_give_is_said_to_be_missing(policy_service, question):
    answer = policy_service.ask(question, use_llm=False)
    assert not answer.answered and answer.reason == "not_stated"


def test_a_document_asked_for_is_named_by_its_title_only():
    text = "根据《苏州市普惠托育服务发展示范项目实施方案》,依托“苏周到”“健康苏州掌上行”等平台"
    assert best_name(text, "上位依据是苏州的哪份文件？") == "苏州市普惠托育服务发展示范项目实施方案"
    assert "“苏周到”“健康苏州掌上行”" not in dict(names_in(text, "上位依据是苏州的哪份文件？"))


def test_which_places_are_answered_only_by_names_of_places():
    from retrieval.names import names_in

    text = "建立健全托育服务“五四三”工作机制,评定星级托育服务机构24家。"
    assert names_in(text, "台州那个工作机制叫什么？")
    assert names_in(text, "台州评定的24家星级托育服务机构，五星级的是哪几家？") == []
    example = "如温岭的曙光狮村级养育小组活动基地、路桥的康宝托育村级驿站等。"
    assert names_in(example, "温岭的是哪一家？")
    assert names_in("市、县两级统一全面成立托育服务指导中心。", "五星级的是哪几家？") == []
    assert names_in("打造市级示范托育机构,即厦门市托育综合实践示范园。", "厦门示范的是哪一家？")
