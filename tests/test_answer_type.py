"""What a question asks for, and whether a sentence states it."""

from __future__ import annotations

import pytest

from retrieval import answer_type as at
from retrieval.counted import CAPACITY_FORMS, asked_classifier, asks_capacity, counted_phrase
from retrieval.money_roles import asked_money


def test_a_question_can_ask_for_two_facts():
    assert at.detect_all("示范园在哪个区？什么时候开园？") == [at.DATE, at.PLACE]
    assert at.detect_all("要在哪年之前补建？") == [at.DATE]  # 在哪年 is a year, not a place


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (at.AMOUNT, "按规定减免500元/人/月托育服务费用。", True),
        (at.AMOUNT, "按一定比例和最高限额给予相应的租金减免。", False),
        (at.DURATION, "落实产假、护理假、哺乳假等政策。", False),
        (at.DURATION, "办理时限从46个工作日缩短至2个工作日。", True),
        (at.PERCENTAGE, "三级指标: 农村托育服务平均价格占比(%); 2024年目标值: ≤30", True),
        (at.CONTACT, "提供指导评估、人员培训、管理咨询等服务。", False),
        (at.UNIT, "向机构所在地县级以上民政部门申请注册登记。", True),
        (at.DATE, "有效期至2025年12月31日。", True),
    ],
)
def test_states(kind, text, expected):
    assert at.states(kind, text) is expected


def test_a_count_must_count_what_was_asked():
    question = "家庭托育点最多可以收几个小孩？"
    # How many children a place takes: its places or a number of children answer, not a number of places run.
    assert asks_capacity(question) and asked_classifier(question) == ""
    capacity = at.Asked("", question=question, counted=("小孩", "婴幼儿", *CAPACITY_FORMS))
    assert not at.states(at.COUNT, "目前两地已建成5家家庭托育点。", capacity)
    assert at.states(at.COUNT, "示范园可提供60至100个托位数。", capacity)
    assert at.extract(at.COUNT, "示范园可提供60至100个托位数。", asked=capacity) == "60至100个"
    assert at.states(at.COUNT, "每个家庭托育点收托不超过5人。", at.asked_of(question))
    assert asked_classifier("家庭托育点有几个小孩？") == "名", "a number of children counts people"
    assert at.states(at.COUNT, "每个区提供免费场地新建普惠托育机构至少1家", at.asked_of("每个区至少几家？"))
    assert not at.states(at.COUNT, "全国第一张合规注册的牌照", at.Asked("张"))  # an ordinal is not a count


def test_extracts_the_fact_for_the_first_line():
    assert at.extract(at.AMOUNT, "按规定减免500元/人/月托育服务费用。") == "500元/人/月"
    assert at.extract(at.PERCENTAGE, "乡镇覆盖率为79%。") == "79%"
    assert at.extract(at.UNIT, "向机构所在地县级以上民政部门申请注册登记") == "民政部门"
    assert at.extract(at.DURATION, "缩短至2个工作日") == "2个工作日"


def test_a_change_reports_the_new_figure_and_thousand_alone_is_no_number():
    assert at.extract(at.DURATION, "办理时限从46个工作日缩短至2个工作日") == "2个工作日"
    assert at.extract(at.COUNT, "相关申报资料从43件缩减至18件") == "18件"
    assert at.extract(at.COUNT, "千人托位数为3.30个") == "3.30个"


def test_a_figure_with_its_unit_wins_over_a_list_number_and_respectively_gives_no_single_fact():
    assert at.extract(at.COUNT, "1.全区所有街道普惠托育服务全覆盖;\n2.全区社区平均拥有托位数达16个以上") == "达16个"
    assert at.extract(at.COUNT, "示范园可提供60至100个托位数") == "60至100个"
    assert at.extract(at.COUNT, "新增托位 480 个", strict=True) == "480 个"
    assert at.extract(at.COUNT, "2岁以下", strict=True) == ""
    assert at.extract(at.COUNT, "12班及以上规模幼儿园分别设置2个、3个、4个托大班") == ""
    assert at.extract(at.UNIT, "并同时告之举办人向县级卫生健康部门备案") == "县级卫生健康部门"


