"""A follow-up beyond what the documents say: "张家港说要做回应性照护，那我在家带一岁的宝宝，具体该怎么做？"

The parent relays what the policy says, then asks, after 那 ("then"), something the policy may never say (how to
do it at home, whether massage helps, what the half-day price is). A passage that matches the relayed part
matches most of the question's words; that is no answer. The words of the follow-up that the relayed part does
not already hold must be covered by the quoted passage; otherwise the documents do not state it.
"""

from __future__ import annotations

import re

from retrieval.salience import Salient, coverage

# ", 那…" (then …): not 那个/那些/那边…, which point back at something ("那个叫什么").
_THEN = re.compile(r"[，,]\s*那(?:么)?(?![个些种边里家位份样個邊裡樣])")
#: Below this share of its own words covered by the quote, a follow-up is not answered.
FOLLOW_UP_COVERAGE = 0.5


def beyond_the_quote(question: str, salient: list[Salient], quote: str) -> bool:
    """True when `question` relays something and asks a follow-up after 那 whose own topic words `quote`
    covers less than `FOLLOW_UP_COVERAGE` of."""
    match = _THEN.search(question)
    if match is None:
        return False
    relayed, follow_up = question[: match.start()].lower(), question[match.end() :].lower()
    own = [word for word in salient if word.word.lower() in follow_up and word.word.lower() not in relayed]
    return bool(own) and coverage(own, quote.lower()) < FOLLOW_UP_COVERAGE
