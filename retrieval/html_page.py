"""Page chrome of a web page saved from a government site, removed before the page becomes text.

A saved page carries the site around the document: a top bar, the navigation menu, breadcrumbs, a share
bar, floating adverts, the footer, and a `<title>` with the site's name appended ("…办法_某市卫生健康委员会").
Sites mark these with class or id names (`nav`, `menu`, `crumbs`, `share`, `footer`, `ad`, …); the elements
so marked are cut out as a whole and reported (kind and text), the title's site suffix is cut and reported,
and the rest of the page goes to the loader unchanged. Text-level cleaning (`retrieval.cleaning`) still runs
afterwards, so an advert in an unmarked element is caught there.

    page = strip_page_chrome(html_text)
    page.html        # the page without its chrome
    page.removals    # [Removal("navigation", "首页 机构概况 …", 0), Removal("site_name", "某市卫生健康委员会", 0)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retrieval.types import Removal

__all__ = ["Page", "strip_page_chrome", "strip_site_suffix"]

#: class/id words (whole words, split at - and _) → the kind reported to staff.
_HINTS: dict[str, str] = {
    **dict.fromkeys(("nav", "navbar", "menu", "mainnav", "topnav", "subnav", "sidebar", "crumbs", "crumb",
                     "breadcrumb", "breadcrumbs", "location", "topbar", "toolbar", "skip", "tools",
                     "pager", "friendlink", "sitemap"), "page_furniture"),
    **dict.fromkeys(("footer", "foot", "copyright"), "page_furniture"),
    **dict.fromkeys(("share", "bdsharebuttonbox", "sharebox", "qrcode"), "share_prompt"),
    **dict.fromkeys(("ad", "ads", "adv", "advert", "popup", "guanggao"), "spam"),
}
#: An element with more text than this is content, whatever its class says.
_MAX_CHROME_CHARS = 500
_WORD = re.compile(r"[a-z]+")
_SUFFIX_SEPARATORS = "_｜|—–-"
_SITE_NAME = re.compile(
    r"^(?P<title>.{4,}?)\s*[" + re.escape(_SUFFIX_SEPARATORS) + r"]+\s*"
    r"(?P<site>[\u4e00-\u9fff（）()·]{2,40}?(?:委员会|人民政府|政府|门户网站|政府网|网站|网|局|厅|委|办|中心))\s*$"
)
_STRUCTURAL = {"html", "head", "body", "main", "article"}


@dataclass
class Page:
    """The page without its chrome, and what was taken out."""

    html: str
    removals: list[Removal] = field(default_factory=list)
    title: str = ""


def strip_site_suffix(title: str) -> tuple[str, str]:
    """(title, site) for "X_某市卫生健康委员会" or "X | 某市人民政府"; (title, "") when there is no suffix."""
    match = _SITE_NAME.match(" ".join(title.split()))
    if not match:
        return " ".join(title.split()), ""
    return match.group("title").strip(), match.group("site")


def _kind_of(tag) -> str | None:
    words: set[str] = set()
    for attribute in ("class", "id"):
        value = tag.get(attribute)
        if isinstance(value, list):
            value = " ".join(value)
        if value:
            words.update(_WORD.findall(str(value).lower()))
    role = str(tag.get("role") or "").lower()
    if role in ("navigation", "banner", "contentinfo"):
        return "page_furniture"
    for word in words:
        if word in _HINTS:
            return _HINTS[word]
    return None


def strip_page_chrome(markup: str) -> Page:
    """Cut the elements marked as site chrome and the title's site suffix out of `markup`."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    removals: list[Removal] = []
    for tag in list(soup.find_all(True)):
        if getattr(tag, "decomposed", False) or tag.parent is None:
            continue  # inside an element removed already
        if tag.name in _STRUCTURAL or tag.find_parent(["head"]) is not None:
            continue
        kind = _kind_of(tag)
        if kind is None:
            continue
        text = " ".join(tag.get_text(" ").split())
        if len(text) > _MAX_CHROME_CHARS or text.count("。") >= 3:
            continue  # a content container with an unlucky class name: keep it
        if text:
            removals.append(Removal(kind, text[:200], 0))
        tag.decompose()
    title = ""
    if soup.title is not None:
        title, site = strip_site_suffix(soup.title.get_text())
        if site:
            removals.append(Removal("site_name", site, 0))
        heading = soup.find(["h1", "h2"])
        if heading is not None and " ".join(heading.get_text().split()) == title:
            soup.title.decompose()  # the heading says it already
        else:
            soup.title.string = title
    return Page(str(soup), removals, title)
