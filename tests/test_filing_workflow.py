"""Loading and validating the filing workflow data: the real files load; every kind of mistake is reported with
the file and the field, and nothing is loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from db.filing.workflow import (
    DEFAULT_KNOWLEDGE_DIR,
    FILE_TYPES,
    WorkflowError,
    _main,
    get_workflow,
    load_workflow,
)

REAL = DEFAULT_KNOWLEDGE_DIR


@pytest.fixture
def kdir(tmp_path) -> Path:
    """A copy of the real workflow files to break."""
    target = tmp_path / "knowledge"
    target.mkdir()
    shutil.copy(REAL / "filing.yaml", target / "filing.yaml")
    shutil.copytree(REAL / "filing_cities", target / "filing_cities")
    return target


def _raw(kdir: Path, name: str = "filing.yaml") -> dict:
    return yaml.safe_load((kdir / name).read_text(encoding="utf-8"))


def _write(kdir: Path, data, name: str = "filing.yaml") -> None:
    (kdir / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _problems(kdir: Path) -> str:
    with pytest.raises(WorkflowError) as info:
        load_workflow(kdir)
    return str(info.value)


# --- the real data ----------------------------------------------------------------------------------------------


def test_real_workflow_loads_and_covers_the_issue():
    wf = load_workflow()
    assert [n.id for n in wf.natures] == ["public_institution", "social_service", "for_profit", "family"]
    authorities = {n.id: n.authority.get("zh") for n in wf.natures}
    assert authorities["public_institution"] == "县级以上机构编制部门"
    assert authorities["social_service"] == "县级以上民政部门"
    assert authorities["for_profit"] == "县级以上市场监督管理部门"
    assert wf.nature("family").confirmed is False  # not in the rules we have seen: marked as such
    assert all(n.explain.get("zh") and n.explain.get("en") for n in wf.natures)
    assert "托育服务" in wf.data.registration.business_scope.text.get("zh")

    ids = [m.id for m in wf.data.materials]
    assert {"license", "premises", "staff", "hygiene", "fire", "food"} <= set(ids)
    food = wf.material("food")
    assert food.confirmed is False and food.can_be_not_applicable
    assert not wf.material("license").can_be_not_applicable
    for m in wf.data.materials:
        assert m.name.get("zh") and m.name.get("en") and m.what.get("zh") and m.who.get("zh")
        assert wf.accepted_types(m) and wf.max_bytes(m) <= 20 * 1024 * 1024
    assert [ft.key for ft in wf.accepted_types(wf.material("license"))] == ["pdf", "jpg", "png"]
    assert wf.max_bytes(wf.material("license")) == 10 * 1024 * 1024
    assert wf.max_bytes(wf.material("staff")) == 20 * 1024 * 1024

    days = {t.id: t.working_days for t in wf.data.timeline}
    assert days == {"complete": 5, "verify": 15}
    assert {a.id for a in wf.data.after_filing} >= {"change", "closure"}
    assert "托育机构备案信息系统" in wf.data.filing.system.text.get("zh")
    assert "县级卫生健康部门" in wf.data.filing.authority.text.get("zh")


def test_every_fact_names_a_known_source():
    wf = load_workflow()
    sources = wf.sources
    facts = [*wf.natures, *wf.data.materials, *wf.data.timeline, *wf.data.after_filing,
             wf.data.registration.business_scope, wf.data.filing.authority, wf.data.filing.system,
             wf.data.readiness, wf.data.readiness.family]
    for city in wf.cities:
        facts += [*city.notes, *city.materials, *city.timeline]
    for fact in facts:
        assert fact.source in sources
    assert wf.cite(wf.material("license")) == "《托育机构登记和备案办法(试行)》国卫办人口发〔2019〕25号"
    assert wf.source(wf.data.readiness.source).number == "国卫人口发〔2019〕58号"


def test_city_additions_are_found_by_name_or_alias():
    wf = load_workflow()
    assert {c.city for c in wf.cities} >= {"台州市", "大庆市", "张家港市", "厦门市"}
    assert wf.city("台州").city == "台州市" and wf.city("taizhou").city == "台州市"
    assert wf.city("深圳") is None and wf.city("") is None
    notes = wf.notes_for("台州市")
    assert any("43" in n.text.get("zh") and "18" in n.text.get("zh") for n in notes)
    assert wf.notes_for(None) == []


def test_city_materials_extend_the_checklist(kdir):
    city = _raw(kdir, "filing_cities/taizhou.yaml")
    city["materials"] = [{"id": "tz_form", "name": "台州一件事申请表", "what": "本地表格", "who": "台州的机构",
                          "source": "taizhou_reply_2022", "accept": ["pdf"], "natures": ["for_profit"]}]
    _write(kdir, city, "filing_cities/taizhou.yaml")
    wf = load_workflow(kdir)
    assert [m.id for m in wf.materials_for("for_profit", "台州")][-1] == "tz_form"
    assert "tz_form" not in [m.id for m in wf.materials_for("social_service", "台州市")]
    assert "tz_form" not in [m.id for m in wf.materials_for("for_profit", "厦门市")]
    assert wf.material("tz_form", "台州市").name.get("en") == "台州一件事申请表"  # English falls back


# --- every kind of invalid file -----------------------------------------------------------------------------------


def _set(path: list, value):
    def mutate(raw):
        node = raw
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def _delete(path: list):
    def mutate(raw):
        node = raw
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return mutate


def _append_copy(list_name: str, index: int):
    def mutate(raw):
        raw[list_name].append(dict(raw[list_name][index]))
    return mutate


BROKEN = {
    "missing field": (_delete(["legal_natures", 0, "authority"]),
                      "legal_natures[0](id=public_institution).authority: required field is missing"),
    "unknown field": (_set(["materials", 1, "colour"], "red"), "materials[1](id=pledge).colour: unknown field"),
    "unknown file type": (_set(["materials", 3, "accept"], ["pdf", "exe"]),
                          "materials[3](id=premises).accept: Value error, unknown file type 'exe'"),
    "no file types": (_set(["materials", 3, "accept"], []), "materials[3](id=premises).accept"),
    "too large limit": (_set(["materials", 4, "max_mb"], 50), "materials[4](id=staff).max_mb"),
    "unknown source": (_set(["materials", 2, "source"], "nope"),
                       "materials[2](id=license).source: unknown source 'nope'"),
    "duplicate id": (_append_copy("materials", 0), "duplicate material id 'filing_form'"),
    "unknown nature": (_set(["materials", 0, "natures"], ["pirate"]),
                       "materials[0](id=filing_form).natures: unknown legal nature 'pirate'"),
    "bad id": (_set(["materials", 0, "id"], "Filing Form"), "materials[0](id=Filing Form).id"),
    "wrong version": (_set(["version"], 2), "version"),
    "empty text": (_set(["legal_natures", 1, "name"], {"zh": "", "en": "x"}), "legal_natures[1](id=social_service).name.zh"),
    "non-positive class size": (_set(["readiness", "class_types", 0, "max_children"], 0),
                                "readiness.class_types[0](id=infant).max_children"),
    "zero ratio": (_set(["readiness", "class_types", 1, "children_per_carer"], 0),
                   "readiness.class_types[1](id=toddler).children_per_carer"),
    "alias twice": (_set(["readiness", "class_types", 1, "aliases"], ["乳儿班", "托小班"]),
                    "duplicate class-type alias '乳儿班'"),
    "no materials": (_set(["materials"], []), "materials: Tuple should have at least 1 item"),
    "wrong type": (_set(["timeline", 0, "working_days"], "five"), "timeline[0](id=complete).working_days"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_kind_of_mistake_is_reported_with_file_and_field(kdir, case):
    mutate, expected = BROKEN[case]
    raw = _raw(kdir)
    mutate(raw)
    _write(kdir, raw)
    message = _problems(kdir)
    assert f"{kdir / 'filing.yaml'}: " in message
    assert expected in message


def test_several_mistakes_are_all_reported(kdir):
    raw = _raw(kdir)
    del raw["legal_natures"][0]["authority"]
    raw["materials"][3]["accept"] = ["exe"]
    _write(kdir, raw)
    with pytest.raises(WorkflowError) as info:
        load_workflow(kdir)
    assert len(info.value.problems) == 2


def test_invalid_yaml_names_the_line(kdir):
    (kdir / "filing.yaml").write_text("version: 1\nsources: [a,\n  b\n", encoding="utf-8")
    message = _problems(kdir)
    assert "filing.yaml: line" in message and "not valid YAML" in message


def test_a_list_instead_of_a_mapping(kdir):
    (kdir / "filing.yaml").write_text("- one\n- two\n", encoding="utf-8")
    assert "expected a mapping of fields, got list" in _problems(kdir)


def test_missing_file(tmp_path):
    message = _problems(tmp_path)
    assert "filing.yaml: cannot read" in message


def test_a_broken_city_file_refuses_the_whole_workflow(kdir):
    city = _raw(kdir, "filing_cities/daqing.yaml")
    city["notes"][0]["source"] = "unknown_doc"
    _write(kdir, city, "filing_cities/daqing.yaml")
    message = _problems(kdir)
    assert f"{kdir / 'filing_cities' / 'daqing.yaml'}: notes[0].source: unknown source 'unknown_doc'" in message


def test_city_cannot_redefine_a_national_item_or_source(kdir):
    city = _raw(kdir, "filing_cities/taizhou.yaml")
    city["materials"] = [{"id": "license", "name": "x", "what": "x", "who": "x", "source": "reg2019"}]
    city["sources"].append({"id": "reg2019", "title": "重复"})
    _write(kdir, city, "filing_cities/taizhou.yaml")
    message = _problems(kdir)
    assert "duplicate material id 'license'" in message and "duplicate source id 'reg2019'" in message


def test_two_city_files_for_one_city(kdir):
    shutil.copy(kdir / "filing_cities" / "daqing.yaml", kdir / "filing_cities" / "daqing2.yaml")
    message = _problems(kdir)
    assert "duplicate city name '大庆市'" in message


def test_bad_yaml_in_a_city_file(kdir):
    (kdir / "filing_cities" / "bad.yaml").write_text("city: [", encoding="utf-8")
    message = _problems(kdir)
    assert "bad.yaml: line" in message


def test_no_cities_folder_means_no_additions(kdir):
    shutil.rmtree(kdir / "filing_cities")
    assert load_workflow(kdir).cities == ()


# --- caching and the command line ----------------------------------------------------------------------------------


def test_get_workflow_reloads_after_an_edit_and_refuses_a_broken_one(kdir):
    first = get_workflow(kdir)
    assert get_workflow(kdir) is first
    raw = _raw(kdir)
    raw["materials"][0]["name"] = {"zh": "备案书（新）", "en": "Filing form (new)"}
    _write(kdir, raw)
    second = get_workflow(kdir)
    assert second is not first and second.material("filing_form").name.get("zh") == "备案书（新）"
    raw["materials"][0]["accept"] = ["exe"]
    _write(kdir, raw)
    with pytest.raises(WorkflowError):
        get_workflow(kdir)


def test_command_line_check(kdir, capsys):
    assert _main([str(kdir)]) == 0
    assert "OK: 4 legal natures" in capsys.readouterr().out
    (kdir / "filing.yaml").write_text("version: 3\n", encoding="utf-8")
    assert _main([str(kdir)]) == 1
    assert "version" in capsys.readouterr().err


def test_file_types_table():
    assert set(FILE_TYPES) == {"pdf", "jpg", "png", "docx", "doc"}
