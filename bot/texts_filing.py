"""Texts of the registration and filing flow (/filing), Chinese (default) and English.

Facts (authorities, materials, deadlines, rules) are not here: they come from knowledge/filing.yaml.
Importing this module registers the texts (bot/handlers/filing.py imports it).
"""

from __future__ import annotations

from bot.texts import register_texts, t
from db.filing.summary import LABEL_KEYS

FILING_TEXTS: dict[str, dict[str, str]] = {
    "fl_btn_start": {"zh": "开始备案指引", "en": "Start the filing guide"},
    "fl_data_error": {
        "zh": "备案指引的数据暂时不可用（工作人员正在修正），请稍后再试。您已保存的进度不受影响。",
        "en": "The filing guide's data is unavailable right now (staff are fixing it). Please try again later; "
              "your saved progress is safe.",
    },
    "fl_choose_nature": {
        "zh": "<b>开办托育机构：第一步，登记</b>\n先选择机构的<b>法人性质</b>，它决定去哪个部门登记：\n\n{lines}\n\n"
              "拿不准？大多数民办机构选“营利性”；不分红的选“社会服务机构”。",
        "en": "<b>Opening a childcare centre — step 1: registration</b>\nChoose the centre's <b>legal nature</b>; it "
              "decides where you register:\n\n{lines}\n\nNot sure? Most private centres are “for-profit”; one that "
              "will not distribute profits is a “social-service organisation”.",
    },
    "fl_nature_line": {"zh": "• <b>{name}</b>：{explain}", "en": "• <b>{name}</b>: {explain}"},
    "fl_registration": {
        "zh": "<b>登记：{nature}</b>\n向<b>{authority}</b>申请登记，取得<b>{certificate}</b>。{unconfirmed}\n"
              "（依据：{source}）\n\n<b>业务范围</b>：{scope}\n（依据：{scope_source}）{handover}",
        "en": "<b>Registration: {nature}</b>\nRegister with <b>{authority}</b> and obtain the <b>{certificate}</b>."
              "{unconfirmed}\n(Source: {source})\n\n<b>Scope of business</b>: {scope}\n(Source: {scope_source})"
              "{handover}",
    },
    "fl_handover": {"zh": "\n\n{text}\n（依据：{source}）", "en": "\n\n{text}\n(Source: {source})"},
    "fl_unconfirmed": {"zh": "（请向当地部门确认）", "en": " (please confirm locally)"},
    "fl_checklist": {
        "zh": "<b>第二步：备案材料清单</b>\n{title}｜{nature}{city}\n进度 <b>{done}/{total}</b> ✅\n\n{lines}\n\n"
              "在{authority}备案：{system}\n点一项材料可查看说明、上传文件或标记。",
        "en": "<b>Step 2: filing checklist</b>\n{title} | {nature}{city}\nProgress <b>{done}/{total}</b> ✅\n\n"
              "{lines}\n\nFile with {authority}: {system}\nTap an item to see what it is, upload it or mark it.",
    },
    "fl_checklist_city": {"zh": "｜{city}", "en": " | {city}"},
    "fl_checklist_done": {
        "zh": "\n🎉 所有材料都已处理，可以生成备案小结了。",
        "en": "\n🎉 Every item is dealt with — you can create the summary now.",
    },
    "fl_local_notes": {"zh": "\n<b>{city}本地提示</b>\n{notes}", "en": "\n<b>Local notes for {city}</b>\n{notes}"},
    "fl_case_title": {"zh": "机构 #{id}", "en": "Centre #{id}"},
    "fl_status_uploaded": {"zh": "已上传", "en": "uploaded"},
    "fl_status_ready": {"zh": "已准备", "en": "ready"},
    "fl_status_not_applicable": {"zh": "不适用", "en": "not applicable"},
    "fl_status_missing": {"zh": "待准备", "en": "to do"},
    "fl_item_line": {"zh": "{mark} {n}. {name}（{status}{files}）", "en": "{mark} {n}. {name} ({status}{files})"},
    "fl_item_files": {"zh": "，{count} 个文件", "en": ", {count} file(s)"},
    "fl_item": {
        "zh": "<b>{name}</b>{unconfirmed}\n状态：{status}\n{files}\n{what}\n\n可上传：{types}，每个文件不超过 {max_mb} MB。\n"
              "👉 现在直接发送文件或照片，就会记入这一项。{options}",
        "en": "<b>{name}</b>{unconfirmed}\nStatus: {status}\n{files}\n{what}\n\nAccepted: {types}, up to {max_mb} MB "
              "each.\n👉 Send the file or a photo now and it is filed under this item.{options}",
    },
    "fl_item_options_ready": {
        "zh": "\n已经准备好纸质件、暂不上传？点“已准备”。",
        "en": "\nHave it on paper and don't want to upload it? Tap “Ready”.",
    },
    "fl_item_options_na": {
        "zh": "\n您的机构不需要这项？点“不适用”。",
        "en": "\nYour centre doesn't need this? Tap “Not applicable”.",
    },
    "fl_file_line": {"zh": "📎 {name}（{size}，{time}）", "en": "📎 {name} ({size}, {time})"},
    "fl_what": {
        "zh": "<b>{name} 是什么？</b>{unconfirmed}\n{what}\n\n谁需要：{who}\n依据：{source}",
        "en": "<b>What is the {name}?</b>{unconfirmed}\n{what}\n\nWho needs it: {who}\nSource: {source}",
    },
    "fl_btn_item": {"zh": "{mark} {name}", "en": "{mark} {name}"},
    "fl_btn_ready": {"zh": "✅ 已准备", "en": "✅ Ready"},
    "fl_btn_na": {"zh": "➖ 不适用", "en": "➖ Not applicable"},
    "fl_btn_what": {"zh": "❓ 这是什么", "en": "❓ What is it"},
    "fl_btn_clear": {"zh": "↩️ 撤销（改回待准备）", "en": "↩️ Undo (back to to-do)"},
    "fl_btn_back": {"zh": "⬅️ 返回清单", "en": "⬅️ Back to checklist"},
    "fl_btn_back_item": {"zh": "⬅️ 返回“{name}”", "en": "⬅️ Back to “{name}”"},
    "fl_btn_next": {"zh": "➡️ 下一项：{name}", "en": "➡️ Next: {name}"},
    "fl_btn_summary": {"zh": "📄 生成备案小结", "en": "📄 Create the summary"},
    "fl_btn_check": {"zh": "👶 班级与师资自检", "en": "👶 Class & staff self-check"},
    "fl_btn_registration": {"zh": "📋 登记指引", "en": "📋 Registration"},
    "fl_btn_nature": {"zh": "🔄 更改法人性质", "en": "🔄 Change legal nature"},
    "fl_btn_city": {"zh": "🏙 所在城市", "en": "🏙 City"},
    "fl_btn_rename": {"zh": "✏️ 机构名称", "en": "✏️ Centre name"},
    "fl_btn_cases": {"zh": "🏠 我的机构（{n}）", "en": "🏠 My centres ({n})"},
    "fl_btn_new": {"zh": "➕ 新增一家机构", "en": "➕ Add another centre"},
    "fl_btn_to_checklist": {"zh": "📋 查看备案清单", "en": "📋 Open the checklist"},
    "fl_btn_no_city": {"zh": "其他城市 / 不设置", "en": "Another city / none"},
    "fl_marked_ready": {"zh": "已标记“{name}”为已准备。", "en": "Marked “{name}” as ready."},
    "fl_marked_na": {"zh": "已标记“{name}”为不适用。", "en": "Marked “{name}” as not applicable."},
    "fl_cleared": {"zh": "“{name}”已改回待准备。", "en": "“{name}” is back to to-do."},
    "fl_not_allowed_na": {
        "zh": "“{name}”是每家机构都必须提交的材料，不能标记为不适用。",
        "en": "“{name}” is required from every centre; it cannot be marked not applicable.",
    },
    "fl_not_allowed_ready": {
        "zh": "“{name}”需要上传文件，不能只标记为已准备。",
        "en": "“{name}” must be uploaded; it cannot just be marked ready.",
    },
    "fl_stale": {
        "zh": "这个按钮已过期（清单已更新），请使用最新的清单。",
        "en": "This button is out of date (the checklist changed); please use the latest checklist.",
    },
    "fl_case_gone": {
        "zh": "这家机构的备案记录不存在或已归档。发送 /filing 查看您的机构。",
        "en": "This centre's record no longer exists or was archived. Send /filing to see your centres.",
    },
    "fl_need_nature": {
        "zh": "请先选择机构的法人性质。",
        "en": "Please choose the centre's legal nature first.",
    },
    "fl_too_many_cases": {
        "zh": "您已有很多家机构在准备中，请先完成其中一些。",
        "en": "You already have many centres in progress; please finish some first.",
    },
    "fl_upload_ok": {
        "zh": "📎 已收到 {file}（{size}），记入“{name}”。\n进度 <b>{done}/{total}</b> ✅",
        "en": "📎 Received {file} ({size}) for “{name}”.\nProgress <b>{done}/{total}</b> ✅",
    },
    "fl_upload_dup": {
        "zh": "这个文件之前已经上传到“{name}”，没有重复记录。\n进度 <b>{done}/{total}</b> ✅",
        "en": "This file was already uploaded for “{name}”; nothing was added.\nProgress <b>{done}/{total}</b> ✅",
    },
    "fl_upload_wrong_type": {
        "zh": "❌ “{name}”只接受 {types} 文件，您发送的是 {got}。这个文件没有保存，清单没有变化。",
        "en": "❌ “{name}” accepts {types} files only; you sent {got}. The file was not saved and the checklist "
              "is unchanged.",
    },
    "fl_upload_too_large": {
        "zh": "❌ 文件太大（{size}），“{name}”每个文件不超过 {max_mb} MB。这个文件没有保存，清单没有变化。"
              "可以压缩或拆成几个文件分别发送。",
        "en": "❌ The file is too large ({size}); “{name}” takes files up to {max_mb} MB. It was not saved and the "
              "checklist is unchanged. Compress it or split it into several files.",
    },
    "fl_upload_empty": {
        "zh": "❌ 这个文件是空的，没有保存。",
        "en": "❌ This file is empty; it was not saved.",
    },
    "fl_upload_corrupt": {
        "zh": "❌ 文件内容不是有效的 {type}（可能已损坏或改过扩展名）。没有保存，清单没有变化。",
        "en": "❌ The content is not a valid {type} (damaged, or renamed?). It was not saved and the checklist is "
              "unchanged.",
    },
    "fl_upload_unreadable": {
        "zh": "❌ 暂时无法读取这个文件，没有保存。请稍后重新发送。",
        "en": "❌ I could not read this file right now; nothing was saved. Please send it again later.",
    },
    "fl_upload_pick_item": {
        "zh": "这个文件要记入哪一项？请先点选下面的材料，再重新发送文件。",
        "en": "Which item is this file for? Tap the item below, then send the file again.",
    },
    "fl_unknown_type": {"zh": "未知类型", "en": "an unknown type"},
    "fl_reminder": {
        "zh": "↪️ 您正在准备“{title}”的备案材料（{done}/{total} ✅）{item}。随时点按钮回到清单。",
        "en": "↪️ You are preparing the filing for “{title}” ({done}/{total} ✅){item}. Tap to go back to the "
              "checklist any time.",
    },
    "fl_reminder_item": {"zh": "，当前材料：{name}", "en": ", current item: {name}"},
    "fl_reminder_nature": {
        "zh": "↪️ 您正在准备“{title}”的备案，下一步：选择机构的法人性质。随时点按钮回去继续。",
        "en": "↪️ You are preparing the filing for “{title}”; next step: choose the legal nature. Tap to go back "
              "any time.",
    },
    "fl_reminder_plan": {
        "zh": "↪️ 我还在等您的班级计划（例如 <code>乳儿班 8 3; 托小班 15 3</code>），或点按钮回到清单。",
        "en": "↪️ I am still waiting for your class plan (e.g. <code>infant 8 3; toddler 15 3</code>), or tap to go "
              "back to the checklist.",
    },
    "fl_resume": {
        "zh": "欢迎回来！继续准备“{title}”。",
        "en": "Welcome back! Let's continue with “{title}”.",
    },
    "fl_cases": {
        "zh": "<b>您的机构</b>（点一家继续）：\n{lines}",
        "en": "<b>Your centres</b> (tap one to continue):\n{lines}",
    },
    "fl_case_line": {"zh": "• {title}｜{nature}｜{done}/{total} ✅", "en": "• {title} | {nature} | {done}/{total} ✅"},
    "fl_no_nature_yet": {"zh": "未选性质", "en": "nature not chosen"},
    "fl_new_case": {
        "zh": "好的，新增一家机构。",
        "en": "OK, a new centre.",
    },
    "fl_title_prompt": {
        "zh": "请输入这家机构的名称（最多 60 字），方便区分多家机构：",
        "en": "Type the centre's name (up to 60 characters) so you can tell your centres apart:",
    },
    "fl_title_set": {"zh": "已命名为“{title}”。", "en": "Named “{title}”."},
    "fl_city_prompt": {
        "zh": "机构在哪个城市？有本地补充规定的城市会在清单和小结里显示本地提示：",
        "en": "Which city is the centre in? Cities with local additions get local notes in the checklist and "
              "summary:",
    },
    "fl_city_set": {"zh": "城市已设为：{city}", "en": "City set to: {city}"},
    "fl_city_cleared": {"zh": "未设置城市（仅显示全国通用要求）。", "en": "No city set (national rules only)."},
    "fl_plan_prompt": {
        "zh": "<b>班级与师资自检</b>（依据 {source}）\n请按“班级类型 人数 保育人员数”发送计划的班级，"
              "多个班用分号或换行隔开，例如：\n<code>乳儿班 8 3; 托小班 15 3; 托大班 20 3</code>\n\n"
              "• 班级类型：{types}\n• 同样的班有几个：<code>2个托小班 15 3</code> 或 <code>托小班 15 3 x2</code>\n"
              "• 混合编班可加最小月龄：<code>混合编班 18 3 20月</code>\n"
              "• 家庭托育点：<code>家庭 5 2</code>\n"
              "也可以写成“托大班20人3名保育员”。{current}",
        "en": "<b>Class &amp; staff self-check</b> (per {source})\nSend your planned classes as “class type, children, "
              "carers”, several separated by “;” or new lines, e.g.:\n<code>infant 8 3; toddler 15 3; older 20 3</code>"
              "\n\n• Class types: {types}\n• Several identical classes: <code>toddler 15 3 x2</code>\n"
              "• A mixed class may give the youngest age: <code>mixed 18 3 20m</code>\n"
              "• Home-based point: <code>family 5 2</code>{current}",
    },
    "fl_plan_current": {"zh": "\n\n上次的计划：{plan}", "en": "\n\nYour last plan: {plan}"},
    "fl_plan_ok": {
        "zh": "✅ 全部符合：{classes} 个班，共 {children} 名婴幼儿、{carers} 名保育人员。",
        "en": "✅ All within the rules: {classes} class(es), {children} children, {carers} carers.",
    },
    "fl_plan_bad": {
        "zh": "发现 {n} 处不符合《托育机构设置标准》的地方：",
        "en": "{n} problem(s) against the childcare-centre standard:",
    },
    "fl_plan_class": {
        "zh": "{n}. {name}{count}：{children} 名婴幼儿，{carers} 名保育人员",
        "en": "{n}. {name}{count}: {children} children, {carers} carers",
    },
    "fl_plan_count": {"zh": " ×{count}", "en": " ×{count}"},
    "fl_v_max_children": {
        "zh": "❌ 第{index}个班（{name}）：{children} 名婴幼儿，超过每班最多 {limit} 名。",
        "en": "❌ Class {index} ({name}): {children} children, more than the maximum of {limit}.",
    },
    "fl_v_ratio": {
        "zh": "❌ 第{index}个班（{name}）：{children} 名婴幼儿至少需要 {limit} 名保育人员，计划只有 {carers} 名。",
        "en": "❌ Class {index} ({name}): {children} children need at least {limit} carers; the plan has {carers}.",
    },
    "fl_v_min_age": {
        "zh": "❌ 第{index}个班（{name}）：最小的婴幼儿 {actual} 个月，不足 {limit} 个月。",
        "en": "❌ Class {index} ({name}): the youngest child is {actual} months, under the minimum of {limit} months.",
    },
    "fl_v_family_max": {
        "zh": "❌ {name}：{children} 名婴幼儿，超过最多 {limit} 名。",
        "en": "❌ {name}: {children} children, more than the maximum of {limit}.",
    },
    "fl_v_family_ratio": {
        "zh": "❌ {name}：{children} 名婴幼儿至少需要 {limit} 名照护人员，计划只有 {carers} 名。",
        "en": "❌ {name}: {children} children need at least {limit} carers; the plan has {carers}.",
    },
    "fl_v_rule": {"zh": "   规则：{rule}（{source}）", "en": "   Rule: {rule} ({source})"},
    "fl_note_no_ratio": {
        "zh": "ℹ️ 第{index}个班（{name}）：标准没有为这类班级另设师生比，未检查比例。",
        "en": "ℹ️ Class {index} ({name}): the standard sets no separate ratio for this class type; not checked.",
    },
    "fl_note_age_unchecked": {
        "zh": "ℹ️ 第{index}个班（{name}）：只能收 {age} 的婴幼儿；在该班后加最小月龄（如“20月”）即可检查。",
        "en": "ℹ️ Class {index} ({name}): only for children {age}; add the youngest age (e.g. “20m”) to check it.",
    },
    "fl_plan_problem_unknown_class": {
        "zh": "⚠️ 看不懂“{text}”：没有找到班级类型（{types}）。",
        "en": "⚠️ Could not read “{text}”: no class type found ({types}).",
    },
    "fl_plan_problem_missing_numbers": {
        "zh": "⚠️ “{text}”：需要两个数字——婴幼儿人数和保育人员数。",
        "en": "⚠️ “{text}”: needs two numbers — children and carers.",
    },
    "fl_plan_problem_too_many_numbers": {
        "zh": "⚠️ “{text}”：数字太多，我不想猜。请写成“班级 人数 保育人员数”。",
        "en": "⚠️ “{text}”: too many numbers, I won't guess. Write “class children carers”.",
    },
    "fl_plan_problem_bad_numbers": {
        "zh": "⚠️ “{text}”：人数不合理（至少 1 名婴幼儿，最多 500）。",
        "en": "⚠️ “{text}”: implausible numbers (at least 1 child, at most 500).",
    },
    "fl_plan_problem_too_many_classes": {
        "zh": "⚠️ 班级太多，只检查了前 50 个。",
        "en": "⚠️ Too many classes; only the first 50 were checked.",
    },
    "fl_plan_unreadable": {
        "zh": "没能读出班级计划。请按“班级类型 人数 保育人员数”发送，例如 <code>乳儿班 8 3; 托小班 15 3</code>。",
        "en": "I could not read a class plan. Send “class type, children, carers”, e.g. "
              "<code>infant 8 3; toddler 15 3</code>.",
    },
    "fl_btn_recheck": {"zh": "👶 再自检一次", "en": "👶 Check again"},
    "fl_summary_caption": {
        "zh": "备案小结：{title}（{done}/{total} ✅）",
        "en": "Filing summary: {title} ({done}/{total} ✅)",
    },
    # summary labels (db/filing_summary.LABEL_KEYS)
    "fl_sum_title": {"zh": "托育机构备案小结", "en": "Childcare centre filing summary"},
    "fl_sum_institution": {"zh": "机构：{title}", "en": "Centre: {title}"},
    "fl_sum_nature": {"zh": "法人性质：", "en": "Legal nature: "},
    "fl_sum_city": {"zh": "所在城市：", "en": "City: "},
    "fl_sum_no_city": {"zh": "未设置", "en": "not set"},
    "fl_sum_progress": {"zh": "材料进度：{done}/{total} ✅", "en": "Materials: {done}/{total} ✅"},
    "fl_sum_registration": {
        "zh": "登记：向{authority}申请，取得{certificate}",
        "en": "Registration: with {authority}, giving the {certificate}",
    },
    "fl_sum_business_scope": {"zh": "业务范围：", "en": "Scope of business: "},
    "fl_sum_section_ready": {"zh": "已准备", "en": "Ready"},
    "fl_sum_section_missing": {"zh": "还缺", "en": "Still missing"},
    "fl_sum_section_not_applicable": {"zh": "不适用", "en": "Not applicable"},
    "fl_sum_section_where": {"zh": "在哪里、怎样备案", "en": "Where and how to file"},
    "fl_sum_section_next": {"zh": "提交之后", "en": "What happens next"},
    "fl_sum_section_after": {"zh": "以后的变更和注销", "en": "Later changes and closure"},
    "fl_sum_section_local": {"zh": "本地提示", "en": "Local notes"},
    "fl_sum_section_readiness": {"zh": "班级与师资自检", "en": "Class & staff self-check"},
    "fl_sum_section_sources": {"zh": "依据", "en": "Sources"},
    "fl_sum_uploaded": {"zh": "已上传", "en": "uploaded"},
    "fl_sum_marked_ready": {"zh": "已准备（未上传）", "en": "ready (not uploaded)"},
    "fl_sum_not_applicable": {"zh": "不适用", "en": "not applicable"},
    "fl_sum_missing": {"zh": "待准备", "en": "to do"},
    "fl_sum_unconfirmed": {"zh": "（请向当地部门确认）", "en": " (please confirm locally)"},
    "fl_sum_none": {"zh": "无", "en": "none"},
    "fl_sum_generated": {
        "zh": "由托育助手生成于 {time}（北京时间）。仅供准备材料参考，以当地卫生健康部门要求为准。",
        "en": "Created by Childcare Assistant (托育助手) on {time} (Beijing time). A preparation aid; the local health department's "
              "requirements prevail.",
    },
    "fl_sum_file_line": {"zh": "📎 {name}（{size}，sha256 {sha}…，{time}）", "en": "📎 {name} ({size}, sha256 {sha}…, {time})"},
    "fl_sum_source_prefix": {"zh": "依据：", "en": "source: "},
    "fl_sum_col_item": {"zh": "材料", "en": "Item"},
    "fl_sum_col_status": {"zh": "状态", "en": "Status"},
    "fl_sum_col_files": {"zh": "文件", "en": "Files"},
    "fl_sum_brief_done": {
        "zh": "所有材料都已处理，可以提交备案。",
        "en": "Every item is dealt with: you can file now.",
    },
    "fl_sum_brief_missing": {"zh": "还缺 {n} 项：", "en": "Still missing ({n}):"},
    "fl_sum_brief_next": {"zh": "下一步：{where}", "en": "Next step: {where}"},
    "fl_sum_brief_attached": {
        "zh": "每项材料的说明、办理时限和政策依据见下方 PDF（可直接打印）和 DOCX（可编辑）。",
        "en": "What each item is, deadlines and sources: see the PDF (ready to print) and the DOCX (editable) "
              "below.",
    },
}

register_texts(FILING_TEXTS)


def summary_labels(lang: str) -> dict[str, str]:
    """The labels `db.filing.summary` needs, in `lang`."""
    return {key: t(f"fl_sum_{key}", lang) for key in LABEL_KEYS}