@pytest.mark.parametrize(
    "question",
    [
        "托育机构保育人员和婴幼儿比例是多少",
        "托育机构保育人员与婴幼儿的配比有什么要求？",
        "乳儿班的师幼比是多少？",
        "托小班老师和孩子的比例是几比几？",
        "婴幼儿与照护人员之比是多少",
        "What is the staff-to-child ratio in Xiamen centres?",
        "How many babies per carer may an infant class have?",
    ],
)
def test_a_carer_to_child_ratio_is_its_own_kind_not_a_share(question):
    assert at.detect_all(question) == [at.RATIO]


@pytest.mark.parametrize(
    "question",
    ["台州普惠托位占了多大比例？", "带孩子的家人里有多大比例要接受过科学育儿指导？", "北仑对托育从业人员持证率的目标是多少？"],
)
def test_a_share_of_something_stays_a_percentage(question):
    assert at.detect_all(question)[0] == at.PERCENTAGE


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("乳儿班保育人员与婴幼儿的比例不低于1:3", "不低于1:3"),
        ("托小班按1∶5配备保育人员", "1∶5"),
        ("每1比7配备一名保育人员", "1比7"),
        ("幼儿与教师之比为7:1", "7:1"),
        ("2岁以下婴幼儿托位占比达30%", ""),  # a share is not a ratio
        ("开放时间 9:30-17:00", ""),  # nor is a clock time
        ("下午13:30开始", ""),
    ],
)
def test_a_ratio_is_stated_only_as_one_to_n(text, fact):
    assert at.states(at.RATIO, text) is bool(fact)
    assert at.extract(at.RATIO, text) == fact


def test_a_sum_must_be_of_what_was_asked():
    assert asked_money("台州托育机构的普惠价格是多少") == {"price"}
    assert asked_money("张家港困境婴幼儿入托能减免多少费用？") == {"reduction", "price"}
    assert asked_money("What subsidy does Xiamen pay per infant?") == {"subsidy"}
    investment = "精心实施国家普惠托育专项补助行动第一批18个项目,1460 万元中央投资见实效"
    assert not at.states(at.AMOUNT, investment, at.Asked(money=frozenset({"price"})))
    assert at.states(at.AMOUNT, investment, at.Asked(money=frozenset({"investment"})))
    assert at.states(at.AMOUNT, "全日托平均价格1500元/月", at.Asked(money=frozenset({"price"})))
    assert at.states(at.AMOUNT, investment), "without a role asked, any sum states an amount"


def test_a_list_label_is_not_a_figure():
    row = "具体任务: 2.政策支持示范行动; 主要内容: 2.3加强特殊婴幼儿关心关爱"
    assert not at.states(at.COUNT, row) and not at.states(at.COUNT, row, at.Asked("个"))
    assert at.extract(at.COUNT, row) == ""
    assert at.states(at.COUNT, "培训并补贴保育师、育婴员数(人次); 市级: 300", at.Asked("名")), "a table cell still counts"
    assert at.extract(at.COUNT, "千人托位数: 4.5") == "4.5"


def test_hours_are_a_duration_and_people_are_counted_as_people():
    assert at.detect_all("厦门托育机构每天开放几个小时") == [at.DURATION]
    assert at.detect_all("审批要多少个工作日能办完？") == [at.DURATION]
    assert asked_classifier("一个班最多多少个孩子") == "名"
    assert asked_classifier("要建多少个托育点") == "个"
    # A people noun that only qualifies the place counted (几个儿童早期发展基地) does not make it a count of people.
    assert asked_classifier("市级要建成几个儿童早期发展基地？") == "个"
    assert asked_classifier("托育点里有几个宝宝") == "名"
    places = "新增社区普惠托育点10个,培育本土品牌连锁托育机构1家"
    assert not at.states(at.COUNT, places, at.Asked("名")) and at.extract(at.COUNT, places, asked=at.Asked("名")) == ""
    assert at.extract(at.COUNT, "建成服务中心1家,新增托育点10个", asked=at.Asked("个")) == "10个"
    assert at.states(at.COUNT, "每年培训并补贴保育师、育婴员不少于300人次", at.Asked("名"))


