"""The clauses of a question that ask choose the quoted sentence too, not only the scene the question sets."""

from __future__ import annotations

import pytest

from retrieval.answer import ASKING_WEIGHT
from retrieval.asking_clause import asking_words
from retrieval.salience import Salient, coverage

RENT = [Salient("托儿所", 7.1), Salient("享受", 3.0), Salient("房租", 5.0), Salient("减免", 4.0),
        Salient("收费", 3.0), Salient("要求", 0.8), Salient("降价", 5.0)]


@pytest.mark.parametrize(("question", "words"), [
    # The scene (房租减免) is known; 收费 and 降价 are asked.
    ("厦门的托儿所享受了房租减免以后，收费这块有啥要求？是不是得降价？", ["收费", "要求", "降价"]),
    # Every clause asks, or the question is one clause: no scene to tell apart.
    ("收费有啥要求？是不是得降价？", []),
    ("托儿所房租减免以后收费有啥要求？", []),
    # No clause asks (a statement): nothing either.
    ("托儿所享受了房租减免，收费降价了。", []),
])
def test_the_asking_words_are_those_of_the_clauses_that_ask(question, words):
    assert [w.word for w in asking_words(question, RENT)] == words


def test_the_asking_words_turn_the_choice_to_the_sentence_that_answers():
    question = "厦门的托儿所享受了房租减免以后，收费这块有啥要求？是不是得降价？"
    scene = "落实房租减免政策。"  # covers the scene's words only
    answer = "应在原标准基础上降价收费。"
    asking = asking_words(question, RENT)

    def score(unit):
        return coverage(RENT, unit) + ASKING_WEIGHT * coverage(asking, unit)

    assert coverage(RENT, scene) > coverage(RENT, answer)  # by all the words the scene would win
    assert score(answer) > score(scene)
