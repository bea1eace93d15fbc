"""CSV import: a good file applies, bad rows are reported with line and reason, any bad row → nothing applied."""

from __future__ import annotations

from sqlalchemy import func, select

from db.care.csv_import import import_institutions_csv, validate_csv
from db.core.engine import run_unit, session_scope
from db.models import Institution

HEADER = "name,city,district,address,lat,lon,puhui,total_places,free_places,external_id,fee_full_day,fee_temporary,services,classes,age_min_months,age_max_months,filing_status,legal_nature,form,phone,opening_hours"
GOOD_ROWS = [
    "阳光托育中心,厦门市,思明区,厦门市思明区莲前西路1号,24.4702,118.1301,是,60,8,91350200MA0001,1800,90,全日托|临时托,托小班|托大班,12,36,已备案,营利性,独立托育机构,0592-1234567,周一至周五 07:30-17:30",
    '"小橡果托育点, 湖里",厦门市,湖里区,厦门市湖里区仙岳路2号,24.5010,118.1402,否,30,0,91350200MA0002,3200,,全日托,,6,36,备案中,营利性,社区嵌入式,,',
    "杨舍社区托育点,张家港市,杨舍镇,张家港市杨舍镇人民路3号,31.8701,120.5502,yes,40,5,,1650,80,,,,,,,,,",
]


