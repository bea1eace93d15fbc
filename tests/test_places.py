"""The place hierarchy: places inside a documented place, siblings and parents, national questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.places import Gazetteer, load_place_tree
from retrieval.query import load_gazetteer
from retrieval.service import live_gazetteer
from retrieval.types import DocumentMeta

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer(KNOWLEDGE / "places.yaml")


def test_a_town_inside_a_documented_district_maps_to_it(gazetteer):
    reading = gazetteer.read("我家住大碶，街道上会有普惠托育吗？")
    assert reading.cities == ["宁波市北仑区"] and reading.sub_places == ["大碶"] and not reading.unknown


def test_a_sibling_district_is_not_answered_from_the_documented_one(gazetteer):
    reading = gazetteer.read("宁波鄞州区的普惠托育机构能拿到什么补贴？")
    assert reading.cities == [] and reading.unknown == ["鄞州"]
    assert reading.nearby["鄞州"] == ["宁波市北仑区"]


def test_the_parent_city_of_a_documented_place_is_not_that_place(gazetteer):
    assert gazetteer.read("宁波的托育补贴").unknown == ["宁波"]
    reading = gazetteer.read("常熟的困境婴幼儿入托每月能减免多少？")
    assert reading.unknown == ["常熟"] and reading.nearby["常熟"] == ["张家港市"]
    assert gazetteer.read("苏州的托位").nearby["苏州"] == ["张家港市"]


def test_the_more_specific_place_speaks(gazetteer):
    assert gazetteer.read("宁波北仑区的托育").cities == ["宁波市北仑区"]
    assert gazetteer.read("苏州张家港杨舍镇的托位").cities == ["张家港市"]


def test_districts_and_counties_inside_a_documented_city(gazetteer):
    assert gazetteer.find("路桥区投了多少钱") == (["台州市"], [])
    assert gazetteer.find("in Wenling and Tiantai") == (["台州市"], [])
    assert gazetteer.find("泰州每千人口拥有多少个托位？") == ([], ["泰州"])


def test_national_question_names_no_place(gazetteer):
    assert gazetteer.read("国家规定的育儿假一年有几天？").national
    assert not gazetteer.read("臺州中央投了多少钱".replace("臺", "台")).national
    assert not gazetteer.read("托育机构要去哪个部门登记？").national


def test_document_aliases_never_remap_the_hierarchy():
    tree = load_place_tree(KNOWLEDGE / "places.yaml")
    gazetteer = Gazetteer(tree, ["宁波市北仑区"], {"宁波": "宁波市北仑区", "北仑": "宁波市北仑区"})
    assert gazetteer.find("宁波的补贴") == ([], ["宁波"])


def test_live_documents_decide_what_is_documented(gazetteer):
    live = [DocumentMeta("sz", "深圳办法", "深圳市"), DocumentMeta("xm", "厦门方案", "厦门市")]
    current = live_gazetteer(gazetteer, live)
    assert current.find("南山区的补贴") == (["深圳市"], [])
    assert current.find("张家港的补贴") == ([], ["张家港"])  # its documents were all retired
    assert current.tree.level_of("深圳市") == "city" and current.tree.level_of("宁波市北仑区") == "district"
    assert current.tree.level_of("全国") == "national"


def test_a_city_missing_from_the_hierarchy_is_still_documented(gazetteer):
    current = live_gazetteer(gazetteer, [DocumentMeta("x", "办法", "某某市", aliases=("某某",))])
    assert current.find("某某的托育补贴") == (["某某市"], [])


def test_every_name_of_a_named_town_is_known(gazetteer):
    """A table column says 保税区 where the question says 张家港保税区: both name the place."""
    reading = gazetteer.read("张家港保税区要新增几个普惠托班？")
    assert {"张家港保税区", "保税区"} <= set(reading.sub_place_aliases)


def test_a_place_the_hierarchy_does_not_list_is_still_a_place_without_documents(gazetteer):
    """安达市 (a county-level city) is in no list of ours: jieba's dictionary names it a place, without documents."""
    reading = gazetteer.read("安达市托育机构要是发生虐童的事，政府会怎么处理？")
    assert reading.unknown == ["安达市"] and not reading.cities
    assert gazetteer.read("全市有多少托位？").unknown == [], "全市 is a scope, not a name"
    assert gazetteer.read("城市里的托育机构多吗？").unknown == []
    assert gazetteer.read("大庆的托位有多少？").unknown == [], "a listed city is read from the hierarchy"
