"""The clauses of a question that ask, apart from the clauses that set the scene.

"厦门的托儿所享受了房租减免以后，收费这块有啥要求？" tells what the parent knows (房租减免) before it asks (收费有啥要求).
The sentence covering the scene best is the one the parent already read; the quote should also cover what is
asked. `asking_words` gives the topic words that stand in the clauses that ask, when some clause only sets the
scene.
"""

from __future__ import annotations

import re

from retrieval.salience import Salient

# Words that ask (a clause holding one asks); English questions are left alone.
_ASKS = re.compile(r"哪|多少|几|什么|甚么|啥|怎么|怎样|如何|谁|是否|有没有|能不能|会不会|要不要|可不可以|吗|呢|[？?]")
_CLAUSES = re.compile(r"[^，,。；;？?！!]+[，,。；;？?！!]?")


def asking_words(question: str, salient: list[Salient]) -> list[Salient]:
    """The topic words of the clauses that ask, when another clause only sets the scene; [] otherwise (every
    clause asks, or none holds a topic word)."""
    clauses = _CLAUSES.findall(question)
    asking = [clause for clause in clauses if _ASKS.search(clause)]
    if not asking or len(asking) == len(clauses):
        return []
    text = "".join(asking).lower()
    return [word for word in salient if word.word.lower() in text]
