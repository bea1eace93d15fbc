"""Every filter combination renders, in Chinese and English, for both demo cities — through the real search,
the real render functions and the real keyboards (issue 8 §1, §3, §4).

The product is taken over "any" plus representative values of each filter (each value of every filter is
also rendered on its own). Checks: nothing raises, no placeholder is left, every button's data decodes with
the care codec, the active filters are shown, and English output has no Chinese outside institution names,
addresses and quoted sources.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest

from bot.handlers import care_views as views
from bot.handlers.care import _card_data, _search_with_fallbacks
from db.care.demo_data import generate_demo
from db.care.institutions import load_places
from db.core.engine import make_engine, run_unit
from db.core.migrate import upgrade_to_head
from db.core.timeutil import local_today

CJK = re.compile(r"[\u3400-\u9fff]")
CITIES = {"厦门市": "思明", "张家港市": "杨舍"}


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('render')}/care.db")
    upgrade_to_head(engine)
    run_unit(engine, generate_demo, today=local_today(), days=14)
    return engine


def _allowed_chinese(page, state) -> list[str]:
    """Text that may stay Chinese in English output: names, addresses, the reduction's source."""
    allowed = [r.name for r in page.results] + [r.address for r in page.results]
    if page.reduction is not None:
        allowed += [page.reduction.source, "困境婴幼儿"]
    return allowed


def _assert_english(text: str, allowed: list[str]) -> None:
    for item in sorted(allowed, key=len, reverse=True):
        text = text.replace(item, "")
    assert not CJK.search(text), f"Chinese left in English text: {CJK.findall(text)[:10]} in {text!r}"


def _check_render(engine, state: dict) -> None:
    page, anything = run_unit(engine, _search_with_fallbacks, state)
    assert page is not None
    for lang in ("zh", "en"):
        if anything:
            text = views.render_results(page, state, lang)
            markup = views.results_keyboard(page, state, lang)
        else:
            text, markup = views.render_no_data(lang), views.no_data_keyboard(state, lang)
        assert text and "{" not in text and "}" not in text
        buttons = [b for row in (markup.inline_keyboard if markup else ()) for b in row]
        for b in buttons:
            views.CODEC.decode(b.callback_data)
        labels = " ".join(b.text for b in buttons)
        if views.has_filters(state):
            assert any(b.callback_data == "care:clr" for b in buttons), "active filters can be cleared"
            if anything:
                assert views.filters_summary(state, lang) in text or views.filters_summary(state, lang).replace(
                    "<", "&lt;"
                ) in text
        if lang == "en":
            _assert_english(text, _allowed_chinese(page, state))
            _assert_english(labels, [r.name for r in page.results])


def _combinations():
    today = local_today()
    ages = [None, 6, 24, 30]
    services = [None, *views.SERVICES]
    dates = [None, today.isoformat(), (today + timedelta(days=5)).isoformat()]
    for age, service, date, puhui, reduction in itertools.product(ages, services, dates, (False, True), (False, True)):
        budgets = views.BUDGETS[views.budget_basis(service)]
        for budget in (None, budgets[0], budgets[-1]):
            yield {"age": age, "service": service, "date": date, "puhui": puhui, "reduction": reduction, "budget": budget}


@pytest.mark.parametrize("city", list(CITIES))
def test_every_filter_combination_renders(demo_engine, city):
    place = CITIES[city]
    count = 0
    for filters in _combinations():
        state = {k: v for k, v in filters.items() if v not in (None, False)} | {"place": place, "page": 0}
        _check_render(demo_engine, state)
        count += 1
    assert count > 500


@pytest.mark.parametrize("city", list(CITIES))
def test_each_value_of_each_filter_renders(demo_engine, city):
    today = local_today()
    centre = next(c for c in load_places() if c["city"] == city)["centre"]
    for kind in ("age", "budget", "svc", "date"):
        for service in (None, *views.SERVICES):
            base = {"service": service} if service else {}
            for value in views.filter_choices(kind, base, today):
                key = {"svc": "service"}.get(kind, kind)
                if kind == "svc":
                    value = views.CODE_SERVICES[value]
                if kind == "date":
                    value = value.isoformat()
                for where in ({"place": CITIES[city]}, {"lat": centre[0], "lon": centre[1]}):
                    _check_render(demo_engine, {**base, key: value, **where, "page": 0})
        for lang in ("zh", "en"):
            markup = views.filter_menu(kind, {}, lang, today)
            for row in markup.inline_keyboard:
                for b in row:
                    views.CODEC.decode(b.callback_data)


def test_the_reduction_toggle_in_yangshe_renders(demo_engine):
    """The crash of issue 8 §1: 杨舍 with 困境婴幼儿减免 on, then back to the list."""
    state = {"place": "杨舍", "page": 0, "reduction": True}
    page, _ = run_unit(demo_engine, _search_with_fallbacks, state)
    for lang in ("zh", "en"):
        text = views.render_results(page, state, lang)
        assert page.reduction is not None and page.total > 0
        assert ("困境婴幼儿" in text) if lang == "zh" else ("hardship reduction" in text)
        assert "500" in text


def test_every_demo_card_is_in_the_users_language(demo_engine):
    """Cards of all demo centres: English labels (service names, filing status, nature, form, weekdays)."""
    from sqlalchemy import select

    from db.core.engine import session_scope
    from db.models import Institution

    with session_scope(demo_engine) as session:
        ids = list(session.execute(select(Institution.id)).scalars())
    assert len(ids) > 100
    for institution_id in ids:
        institution, slots = run_unit(demo_engine, _card_data, institution_id, {})
        for lang in ("zh", "en"):
            text = views.render_card(institution, slots, lang)
            markup = views.card_keyboard(slots, {"page": 0}, lang)
            assert "{" not in text
            if lang == "en":
                _assert_english(text, [institution.name, institution.address])
                _assert_english(" ".join(b.text for row in markup.inline_keyboard for b in row), [])


def test_demo_sessions_only_on_the_days_the_card_names(demo_engine):
    from sqlalchemy import select

    from db.care.prices import open_weekdays
    from db.core.engine import session_scope
    from db.models import CareSession, Institution

    with session_scope(demo_engine) as session:
        rows = session.execute(
            select(CareSession.date, Institution.opening_hours).join(Institution, Institution.id == CareSession.institution_id)
        ).all()
    assert rows
    weekend_only_weekdays = 0
    for day, opening in rows:
        days = open_weekdays(opening)
        assert days is not None and day.weekday() in days, (day, opening)
        weekend_only_weekdays += day.weekday() == 5
    assert weekend_only_weekdays > 0  # 周一至周六 centres do have Saturday sessions


def test_demo_session_prices_match_the_listed_fee_for_their_length(demo_engine):
    from sqlalchemy import select

    from db.care.prices import full_day_fee, session_length
    from db.core.engine import session_scope
    from db.models import CareSession, Institution

    with session_scope(demo_engine) as session:
        rows = session.execute(
            select(CareSession, Institution.fees).join(Institution, Institution.id == CareSession.institution_id)
        ).all()
    kinds = set()
    for care, fees in rows:
        length = session_length(care.service, care.start_time, care.end_time)
        kinds.add(length.kind)
        if length.kind == "half_day":
            assert care.price == fees["临时托"]
        elif length.kind == "full_day":
            assert care.price == full_day_fee(fees["临时托"])
        else:
            assert care.price == round(fees["计时托"] * length.hours)
    assert kinds == {"half_day", "full_day", "hours"}