def test_a_word_ending_in_a_lead_character_is_no_count_and_study_hours_are_a_duration():
    blacklist = "对虐童等行为零容忍,一经发现,严格按照有关法律法规和规定,追究相关个人和直接管理人员的责任。"
    assert not at.states(at.COUNT, blacklist), "行为零容忍 states no number"
    assert at.states(at.COUNT, "托育从业人员持证率达100")
    assert at.detect_all("大庆托育机构从业人员培训要多少学时")[0] == at.DURATION


def test_a_figure_per_unit_answers_only_a_question_about_that_unit():
    per_county = "每个县(市、区)至少建成一家公办纯托育机构,新增托位600个"
    total = at.asked_of("台州有多少家托育机构")
    assert at.extract(at.COUNT, per_county, asked=total) == ""
    assert not at.states(at.COUNT, "每个县(市、区)至少建成一家公办纯托育机构", total)
    assert at.extract(at.COUNT, per_county, asked=at.asked_of("台州每个县至少有几家公办托育机构？")) == "至少建成一家"
    per_point = at.asked_of("家庭托育点最多可以收几个小孩？")  # names the unit: its per-unit figure answers
    assert at.extract(at.COUNT, "每个家庭托育点收托不超过5人", asked=per_point) == "不超过5人"
    assert at.extract(at.COUNT, per_county, asked=at.asked_of("How many centres does each county build?")) == "至少建成一家"


def test_how_often_stays_with_the_count():
    drills = "为辖区托育机构提供每季度至少一次的安全有关事项演练、培训和常态化巡检"
    assert at.extract(at.COUNT, drills) == "每季度至少一次", "a year has four quarters: 至少一次 alone would mislead"
    assert at.extract(at.COUNT, "年度新增不少于2000个普惠托位") == "不少于2000个"


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("民生实事要求新增多少个托位？", "托位"),  # after the measure word
        ("村里给带娃家庭的托育驿站大概建了多少家？", "村里给带娃家庭的托育驿站"),  # before the asking word
        ("办托育机构要交的申报材料减少到多少件？", "办托育机构要交的申报材料"),
        ("千人托位数是多少？", "千人托位数"),
        ("有多少个？", ""),  # names nothing: any count answers
    ],
)
def test_the_noun_a_count_question_counts(question, phrase):
    assert counted_phrase(question) == phrase


def test_a_figure_counts_the_noun_its_clause_names():
    places = at.asked_of("新增多少个托位", counted=("托位",))
    both = "新增16个乡镇实现托育覆盖,新增托位5200个"
    assert at.extract(at.COUNT, both, asked=places) == "5200个", "16 counts towns, not places"
    assert not at.states(at.COUNT, "新增16个乡镇实现托育覆盖", places)
    stations = at.asked_of("托育驿站建了多少家", counted=("驿站",))
    centres = "全市共建成提供规范托育服务的机构446家,全市共建成近200家村(社区)托育驿站"
    assert at.extract(at.COUNT, centres, asked=stations) == "近200家"
    # The head of a compound is its last character: 申报资料 is what 申报材料 asks about.
    papers = at.asked_of("申报材料减少到多少件", counted=("材料",))
    assert at.extract(at.COUNT, "相关申报资料从43件缩减至18件", asked=papers) == "18件"
    # A table row is one statement: its label names what its cells count.
    assert at.states(at.COUNT, "指标: 总托位数; 杨舍镇: 2730", at.asked_of("杨舍镇多少个托位", counted=("托位",)))


def test_a_checked_noun_lets_ge_take_jia():
    centre = "至少建立一家“医、防、护”三位一体儿童健康管理中心"
    checked = at.asked_of("要建几个三位一体儿童健康管理中心", counted=("中心",))
    assert at.states(at.COUNT, centre, checked) and at.extract(at.COUNT, centre, asked=checked) == "至少建立一家"
    assert not at.states(at.COUNT, centre, at.asked_of("要建几个中心")), "without the noun, 个 never takes 家"


def test_about_and_nearly_stay_with_the_count():
    assert at.extract(at.COUNT, "全市共建成近200家村(社区)托育驿站") == "近200家"
    assert at.extract(at.COUNT, "约30个") == "约30个"
    assert at.extract(at.COUNT, "附近3家托育机构") == "3家", "附近 is nearby, not nearly"


