"""Every user-facing text, in Chinese (default) and English. Handlers never hard-code wording."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "start": {
        "zh": (
            "您好！我是<b>托育助手</b>，为 3 岁以下婴幼儿家庭和托育机构服务。\n\n"
            "我可以：\n"
            "• 解答普惠托育政策问题：直接发问题给我，例如“张家港困境婴幼儿能减免多少？”，"
            "我会引用政策原文并注明出处；\n"
            "• 找附近的托育机构、预约临时托/计时托：/find\n"
            "• 查看我的预约：/bookings\n"
            "• 帮托育机构办理登记和备案：/filing\n\n"
            "请问您是？"
        ),
        "en": (
            "Hello! I am <b>Childcare Assistant (托育助手)</b>, for families with children under 3 and for "
            "childcare providers.\n\n"
            "I can:\n"
            "• answer questions on affordable-childcare (普惠托育) policy — just send a question, e.g. "
            "“What fee reduction do children in difficult circumstances get in Zhangjiagang?” — quoting the "
            "policy text and naming its source;\n"
            "• find childcare nearby and book temporary or hourly care: /find\n"
            "• show my bookings: /bookings\n"
            "• walk providers through registration and filing: /filing\n\n"
            "Are you a parent or a provider?"
        ),
    },
    "btn_parent": {"zh": "我是家长", "en": "I'm a parent"},
    "btn_operator": {"zh": "我是托育机构经营者", "en": "I run a childcare centre"},
    "role_parent": {
        "zh": (
            "好的。您可以直接问政策问题，比如：\n"
            "• 厦门每年新增多少个普惠托位？\n"
            "• 张家港全日托平均多少钱一个月？\n"
            "也可以用 /find 找附近的托育机构。"
        ),
        "en": (
            "Great. Ask me a policy question, for example:\n"
            "• How many new affordable childcare places will Xiamen add every year?\n"
            "• What is the average full-day price in Zhangjiagang?\n"
            "Or use /find to look for childcare nearby."
        ),
    },
    "role_operator": {
        "zh": (
            "好的。开办托育机构需要先登记、再向县级卫生健康部门备案。用 /filing 开始，我会一步步带您准备材料。\n"
            "您也可以直接问政策问题，比如“开一家营利性的托育机构，要去哪个部门登记？”"
        ),
        "en": (
            "Great. A childcare centre registers first, then files with the county health department. "
            "Use /filing and I will walk you through the materials step by step.\n"
            "You can also ask policy questions, e.g. “Where does a for-profit childcare centre register?”"
        ),
    },
    "help": {
        "zh": (
            "<b>使用说明</b>\n"
            "• 直接输入政策问题，我从政策文件中找答案并注明出处；问题里写上城市（如厦门、张家港）更准确。"
            "追问其他城市可以说“那张家港呢？”。\n"
            "• 答案下方的“原文”按钮可查看完整条款。\n"
            "/find 找附近托育机构、预约临时托\n"
            "/bookings 我的预约\n"
            "/filing 机构登记备案指引\n"
            "/lang 切换语言 中文/English\n"
            "/help 显示本说明\n\n"
            "<b>托育机构经营者</b>：/today 当天预约，/addsession 添加临时托时段\n"
            "<b>工作人员</b>：/kb 知识库管理（也可直接发送政策文件），/roles 人员与权限"
        ),
        "en": (
            "<b>How to use</b>\n"
            "• Type a policy question; I answer from the policy documents and name the source. Naming a city "
            "(e.g. Xiamen, Zhangjiagang) helps. Ask “what about Xiamen?” to switch city.\n"
            "• The “Source” buttons under an answer show the full clause.\n"
            "/find find childcare nearby, book temporary care\n"
            "/bookings my bookings\n"
            "/filing registration and filing guide for providers\n"
            "/lang switch language 中文/English\n"
            "/help show this help\n\n"
            "<b>Centre operators</b>: /today the day's bookings, /addsession add a temporary-care session\n"
            "<b>Staff</b>: /kb knowledge base (or just send a policy file), /roles people and roles"
        ),
    },
    "lang_choose": {"zh": "请选择语言 / Choose a language:", "en": "Choose a language / 请选择语言:"},
    "lang_set": {"zh": "已切换为中文。", "en": "Language set to English."},
    "answer_intro_city": {"zh": "根据{cities}的政策文件：", "en": "From the policy documents of {cities}:"},
    "answer_differs": {
        "zh": "您没有说明城市，各地规定不同，以下分别列出{cities}的文件内容：",
        "en": "You did not name a city and the rules differ by city; here is what the documents of {cities} say:",
    },
    "answer_source": {"zh": "出处：《{title}》{section}", "en": "Source: 《{title}》 {section}"},
    "answer_followup": {"zh": "（按“{question}”理解）", "en": "(understood as “{question}”)"},
    "answer_footer": {
        "zh": "以上为政策原文摘录，具体以当地主管部门解释为准。",
        "en": "Quoted from the policy text (in Chinese); the local authority's reading prevails.",
    },
    "not_found": {
        "zh": (
            "抱歉，我在现有的政策文件里没有找到这个问题的答案，不想猜测。\n"
            "您可以：换个说法再问一次（写明城市和具体事项），或咨询当地卫生健康部门。"
        ),
        "en": (
            "Sorry, I did not find an answer to this in my policy documents, and I won't guess.\n"
            "You can rephrase (name the city and the specific matter), or ask your local health department "
            "(卫生健康委)."
        ),
    },
    "no_documents_for_place": {
        "zh": (
            "抱歉，我目前没有{places}的政策文件，无法回答。现有文件覆盖：{covered}。\n"
            "建议咨询{places}当地卫生健康部门。"
        ),
        "en": (
            "Sorry, I have no policy documents for {places}, so I can't answer. My documents cover: {covered}.\n"
            "Please ask the local health department of {places}."
        ),
    },
    "btn_source": {"zh": "原文 {n}", "en": "Source {n}"},
    "source_full": {
        "zh": "<b>《{title}》</b>\n{meta}\n<b>{section}</b>\n\n{text}",
        "en": "<b>《{title}》</b>\n{meta}\n<b>{section}</b>\n\n{text}",
    },
    "source_meta": {"zh": "{city}｜{issuer}｜{date}{number}", "en": "{city} | {issuer} | {date}{number}"},
    "source_gone": {
        "zh": "这段原文已更新或下线，请重新提问。",
        "en": "This passage has been updated or retired; please ask again.",
    },
    "stale_button": {
        "zh": "这个按钮已失效，请重新操作。",
        "en": "This button has expired; please start again.",
    },
    "unknown_command": {
        "zh": "没有这个命令。可用的命令见 /help。",
        "en": "I don't know that command. See /help for what I can do.",
    },
    "unsupported_message": {
        "zh": "我暂时只能看懂文字消息和位置。请直接输入您的问题，或用 /help 查看用法。",
        "en": "I can only read text messages and locations here. Type your question, or see /help.",
    },
    "too_long": {
        "zh": "问题太长了（超过 {limit} 字），我只看了前面一部分。",
        "en": "Your question is very long (over {limit} characters); I only read the first part.",
    },
    "empty_question": {
        "zh": "请输入具体的问题，例如“厦门对乳儿班有没有奖补？”",
        "en": "Please type a question, e.g. “Does Xiamen subsidise infant classes?”",
    },
    "coming_soon": {
        "zh": "这个功能正在建设中，敬请期待。现在您可以直接问政策问题。",
        "en": "This feature is coming soon. Meanwhile you can ask policy questions.",
    },
    "error": {
        "zh": "抱歉，处理时出了点问题，请稍后再试。您的消息没有丢失，可以重新发送。",
        "en": "Sorry, something went wrong on my side. Please try again in a moment.",
    },
    "db_busy": {
        "zh": "系统繁忙，请稍后再试。已完成的预约和资料不会丢失。",
        "en": "The system is busy right now, please try again in a moment. Nothing you completed is lost.",
    },
    "busy_loading": {
        "zh": "正在加载政策知识库，请稍等几秒再问。",
        "en": "The policy knowledge base is still loading; please ask again in a few seconds.",
    },
    "private_only": {
        "zh": "这项功能涉及个人信息，只在与我的私聊中使用。请点下面的按钮打开私聊。",
        "en": "This involves personal information, so it works only in a private chat with me. Tap below to open one.",
    },
    "btn_open_private": {"zh": "打开私聊", "en": "Open private chat"},
    "cmd_start": {"zh": "开始 / 介绍", "en": "Start / introduction"},
    "cmd_help": {"zh": "使用说明", "en": "Help"},
    "cmd_lang": {"zh": "切换语言 中文/English", "en": "Language 中文/English"},
    "cmd_find": {"zh": "找附近托育机构", "en": "Find childcare nearby"},
    "cmd_bookings": {"zh": "我的预约", "en": "My bookings"},
    "cmd_filing": {"zh": "机构登记备案", "en": "Registration and filing"},
    "cmd_kb": {"zh": "知识库管理（工作人员）", "en": "Knowledge base (staff)"},
}

LIST_SEPARATOR = {"zh": "、", "en": ", "}


def register_texts(extra: dict[str, dict[str, str]]) -> None:
    """Add a flow's texts (each flow keeps its wording in its own module, e.g. `bot/texts_care.py`)."""
    clashes = set(extra) & set(TEXTS)
    if clashes:
        raise ValueError(f"text keys defined twice: {sorted(clashes)}")
    TEXTS.update(extra)


def t(key: str, lang: str = "zh", /, **values: object) -> str:
    """The text for `key` in `lang` (falling back to Chinese), with `values` filled in.

    `key` and `lang` are positional-only, so a placeholder may itself be called `key` or `lang`.
    """
    variants = TEXTS[key]
    template = variants.get(lang) or variants["zh"]
    return template.format(**values) if values else template


def join_names(names: list[str], lang: str = "zh") -> str:
    """Join names for a sentence: 厦门市、张家港市 / Xiamen, Zhangjiagang."""
    return LIST_SEPARATOR.get(lang, "、").join(names)
