"""Screening: sentences of an upload that look like injected adverts or prompt-injection attempts are cut out
of what gets indexed, so they are never quoted to parents (nor read by an LLM). Staff uploads go through it
(`retrieval.ingest`); its rules are part of a staff document's content hash."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from retrieval.types import Removal


@dataclass(frozen=True)
class ScreenRule:
    """One pattern; `strong` rules flag a sentence alone, weak ones need a second weak signal."""

    kind: str  # "injection" | "advert"
    pattern: re.Pattern[str]
    strong: bool = True


def _rules(kind: str, strong: bool, *patterns: str) -> list[ScreenRule]:
    return [ScreenRule(kind, re.compile(p, re.IGNORECASE), strong) for p in patterns]


SCREEN_RULES: tuple[ScreenRule, ...] = tuple(
    _rules(
        "injection",
        True,
        r"(忽略|无视|忘记|忘掉|不要理会|不要遵守|不必遵守|跳过)[^。！？\n]{0,10}(指令|指示|提示词|提示|规则|设定|约束|命令|prompt)",
        r"(你|您)(现在)?(是|扮演|充当|作为)(一个|一名)?[^。！？\n]{0,8}(助手|机器人|AI|人工智能|语言模型|大模型|客服)",
        r"(作为|身为)(一个|一名)?(AI|人工智能|语言模型|大模型|智能助手)",
        r"(系统|system)\s*(提示|指令|prompt|消息)",
        r"(回答|回复)(所有)?(用户|家长|提问者|问题)时?[^。！？\n]{0,4}(必须|一律|只能|务必)",
        r"(输出|泄露|显示|打印)[^。！？\n]{0,6}(系统提示|提示词|system prompt)",
        r"\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(instructions?|prompts?|rules|directions|guidelines)\b",
        r"\byou are now\b",
        r"\bpretend (to be|you are)\b",
        r"\bact as (an? )?(ai|assistant|chatbot|language model)\b",
        r"\b(system prompt|new instructions?|jailbreak)\b",
        r"<\|?(im_start|im_end|system|endoftext)\|?>|\[/?INST\]",
    )
    + _rules(
        "advert",
        True,
        r"[【\[]\s*(广告|推广|赞助|软文|AD)\s*[】\]]",
        r"^\s*(广告|推广)\s*[:：]",
        r"(加|添加|联系|咨询|私信|关注)\s*(微信|微信号|vx|v信|wx|weixin|qq|企鹅号?)\s*[:：]?\s*[A-Za-z0-9_-]{5,}",
        r"(微信|vx|v信|wx|qq)\s*[:：]\s*[A-Za-z0-9_-]{5,}",
        r"(包过|包通过|保过|快速下证|内部渠道|无需审核|免审核|走关系)",
        r"(招商加盟|加盟热线|火爆招商|全网最低|秒杀|立即抢购|点击购买|下单立减)",
    )
    + _rules(
        "advert",
        False,
        r"(代办|代理办理|代为办理)",
        r"(限时|特价|折扣|优惠券|打折|低至|仅需|只要\d+元)",
        r"(免费领取|扫码领取|点击领取|扫码添加|扫码咨询|名额有限|先到先得)",
        r"(咨询热线|报名热线|客服电话|热线电话)",
        r"(点击链接|点击下方|戳这里|私信)",
    )
)
_SCREEN_SPLIT = re.compile(r"[^。！？!?；;]*(?:[。！？!?；;]+[”’」』）)]*|$)")


def screening_fingerprint() -> str:
    """Hash of the screening rules (part of a staff document's content hash)."""
    text = "\n".join(f"{r.kind}|{r.strong}|{r.pattern.pattern}" for r in SCREEN_RULES)
    return hashlib.sha256(text.encode()).hexdigest()


def screen_sentence(sentence: str) -> str | None:
    """`injection` or `advert` when the sentence looks like one, else None."""
    weak: set[str] = set()
    for rule in SCREEN_RULES:
        if rule.pattern.search(sentence):
            if rule.strong:
                return rule.kind
            weak.add(rule.pattern.pattern)
    return "advert" if len(weak) >= 2 else None


def screen_text(text: str) -> tuple[str, list[Removal]]:
    """The text without flagged sentences, and one `Removal` (kind injection/advert) per flagged sentence."""
    flags: list[Removal] = []
    kept: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            kept.append(line)
            continue
        pieces = [p for p in _SCREEN_SPLIT.findall(line) if p]
        out = []
        for piece in pieces:
            kind = screen_sentence(piece)
            if kind:
                flags.append(Removal(kind, piece.strip(), number))
            else:
                out.append(piece)
        rest = "".join(out)
        if rest.strip():
            kept.append(rest.rstrip())
    cleaned = "\n".join(kept).strip("\n")
    return (cleaned + "\n" if cleaned else ""), flags
