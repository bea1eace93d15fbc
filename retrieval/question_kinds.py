"""What kind of fact a question asks for (`detect_all`): an amount, a count, a date, the responsible unit…

`retrieval.answer_type` checks whether a text states a fact of the kind and finds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.counted import asked_classifier

AMOUNT = "amount"
COUNT = "count"
PERCENTAGE = "percentage"
RATIO = "ratio"  # one group to another: 保育人员与婴幼儿的比例 1:3 (not a share such as 30%)
DURATION = "duration"
DATE = "date"
CLOCK = "clock"  # a time of day: opening hours, 几点
PLACE = "place"
UNIT = "unit"  # the responsible unit / department / body
NAME = "name"  # what something is called: “医呼通”, 曙光狮村级养育小组活动基地
AGE = "age"  # how old the children are: 2至3岁, 6-12个月
CONDITION = "condition"  # who qualifies, what must be met: 从业人员应符合…从业条件
AREA = "area"  # a floor area: 不少于200平方米
DOC_NUMBER = "doc_number"  # the number of a document a passage cites: 黑政办规〔2020〕24号
PROCEDURE = "procedure"
CONTACT = "contact"
YES_NO = "yes_no"
OTHER = "other"

# Kinds whose fact is a specific value: a passage without such a value does not answer.
SPECIFIC = frozenset(
    {AMOUNT, COUNT, PERCENTAGE, RATIO, DURATION, DATE, CLOCK, PLACE, UNIT, NAME, AGE, CONDITION, AREA, DOC_NUMBER, PROCEDURE,
     CONTACT}
)

# People who look after children, and children: "the ratio of one to the other" is a staffing ratio (1:3), a
# different fact from a share (占比 30%), so a share must not answer it.
_CARERS = r"(?:保育人员|保育员|保育师|照护人员|育婴员|教师|老师|工作人员|从业人员|人员|员工|师资)"
_CHILDREN = r"(?:婴幼儿|幼儿|儿童|孩子|宝宝|小孩|娃)"
_RATIO_WORD = r"(?:的)?(?:比例|配比|之比|比)"
_RATIO_QUESTION = re.compile(
    rf"{_CARERS}[^，。？?]{{0,4}}(?:和|与|跟|同|对)[^，。？?]{{0,6}}{_CHILDREN}{_RATIO_WORD}|"
    rf"{_CHILDREN}[^，。？?]{{0,4}}(?:和|与|跟|同|对)[^，。？?]{{0,6}}{_CARERS}{_RATIO_WORD}|"
    r"师生比|师幼比|生师比|师童比|保教比|人员配比|配备比例|几比几|\bratio\b|how many (?:children|babies|infants|kids) "
    r"(?:per|for each|to one) (?:carer|caregiver|teacher|staff)",
    re.I,
)

# "几个小时", "多少个月": a length of time, not a count of things.
_NOT_TIME = r"(?!小时|月|星期|钟头|工作日)"

# Question patterns, tried in this order (the first that matches decides).
_QUESTION_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # The contact itself (电话是多少, 联系方式), not whether a hotline exists or who runs it (有没有开通热线).
    # A document's number (its own is answered from the catalog before: this is one a passage cites).
    (DOC_NUMBER, re.compile(r"文号|发文字号|发文号|document number|reference number", re.I)),
    (CONTACT, re.compile(r"(?:电话|热线|号码)(?:号码)?(?:是|打)?(?:多少|几号|什么|啥)|(?:电话|热线)[？?]?$|打(?:什么|哪个)电话|拨打|"
                         r"联系方式|联系电话|怎么联系|怎样联系|邮箱|网址|网站|官网|公众号|小程序|咨询号码|"
                         r"(?:phone|hotline|telephone) number|what(?:'s| is) the (?:phone|hotline|number)|\bcall\b|contact|"
                         r"e-?mail|website|\bapp\b", re.I)),
    (RATIO, _RATIO_QUESTION),
    (AREA, re.compile(r"多大(?:的)?面积|面积(?:是|有|要)?(?:多大|多少)|多少平(?:方米|米|方)?|几平(?:方米|米)?|"
                      r"\b(?:how many square (?:metres|meters)|how (?:big|large) (?:an? )?(?:area|space)|floor area)\b", re.I)),
    (PERCENTAGE, re.compile(r"比例|占比|百分之|百分比|几成|覆盖率|占[^，。？?]{0,12}(?:多少|几)|的多少[？?]?$|率[^，。？?]{0,6}(?:多少|多高|几)|多大比例|"
                            r"what (?:share|percentage|proportion|fraction)|what percent|how many percent|\brate\b", re.I)),
    (CLOCK, re.compile(r"几点|开放时间|营业时间|服务时间|接送时间|开门|关门|what time|opening (?:hours|times)|"
                       r"\bopen(?:s|ing)? (?:at|until|from)\b", re.I)),
    # How old the children are (收多大的孩子, 几岁能入托, 多少月龄), not a share or a size (多大比例, 多大面积).
    (AGE, re.compile(r"几岁|几周岁|多大的?(?:孩子|宝宝|婴幼儿|幼儿|娃|小孩|儿童|婴儿)|多少月龄|月龄(?:多大|多少|是多少)|"
                     r"几个月(?:大)?的?(?:孩子|宝宝|婴幼儿|婴儿|娃)|满几个月|年龄(?:段|范围|要求)?(?:是|有)?(?:多少|多大|什么|哪些)|(?:哪个|哪一个|什么)(?:年龄段|月龄段)|"
                     r"\bwhat ages?\b|\bhow old\b|\bage (?:range|band|group|limit)s?\b|\bfrom what age\b", re.I)),
    (DATE, re.compile(r"什么时候|甚么时候|何时|有效期|哪年|哪一年|几月|几号|哪天|哪一天|哪个月|哪一个月|什么日期|哪个日期|截止|到期|期限|when\b|what year|which year|(?:what|which) (?:date|day|month)\b|"
                      r"deadline|by when|until when|expire", re.I)),
    (DURATION, re.compile(r"几天|多少天|多久|多长时间|几个月|多少个月|几年|多少年|几周|几个?小时|多少个?小时|几个?钟头|多少个?工作日|几个?工作日|多少个?[学课]时|几个?[学课]时|"
                          r"how long|how many (?:days|months|years|weeks|hours|working days)", re.I)),
    (AMOUNT, re.compile(r"多少钱|多少元|几元|几块钱|(?<!哪)几块(?![\u4e00-\u9fff])|金额|收费(?:标准)?(?:是)?多少|(?:补贴|补助|奖补|奖金|奖励|减免|租金|房租|费用?|保费|工资|薪酬|"
                        r"资金|投资|投入|收费|价格|便宜|贵|钱)[^，。？?]{0,8}(?:多少|几|最高|最多)(?![名个家人所项次件张种批])|(?:多少|最高|最多)[^，。？?]{0,6}"
                        r"(?:补贴|补助|奖补|减免|租金|费|钱|投资)|how much|what (?:fee|price|subsidy|amount)|cost", re.I)),
    (COUNT, re.compile(rf"多少(?:个{_NOT_TIME}|家|名|人|所|项|处|张|件|次|人次|种|班|场|托位|床)|(?<!哪)几(?:个{_NOT_TIME}|家|名|位|所|项|处|张|件|次|场|种|类|批)|"
                       r"how many|number of", re.I)),
    (UNIT, re.compile(r"哪个部门|哪些部门|什么部门|哪个单位|哪家单位|什么单位|哪些单位|(?:责任|牵头|配合)(?:单位|部门)|谁负责|谁牵头|谁来|牵头|主管|归谁|归哪|哪家医院|哪个医院|哪(?:个|家|所)?派出所|哪(?:一)?家(?:[\u4e00-\u9fff]{0,2})(?:公司|企业|银行|集团)|"
                      r"向哪|找谁|去哪(?:个|儿|里)?(?:部门|登记|备案|申请|办)|哪个机构|which (?:[a-z]+ ){0,2}(?:department|authority|agency|body|"
                      r"office|unit|hospital|bureau|organi[sz]ation)s?\b|who (?:is responsible|leads|runs|handles|approves|gives|provides|offers|"
                      r"supports|backs|organi[sz]es|carries out|is in charge)|where do(?:es)? .* register", re.I)),
    # What something is called, or which one of a kind of place (哪一家托育点): its proper name.
    (NAME, re.compile(r"叫什么|叫啥|什么名字|啥名字|名字(?:叫|是)|名称(?:叫|是)|称作什么|称为什么|哪份(?:文件|方案|意见|通知|办法)|什么文件|"
                      r"哪(?:一|几)?家(?=[^，。？?]{0,4}(?:托育点|驿站|托儿所|托育园|托育机构|示范园|服务点|小站))|"
                      r"(?<!单位)(?<!部门)是哪[一几]?家(?=[？?]|$)|"
                      r"what(?:'s| is| are| was)(?: it| they| this| that| the [a-z' -]{1,40}?)? called|what(?:'s| is) the name",
                      re.I)),
    (PLACE, re.compile(r"在哪(?![年一天个类种]|方面)|哪里|哪儿|什么地方|哪个区|哪个园|哪个幼儿园|哪个街道|地址|位置|设在|where\b|which (?:district|kindergarten|"
                       r"address|place)", re.I)),
    # Who qualifies or what must be met (需要什么条件, 哪些家庭才算, eligible): a passage that only names the
    # topic (建立星级评定标准, 困境婴幼儿) does not say it.
    (CONDITION, re.compile(r"(?:哪些|什么|啥|哪方面的?)(?:具体)?(?:条件|资格)|满足哪些|要满足什么|才(?:能)?算|算不算|"
                           r"\b(?:eligib\w*|qualif(?:y|ies|ied)|what conditions|which conditions|requirements? (?:to|for))\b", re.I)),
    (PROCEDURE, re.compile(r"怎么申请|如何申请|怎么报名|如何报名|怎么办理|如何办理|怎么预约|如何预约|怎么登录|如何登录|流程|手续|"
                           r"哪些材料|什么材料|准备什么|提交什么|步骤|how (?:do|can) i (?:apply|register|sign up|book|log ?in)|"
                           r"how to (?:apply|register|book)|what documents|which documents", re.I)),
    (YES_NO, re.compile(r"有没有|能不能|可不可以|可以|会不会|是不是|是否|吗[？?]?$|(?:^|[.!?;]\s+)(?:is|are|does|do|can|could|will|may|should|has|have)\b", re.I)),
]


@dataclass(frozen=True)
class AnswerType:
    """The kind of fact asked for."""

    kind: str

    @property
    def specific(self) -> bool:
        """True when only a passage stating a value of this kind answers."""
        return self.kind in SPECIFIC


def detect(question: str) -> AnswerType:
    """The main kind of fact `question` asks for (OTHER when it is an open question)."""
    kinds = detect_all(question)
    return AnswerType(kinds[0] if kinds else OTHER)


_ASKS_BASIS = re.compile(r"(?:按|根据|依据|凭)(?:[^，。？?]{0,6}的)?什么(?!时候|比例|价|标准|费|金额)|看什么(?:来)?(?:定|算)|based on what|"
                         r"what (?:is|are) (?:it|they) based on", re.I)
_NAMES_A_RATE = re.compile(r"[率]|满意度|知晓度|覆盖面|占比|比例")
_INDEFINITE = re.compile(r"好几|十几|几十|几百|几千|几万|(?<=[那这])几")  # 那几位委员: "those few", no question
_HOW_MANY_OF_TIME = re.compile(r"how many (?:working )?(?:days|months|years|weeks|hours)", re.I)


def detect_all(question: str) -> list[str]:
    """Every kind of fact `question` asks for, main one first (`在哪个区？什么时候开园？` asks for two)."""
    # "按什么来算比例": what it is based on, not a figure (another part of the question may still ask one).
    if _ASKS_BASIS.search(question):
        question = "，".join(part for part in re.split(r"[？?，,。；;]", question) if not _ASKS_BASIS.search(part))
    question = _INDEFINITE.sub("若干", question)  # 好几个, 十几年: "several", not a question
    kinds = [kind for kind, pattern in _QUESTION_PATTERNS if pattern.search(question)]
    if COUNT in kinds and PERCENTAGE in kinds and asked_classifier(question):
        kinds.remove(PERCENTAGE)  # "占了多少个": a count of the part
    if not kinds and "多少" in question:
        kinds = [PERCENTAGE if _NAMES_A_RATE.search(question) else COUNT]  # 签约指导率…目标值是多少: a share
    if DOC_NUMBER in kinds:  # "文号是多少": a number, but no count
        kinds = [kind for kind in kinds if kind not in (COUNT, PERCENTAGE)]
    if AREA in kinds:  # "多少平方米": a floor area, not a count
        kinds = [kind for kind in kinds if kind != COUNT]
    if AGE in kinds:  # "几个月大的宝宝": an age, not a length of time or a count
        kinds = [kind for kind in kinds if kind not in (DURATION, COUNT, YES_NO)]
    if DURATION in kinds and COUNT in kinds and _HOW_MANY_OF_TIME.search(question):
        kinds.remove(COUNT)  # "how many working days": a duration, not a count of things
    if RATIO in kinds:  # "保育人员和婴幼儿比例", "how many babies per carer": 1:3, which no share or count answers
        kinds = [kind for kind in kinds if kind not in (PERCENTAGE, COUNT)]
    if UNIT in kinds and PLACE in kinds:
        kinds.remove(PLACE)  # "where do I register" asks for the office, not an address
    return kinds