@pytest.mark.parametrize(
    "question", ["爱邻护幼服务点几点开门几点关门？", "照护驿站开放时间是几点到几点？", "What time does the centre open?"]
)
def test_a_time_of_day_is_its_own_kind(question):
    assert at.detect_all(question) == [at.CLOCK]


def test_a_time_of_day_is_stated_only_as_a_clock_time():
    assert at.extract(at.CLOCK, "服务点每天8:00-17:30开放") == "8:00-17:30"
    assert at.extract(at.CLOCK, "早上7点半开门") == "7点半"
    assert not at.states(at.CLOCK, "全日托平均价格不超过1800元/月"), "全日托 is a kind of care, not hours"
    assert not at.states(at.CLOCK, "建设婴幼儿照护驿站30家")


def test_a_contact_is_stated_only_by_the_number_or_address_itself():
    assert not at.states(at.CONTACT, "开通市级家庭教育热线"), "naming a hotline gives no way to reach it"
    assert at.extract(at.CONTACT, "联系电话:0576-88510393") == "0576-88510393"
    assert at.extract(at.CONTACT, "邮箱 tuoyu@example.cn") == "tuoyu@example.cn"


def test_a_percentage_row_is_no_count_and_a_rate_per_thousand_answers_only_a_rate():
    share_row = "项目: 社会效益指标 / 普惠托位占总托位数比例(%); 保税区 (含三个街道): ≥85"
    assert not at.states(at.COUNT, share_row, at.asked_of("保税区一共要有多少托位"))
    rate_row = "项目: 数量指标 / 每千名3岁以下婴幼儿拥有托位数(个); 市级: ≥240"
    assert not at.states(at.COUNT, rate_row, at.asked_of("保税区一共要有多少托位"))
    assert at.states(at.COUNT, rate_row, at.asked_of("每千名婴幼儿拥有多少托位"))
    assert at.extract(at.COUNT, "千人托位数为3.30个", asked=at.asked_of("台州千人托位数是多少？")) == "3.30个"


@pytest.mark.parametrize("question", ["平均价格不超过居民人均可支配收入的多少？", "普惠托位占总托位的多少"])
def test_a_part_of_a_whole_asks_a_percentage(question):
    assert at.detect_all(question)[0] == at.PERCENTAGE


def test_a_bare_figure_keeps_its_percent_sign():
    assert at.extract(at.COUNT, "入托家庭服务满意度达到95%") == "95%"


def test_a_batch_or_a_word_holding_one_is_no_figure():
    assert not at.states(at.COUNT, "新增一批社区普惠托育服务设施")
    assert at.extract(at.COUNT, "新增一批幼儿园托班,幼儿园可供普惠托班不少于30个") == "不少于30个"
    assert not at.states(at.COUNT, "托育机构设立“一件事”改革"), "一件事 names a reform"
    assert not at.states(at.COUNT, "给予一次性租金补贴")
    assert at.extract(at.COUNT, "新增2批") == "2批"


def test_of_two_figures_in_one_clause_the_one_beside_the_noun_answers():
    trainers = at.asked_of("家庭教育讲师团有多少人", counted=("讲师团",))
    assert at.extract(at.COUNT, "全市拥有县级以上家庭教育专家团15人、讲师团300人", asked=trainers) == "300人"


OVERVIEW = (
    "截至2022年7月底,全市共建成提供规范托育服务的机构446家,总托位数22015个,千人托位数为3.30个(居全省第三),"
    "乡镇覆盖率为79%。其中:普惠型托育机构353个(公办幼儿园45个,公办纯托育机构7个),普惠托位15317个,占比达70%。"
)


def test_a_part_after_qizhong_answers_only_a_question_about_that_part():
    centres = at.asked_of("台州有多少家托育机构", counted=("托育机构",))
    assert at.extract(at.COUNT, OVERVIEW, asked=centres) == "446家"
    puhui = at.asked_of("台州普惠型托育机构有多少家", counted=("托育机构",))
    assert "353个" in puhui.relevant(OVERVIEW)
    public = at.asked_of("台州公立的纯托儿所一共有几家", counted=("托儿所", "托育机构"), topic=("公立", "公办", "纯"))
    assert "公办纯托育机构7个" in public.relevant(OVERVIEW), "a qualifier only the part holds asks about it"
    english = at.asked_of("How many childcare centres are there?", counted=("托育机构", "机构"), topic=("托育",))
    assert "353" not in english.relevant(OVERVIEW), "托育 is part of the counted noun, not a qualifier"
    bracketed = "“新增托位”为5671个(其中普惠托位为4584个)"
    new_places = at.asked_of("台州新增了多少托位", counted=("托位",))
    assert at.extract(at.COUNT, bracketed, asked=new_places) == "5671个"


