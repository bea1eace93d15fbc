"""Texts of policy answers (Chinese default, English): direct answers, refusals with their reasons."""

from __future__ import annotations

from bot.texts import register_texts

POLICY_TEXTS: dict[str, dict[str, str]] = {
    "policy_answer": {"zh": "答：{fact}", "en": "Answer: {fact}"},
    "policy_answer_about": {"zh": "答：{fact}（{city}）", "en": "Answer: {fact} ({city})"},
    "policy_gist": {"zh": "{label}", "en": "About: {label}"},
    "policy_intro": {"zh": "{city}的政策文件这样写：", "en": "The policy documents of {city} say:"},
    "policy_source": {"zh": "— 出处：《{title}》{section}", "en": "— Source: 《{title}》 {section}"},
    "policy_footer": {
        "zh": "以上摘自政策原文，以当地主管部门解释为准。",
        "en": "Quoted from the policy text (in Chinese); the local authority's reading prevails.",
    },
    "policy_more_sources": {"zh": "更多出处见下方按钮。", "en": "More sources: buttons below."},
    "policy_not_stated": {
        "zh": "《{title}》提到了这件事，但没有写明{missing}。文件原文：",
        "en": "《{title}》 mentions this but does not state {missing}. What it says:",
    },
    "policy_not_stated_after": {
        "zh": "{missing}请咨询当地卫生健康部门。",
        "en": "For {missing}, please ask the local health department (卫生健康委).",
    },
    "policy_out_of_scope": {
        "zh": (
            "这是国家层面的政策问题。我的知识库只有地方政策文件（{covered}），没有国家层面的文件，不能替国家规定作答。"
            "请查阅国家卫生健康委等部门的官方发布。"
        ),
        "en": (
            "That is a question about national rules. My knowledge base holds local policy documents only "
            "({covered}), no national document, so I can't answer it. Please check the national authorities' "
            "official publications."
        ),
    },
    "policy_no_documents_nearby": {
        "zh": "抱歉，我没有{places}的政策文件。我有{nearby}的文件，但那不适用于{places}，所以不引用它的规定。现有文件覆盖：{covered}。",
        "en": (
            "Sorry, I have no policy document for {places}. I do have {nearby}'s, but it does not apply to "
            "{places}, so I won't quote its rules. My documents cover: {covered}."
        ),
    },
    "missing_amount": {"zh": "具体金额", "en": "the amount"},
    "missing_count": {"zh": "具体数量", "en": "the number"},
    "missing_percentage": {"zh": "具体比例", "en": "the percentage"},
    "missing_duration": {"zh": "具体时长", "en": "how long"},
    "missing_date": {"zh": "具体时间", "en": "the date"},
    "missing_place": {"zh": "具体地点", "en": "the place"},
    "missing_unit": {"zh": "负责的部门或单位", "en": "the responsible department"},
    "missing_procedure": {"zh": "办理流程和所需材料", "en": "the procedure and documents needed"},
    "missing_contact": {"zh": "联系方式", "en": "the contact details"},
}

register_texts(POLICY_TEXTS)
