"""Texts of the find-care and booking flow (Chinese default, English)."""

from __future__ import annotations

from bot.texts import register_texts

CARE_TEXTS: dict[str, dict[str, str]] = {
    "care_ask_place": {
        "zh": "请发送您的位置（点下方“📍发送我的位置”，或 📎→位置），或直接输入区/镇名，例如：思明、湖里、杨舍、金港。",
        "en": "Share your location (tap “📍 Send my location” below, or 📎 → Location), or type a district or town, "
        "e.g. Siming, Huli, 杨舍, 金港.",
    },
    "care_btn_location": {"zh": "📍 发送我的位置", "en": "📍 Send my location"},
    "care_unknown_place": {
        "zh": "没有找到“{name}”这个地方。请输入厦门或张家港的区/镇名（如 思明、杨舍），或发送位置。",
        "en": "I don't know the place “{name}”. Type a district or town of Xiamen or Zhangjiagang (e.g. Siming, "
        "杨舍), or share your location.",
    },
    "care_header_near": {"zh": "📍 您附近 {radius} 公里内", "en": "📍 Within {radius} km of you"},
    "care_header_place": {"zh": "📍 {place}", "en": "📍 {place}"},
    "care_filters": {"zh": "筛选：{filters}", "en": "Filters: {filters}"},
    "care_no_filters": {"zh": "无", "en": "none"},
    "care_found": {"zh": "共 {total} 家，第 {first}–{last} 家：", "en": "{total} found, showing {first}–{last}:"},
    "care_none": {
        "zh": "没有找到符合条件的托育机构。可以放宽筛选条件，或换个地点。",
        "en": "No childcare centre matches. Try relaxing the filters or another place.",
    },
    "care_demo_note": {
        "zh": "⚠️ 以下为演示数据，并非真实机构。",
        "en": "⚠️ Demo data: these are not real centres.",
    },
    "care_result_line": {
        "zh": "{n}. <b>{name}</b>{puhui}\n   {district} · {distance} 公里 · {price} · 空余托位 {free}",
        "en": "{n}. <b>{name}</b>{puhui}\n   {district} · {distance} km · {price} · {free} places free",
    },
    "care_puhui_mark": {"zh": " 【普惠】", "en": " [affordable/普惠]"},
    "care_price": {"zh": "{service} {price}{unit}", "en": "{service} ¥{price}{unit}"},
    "care_price_reduced": {
        "zh": "{service} {price}{unit}（已减 {amount}，原价 {base}）",
        "en": "{service} ¥{price}{unit} (less {amount}, was {base})",
    },
    "care_price_none": {"zh": "{service} 未提供", "en": "{service} not offered"},
    "care_reduction_note": {
        "zh": "💡 价格已按{key}减免 {amount}{unit} 计算，依据：{source}",
        "en": "💡 Prices include the {key} reduction of {amount}{unit}, per {source}",
    },
    "care_btn_age": {"zh": "👶 月龄{value}", "en": "👶 Age{value}"},
    "care_btn_budget": {"zh": "💰 预算{value}", "en": "💰 Budget{value}"},
    "care_btn_puhui": {"zh": "{mark} 只看普惠", "en": "{mark} Affordable only"},
    "care_btn_service": {"zh": "🧩 {value}", "en": "🧩 {value}"},
    "care_btn_date": {"zh": "📅 {value}", "en": "📅 {value}"},
    "care_btn_reduction": {"zh": "{mark} 困境婴幼儿减免", "en": "{mark} Hardship reduction"},
    "care_btn_prev": {"zh": "⬅️ 上一页", "en": "⬅️ Previous"},
    "care_btn_next": {"zh": "下一页 ➡️", "en": "Next ➡️"},
    "care_any": {"zh": "不限", "en": "any"},
    "care_any_service": {"zh": "服务类型", "en": "Service"},
    "care_any_date": {"zh": "日期", "en": "Date"},
    "care_choose_age": {"zh": "孩子多大了？", "en": "How old is your child?"},
    "care_choose_budget": {"zh": "每月（或每次）最多能花多少？", "en": "Your maximum budget (per month or per session)?"},
    "care_choose_service": {"zh": "需要哪种服务？", "en": "Which service?"},
    "care_choose_date": {"zh": "哪一天？", "en": "Which day?"},
    "care_months": {"zh": "{m}个月", "en": "{m} months"},
    "care_filter_age": {"zh": "{m}个月", "en": "{m} months"},
    "care_filter_budget": {"zh": "≤{p}元", "en": "≤ ¥{p}"},
    "care_filter_puhui": {"zh": "普惠", "en": "affordable"},
    "care_filter_reduction": {"zh": "困境婴幼儿减免", "en": "hardship reduction"},
    "care_details": {
        "zh": (
            "<b>{name}</b>{puhui}\n{demo}"
            "📍 {city}{district} · {address}\n"
            "📞 {phone} · 🕘 {hours}\n"
            "👶 收托月龄 {age_min}–{age_max} 个月 · 托位 {free}/{total} 空余\n"
            "🏷 {nature} · {form} · 备案：{filing}\n\n"
            "<b>收费</b>\n{fees}"
        ),
        "en": (
            "<b>{name}</b>{puhui}\n{demo}"
            "📍 {city}{district} · {address}\n"
            "📞 {phone} · 🕘 {hours}\n"
            "👶 Ages {age_min}–{age_max} months · {free}/{total} places free\n"
            "🏷 {nature} · {form} · Filing: {filing}\n\n"
            "<b>Fees</b>\n{fees}"
        ),
    },
    "care_demo_inline": {"zh": "⚠️ 演示数据，非真实机构\n", "en": "⚠️ Demo data, not a real centre\n"},
    "care_sessions_title": {
        "zh": "\n\n<b>可预约的临时托/计时托</b>（点下方按钮预约）：",
        "en": "\n\n<b>Bookable temporary/hourly sessions</b> (tap a button to book):",
    },
    "care_no_sessions": {
        "zh": "\n\n近期没有可预约的临时托/计时托时段。",
        "en": "\n\nNo bookable temporary/hourly sessions soon.",
    },
    "care_session_button": {"zh": "{date} {start}–{end} ¥{price} 余{free}", "en": "{date} {start}–{end} ¥{price} {free} left"},
    "care_btn_back": {"zh": "⬅️ 返回列表", "en": "⬅️ Back to list"},
    "care_ask_child_age": {
        "zh": "预约：{inst}\n{service} {date} {start}–{end}，¥{price}\n\n孩子多大？请选择月龄，或直接输入月龄数字（{min}–{max}）。",
        "en": "Booking: {inst}\n{service} {date} {start}–{end}, ¥{price}\n\nHow old is your child? Choose, or type "
        "the age in months ({min}–{max}).",
    },
    "care_confirm": {
        "zh": "请确认预约：\n<b>{inst}</b>\n{service} {date} {start}–{end}\n费用 ¥{price} · 孩子 {age} 个月{demo}",
        "en": "Please confirm:\n<b>{inst}</b>\n{service} {date} {start}–{end}\nFee ¥{price} · child {age} months{demo}",
    },
    "care_btn_confirm": {"zh": "✅ 确认预约", "en": "✅ Confirm"},
    "care_btn_cancel_flow": {"zh": "放弃", "en": "Never mind"},
    "care_booked": {
        "zh": "✅ 预约成功！预约码 <b>{code}</b>\n{inst}\n{service} {date} {start}–{end}\n地址：{address}\n"
        "前一天会提醒您。查看或取消：/bookings",
        "en": "✅ Booked! Code <b>{code}</b>\n{inst}\n{service} {date} {start}–{end}\nAddress: {address}\n"
        "I'll remind you the day before. See or cancel: /bookings",
    },
    "care_flow_dropped": {"zh": "好的，已放弃本次预约。", "en": "OK, nothing was booked."},
    "care_age_invalid": {
        "zh": "请输入 {min}–{max} 之间的月龄数字，例如 18。",
        "en": "Please type an age in months between {min} and {max}, e.g. 18.",
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
        "zh": "{n}. {date} {start}–{end} {service}\n   {inst} · 孩子 {age} 个月 · 预约码 {code}",
        "en": "{n}. {date} {start}–{end} {service}\n   {inst} · child {age} months · code {code}",
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
        "zh": "⏰ 提醒：明天 {start}–{end} 在 {inst} 有{service}预约（{code}）。地址：{address}。如需取消：/bookings",
        "en": "⏰ Reminder: tomorrow {start}–{end} {service} at {inst} ({code}). Address: {address}. To cancel: /bookings",
    },
    "care_operator_booked": {
        "zh": "🔔 新预约 {code}：{date} {start}–{end} {service}，孩子 {age} 个月。本时段已约 {booked}/{capacity}。",
        "en": "🔔 New booking {code}: {date} {start}–{end} {service}, child {age} months. {booked}/{capacity} booked.",
    },
    "care_operator_cancelled": {
        "zh": "🔕 预约 {code} 已取消：{date} {start}–{end} {service}。",
        "en": "🔕 Booking {code} cancelled: {date} {start}–{end} {service}.",
    },
    "care_operator_only": {
        "zh": "这个命令只对已关联托育机构的经营者开放。如需关联，请联系平台工作人员。",
        "en": "This command is for operators linked to a childcare centre. Please contact our staff to be linked.",
    },
    "care_today_title": {"zh": "<b>{inst}</b> {date} 的预约：", "en": "<b>{inst}</b> bookings on {date}:"},
    "care_today_none": {"zh": "{inst} {date} 没有预约。", "en": "No bookings at {inst} on {date}."},
    "care_today_line": {
        "zh": "• {start}–{end} {service} · {code} · 孩子 {age} 个月 · {status}",
        "en": "• {start}–{end} {service} · {code} · child {age} months · {status}",
    },
    "care_status_confirmed": {"zh": "已确认", "en": "confirmed"},
    "care_status_cancelled": {"zh": "已取消", "en": "cancelled"},
    "care_addsession_usage": {
        "zh": "用法：/addsession 日期 开始-结束 服务 名额 价格 [月龄下限-上限]\n例如：/addsession 2026-12-01 09:00-12:00 临时托 5 120 12-36",
        "en": "Usage: /addsession DATE START-END SERVICE PLACES PRICE [MINAGE-MAXAGE]\n"
        "e.g. /addsession 2026-12-01 09:00-12:00 临时托 5 120 12-36",
    },
    "care_addsession_done": {
        "zh": "已添加：{inst} {date} {start}–{end} {service}，{capacity} 个名额，¥{price}。",
        "en": "Added: {inst} {date} {start}–{end} {service}, {capacity} places, ¥{price}.",
    },
    "care_addsession_error": {"zh": "没有添加：{reason}", "en": "Not added: {reason}"},
    "care_location_invalid": {"zh": "这个位置无效，请重新发送。", "en": "That location is not valid; please send it again."},
}

register_texts(CARE_TEXTS)
