"""What a sum of money is for: a price, a subsidy, a reduction, an investment or rent. "普惠价格是多少" is not
answered by "1460万元中央投资": the sum stated must be of the kind asked."""

from __future__ import annotations

import re

_MONEY_ROLES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    role: (re.compile(asked, re.I), re.compile(stated))
    for role, asked, stated in (  # (role, the question's words, the words of a sentence stating such a sum)
        ("price", r"价格|价钱|收费|托费|保育费|学费|月费|费用|多少钱一个月|\b(?:price|fee|fees|cost|charge)s?\b",
         r"价格|价|收费|托费|保育费|费用|元/(?:人/)?月|每月|月均"),
        ("subsidy", r"补贴|补助|奖补|资助|奖励|\b(?:subsid\w*|grants?|allowances?|rewards?)\b", r"补贴|补助|奖补|资助|奖励"),
        ("reduction", r"减免|便宜|优惠|\b(?:reductions?|discounts?|cheaper|waive\w*)\b", r"减免|减|降低|优惠|下降|便宜|免"),
        ("investment", r"投资|投入|投了|经费|\b(?:invest\w*|funding)\b", r"投资|投入|资金|经费"),
        ("rent", r"租金|房租|\brent\b", r"租金|房租|租赁|场地"),
    )
}


def asked_money(question: str) -> frozenset[str]:
    """What the sum an amount question asks for is for (price, subsidy, reduction, investment, rent)."""
    return frozenset(role for role, (asked, _) in _MONEY_ROLES.items() if asked.search(question))


def names_money(text: str, roles: frozenset[str]) -> bool:
    """True when `text` speaks of a sum of one of `roles` (always true without roles)."""
    return not roles or any(_MONEY_ROLES[role][1].search(text) for role in roles)
