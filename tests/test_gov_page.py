"""A web page saved from a government site (tests/data/gov_page.html: top bar, nav menu, breadcrumbs, share
bar, two advert blocks, footer, a `<title>` with the site's name): staff get the policy text only, with the
adverts removed as whole blocks, the site name cut from the title, and number, issuers and date detected from
the line under the heading."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.cleaning import clean_text
from retrieval.html_page import strip_page_chrome, strip_site_suffix
from retrieval.ingest import inspect_upload
from retrieval.metadata import detect_metadata

PAGE = Path(__file__).resolve().parent / "data" / "gov_page.html"


@pytest.fixture(scope="module")
def inspection():
    return inspect_upload(PAGE.read_bytes(), "某市普惠托育服务补贴实施办法.html")


def test_policy_text_only(inspection):
    text = inspection.text
    lines = text.splitlines()
    assert lines[0] == "某市普惠托育服务补贴实施办法"
    assert "每月给予运营补贴400元" in text and "本办法自2026年1月1日起施行" in text
    for noise in ("彩金", "官方网址", "注册即送", "娱乐", "www.", "首页", "机构概况", "分享到", "微博", "打印本页",
                  "扫一扫", "版权所有", "主办单位", "无障碍", "_某市卫生健康委员会"):
        assert noise not in text, noise
    # the advert does not leave words behind in the passage before or after it
    assert "在本市居住的3岁以下婴幼儿。" in text and "二、补贴标准" in text


def test_metadata_from_the_line_under_the_heading(inspection):
    meta = inspection.meta
    assert meta.title == "某市普惠托育服务补贴实施办法"
    assert meta.doc_number == "某卫人口〔2026〕12号"
    assert meta.issuer == "某市卫生健康委员会、某市财政局"
    assert meta.date == "2025-12-08"


def test_removals_are_reported_whole(inspection):
    removed = [(r.kind, r.text) for r in inspection.cleaning.removals]
    assert ("spam", "【澳门新葡京娱乐场】官方网址 www.xpj-example.com 注册即送888元彩金") in removed
    assert ("site_name", "某市卫生健康委员会") in removed
    assert any(kind == "page_furniture" and "机构概况" in text for kind, text in removed)
    assert any(kind == "share_prompt" and "分享到" in text for kind, text in removed)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("某市普惠托育服务补贴实施办法_某市卫生健康委员会", ("某市普惠托育服务补贴实施办法", "某市卫生健康委员会")),
        ("关于印发托育服务方案的通知 | 某市人民政府", ("关于印发托育服务方案的通知", "某市人民政府")),
        ("关于印发托育服务方案的通知", ("关于印发托育服务方案的通知", "")),
        ("0-3岁婴幼儿照护服务指南", ("0-3岁婴幼儿照护服务指南", "")),
    ],
)
def test_site_suffix(title, expected):
    assert strip_site_suffix(title) == expected


def test_a_content_container_with_a_chrome_class_is_kept():
    body = "".join(f"<p>第{i}条 托育机构应当按照规定配备保育人员，并定期开展培训。</p>" for i in range(5))
    page = strip_page_chrome(f"<html><body><div class='main-nav-wrap'>{body}</div></body></html>")
    assert "第4条" in page.html and not page.removals


def test_ad_lines_go_whole_but_policy_sentences_keep_their_words():
    text = (
        "一、补贴对象\n"
        "【澳门新葡京娱乐场】官方网址 www.xpj-example.com 注册即送888元彩金\n"
        "二、【葡京娱乐官网】补贴标准\n"
        "贯彻落实总书记【澳门太阳城赌城官网】普惠托育服务的重要指示精神。\n"
        "【金沙娱乐城】\n官方网址 www.js-example.com\n首存即送888元彩金\n"
        "可登录市卫生健康委官网查询名单。\n"
    )
    cleaned, report = clean_text(text)
    assert "官方网址" not in cleaned and "彩金" not in cleaned and "金沙" not in cleaned
    assert "二、补贴标准" in cleaned  # a heading the spam was injected into keeps its words
    assert "总书记关于普惠托育服务的重要指示精神。" in cleaned  # the overwritten word restored
    assert "可登录市卫生健康委官网查询名单。" in cleaned  # a sentence that merely mentions 官网
    spam = [r.text for r in report.removals if r.kind == "spam"]
    assert "【澳门新葡京娱乐场】官方网址 www.xpj-example.com 注册即送888元彩金" in spam
    assert "首存即送888元彩金" in spam


def test_signature_line_variants():
    base = "某市普惠托育服务补贴实施办法\n{line}\n一、总则\n为规范托育服务，制定本办法。\n"
    meta = detect_metadata(base.format(line="某卫人口〔2026〕12号 某市卫生健康委员会 某市财政局 2025年12月8日"))
    assert (meta.doc_number, meta.issuer, meta.date) == ("某卫人口〔2026〕12号", "某市卫生健康委员会、某市财政局",
                                                         "2025-12-08")
    meta = detect_metadata(base.format(line="某市卫生健康委员会 2025年12月8日"))
    assert (meta.doc_number, meta.issuer, meta.date) == ("", "某市卫生健康委员会", "2025-12-08")
