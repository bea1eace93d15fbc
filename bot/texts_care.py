"""Texts of the find-care and booking flow (Chinese default, English)."""

from __future__ import annotations

from bot.texts import register_texts

CARE_TEXTS: dict[str, dict[str, str]] = {
    "care_ask_place": {
        "zh": "请发送您的位置（点下方“📍发送我的位置”，或 📎→位置），或直接输入区/镇名，例如：思明、湖里、杨舍、金港。",
        "en": "Share your location (tap “📍 Send my location” below, or 📎 → Location), or type a district or town, "
        "e.g. Siming, Huli, Yangshe, Jingang.",
    },
    "care_btn_location": {"zh": "📍 发送我的位置", "en": "📍 Send my location"},
    "care_unknown_place": {
        "zh": "没有找到“{name}”这个地方。目前有托育机构数据的城市：{cities}。请输入这些城市的区/镇名（如 思明、杨舍），或发送位置。",
        "en": "I don't know the place “{name}”. Childcare data covers: {cities}. Type a district or town there "
        "(e.g. Siming, Yangshe), or share your location.",
    },
    "care_header_near": {"zh": "📍 您附近 {radius} 公里内", "en": "📍 Within {radius} km of you"},
    "care_header_place": {"zh": "📍 {place}", "en": "📍 {place}"},
    "care_filters": {"zh": "筛选：{filters}", "en": "Filters: {filters}"},
    "care_no_filters": {"zh": "无", "en": "none"},
    "care_found": {"zh": "共 {total} 家，第 {first}–{last} 家：", "en": "{total} found, showing {first}–{last}:"},
    "care_none": {
        "zh": "没有找到符合条件的托育机构。可以放宽筛选条件（点“✖️ 清除筛选”），或换个地点。",
        "en": "No childcare centre matches. Try relaxing the filters (tap “✖️ Clear filters”) or another place.",
    },
    "care_none_here": {
        "zh": "这附近还没有托育机构的数据。目前有数据的城市：{cities}。可以输入这些城市的区/镇名（如 思明、杨舍）。",
        "en": "I have no childcare data near here yet. Data covers: {cities}. You can type a district or town "
        "there (e.g. Siming, Yangshe).",
    },
    "care_demo_note": {
        "zh": "⚠️ 以下为演示数据，并非真实机构。",
        "en": "⚠️ Demo data: these are not real centres.",
    },
    "care_result_line": {
        "zh": "{n}. <b>{name}</b>{puhui}\n   {district} · {distance} 公里 · {price} · 长期托位空余 {free}",
        "en": "{n}. <b>{name}</b>{puhui}\n   {district} · {distance} km · {price} · {free} long-term places free",
    },
    "care_puhui_mark": {"zh": " 【普惠】", "en": " [affordable]"},
    "care_price_reduced": {
        "zh": "{fee}（已减 {amount}元，原价 {base}元）",
        "en": "{fee} (less ¥{amount}, was ¥{base})",
    },
    "care_price_none": {"zh": "{service} 未提供", "en": "{service} not offered"},
    "care_reduction_note": {
        "zh": "💡 价格已按{name}减免 {amount}{unit} 计算，依据：{source}",
        "en": "💡 Prices include the {name} of ¥{amount}{unit}, per {source}",
    },
    "care_reduction_name": {"zh": "困境婴幼儿", "en": "hardship reduction (困境婴幼儿)"},
    "care_unit_per_child_month": {"zh": "元/人/月", "en": "/child/month"},
    "care_svc_full": {"zh": "全日托", "en": "full-day care"},
    "care_svc_half": {"zh": "半日托", "en": "half-day care"},
    "care_svc_temp": {"zh": "临时托", "en": "temporary care"},
    "care_svc_hourly": {"zh": "计时托", "en": "hourly care"},
    "care_fee_month": {"zh": "{service} {price}元/月", "en": "{service} ¥{price}/month"},
    "care_fee_hour": {"zh": "{service} {price}元/小时", "en": "{service} ¥{price}/hour"},
    "care_fee_temp": {
        "zh": "{service} 半天 {half}元/次、全天 {full}元/次",
        "en": "{service} ¥{half}/half day, ¥{full}/full day",
    },
    "care_len_half_day": {"zh": "半天", "en": "half day"},
    "care_len_full_day": {"zh": "全天", "en": "full day"},
    "care_len_hours": {"zh": "{hours}小时", "en": "{hours} h"},
    "care_session": {
        "zh": "{service}·{length} {start}–{end} {price}元",
        "en": "{service}, {length}, {start}–{end}, ¥{price}",
    },
    "care_budget_month": {"zh": "≤{p}元/月", "en": "≤ ¥{p}/month"},
    "care_budget_session": {"zh": "≤{p}元/半天", "en": "≤ ¥{p}/half day"},
    "care_budget_hour": {"zh": "≤{p}元/小时", "en": "≤ ¥{p}/hour"},
    "care_btn_age": {"zh": "👶 月龄：{value}", "en": "👶 Age: {value}"},
    "care_btn_budget": {"zh": "💰 预算：{value}", "en": "💰 Budget: {value}"},
    "care_btn_puhui": {"zh": "{mark} 只看普惠", "en": "{mark} Affordable only"},
    "care_btn_service": {"zh": "🧩 {value}", "en": "🧩 {value}"},
    "care_btn_date": {"zh": "📅 {value}", "en": "📅 {value}"},
    "care_btn_reduction": {"zh": "{mark} 困境婴幼儿减免", "en": "{mark} Hardship reduction"},
    "care_btn_clear": {"zh": "✖️ 清除筛选", "en": "✖️ Clear filters"},
    "care_btn_prev": {"zh": "⬅️ 上一页", "en": "⬅️ Previous"},
    "care_btn_next": {"zh": "下一页 ➡️", "en": "Next ➡️"},
    "care_any": {"zh": "不限", "en": "any"},
    "care_any_service": {"zh": "服务类型：不限", "en": "Service: any"},
    "care_any_date": {"zh": "日期：不限", "en": "Date: any"},
    "care_months": {"zh": "{m}个月", "en": "{m} months"},
    "care_filter_age": {"zh": "月龄 {m}个月", "en": "age {m} months"},
    "care_filter_puhui": {"zh": "只看普惠", "en": "affordable only"},
    "care_filter_reduction": {"zh": "困境婴幼儿减免", "en": "hardship reduction"},
    "care_notice_kept": {
        "zh": "ℹ️ 沿用了上次的筛选：{filters}。点“✖️ 清除筛选”可全部清除。",
        "en": "ℹ️ Your previous filters still apply: {filters}. Tap “✖️ Clear filters” to remove them.",
    },
    "care_notice_budget_reset": {
        "zh": "ℹ️ {service}按{basis}收费，原来的预算（{budget}）已清除，请重新选择预算。",
        "en": "ℹ️ {service} is priced per {basis}, so the previous budget ({budget}) was cleared; choose a new one.",
    },
    "care_basis_month": {"zh": "月", "en": "month"},
    "care_basis_session": {"zh": "次（半天）", "en": "half-day session"},
    "care_basis_hour": {"zh": "小时", "en": "hour"},
    "care_notice_cleared": {"zh": "ℹ️ 已清除全部筛选。", "en": "ℹ️ All filters cleared."},
    "care_details": {
        "zh": (
            "<b>{name}</b>{puhui}\n{demo}"
            "📍 {city}{district} · {address}\n"
            "📞 {phone} · 🕘 {hours}\n"
            "👶 收托月龄 {age_min}–{age_max} 个月 · 长期托位 {free}/{total} 空余\n"
            "🏷 {nature} · {form} · 备案：{filing}\n\n"
            "<b>收费</b>\n{fees}"
        ),
        "en": (
            "<b>{name}</b>{puhui}\n{demo}"
            "📍 {city}, {district} · {address}\n"
            "📞 {phone} · 🕘 {hours}\n"
            "👶 Ages {age_min}–{age_max} months · long-term places {free}/{total} free\n"
            "🏷 {nature} · {form} · Filing: {filing}\n\n"
            "<b>Fees</b>\n{fees}"
        ),
    },
    "care_demo_inline": {"zh": "⚠️ 演示数据，非真实机构\n", "en": "⚠️ Demo data, not a real centre\n"},
    "care_sessions_title": {
        "zh": "\n\n<b>可预约的临时托/计时托</b>（点下方按钮预约；“余N位”是该时段的空位）：",
        "en": "\n\n<b>Bookable temporary/hourly sessions</b> (tap a button to book; “N left” are that session's places):",
    },
    "care_no_sessions": {
        "zh": "\n\n近期没有可预约的临时托/计时托时段。",
        "en": "\n\nNo bookable temporary/hourly sessions soon.",
    },
    "care_session_button": {"zh": "{date} {session} 余{free}位", "en": "{date} {session}, {free} left"},
    "care_session_button_full": {
        "zh": "{date} {session} 已满·可排队",
        "en": "{date} {session}, full: join waitlist",
    },
    "care_btn_back": {"zh": "⬅️ 返回列表", "en": "⬅️ Back to list"},
    "care_ask_child_age": {
        "zh": "预约：{inst}\n{date} {session}\n\n孩子多大？请选择，或直接输入月龄（本时段收 {min}–{max} 个月，例如 {example}、{example_text}）。",
        "en": "Booking: {inst}\n{date} {session}\n\nHow old is your child? Choose, or type the age (this session "
        "takes {min}–{max} months, e.g. {example} or {example_text}).",
    },
    "care_btn_age_filter": {"zh": "✅ {m}个月（筛选中的月龄）", "en": "✅ {m} months (your filter)"},
    "care_confirm": {
        "zh": "请确认预约：\n<b>{inst}</b>\n{date} {session}\n孩子 {age} 个月{demo}",
        "en": "Please confirm:\n<b>{inst}</b>\n{date} {session}\nChild {age} months{demo}",
    },
    "care_btn_confirm": {"zh": "✅ 确认预约", "en": "✅ Confirm"},
    "care_btn_cancel_flow": {"zh": "放弃", "en": "Never mind"},
    "care_booked": {
        "zh": "✅ 预约成功！预约码 <b>{code}</b>\n{inst}\n{date} {session}\n地址：{address}\n"
        "前一天会提醒您。查看或取消：/bookings",
        "en": "✅ Booked! Code <b>{code}</b>\n{inst}\n{date} {session}\nAddress: {address}\n"
        "I'll remind you the day before. See or cancel: /bookings",
    },
    "care_flow_dropped": {"zh": "好的，已放弃本次预约。", "en": "OK, nothing was booked."},
    "care_state_conflict": {
        "zh": "刚才同时收到了您的另一个操作，这一步没有生效。请再点一次（或重新发送）。",
        "en": "Another of your actions arrived at the same moment, so this step was not applied. Please tap (or "
        "send) it again.",
    },
    "care_age_invalid": {
        "zh": "这个时段收 {min}–{max} 个月的孩子。请输入孩子的月龄，例如 {example}，或点“放弃”。",
        "en": "This session takes children of {min}–{max} months. Type your child's age, e.g. {example}, or tap "
        "“Never mind”.",
    },
    "care_age_unreadable": {
        "zh": "没看懂这个年龄。请写成例如 {example}、{example_text} 或 1岁半；本时段收 {min}–{max} 个月。也可以点“放弃”。",
        "en": "I couldn't read that age. Write it like {example}, {example_text} or 1y6m; this session takes "
        "{min}–{max} months. Or tap “Never mind”.",
    },
    "care_err_full": {"zh": "抱歉，这个时段已约满。请选择其他时段。", "en": "Sorry, this session is full. Please pick another."},
    "care_err_past": {"zh": "这个时段已经开始或结束，不能再预约。", "en": "This session has already started; it can't be booked."},
    "care_err_age_out_of_range": {
        "zh": "孩子的月龄不在这个时段的收托范围内。",
        "en": "Your child's age is outside this session's age range.",
    },
    "care_err_overlap": {
        "zh": "您已为孩子预约了时间重叠的时段，不能重复预约。",
        "en": "You already have an overlapping booking for this child.",
    },
    "care_err_not_found": {"zh": "这个时段已不存在，请重新查找。", "en": "This session no longer exists; please search again."},
    "care_err_already_cancelled": {"zh": "这个预约已经取消过了。", "en": "This booking was already cancelled."},
    "care_err_other": {"zh": "预约没有成功，请稍后再试。", "en": "The booking did not go through; please try again."},
    "care_bookings_none": {
        "zh": "您目前没有待进行的预约。用 /find 查找附近托育机构。",
        "en": "You have no upcoming bookings. Use /find to look for childcare.",
    },
    "care_bookings_title": {"zh": "<b>我的预约</b>", "en": "<b>My bookings</b>"},
    "care_booking_line": {
        "zh": "{n}. {date} {session}\n   {inst} · 孩子 {age} 个月 · 预约码 {code}",
        "en": "{n}. {date} {session}\n   {inst} · child {age} months · code {code}",
    },
    "care_btn_cancel_booking": {"zh": "取消 {n}", "en": "Cancel {n}"},
    "care_cancel_confirm": {
        "zh": "确定取消 {date} {start} 在 {inst} 的预约（{code}）吗？",
        "en": "Cancel the booking at {inst} on {date} {start} ({code})?",
    },
    "care_btn_cancel_yes": {"zh": "确定取消", "en": "Yes, cancel"},
    "care_btn_cancel_no": {"zh": "不取消", "en": "Keep it"},
    "care_cancelled": {"zh": "已取消预约 {code}，名额已释放。", "en": "Booking {code} cancelled; the place is free again."},
    "care_kept": {"zh": "好的，预约保留。", "en": "OK, the booking stays."},
    "care_reminder": {
        "zh": "⏰ 提醒：明天在 {inst} 有预约（{code}）：{session}。地址：{address}。如需取消：/bookings",
        "en": "⏰ Reminder: tomorrow at {inst} ({code}): {session}. Address: {address}. To cancel: /bookings",
    },
    "care_operator_booked": {
        "zh": "🔔 新预约 {code}：{inst}\n{date} {session}，孩子 {age} 个月。本时段已约 {booked}/{capacity}。",
        "en": "🔔 New booking {code}: {inst}\n{date} {session}, child {age} months. {booked}/{capacity} booked.",
    },
    "care_operator_cancelled": {
        "zh": "🔕 预约 {code} 已取消：{inst}\n{date} {session}。",
        "en": "🔕 Booking {code} cancelled: {inst}\n{date} {session}.",
    },
    "care_operator_only": {
        "zh": "这个命令只对已关联托育机构的经营者开放。如需关联，请联系平台工作人员。",
        "en": "This command is for operators linked to a childcare centre. Please contact our staff to be linked.",
    },
    "care_today_title": {"zh": "<b>{inst}</b> {date} 的预约：", "en": "<b>{inst}</b> bookings on {date}:"},
    "care_today_none": {"zh": "{inst} {date} 没有预约。", "en": "No bookings at {inst} on {date}."},
    "care_today_line": {
        "zh": "• {session} · {code} · 孩子 {age} 个月 · {status}",
        "en": "• {session} · {code} · child {age} months · {status}",
    },
    "care_status_confirmed": {"zh": "已确认", "en": "confirmed"},
    "care_status_cancelled": {"zh": "已取消", "en": "cancelled"},
    "care_addsession_usage": {
        "zh": "用法：/addsession 日期 开始-结束 服务 名额 价格 [月龄下限-上限]\n例如：/addsession 2026-12-01 09:00-12:00 临时托 5 120 12-36",
        "en": "Usage: /addsession DATE START-END SERVICE PLACES PRICE [MINAGE-MAXAGE]\n"
        "e.g. /addsession 2026-12-01 09:00-12:00 temporary 5 120 12-36",
    },
    "care_addsession_bad_date": {
        "zh": "日期应写成 YYYY-MM-DD，且在今天到 {days} 天之内。",
        "en": "The date must be YYYY-MM-DD, from today up to {days} days ahead.",
    },
    "care_addsession_bad_time": {
        "zh": "时间应写成 开始-结束，例如 09:00-12:00，结束晚于开始。",
        "en": "Times must be START-END, e.g. 09:00-12:00, ending after they start.",
    },
    "care_addsession_bad_service": {
        "zh": "服务类型应为 临时托 或 计时托。",
        "en": "The service must be temporary (临时托) or hourly (计时托).",
    },
    "care_addsession_bad_capacity": {"zh": "名额应为 1–500 的整数。", "en": "Places must be a whole number from 1 to 500."},
    "care_addsession_bad_price": {"zh": "价格应为 0–100000 元。", "en": "The price must be ¥0–100000."},
    "care_addsession_bad_ages": {
        "zh": "月龄范围应写成 下限-上限，例如 12-36（0–72 个月）。",
        "en": "The age range must be MIN-MAX in months, e.g. 12-36 (0–72).",
    },
    "care_addsession_choose": {
        "zh": "您关联了多家机构，要把这个时段添加到哪一家？\n{session} · {date} · {capacity} 个名额",
        "en": "You run several centres. Which one gets this session?\n{session} · {date} · {capacity} places",
    },
    "care_addsession_done": {
        "zh": "已添加：{inst}\n{date} {session}，{capacity} 个名额。",
        "en": "Added: {inst}\n{date} {session}, {capacity} places.",
    },
    "care_addsession_error": {"zh": "没有添加：{reason}", "en": "Not added: {reason}"},
    "care_addsession_reason_past": {"zh": "这个时段已经开始了。", "en": "the session would already have started."},
    "care_addsession_reason_ages": {
        "zh": "月龄范围应在机构的收托范围（{min}–{max} 个月）之内。",
        "en": "the age range must lie within the centre's ({min}–{max} months).",
    },
    "care_addsession_reason_other": {"zh": "请检查输入后再试。", "en": "please check the details and try again."},
    "care_location_invalid": {"zh": "这个位置无效，请重新发送。", "en": "That location is not valid; please send it again."},
    # --- waitlist (排队, issue 12 §1) ---
    "care_wl_full": {
        "zh": "这个时段已约满（{inst} {date} {session}）。{queue}可以排队：有人取消时按顺序通知，"
        "为您保留 {hold} 分钟。",
        "en": "This session is full ({inst}, {date} {session}). {queue}You can join the waitlist: when a place "
        "frees up, parents are offered it in turn and it is held for you for {hold} minutes.",
    },
    "care_wl_queue_size": {"zh": "已有 {n} 人排队。", "en": "{n} already waiting. "},
    "care_wl_btn_join": {"zh": "🙋 排队", "en": "🙋 Join the waitlist"},
    "care_wl_joined": {
        "zh": "已排队：{inst} {date} {session}，孩子 {age} 个月。您排在第 {position} 位。"
        "有空位时会立即通知您。查看或退出：/bookings",
        "en": "You're on the waitlist: {inst}, {date} {session}, child {age} months. You are number {position}. "
        "I'll message you as soon as a place frees up. See or leave: /bookings",
    },
    "care_wl_not_full": {
        "zh": "这个时段现在有空位，可以直接预约：",
        "en": "This session has a free place now; you can book it directly:",
    },
    "care_wl_offer": {
        "zh": "🎉 有空位了！<b>{inst}</b>\n{date} {session}\n孩子 {age} 个月\n名额为您保留到 {until}，"
        "请在此之前确认。",
        "en": "🎉 A place is free! <b>{inst}</b>\n{date} {session}\nChild {age} months\nIt is held for you until "
        "{until}; please confirm before then.",
    },
    "care_wl_btn_take": {"zh": "✅ 确认", "en": "✅ Take it"},
    "care_wl_btn_pass": {"zh": "放弃", "en": "Pass"},
    "care_wl_passed": {
        "zh": "好的，已放弃这个名额，并退出了排队。",
        "en": "OK, you passed on the place and left the waitlist.",
    },
    "care_wl_expired_note": {
        "zh": "⌛ {inst} {date} {session} 的保留名额已过期，已让给下一位。如仍需要，可用 /find 重新查找。",
        "en": "⌛ The place held for you at {inst} ({date} {session}) has expired and went to the next in line. "
        "Still need it? Search again with /find.",
    },
    "care_wl_err_expired": {"zh": "抱歉，这个名额的保留时间已过。", "en": "Sorry, the hold on this place has ended."},
    "care_wl_err_passed": {"zh": "您已放弃这个名额。", "en": "You already passed on this place."},
    "care_wl_err_taken": {"zh": "这个名额已经确认过了。", "en": "This place has already been taken."},
    "care_wl_err_not_waiting": {"zh": "您已不在这个排队中。", "en": "You are no longer on this waitlist."},
    "care_wl_err_already_booked": {
        "zh": "您已为孩子预约了这个时段。",
        "en": "You already have a booking for this child in this session.",
    },
    "care_wl_title": {"zh": "<b>排队中</b>", "en": "<b>On the waitlist</b>"},
    "care_wl_line": {
        "zh": "{n}. {date} {session}\n   {inst} · 孩子 {age} 个月 · 第 {position} 位",
        "en": "{n}. {date} {session}\n   {inst} · child {age} months · number {position}",
    },
    "care_wl_line_offered": {
        "zh": "{n}. {date} {session}\n   {inst} · 孩子 {age} 个月 · 名额保留中，至 {until}",
        "en": "{n}. {date} {session}\n   {inst} · child {age} months · a place is held for you until {until}",
    },
    "care_wl_btn_leave": {"zh": "退出排队 {n}", "en": "Leave waitlist {n}"},
    "care_wl_left": {"zh": "已退出排队：{inst} {date} {session}。", "en": "You left the waitlist: {inst}, {date} {session}."},
    "care_addsession_resized": {
        "zh": "这个时段已存在，已调整名额：{inst}\n{date} {session}，名额 {old} → {capacity}。"
        "新增名额已优先提供给排队的 {offered} 位家长。",
        "en": "This session exists already; its places were changed: {inst}\n{date} {session}, {old} → {capacity} "
        "places. {offered} waiting parent(s) were offered the new places first.",
    },
    "care_addsession_reason_booked": {
        "zh": "名额不能少于已预约或保留的 {booked} 个。",
        "en": "places cannot be fewer than the {booked} already booked or held.",
    },
    "care_today_queue": {
        "zh": "• {session} · 已约 {booked}/{capacity} · 排队 {n} 人",
        "en": "• {session} · {booked}/{capacity} booked · {n} waiting",
    },
    "care_filing_已备案": {"zh": "已备案", "en": "filed"},
    "care_filing_备案中": {"zh": "备案中", "en": "filing in progress"},
    "care_filing_未备案": {"zh": "未备案", "en": "not filed"},
}

#: Data labels (legal nature, form) shown on the card: Chinese data, English wording.
LABELS_EN = {
    "事业单位": "public institution", "社会服务机构": "non-profit", "营利性": "for-profit",
    "独立托育机构": "independent centre", "社区嵌入式": "community-based", "幼儿园托班": "kindergarten class",
    "用人单位办托": "employer-run", "家庭托育点": "home-based", "托育综合服务中心": "childcare service centre",
}  # fmt: skip
CARE_TEXTS.update({f"care_label_{zh}": {"zh": zh, "en": en} for zh, en in LABELS_EN.items()})

register_texts(CARE_TEXTS)