def test_an_increase_answers_only_a_question_about_an_increase():
    increase = "省民生实事“新增16个乡镇实现托育覆盖,新增托位5200个”"
    assert not at.states(at.COUNT, increase, at.asked_of("台州现在一共有多少个托位", counted=("托位",)))
    assert at.extract(at.COUNT, increase, asked=at.asked_of("台州新增了多少个托位", counted=("托位",))) == "5200个"
    assert at.states(at.COUNT, "新增婴幼儿照护驿站30家", at.asked_of("北仑要建多少家驿站", counted=("驿站",)))


def test_a_sum_of_money_is_no_bare_count():
    assert not at.states(at.COUNT, "在温岭、天台分别投资3000万元新建托育机构", at.asked_of("有多少家托育机构"))


def test_a_question_naming_the_kind_of_body_gets_one():
    hospital = at.asked_of("北仑的托育综合服务中心靠哪个医院来建？")
    assert at.extract(at.UNIT, "依托妇幼保健院,建设托育综合服务中心", asked=hospital) == "妇幼保健院"
    assert at.extract(at.UNIT, "建设托育综合服务中心", asked=hospital) == "", "a centre is no hospital"
    assert at.extract(at.UNIT, "建设托育综合服务中心") == "", "a centre being built carries nothing out"
    assert at.extract(at.UNIT, "托育综合服务中心负责指导") == "托育综合服务中心"


def test_a_word_naming_the_counted_noun_names_no_part():
    places = at.asked_of("How many childcare places does Taizhou have?", counted=("托位",), topic=("普惠托位",))
    assert "15317" not in places.relevant(OVERVIEW), "普惠托位 is the counted noun with a qualifier glued on"


def test_a_share_never_answers_a_question_that_counts_things():
    coverage = "千人托位数为3.30个(居全省第三),乡镇覆盖率为79%"
    townships = at.asked_of("How many townships newly got childcare coverage?", counted=("乡镇",))
    assert not at.states(at.COUNT, coverage, townships) and at.extract(at.COUNT, coverage, asked=townships) == ""
    assert at.extract(at.COUNT, "2岁以下婴幼儿托位占比达30%", asked=at.asked_of("What is the total number of places?")) == ""
    assert at.extract(at.COUNT, "乡镇覆盖率为79%", asked=at.asked_of("覆盖了几个乡镇", counted=("乡镇",))) == ""
    # A rate asked with a bare 多少 may be a share.
    satisfied = at.asked_of("家长满意度达到多少", counted=("满意度",))
    assert at.extract(at.COUNT, "家长满意度达到95%", asked=satisfied) == "95%"


def test_a_part_in_brackets_answers_a_question_naming_it():
    puhui = at.asked_of("省民生实事新增的托位里，普惠的有几个", counted=("普惠",), topic=("普惠",))
    text = "新增托位5200个(其中普惠托位3160个)"
    assert at.extract(at.COUNT, text, asked=puhui) == "3160个"
    assert at.extract(at.COUNT, text, asked=at.asked_of("新增多少个托位", counted=("托位",))) == "5200个"


@pytest.mark.parametrize("question", ["宣传月一般安排在几月份？", "是哪一天印发的？", "On what date was it issued?"])
def test_a_month_or_a_day_asked_is_not_answered_by_a_year(question):
    asked = at.asked_of(question)
    assert at.detect(question).kind == at.DATE and asked.asks_finer(at.DATE)
    assert not at.states(at.DATE, "2024年开展托育服务宣传月等系列活动", asked)
    assert at.extract(at.DATE, "2024年开展宣传月活动", asked=asked) == ""
    assert at.extract(at.DATE, "2022年3月31日,市发改委等27个部门联合印发", asked=asked) == "2022年3月31日"
    assert at.extract(at.DATE, "2024年开展宣传月活动", asked=at.asked_of("哪一年开展的？")) == "2024年"


