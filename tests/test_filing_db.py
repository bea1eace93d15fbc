"""Filing cases in the database, on SQLite and PostgreSQL: create and resume, statuses, uploads with their
metadata, progress, several institutions per operator, ownership, and state that survives a new engine."""

from __future__ import annotations

import threading

import pytest

from db.core.engine import make_engine, run_unit
from db.filing import cases as F
from db.filing.workflow import FILE_TYPES, load_workflow
from tests.db_fixtures import engine_url

OP = 880001
OTHER = 880002


@pytest.fixture(scope="module")
def wf():
    return load_workflow()


def _upload(name="执照.pdf", mime="application/pdf", size=1234, sha="a" * 64, file_id="FILE1"):
    return F.UploadedFile(file_id=file_id, file_unique_id="U" + file_id, file_name=name, mime_type=mime,
                          file_size=size, sha256=sha)


def _ready_case(engine, wf, operator=OP, nature="for_profit"):
    case = run_unit(engine, F.start_case, operator)
    return run_unit(engine, F.choose_nature, operator, case.id, nature, wf)


def test_start_choose_and_resume(db_engine, wf):
    assert run_unit(db_engine, F.current_case, OP) is None
    case = run_unit(db_engine, F.start_case, OP)
    assert case.step == "nature" and case.legal_nature == "" and case.items(wf) == []
    assert run_unit(db_engine, F.start_case, OP).id == case.id  # an untouched case is reused (double tap)
    case = run_unit(db_engine, F.choose_nature, OP, case.id, "for_profit", wf)
    assert case.step == "checklist"
    progress = case.progress(wf)
    assert (progress.done, progress.total) == (0, 9) and not progress.complete
    resumed = run_unit(db_engine, F.current_case, OP)
    assert resumed.id == case.id and resumed.legal_nature == "for_profit"
    with pytest.raises(F.FilingError) as info:
        run_unit(db_engine, F.choose_nature, OP, case.id, "pirate", wf)
    assert info.value.code == "unknown_nature"


def test_statuses_uploads_and_progress(db_engine, wf):
    case = _ready_case(db_engine, wf)
    outcome = run_unit(db_engine, F.record_upload, F.ItemRef(OP, case.id, "license"), _upload(), wf)
    assert outcome.added and outcome.case.statuses == {"license": F.UPLOADED}
    doc = outcome.document
    assert (doc.file_id, doc.file_name, doc.mime_type, doc.file_size, doc.sha256) == (
        "FILE1", "执照.pdf", "application/pdf", 1234, "a" * 64)
    assert doc.uploaded_at.tzinfo is not None

    again = run_unit(db_engine, F.record_upload, F.ItemRef(OP, case.id, "license"), _upload(file_id="FILE1b"), wf)
    assert not again.added and len(again.case.documents["license"]) == 1  # same sha256: recorded once
    second = run_unit(db_engine, F.record_upload, F.ItemRef(OP, case.id, "license"), _upload(sha="b" * 64, file_id="FILE2"), wf)
    assert second.added and len(second.case.documents["license"]) == 2

    case = run_unit(db_engine, F.mark_item, F.ItemRef(OP, case.id, "filing_form"), F.READY, wf)
    case = run_unit(db_engine, F.mark_item, F.ItemRef(OP, case.id, "food"), F.NOT_APPLICABLE, wf)
    progress = case.progress(wf)
    assert (progress.done, progress.uploaded, progress.ready, progress.not_applicable) == (3, 1, 1, 1)
    assert progress.missing[0] == "pledge"
    assert case.next_missing(wf, "license") == "premises"
    assert case.current_item == "food"

    case = run_unit(db_engine, F.clear_item, F.ItemRef(OP, case.id, "license"))
    assert "license" not in case.statuses and "license" not in case.documents
    assert case.progress(wf).done == 2


