"""Texts of policy-change alerts: following places, /alerts, the alert messages, the staff preview (Chinese
default, English). Document titles, clauses and quoted sentences stay as the document writes them."""

from __future__ import annotations

from bot.texts import register_texts

ALERT_TEXTS: dict[str, dict[str, str]] = {
    # --- following
    "al_btn_follow": {"zh": "🔔 关注{place}政策更新", "en": "🔔 Follow {place} policy updates"},
    "al_followed": {
        "zh": "✅ 已关注{place}的政策更新。有新文件发布、文件修订或废止时，我会发一条简短的消息告诉你。"
              "发送 /alerts 可以查看或取消。",
        "en": "✅ You now follow policy updates for {place}. When a document is published, revised or withdrawn "
              "I will send you one short message. Send /alerts to see or stop them.",
    },
    "al_already": {
        "zh": "你已经关注了{place}的政策更新。发送 /alerts 可以查看或取消。",
        "en": "You already follow policy updates for {place}. Send /alerts to see or stop them.",
    },
    "al_limit": {
        "zh": "最多可以关注 {n} 个地方。请先在 /alerts 里取消一些。",
        "en": "You can follow at most {n} places. Please stop some in /alerts first.",
    },
    "al_unfollowed": {"zh": "已取消关注{place}。", "en": "Stopped following {place}."},
    "al_not_following": {"zh": "你没有关注{place}。", "en": "You do not follow {place}."},
    "al_place_gone": {
        "zh": "这个地方已不在列表里了，请发送 /alerts 重新选择。",
        "en": "That place is no longer listed; please send /alerts and choose again.",
    },
    "al_list_title": {
        "zh": "🔔 你关注的政策更新（有新文件、修订或废止时通知你）：\n{places}\n\n点下面的按钮取消关注，或关注其他城市。",
        "en": "🔔 Policy updates you follow (you are told when a document is published, revised or withdrawn):\n"
              "{places}\n\nTap a button below to stop one, or follow another city.",
    },
    "al_list_empty": {
        "zh": "🔔 你还没有关注任何地方的政策更新。\n可以在政策回答下方点“关注”，或在下面选择城市：",
        "en": "🔔 You do not follow any policy updates yet.\nTap “Follow” under a policy answer, or choose a city "
              "below:",
    },
    "al_btn_unfollow": {"zh": "❌ 取消关注{place}", "en": "❌ Stop {place}"},
    "al_btn_settings": {"zh": "🔔 政策更新提醒", "en": "🔔 Policy update alerts"},
    "al_btn_ask": {"zh": "💬 问问这份文件", "en": "💬 Ask about it"},
    "al_btn_manage": {"zh": "⚙️ 管理提醒", "en": "⚙️ Manage alerts"},
    "al_gone": {
        "zh": "这条提醒对应的文件已不可用，请直接输入你的问题。",
        "en": "The document of this alert is no longer available; please type your question.",
    },
    "cmd_alerts": {"zh": "政策更新提醒", "en": "Policy update alerts"},
    # --- the alert messages (plain text)
    "al_msg_new": {
        "zh": "📢 {place}发布了新的政策文件：\n《{title}》",
        "en": "📢 New policy document for {place}:\n《{title}》",
    },
    "al_msg_highlights": {"zh": "要点：", "en": "Key points:"},
    "al_msg_replaced": {
        "zh": "📢 《{title}》（{place}）有新版本，变化如下：",
        "en": "📢 《{title}》 ({place}) has a new version. What changed:",
    },
    "al_msg_change_line": {"zh": "• {clause}：{changes}\n  “{sentence}”", "en": "• {clause}: {changes}\n  “{sentence}”"},
    "al_msg_added_line": {"zh": "• 新增（{clause}）：“{sentence}”", "en": "• Added ({clause}): “{sentence}”"},
    "al_msg_removed_line": {"zh": "• 删除（{clause}）：“{sentence}”", "en": "• Removed ({clause}): “{sentence}”"},
    "al_msg_appeared": {"zh": "新增 {new}", "en": "added {new}"},
    "al_msg_disappeared": {"zh": "删去 {old}", "en": "removed {old}"},
    "al_msg_more": {"zh": "……另有 {n} 处变化。", "en": "…and {n} more changes."},
    "al_msg_retired": {
        "zh": "⚠️ 《{title}》（{place}）已停止适用，我不再依据它回答问题。",
        "en": "⚠️ 《{title}》 ({place}) no longer applies; I no longer answer from it.",
    },
    "al_msg_footer": {
        "zh": "点下面的按钮可以直接提问。发送 /alerts 管理提醒。",
        "en": "Tap the button below to ask about it. Send /alerts to manage alerts.",
    },
    "al_msg_clause_head": {"zh": "文件开头", "en": "Heading"},
    # --- staff: before publishing
    "kb_alert_preview": {
        "zh": "🔔 发布后将通知 {n} 位关注者。消息预览：",
        "en": "🔔 Publishing will notify {n} followers. Message preview:",
    },
    "kb_alert_none": {
        "zh": "🔔 目前没有人关注这个地方，发布后不会发送提醒。",
        "en": "🔔 Nobody follows this place yet; publishing sends no alert.",
    },
    "kb_alert_cosmetic": {
        "zh": "🔔 与现行版本相比只有格式或措辞变化，事实没有变，不会通知关注者（{n} 位）。",
        "en": "🔔 Only formatting or wording differs from the current version, no fact changed: the {n} followers "
              "will not be notified.",
    },
    "kb_btn_publish_silent": {"zh": "🔕 静默发布", "en": "🔕 Publish silently"},
    "kb_published_silently": {
        "zh": "🔕 静默发布：没有通知关注者。",
        "en": "🔕 Published silently: followers were not notified.",
    },
}

register_texts(ALERT_TEXTS)
