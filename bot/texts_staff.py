"""Texts of the staff side: the knowledge base (/kb, uploads, preview, publish…) and roles (Chinese default,
English)."""

from __future__ import annotations

from bot.texts import register_texts

STAFF_TEXTS: dict[str, dict[str, str]] = {
    # --- refusals
    "kb_refused": {
        "zh": "抱歉，知识库管理仅限工作人员使用。如需权限，请联系管理员。",
        "en": "Sorry, managing the knowledge base is for staff only. Please ask an administrator if you need access.",
    },
    "kb_refused_upload": {
        "zh": (
            "抱歉，只有工作人员可以向知识库上传政策文件，这个文件没有被保存。\n"
            "如果您是托育机构经营者，要上传备案材料，请先发送 /filing 进入登记备案流程。"
        ),
        "en": (
            "Sorry, only staff can add policy documents to the knowledge base; this file was not kept.\n"
            "If you run a childcare centre and want to upload filing materials, send /filing first."
        ),
    },
    "kb_refused_admin": {
        "zh": "抱歉，只有管理员可以授予或撤销工作人员权限。",
        "en": "Sorry, only administrators can grant or revoke staff access.",
    },
    "kb_state_conflict": {
        "zh": "刚才同时收到了您的另一个操作，这一步没有生效。请再点一次（或重新发送）。",
        "en": "Another of your actions arrived at the same moment, so this step was not applied. Please tap (or "
        "send) it again.",
    },
    "kb_loading": {
        "zh": "知识库正在加载，请稍等几秒再试。",
        "en": "The knowledge base is still loading; please try again in a few seconds.",
    },
    # --- upload errors
    "kb_err_too_large": {
        "zh": "❌ 文件太大（{size}），上限是 {limit}。请压缩图片或拆分文件后再发送。",
        "en": "❌ The file is too large ({size}); the limit is {limit}. Please compress or split it.",
    },
    "kb_err_too_large_zip": {
        "zh": "❌ 这个 Word 文件解压后超过 {limit}（疑似“压缩炸弹”），已拒绝，没有保存。",
        "en": "❌ This Word file expands past {limit} when unpacked (a zip bomb?); refused and not kept.",
    },
    "kb_err_mislabelled": {
        "zh": "❌ 文件名是 {suffix}，但内容其实是 {kind}。我按内容判断类型，不按扩展名。请确认文件后重新发送。",
        "en": "❌ The file is named {suffix} but its content is {kind}. I go by the content, not the name; "
        "please check the file and send it again.",
    },
    "kb_err_unsupported_type": {
        "zh": "❌ 不支持这种文件（{what}）。请发送 txt、md、html、pdf 或 docx 格式的政策文件。",
        "en": "❌ This kind of file is not supported ({what}). Please send the policy as txt, md, html, pdf or docx.",
    },
    "kb_err_encrypted": {
        "zh": "❌ 这个 PDF 设有打开密码，无法读取。请发送未加密的版本。",
        "en": "❌ This PDF is password-protected and cannot be read. Please send an unencrypted copy.",
    },
    "kb_err_corrupt": {
        "zh": "❌ 文件已损坏，无法读取。请从原处重新下载或重新导出后再发送。",
        "en": "❌ The file is damaged and cannot be read. Please download or export it again.",
    },
    "kb_err_empty": {
        "zh": "❌ 文件里没有可用的文字（空文件、只有网页杂项，或是扫描图片）。",
        "en": "❌ The file has no usable text (empty, only page furniture, or a scanned image).",
    },
    "kb_err_duplicate": {
        "zh": "❌ 这个文件与已有文档《{title}》（{doc_id} 第{version}版，{status}）内容完全相同，没有重复添加。",
        "en": "❌ This file is identical to 《{title}》 ({doc_id} v{version}, {status}); it was not added again.",
    },
    "kb_err_duplicate_kept": {
        "zh": "❌ 这个文件与已停用的《{title}》（{doc_id} 第{version}版）相同。如需重新启用，请在 /kb 中“恢复”它。",
        "en": "❌ This file is identical to the retired 《{title}》 ({doc_id} v{version}). "
        "To bring it back, use “Restore” in /kb.",
    },
    "kb_err_bad_metadata": {
        "zh": "❌ {field}填写有误：{detail}",
        "en": "❌ The {field} is not valid: {detail}",
    },
    "kb_err_missing_metadata": {
        "zh": "❌ 发布前请先填写：{fields}。",
        "en": "❌ Please fill in before publishing: {fields}.",
    },
    "kb_err_not_found": {"zh": "❌ 找不到这个文档，可能已被删除。", "en": "❌ That document was not found."},
    "kb_err_bad_state": {
        "zh": "这个操作已经完成或不再适用（例如草稿已发布或已丢弃）。发送 /kb 查看当前状态。",
        "en": "That has already been done or no longer applies (e.g. the draft was published or discarded). "
        "Send /kb to see the current state.",
    },
    "kb_err_failed": {
        "zh": "❌ 处理失败，已发布的知识库没有任何改动。请稍后重试。",
        "en": "❌ That failed; the published knowledge base is unchanged. Please try again later.",
    },
    # --- preview
    "kb_receiving": {
        "zh": "📥 已收到《{name}》，正在读取和清理…",
        "en": "📥 Got “{name}”, reading and cleaning it…",
    },
    "kb_preview_title": {
        "zh": "📄 <b>草稿预览</b>（尚未发布，家长看不到）",
        "en": "📄 <b>Draft preview</b> (not published: parents cannot see it)",
    },
    "kb_preview_replace": {
        "zh": "🔁 将替换：《{title}》第{version}版 → 第{new}版",
        "en": "🔁 Replaces: 《{title}》 v{version} → v{new}",
    },
    "kb_preview_file": {"zh": "文件：{name}（{kind}，{size}）", "en": "File: {name} ({kind}, {size})"},
    "kb_preview_meta": {
        "zh": "标题：{title}\n城市：{city}\n发文机关：{issuer}\n日期：{date}\n文号：{doc_number}\n文档编号：{doc_id}",
        "en": "Title: {title}\nCity: {city}\nIssuer: {issuer}\nDate: {date}\nNumber: {doc_number}\nDocument id: {doc_id}",
    },
    "kb_unknown_value": {"zh": "（未识别，请补充）", "en": "(not found — please add)"},
    "kb_preview_structure": {
        "zh": "结构：{sections} 个章节，{chunks} 段",
        "en": "Structure: {sections} sections, {chunks} passages",
    },
    "kb_preview_cleaned": {"zh": "🧹 清理掉的内容：{counts}", "en": "🧹 Cleaning removed: {counts}"},
    "kb_preview_cleaned_none": {
        "zh": "🧹 清理：没有发现需要清理的内容。",
        "en": "🧹 Cleaning: nothing to remove.",
    },
    "kb_preview_flags": {
        "zh": "⚠️ <b>可疑内容</b>（已排除，不会作为政策引用给家长）：",
        "en": "⚠️ <b>Suspicious text</b> (excluded: never quoted to parents as policy):",
    },
    "kb_preview_flag_line": {
        "zh": "• {kind}（第 {line} 行）：“{text}”",
        "en": "• {kind} (line {line}): “{text}”",
    },
    "kb_preview_item": {"zh": "  · {kind}：“{text}”", "en": "  · {kind}: “{text}”"},
    "kb_preview_more": {"zh": "  ……另有 {n} 处", "en": "  … and {n} more"},
    "kb_preview_hint": {
        "zh": "请核对以上信息。点按钮修改，或直接回复“城市：深圳市”这样的一行。确认无误后点“发布”。",
        "en": "Please check the details. Tap a button to change one, or reply with a line like “city: 深圳市”. "
        "Tap “Publish” when it is right.",
    },
    "kb_kind_injection": {"zh": "疑似指令注入", "en": "prompt-injection attempt"},
    "kb_kind_advert": {"zh": "疑似广告", "en": "advert"},
    "kb_kind_spam": {"zh": "垃圾广告", "en": "spam"},
    "kb_kind_page_furniture": {"zh": "页面杂项", "en": "page furniture"},
    "kb_kind_share_prompt": {"zh": "分享提示", "en": "share prompt"},
    "kb_kind_url": {"zh": "网址", "en": "URL"},
    "kb_kind_site_name": {"zh": "网站名称（标题后缀）", "en": "site name (title suffix)"},
    "kb_count": {"zh": "{kind} {n} 处", "en": "{kind} ×{n}"},
    "kb_field_title": {"zh": "标题", "en": "title"},
    "kb_field_city": {"zh": "城市", "en": "city"},
    "kb_field_issuer": {"zh": "发文机关", "en": "issuer"},
    "kb_field_date": {"zh": "日期", "en": "date"},
    "kb_field_doc_number": {"zh": "文号", "en": "document number"},
    "kb_field_province": {"zh": "省份", "en": "province"},
    "kb_field_aliases": {"zh": "别名", "en": "aliases"},
    "kb_field_doc_id": {"zh": "文档编号", "en": "document id"},
    "kb_field_unknown": {"zh": "字段", "en": "field"},
    "kb_bad_not_a_date": {"zh": "不是有效日期，请按 2025-03-01 的格式填写", "en": "not a date; write it as 2025-03-01"},
    "kb_bad_too_long": {"zh": "太长了（最多 {limit} 个字）", "en": "too long (at most {limit} characters)"},
    "kb_bad_suspicious": {
        "zh": "看起来像广告或指令，不能用作元数据",
        "en": "looks like an advert or an instruction, so it cannot be used",
    },
    "kb_bad_unknown_field": {"zh": "不能修改这一项", "en": "this cannot be changed"},
    "kb_bad_bad_doc_id": {
        "zh": "只能用小写字母、数字、- 和 _（最多 40 个）",
        "en": "only lower-case letters, digits, - and _ (at most 40)",
    },
    "kb_bad_invalid": {"zh": "内容无效", "en": "not valid"},
    "kb_format_doc": {"zh": "旧版 Office 文件（.doc/.xls）", "en": "an old Office file (.doc/.xls)"},
    "kb_format_png": {"zh": "PNG 图片", "en": "a PNG image"},
    "kb_format_jpeg": {"zh": "JPEG 图片", "en": "a JPEG image"},
    "kb_format_gif": {"zh": "GIF 图片", "en": "a GIF image"},
    "kb_format_rar": {"zh": "RAR 压缩包", "en": "a RAR archive"},
    "kb_format_7z": {"zh": "7z 压缩包", "en": "a 7z archive"},
    "kb_format_gzip": {"zh": "gzip 压缩包", "en": "a gzip archive"},
    "kb_format_rtf": {"zh": "RTF 文档", "en": "an RTF document"},
    "kb_format_zip": {"zh": "不是 Word 文档的 zip 压缩包", "en": "a zip archive that is not a Word document"},
    "kb_format_unknown": {"zh": "无法识别的二进制文件", "en": "binary content I cannot read"},
    "kb_format_pdf": {"zh": "PDF", "en": "PDF"},
    "kb_format_docx": {"zh": "Word 文档（docx）", "en": "a Word document (docx)"},
    "kb_format_text": {"zh": "纯文本", "en": "plain text"},
    "kb_format_html": {"zh": "网页（HTML）", "en": "a web page (HTML)"},
    "kb_btn_edit": {"zh": "✏️ {field}", "en": "✏️ {field}"},
    "kb_btn_publish": {"zh": "✅ 发布", "en": "✅ Publish"},
    "kb_btn_discard": {"zh": "🗑 丢弃", "en": "🗑 Discard"},
    "kb_ask_value": {
        "zh": "请回复新的{field}{example}。发送 /kb 可取消。",
        "en": "Reply with the new {field}{example}. Send /kb to cancel.",
    },
    "kb_example_date": {"zh": "（格式 2025-03-01）", "en": " (as 2025-03-01)"},
    "kb_example_city": {"zh": "（例如 深圳市）", "en": " (e.g. 深圳市)"},
    "kb_edited": {"zh": "已修改{field}。", "en": "The {field} was changed."},
    "kb_discarded": {
        "zh": "🗑 草稿已丢弃，知识库没有变化。",
        "en": "🗑 Draft discarded; the knowledge base is unchanged.",
    },
    # --- publish and quality
    "kb_publishing": {
        "zh": "⏳ 正在发布，并用开发问题集检查回答质量…",
        "en": "⏳ Publishing, and checking answer quality on the development question set…",
    },
    "kb_published": {
        "zh": "✅ 已发布《{title}》第{version}版（{chunks} 段），家长现在可以查到它了。",
        "en": "✅ Published 《{title}》 v{version} ({chunks} passages); parents can now get answers from it.",
    },
    "kb_replaced": {
        "zh": "✅ 已用第{version}版替换《{title}》；旧的第{old}版已停止回答，但仍保留，可随时恢复。",
        "en": "✅ 《{title}》 is now v{version}; the old v{old} no longer answers but is kept and can be restored.",
    },
    "kb_retired": {
        "zh": "⏸ 已停用《{title}》第{version}版：不再用于回答，文件保留，可随时恢复。",
        "en": "⏸ Retired 《{title}》 v{version}: it no longer answers; it is kept and can be restored.",
    },
    "kb_restored": {
        "zh": "▶️ 已恢复《{title}》第{version}版，重新用于回答。",
        "en": "▶️ Restored 《{title}》 v{version}; it answers again.",
    },
    "kb_quality": {
        "zh": (
            "📊 开发问题集（{n} 题）\n"
            "命中率 hit@5：{b5} → {a5}\n"
            "首位命中 hit@1：{b1} → {a1}\n"
            "MRR@5：{bm} → {am}\n"
            "拒答正确率：{br} → {ar}"
        ),
        "en": (
            "📊 Development question set ({n} questions)\n"
            "hit@5: {b5} → {a5}\n"
            "hit@1: {b1} → {a1}\n"
            "MRR@5: {bm} → {am}\n"
            "refusal accuracy: {br} → {ar}"
        ),
    },
    "kb_quality_ok": {"zh": "✅ 质量没有下降。", "en": "✅ No drop in quality."},
    "kb_quality_drop": {
        "zh": "⚠️ <b>质量下降</b>：以下问题的结果变差了，请检查文档内容（如果是新增城市使原本无解的问题有了答案，请同步更新问题集）：",
        "en": "⚠️ <b>Quality dropped</b>: these questions got worse. Please check the document (if a new city made "
        "a formerly unanswerable question answerable, update the question set):",
    },
    "kb_quality_better": {"zh": "📈 变好的问题：{n} 个", "en": "📈 Questions that improved: {n}"},
    "kb_quality_none": {
        "zh": "（没有开发问题集，跳过质量检查。）",
        "en": "(No development question set; quality check skipped.)",
    },
    # --- /kb list and document card
    "kb_list_title": {"zh": "📚 <b>知识库</b>：{n} 份文档", "en": "📚 <b>Knowledge base</b>: {n} documents"},
    "kb_list_line": {
        "zh": "{n}. 《{title}》\n    {city} · {date} · 第{version}版 · {status}",
        "en": "{n}. 《{title}》\n    {city} · {date} · v{version} · {status}",
    },
    "kb_list_drafts": {"zh": "📝 待处理草稿 {n} 份：", "en": "📝 Drafts waiting: {n}"},
    "kb_list_draft_line": {"zh": "• 《{title}》（{file}）", "en": "• 《{title}》 ({file})"},
    "kb_list_hint": {
        "zh": "点编号查看文档和操作（替换新版本、停用、恢复）。要添加新文档，直接把文件发给我（txt、md、html、pdf、docx）。",
        "en": "Tap a number for the document and its actions (replace, retire, restore). To add a document, "
        "just send me the file (txt, md, html, pdf, docx).",
    },
    "kb_no_date": {"zh": "日期未知", "en": "no date"},
    "kb_status_draft": {"zh": "草稿", "en": "draft"},
    "kb_status_published": {"zh": "已发布", "en": "published"},
    "kb_status_retired": {"zh": "已停用", "en": "retired"},
    "kb_status_replaced": {"zh": "已被新版本替换", "en": "replaced"},
    "kb_status_discarded": {"zh": "已丢弃", "en": "discarded"},
    "kb_card": {
        "zh": (
            "<b>《{title}》</b>\n编号：{doc_id}\n城市：{city}\n发文机关：{issuer}\n日期：{date}\n文号：{doc_number}\n"
            "当前：第{version}版 · {status} · {chunks} 段\n来源：{origin}"
        ),
        "en": (
            "<b>《{title}》</b>\nId: {doc_id}\nCity: {city}\nIssuer: {issuer}\nDate: {date}\nNumber: {doc_number}\n"
            "Current: v{version} · {status} · {chunks} passages\nSource: {origin}"
        ),
    },
    "kb_card_versions": {"zh": "版本：{versions}", "en": "Versions: {versions}"},
    "kb_origin_catalog": {"zh": "初始文档", "en": "initial document"},
    "kb_origin_staff": {"zh": "工作人员上传（{file}）", "en": "uploaded by staff ({file})"},
    "kb_btn_doc": {"zh": "{n}", "en": "{n}"},
    "kb_btn_replace": {"zh": "🔁 上传新版本替换", "en": "🔁 Replace with a new version"},
    "kb_btn_retire": {"zh": "⏸ 停用", "en": "⏸ Retire"},
    "kb_btn_retire_confirm": {"zh": "⏸ 确认停用", "en": "⏸ Yes, retire it"},
    "kb_btn_cancel": {"zh": "取消", "en": "Cancel"},
    "kb_retire_confirm": {
        "zh": "确定停用《{title}》第{version}版吗？停用后家长的提问不再引用它（文档保留，可随时恢复）。",
        "en": "Retire “{title}” version {version}? Parents' questions will no longer be answered from it "
              "(the document is kept and can be restored at any time).",
    },
    "kb_btn_restore": {"zh": "▶️ 恢复", "en": "▶️ Restore"},
    "kb_btn_back": {"zh": "⬅️ 返回列表", "en": "⬅️ Back to the list"},
    "kb_btn_reindex": {"zh": "🔄 重建索引", "en": "🔄 Re-index"},
    "kb_btn_roles": {"zh": "👥 人员与权限", "en": "👥 People and roles"},
    "kb_btn_draft": {"zh": "📝 {title}", "en": "📝 {title}"},
    "kb_send_new_version": {
        "zh": "请把《{title}》的新版本文件发给我（txt、md、html、pdf、docx）。发送 /kb 可取消。",
        "en": "Send me the new version of 《{title}》 as a file (txt, md, html, pdf, docx). Send /kb to cancel.",
    },
    "kb_reindexing": {"zh": "⏳ 正在重建索引…", "en": "⏳ Re-indexing…"},
    "kb_reindexed": {
        "zh": "🔄 索引已与文档登记同步：重新索引 {indexed} 份，修正状态 {fixed} 份，移除 {removed} 份，未变 {unchanged} 份（{seconds} 秒）。",
        "en": "🔄 Index in step with the registry: {indexed} re-indexed, {fixed} statuses fixed, {removed} removed, "
        "{unchanged} unchanged ({seconds} s).",
    },
    "kb_reindex_missing": {
        "zh": "⚠️ 以下文档的文件找不到了，未能重新索引：{ids}",
        "en": "⚠️ The files of these documents are missing and could not be re-indexed: {ids}",
    },
    # --- roles
    "kb_roles_title": {"zh": "👥 <b>人员与权限</b>", "en": "👥 <b>People and roles</b>"},
    "kb_roles_line": {"zh": "• {id}{name} — {role}", "en": "• {id}{name} — {role}"},
    "kb_roles_help": {
        "zh": (
            "管理员命令：\n/grant 用户ID [staff|admin] 授予权限\n/revoke 用户ID 撤销权限\n"
            "工作人员命令：\n/link 用户ID 机构ID 关联机构经营者\n/unlink 机构ID 取消关联"
        ),
        "en": (
            "Admin commands:\n/grant USER_ID [staff|admin] grant a role\n/revoke USER_ID revoke it\n"
            "Staff commands:\n/link USER_ID INSTITUTION_ID link an operator\n/unlink INSTITUTION_ID remove the link"
        ),
    },
    "kb_role_parent": {"zh": "家长", "en": "parent"},
    "kb_role_operator": {"zh": "机构经营者", "en": "operator"},
    "kb_role_staff": {"zh": "工作人员", "en": "staff"},
    "kb_role_admin": {"zh": "管理员", "en": "admin"},
    "kb_granted": {"zh": "✅ 用户 {id} 现在是{role}。", "en": "✅ User {id} is now {role}."},
    "kb_revoked": {
        "zh": "✅ 已撤销用户 {id} 的权限，现在是{role}。",
        "en": "✅ User {id}'s access revoked; now {role}.",
    },
    "kb_linked": {
        "zh": "✅ 用户 {id} 已关联为机构「{name}」（#{inst}）的经营者。",
        "en": "✅ User {id} is now the operator of “{name}” (#{inst}).",
    },
    "kb_unlinked": {
        "zh": "✅ 机构 #{inst} 已取消经营者关联。",
        "en": "✅ Institution #{inst} has no linked operator now.",
    },
    "kb_usage_grant": {
        "zh": "用法：/grant 用户ID [staff|admin]",
        "en": "Usage: /grant USER_ID [staff|admin]",
    },
    "kb_usage_revoke": {"zh": "用法：/revoke 用户ID", "en": "Usage: /revoke USER_ID"},
    "kb_usage_link": {"zh": "用法：/link 用户ID 机构ID", "en": "Usage: /link USER_ID INSTITUTION_ID"},
    "kb_usage_unlink": {"zh": "用法：/unlink 机构ID", "en": "Usage: /unlink INSTITUTION_ID"},
    "kb_role_settings_admin": {
        "zh": "❌ 用户 {id} 是配置文件（ADMIN_USER_IDS）中的管理员，需要修改配置才能撤销。",
        "en": "❌ User {id} is an admin by the ADMIN_USER_IDS setting; change the setting to revoke.",
    },
    "kb_role_no_institution": {
        "zh": "❌ 没有编号为 {inst} 的机构。",
        "en": "❌ There is no institution #{inst}.",
    },
}

register_texts(STAFF_TEXTS)