def test_a_street_address_or_the_papers_asked_need_one_named():
    street = at.asked_of("台州市托育服务指导中心在哪条路上？")
    assert not at.states(at.PLACE, "依托妇幼机构全面成立托育服务指导中心", street)
    assert at.states(at.PLACE, "中心位于椒江区市府大道388号", street)
    papers = at.asked_of("在北仑办托一件事，需要提交哪些材料？")
    assert not at.states(at.PROCEDURE, "上线办托、入托一件事等便民服务应用场景,推进机构网上提交", papers)
    assert at.states(at.PROCEDURE, "登记、备案所需材料按照规定执行", papers)
    assert at.states(at.PROCEDURE, "上线办托一件事,推进机构网上提交", at.asked_of("北仑办托一件事怎么办理？"))


def test_a_police_station_asked_is_answered_only_by_one():
    station = at.asked_of("一键报警系统连到哪个派出所？")
    assert at.detect("一键报警系统连到哪个派出所？").kind == at.UNIT
    assert not at.states(at.UNIT, "为普惠托育机构提供一键报警系统,由市公安局负责", station)
    assert at.extract(at.UNIT, "接入辖区思明派出所", asked=station).endswith("派出所")


def test_a_quoted_name_must_be_named_where_the_fact_is_stated():
    asked = at.asked_of("台州“一老一小”整体解决方案是哪天正式印发的？")
    assert asked.named == ("一老一小",)
    other = "2022年3月31日,27个相关部门联合印发《台州市基本公共服务标准(2021年版)》"
    assert not at.states(at.DATE, other, asked)
    assert at.states(at.DATE, "2022年5月1日,“‘一老一小’整体解决方案”正式印发", asked)
    assert at.asked_of('In the "Happy Care" project, how much is paid?').named == (), "an English name is no Chinese one"


def test_a_figure_the_question_gives_is_not_its_answer():
    asked = at.asked_of("In the task of 5,200 new places, how many were affordable?", counted=("托位",), topic=("普惠",))
    assert asked.given == {"5200"}
    text = "新增托位5200个(其中普惠托位3160个)"
    assert at.extract(at.COUNT, text, asked=asked) == "3160个"
    assert not at.states(at.COUNT, "新增托位5200个", asked)


def test_a_quoted_name_may_be_recalled_loosely():
    recalled = at.asked_of("厦门用了个什么“进来出去”的办法？")
    assert recalled.names_quoted("采取“引进来、走出去”的方式培养人才")
    assert not recalled.names_quoted("鼓励高校开设托育专业")
    assert at.asked_of("没有引号的问题").names_quoted("任何文字")


def test_a_count_the_question_gives_itself_states_nothing_asked():
    text = "年度新增不少于2000个普惠托位,其中每个区提供免费场地新建普惠托育机构至少1家"
    question = "厦门每年新增不少于2000个普惠托位，分到思明区的有多少个？"
    assert not at.states(at.COUNT, text, at.asked_of(question, counted=("托位",)))
    assert at.states(at.COUNT, text, at.asked_of("厦门每年新增多少个普惠托位？", counted=("托位",)))


def test_a_date_inside_a_title_names_the_document_not_when():
    text = "2022年3月31日,市发改委等27个部门联合印发《台州市基本公共服务标准(2021年版)》。"
    assert at.extract(at.DATE, text) == "2022年3月31日"
    assert at.extract(at.DATE, "印发《台州市基本公共服务标准(2021年版)》。") == ""


def test_a_body_being_built_is_not_who_carries_the_task_out():
    built = "年内建成市托育综合服务中心1家,新增社区普惠托育点10个。"
    assert at.extract(at.UNIT, built) == ""
    assert at.extract(at.UNIT, "建立由市政府主要领导任组长的工作专班。").endswith("市政府")
    assert at.extract(at.UNIT, "由市卫生健康委牵头,建成市托育综合服务中心。") == "市卫生健康委"
    assert not at.states(at.UNIT, built) and at.states(at.UNIT, "由市卫生健康委牵头,建成市托育综合服务中心。")
