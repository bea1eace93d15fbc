"""Cleaning: spam, page furniture and URLs go (and are reported); policy text stays verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.catalog import load_catalog
from retrieval.cleaning import clean_text, load_rules
from retrieval.loaders import load_document

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
SPAM = "澳门太阳城赌城-【官网娱乐网站】:"
# Fragments an advert or page chrome would contain; none may survive cleaning in any document.
FORBIDDEN = [
    "赌城",
    "太阳城",
    "娱乐网站",
    "官网",
    "博彩",
    "葡京",
    "扫一扫",
    "朗读",
    "微信公众号",
    "版权保护",
    "http",
    "www.",
    "此件主动公开",
    "此件公开发布",
    "来源:",
    "打印本页",
    "关闭窗口",
]


def raw(doc_id: str) -> str:
    for meta, path in load_catalog(KNOWLEDGE):
        if meta.doc_id == doc_id:
            return load_document(path)
    raise KeyError(doc_id)


def cleaned(doc_id: str) -> str:
    return clean_text(raw(doc_id))[0]


def test_zhangjiagang_spam_removed_and_overwritten_words_restored() -> None:
    text, report = clean_text(raw("zhangjiagang"))
    assert SPAM not in text
    # The injector overwrote 关于 twice and 相关 once; the restore rules put each one back from context.
    assert "为贯彻落实习近平总书记关于普惠托育服务的重要指示精神" in text
    assert "积极落实党中央、国务院关于优化生育政策的决策部署" in text
    assert "推动普惠托育服务加快扩容,带动相关机构转型发展普惠托育。" in text
    spam = [r for r in report.removals if r.kind == "spam"]
    assert [(r.text, r.replacement) for r in spam] == [(SPAM, "关于"), (SPAM, "关于"), (SPAM, "相关")]
    assert [r.line for r in spam] == [7, 9, 22]


def test_report_counts_per_document() -> None:
    expected = {
        "xiamen": {"page_furniture": 1, "share_prompt": 1},
        "zhangjiagang": {"spam": 3, "page_furniture": 1},
        "daqing": {"page_furniture": 1, "share_prompt": 1},
        "taizhou": {},
        "beilun": {"page_furniture": 2, "share_prompt": 1},
    }
    for doc_id, counts in expected.items():
        assert clean_text(raw(doc_id))[1].counts() == counts, doc_id


def test_page_furniture_removed_with_line_numbers() -> None:
    _, report = clean_text(raw("beilun"))
    removed = {(r.kind, r.line): r.text for r in report.removals}
    assert removed[("page_furniture", 1)] == "朗读"
    assert removed[("share_prompt", 33)].startswith("详细咨询:关注微信公众号")
    assert removed[("page_furniture", 34)].startswith("版权保护: 本文由 主页 >")
    assert "nbxinxi.com" in removed[("page_furniture", 34)]
    xiamen = {r.text for r in clean_text(raw("xiamen"))[1].removals}
    assert xiamen == {"(此件主动公开)", "扫一扫在手机上查看当前页面"}
    daqing = {r.text for r in clean_text(raw("daqing"))[1].removals}
    assert daqing == {"来源:大庆市人民政府", "文章转载自微信公众号:国家婴幼儿托育服务"}


@pytest.mark.parametrize("doc_id", ["xiamen", "zhangjiagang", "daqing", "taizhou", "beilun"])
def test_no_spam_or_furniture_survives(doc_id: str) -> None:
    text = cleaned(doc_id)
    for fragment in FORBIDDEN:
        assert fragment not in text, (doc_id, fragment)


@pytest.mark.parametrize("doc_id", ["xiamen", "zhangjiagang", "daqing", "taizhou", "beilun"])
def test_other_lines_are_kept_verbatim(doc_id: str) -> None:
    original = raw(doc_id).split("\n")
    text = cleaned(doc_id)
    report = clean_text(raw(doc_id))[1]
    touched = {r.line for r in report.removals}
    for number, line in enumerate(original, start=1):
        if number not in touched and line.strip():
            assert line.rstrip() in text, (doc_id, number)


def test_policy_sentences_untouched() -> None:
    sentences = [
        "5.托育机构租金减免。制定租金减免细则,对普惠托育服务机构根据备案的建筑面积按一定比例和最高限额给予相应的租金减免",
        "托育机构收托困境婴幼儿的,按规定减免500元/人/月托育服务费用。 |",
        "(二)具体目标",
        "- 备注/文号:厦卫人口家庭〔2024〕169号",
        "婴幼儿照护服务机构用电、用水、用气实行居民价格。",
        "利用福利彩票公益金支持普惠托育。严禁赌博。访问卫健委官网了解详情。",  # lone words are not adverts
        "香港、澳门居民在内地工作的,同等享受托育补贴。",
        "关注特殊婴幼儿群体,鼓励有条件的托育机构或残疾儿童康复机构,探索提供融入式“托育+康复”服务。",
    ]
    for sentence in sentences:
        text, report = clean_text(sentence)
        assert text == sentence.rstrip() + "\n", sentence
        assert report.removals == [], sentence


def test_unseen_ad_phrases_are_removed() -> None:
    for ad in ["【葡京娱乐官网】", "新葡京博彩-【真人娱乐官网】：", "[太阳城娱乐城]", "百家乐 真人视讯 官网"]:
        text, report = clean_text(f"鼓励有条件的幼儿园开设托班。{ad}提供全日托服务。")
        assert text == "鼓励有条件的幼儿园开设托班。提供全日托服务。\n", ad
        assert report.counts() == {"spam": 1}, ad


def test_restore_rule_needs_context() -> None:
    # Between an authority and "…的决策部署" the injector had overwritten 关于.
    text, report = clean_text(f"认真落实省委{SPAM}托育服务的决策部署。")
    assert text == "认真落实省委关于托育服务的决策部署。\n"
    assert report.removals[0].replacement == "关于"
    # With no recognisable context nothing is invented.
    text, report = clean_text(f"托育服务{SPAM}持续发展。")
    assert text == "托育服务持续发展。\n"
    assert report.removals[0].replacement == ""
    # A spam line on its own is dropped entirely.
    text, report = clean_text(f"第一行\n{SPAM}\n第二行")
    assert text == "第一行\n第二行\n"
    assert report.removals[0].line == 2


def test_bare_urls_and_inline_furniture() -> None:
    text, report = clean_text(
        "详见 https://www.example.gov.cn/zwgk/a.html?id=1 或 www.example.org/x 。\n字号:大 中 小\n打印本页 关闭窗口\n浏览次数: 123"
    )
    assert text == "详见  或  。\n"
    assert report.counts() == {"url": 2, "page_furniture": 3}


def test_share_prompts_and_breadcrumbs() -> None:
    text, report = clean_text("首页 > 政务公开 > 通知公告\n分享到: 微信 微博 QQ空间\n托育机构应当备案。")
    assert text == "托育机构应当备案。\n"
    assert report.counts() == {"page_furniture": 1, "share_prompt": 1}


def test_line_endings_and_trailing_spaces_only() -> None:
    text, report = clean_text("一、总体要求  \r\n\r\n（一）指导思想。 全角，标点；保留。\t\r\n")
    assert text == "一、总体要求\n\n（一）指导思想。 全角，标点；保留。\n"
    assert report.removals == []


def test_rules_file_is_the_source_of_patterns() -> None:
    rules = load_rules()
    assert rules.restore and rules.line_rules and rules.inline_rules
    assert {rule.insert for rule in rules.restore} == {"关于", "相关"}
