"""Rendering answers: escaping, city wording, refusals, splitting within Telegram's limit."""

from bot.render import answer_language, render_answer, split_message
from retrieval.answer import Answer, Quote, Source

SOURCE = Source(
    doc_id="zhangjiagang",
    title="张家港市普惠托育服务发展示范项目工作方案",
    city="张家港市",
    section="三、重点任务 › (二)政策支持示范行动",
    text="托育机构收托困境婴幼儿的,按规定减免部分托育服务费用。",
    score=0.5,
    chunk_id="zhangjiagang:0001",
)


def test_answer_names_city_quotes_and_source():
    answer = Answer(question="q", answered=True, quotes=[Quote(SOURCE.text, SOURCE)], sources=[SOURCE], cities=["张家港市"])
    text = render_answer(answer, "zh", ["张家港市"])
    assert "根据张家港市的政策文件" in text
    assert f"“{SOURCE.text}”" in text
    assert "出处：《张家港市普惠托育服务发展示范项目工作方案》三、重点任务 › (二)政策支持示范行动" in text


def test_html_is_escaped():
    evil = Source(**{**SOURCE.__dict__, "text": "<script>x</script> & <b>"})
    answer = Answer(question="q", answered=True, quotes=[Quote(evil.text, evil)], sources=[evil], cities=["张家港市"])
    text = render_answer(answer, "zh", ["张家港市"])
    assert "<script>" not in text and "&lt;script&gt;" in text and "&amp;" in text


def test_refusal_texts():
    assert "没有找到" in render_answer(Answer(question="q", answered=False, reason="not_found"), "zh", [])
    unknown = Answer(question="q", answered=False, reason="no_documents_for_place", unknown_places=["深圳"])
    text = render_answer(unknown, "en", ["厦门市"])
    assert "no policy documents for 深圳" in text and "厦门市" in text


def test_differs_by_city_labels_each_quote():
    other = Source(**{**SOURCE.__dict__, "city": "厦门市", "chunk_id": "xiamen:0001"})
    answer = Answer(
        question="q", answered=True, quotes=[Quote("a。", SOURCE), Quote("b。", other)], sources=[SOURCE, other],
        cities=["张家港市", "厦门市"],
    )
    text = render_answer(answer, "zh", [])
    assert "各地规定不同" in text and "【张家港市】" in text and "【厦门市】" in text


def test_answer_language_follows_an_english_question():
    assert answer_language("How many places?", "zh") == "en"
    assert answer_language("厦门托位", "en") == "en"
    assert answer_language("厦门托位", "zh") == "zh"
    # A Chinese name inside English prose keeps the question English; English words in Chinese do not.
    assert answer_language("How many places are planned for Nanfeng town (南丰镇)?", "zh") == "en"
    assert answer_language("帮我把 good morning 翻译成日语", "zh") == "zh"
    assert answer_language("厦门 childcare subsidy", "zh") == "zh"


def test_split_message_respects_limit_and_keeps_lines():
    lines = [f"<b>第{i}段</b> " + "很长的文字" * 50 for i in range(60)]
    text = "\n".join(lines)
    parts = split_message(text, limit=4096)
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    assert all(p.count("<b>") == p.count("</b>") for p in parts)


def test_split_message_cuts_an_overlong_plain_line():
    parts = split_message("字" * 10000, limit=4096)
    assert [len(p) for p in parts] == [4096, 4096, 1808]