def test_only_allowed_marks(db_engine, wf):
    case = _ready_case(db_engine, wf)
    with pytest.raises(F.FilingError) as info:
        run_unit(db_engine, F.mark_item, F.ItemRef(OP, case.id, "license"), F.NOT_APPLICABLE, wf)
    assert info.value.code == "not_allowed"
    with pytest.raises(F.FilingError) as info:
        run_unit(db_engine, F.mark_item, F.ItemRef(OP, case.id, "no_such_item"), F.READY, wf)
    assert info.value.code == "unknown_item"
    with pytest.raises(F.FilingError):
        run_unit(db_engine, F.mark_item, F.ItemRef(OP, case.id, "food"), "done", wf)
    assert run_unit(db_engine, F.get_case, OP, case.id).statuses == {}


def test_a_bad_upload_changes_nothing(db_engine, wf):
    case = _ready_case(db_engine, wf)
    for bad in (_upload(name="setup.exe", mime="application/x-msdownload"),
                _upload(size=11 * 1024 * 1024),
                _upload(name="scan.docx", mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")):
        with pytest.raises(F.FilingError):
            run_unit(db_engine, F.record_upload, F.ItemRef(OP, case.id, "license"), bad, wf)  # license takes pdf/jpg/png ≤ 10 MB
    after = run_unit(db_engine, F.get_case, OP, case.id)
    assert after.statuses == {} and after.documents == {}


def test_no_items_before_a_nature(db_engine, wf):
    case = run_unit(db_engine, F.start_case, OP)
    with pytest.raises(F.FilingError) as info:
        run_unit(db_engine, F.open_item, F.ItemRef(OP, case.id, "license"), wf)
    assert info.value.code == "no_nature"
    assert run_unit(db_engine, F.set_step, OP, case.id, "checklist").step == "nature"


def test_several_institutions_per_operator_and_ownership(db_engine, wf):
    first = _ready_case(db_engine, wf)
    run_unit(db_engine, F.set_title, OP, first.id, "  阳光   托育  ")
    second = _ready_case(db_engine, wf, nature="social_service")
    assert second.id != first.id
    assert [c.id for c in run_unit(db_engine, F.list_cases, OP)] == [second.id, first.id]
    assert run_unit(db_engine, F.current_case, OP).id == second.id
    run_unit(db_engine, F.open_item, F.ItemRef(OP, first.id, "premises"), wf)  # working on the first again makes it current
    current = run_unit(db_engine, F.current_case, OP)
    assert current.id == first.id and current.title == "阳光 托育" and current.current_item == "premises"

    with pytest.raises(F.CaseNotFound):
        run_unit(db_engine, F.get_case, OTHER, first.id)
    with pytest.raises(F.CaseNotFound):
        run_unit(db_engine, F.mark_item, F.ItemRef(OTHER, first.id, "food"), F.NOT_APPLICABLE, wf)
    assert run_unit(db_engine, F.current_case, OTHER) is None

    run_unit(db_engine, F.close_case, OP, first.id)
    assert [c.id for c in run_unit(db_engine, F.list_cases, OP)] == [second.id]
    assert len(run_unit(db_engine, F.list_cases, OP, include_closed=True)) == 2
    with pytest.raises(F.CaseNotFound):
        run_unit(db_engine, F.get_case, OP, first.id)


def test_steps_city_plan_and_summary_time(db_engine, wf):
    case = _ready_case(db_engine, wf)
    assert run_unit(db_engine, F.set_step, OP, case.id, "plan").step == "plan"
    with pytest.raises(F.FilingError):
        run_unit(db_engine, F.set_step, OP, case.id, "dancing")
    plan = [{"class_type": "infant", "children": 8, "carers": 3, "youngest_months": None, "count": 1}]
    case = run_unit(db_engine, F.save_class_plan, OP, case.id, plan)
    assert case.step == "checklist" and case.class_plan == plan
    assert run_unit(db_engine, F.set_city, OP, case.id, "台州市").city == "台州市"
    assert run_unit(db_engine, F.mark_summary_sent, OP, case.id).summary_sent_at is not None
    with pytest.raises(F.FilingError):
        run_unit(db_engine, F.set_title, OP, case.id, "   ")


def test_progress_survives_a_new_engine(db_engine, wf):
    case = _ready_case(db_engine, wf)
    run_unit(db_engine, F.record_upload, F.ItemRef(OP, case.id, "license"), _upload(), wf)
    run_unit(db_engine, F.mark_item, F.ItemRef(OP, case.id, "food"), F.NOT_APPLICABLE, wf)
    fresh = make_engine(engine_url(db_engine))  # as after a restart
    try:
        resumed = run_unit(fresh, F.current_case, OP)
        assert resumed.statuses == {"license": F.UPLOADED, "food": F.NOT_APPLICABLE}
        assert resumed.documents["license"][0].sha256 == "a" * 64
        assert resumed.progress(wf).done == 2
    finally:
        fresh.dispose()


def test_concurrent_double_taps_record_one_status(db_engine, wf):
    case = _ready_case(db_engine, wf)
    errors = []

    def tap():
        try:
            run_unit(db_engine, F.mark_item, F.ItemRef(OP, case.id, "filing_form"), F.READY, wf)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=tap) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert run_unit(db_engine, F.get_case, OP, case.id).statuses == {"filing_form": F.READY}


# --- upload checks (pure) -------------------------------------------------------------------------------------------


def test_check_upload_type_and_size(wf):
    license_ = wf.material("license")
    limit = wf.max_bytes(license_)
    ok = F.check_upload(wf, license_, file_name="a.PDF", mime_type="application/pdf", file_size=limit)
    assert ok.ok and ok.file_type.key == "pdf"
    assert F.check_upload(wf, license_, file_name="a.pdf", mime_type="", file_size=limit + 1).problem == "too_large"
    assert F.check_upload(wf, license_, file_name="a.exe", mime_type="", file_size=10).problem == "wrong_type"
    assert F.check_upload(wf, license_, file_name="a.docx", mime_type="", file_size=10).problem == "wrong_type"
    # a name and a MIME type that disagree are not trusted
    assert F.check_upload(wf, license_, file_name="a.pdf", mime_type="image/png", file_size=10).problem == "wrong_type"
    assert F.check_upload(wf, license_, file_name="scan", mime_type="image/jpeg", file_size=10).ok
    assert F.check_upload(wf, license_, file_name="a.jpg", mime_type="image/jpeg", file_size=0).problem == "empty"
    premises = wf.material("premises")
    assert F.check_upload(wf, premises, file_name="lease.docx", mime_type="", file_size=10).ok


def test_check_content():
    assert F.check_content(FILE_TYPES["pdf"], b"%PDF-1.7 ...")
    assert not F.check_content(FILE_TYPES["pdf"], b"MZ\x90\x00")
    assert not F.check_content(FILE_TYPES["pdf"], b"")
    assert F.check_content(FILE_TYPES["jpg"], b"\xff\xd8\xff\xe0")
    assert F.check_content(FILE_TYPES["png"], b"\x89PNG\r\n\x1a\n....")
    assert F.check_content(FILE_TYPES["docx"], b"PK\x03\x04....")
    assert F.sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_an_unnamed_case_is_called_by_the_operators_own_count_not_the_database_id(db_engine, wf):
    from bot.handlers.filing_views import _title

    other = _ready_case(db_engine, wf, operator=OP + 1)  # another operator's case takes database id 1
    first = _ready_case(db_engine, wf)
    second = run_unit(db_engine, F.start_case, OP)
    assert (other.number, first.number, second.number) == (1, 1, 2)
    assert first.id != first.number and second.id != second.number
    assert _title(first, "zh") == "机构 #1" and _title(second, "en") == "Centre #2"
    assert run_unit(db_engine, F.get_case, OP, second.id).number == 2  # the same on every read