def write(tmp_path, lines, name="inst.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def count(engine) -> int:
    with session_scope(engine) as session:
        return session.execute(select(func.count()).select_from(Institution)).scalar_one()


def test_good_file_applies(db_engine, tmp_path):
    report = run_unit(db_engine, import_institutions_csv, write(tmp_path, [HEADER, *GOOD_ROWS]))
    assert report.applied and report.errors == []
    assert (report.rows, report.inserted, report.updated) == (3, 3, 0)
    with session_scope(db_engine) as session:
        rows = {i.name: i for i in session.execute(select(Institution)).scalars()}
    sun = rows["阳光托育中心"]
    assert sun.fees == {"全日托": 1800, "临时托": 90} and sun.services == ["全日托", "临时托"]
    assert sun.classes == ["托小班", "托大班"] and sun.puhui and not sun.is_demo
    assert sun.external_id == "91350200MA0001" and sun.age_min_months == 12
    assert rows["小橡果托育点, 湖里"].puhui is False
    yangshe = rows["杨舍社区托育点"]
    assert yangshe.services == ["全日托", "临时托"]  # from the fees given
    assert (yangshe.filing_status, yangshe.age_min_months, yangshe.age_max_months) == ("未备案", 6, 36)
    assert "已备案" not in report.summary() and "导入成功" in report.summary()


def test_reimport_updates_instead_of_duplicating(db_engine, tmp_path):
    path = write(tmp_path, [HEADER, *GOOD_ROWS])
    run_unit(db_engine, import_institutions_csv, path)
    changed = GOOD_ROWS[0].replace(",1800,", ",1700,")
    report = run_unit(db_engine, import_institutions_csv, write(tmp_path, [HEADER, changed, *GOOD_ROWS[1:]], name="v2.csv"))
    assert report.applied and (report.inserted, report.updated) == (0, 3)
    assert count(db_engine) == 3
    with session_scope(db_engine) as session:
        sun = session.execute(select(Institution).where(Institution.external_id == "91350200MA0001")).scalar_one()
        assert sun.fees["全日托"] == 1700


def test_bad_rows_reported_and_nothing_applied(db_engine, tmp_path):
    bad = [
        GOOD_ROWS[0],
        # line 3: lat/lon swapped
        "坐标写反,厦门市,思明区,某路1号,118.13,24.47,是,20,0,,1800,,,,,,,,,,",
        # line 4: missing name, price not a number
        ",厦门市,思明区,某路2号,24.47,118.13,是,20,0,,一千八,,,,,,,,,,",
        # line 5: free > total, unknown service
        "超员,厦门市,思明区,某路3号,24.47,118.13,是,10,12,,1800,,全日托|夜托,,,,,,,,",
        # line 6: 临时托 listed without a fee
        "缺收费,厦门市,思明区,某路4号,24.47,118.13,否,10,1,,1800,,全日托|临时托,,,,,,,,",
        # line 7: wrong number of fields
        "太短,厦门市",
        # line 8: duplicate external_id of line 2
        "重复,厦门市,思明区,某路5号,24.47,118.13,是,10,1,91350200MA0001,1800,,,,,,,,,,",
        # line 9: bad puhui, bad filing status, age range reversed
        "杂项,厦门市,思明区,某路6号,24.47,118.13,也许,10,1,,1800,,,,30,20,已登记,,,,",
    ]
    report = run_unit(db_engine, import_institutions_csv, write(tmp_path, [HEADER, *bad]))
    assert not report.applied
    assert count(db_engine) == 0  # the good first row was not applied either
    lines = {e.line for e in report.errors}
    assert lines == {3, 4, 5, 6, 7, 8, 9}
    by_line = {}
    for error in report.errors:
        by_line.setdefault(error.line, []).append(error)
    assert "swapped" in by_line[3][0].message
    assert {e.column for e in by_line[4]} == {"name", "fee_full_day"}
    assert any(e.column == "services" for e in by_line[5])
    assert "临时托" in by_line[6][0].message
    assert "wrong number of fields" in by_line[7][0].message
    assert by_line[8][0].column == "external_id" and "2" in by_line[8][0].message
    assert {e.column for e in by_line[9]} == {"puhui", "filing_status"}
    summary = report.summary()
    assert "nothing was imported" in summary and "第 3 行" in summary
    as_json = report.to_dict()
    assert as_json["applied"] is False and as_json["rejected"][0]["line"] == 3


def test_header_problems(db_engine, tmp_path):
    report = run_unit(db_engine, import_institutions_csv, write(tmp_path, ["name,city,price", "x,y,1"]))
    assert not report.applied
    problems = {(e.line, e.column) for e in report.errors}
    assert (1, "price") in problems  # unknown column
    assert (1, "lat") in problems and (1, "total_places") in problems  # required columns missing


def test_chinese_headers_and_gbk(db_engine, tmp_path):
    lines = [
        "机构名称,城市,区县,地址,纬度,经度,普惠,总托位,全日托收费",
        "海沧社区托育点,厦门市,海沧区,厦门市海沧区海沧大道1号,24.49,118.01,是,25,1900",
    ]
    report = run_unit(db_engine, import_institutions_csv, write(tmp_path, lines, encoding="gb18030"))
    assert report.applied and report.inserted == 1


def test_file_level_errors(db_engine, tmp_path):
    assert validate_csv(tmp_path / "missing.csv")[1].errors[0].message.startswith("文件不存在")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty" in validate_csv(empty)[1].errors[0].message
    header_only = write(tmp_path, [HEADER], name="header.csv")
    assert "no data rows" in validate_csv(header_only)[1].errors[0].message
    binary = tmp_path / "pic.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    report = run_unit(db_engine, import_institutions_csv, binary)
    assert not report.applied and report.errors[0].line == 0
    assert count(db_engine) == 0


def test_limits_are_declared_once_for_the_table_and_the_csv_row():
    """The CSV row inherits the table's fields: its length limits are the table's column lengths."""
    from db.care.csv_import import InstitutionRow

    for column in ("external_id", "name", "city", "district", "address", "phone", "opening_hours"):
        limit = next(m.max_length for m in InstitutionRow.model_fields[column].metadata if hasattr(m, "max_length"))
        assert Institution.__table__.c[column].type.length == limit, column


def test_limit_errors_speak_the_import_language(tmp_path):
    head = "name,city,district,address,lat,lon,puhui,total_places,fee_full_day,phone"
    rows = [
        "长" * 201 + ",厦门市,思明区,某路1号,24.47,118.13,是,20,1800,",  # line 2: name too long
        "控制\x01字符,厦门市,思明区,某路2号,24.47,118.13,是,20,1800,",  # line 3: a control character
        "零托位,厦门市,思明区,某路3号,24.47,118.13,是,0,1800,",  # line 4: no places
        "贵,厦门市,思明区,某路4号,24.47,118.13,是,20,200000,",  # line 5: fee out of range
        "电话长,厦门市,思明区,某路5号,24.47,118.13,是,20,1800," + "1" * 40,  # line 6: phone too long
    ]
    _, report = validate_csv(write(tmp_path, [head, *rows]))
    by_line = {e.line: (e.column, e.message) for e in report.errors}
    assert by_line[2] == ("name", "太长,最多 200 字 (too long)")
    assert by_line[3] == ("name", "含控制字符 (contains control characters)")
    assert by_line[4] == ("total_places", "总托位应在 1–10000 之间 (total_places must be 1–10000)")
    assert by_line[5] == ("fee_full_day", "收费应在 0–100000 元之间 (fee_full_day must be 0–100000)")
    assert by_line[6] == ("phone", "太长,最多 32 字 (too long)")
