"""Roles, the documents registry and the audit log on SQLite and PostgreSQL (migration 0003 included)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from db.accounts import roles
from db.core import audit
from db.core.engine import run_unit, session_scope
from db.knowledge import registry
from db.knowledge.registry import Actor, RegistryError
from db.models import User
from tests.db_fixtures import make_institution, model_drift

TABLES = {"knowledge_documents", "audit_log"}
ADMIN, STAFF, PARENT = 100, 200, 300


def test_migration_creates_the_tables_and_matches_the_models(db_engine):
    assert set(inspect(db_engine).get_table_names()) >= TABLES
    assert model_drift(db_engine, TABLES) == []


# --- Roles ------------------------------------------------------------------------------------------------------


def test_roles_from_settings_and_grants(db_engine):
    admins = {ADMIN}
    assert run_unit(db_engine, roles.effective_role, ADMIN, admin_ids=admins) == "admin"
    assert run_unit(db_engine, roles.effective_role, PARENT, admin_ids=admins) == "parent"  # a stranger is a parent
    assert run_unit(db_engine, roles.grant_role, Actor(ADMIN), STAFF, "staff", admin_ids=admins) == "staff"
    assert run_unit(db_engine, roles.has_role, STAFF, roles.STAFF, admin_ids=admins)
    assert run_unit(db_engine, roles.has_role, ADMIN, roles.STAFF, roles.OPERATOR, admin_ids=admins), (
        "admins pass every check"
    )
    assert not run_unit(db_engine, roles.has_role, STAFF, roles.OPERATOR, admin_ids=admins), "staff are not operators"
    assert run_unit(db_engine, roles.require_role, STAFF, roles.STAFF, admin_ids=admins) == "staff"

    # A refusal is checked in a unit of its own, so its `denied` entry commits although the action then fails …
    assert run_unit(db_engine, roles.authorize, STAFF, roles.ADMIN, admin_ids=admins, action="grant staff") is None
    assert run_unit(db_engine, roles.authorize, PARENT, roles.STAFF, admin_ids=admins, action="/kb") is None
    # … and the change checks again: refused, nothing done (its unit, entry included, is rolled back).
    with pytest.raises(roles.RoleRequired) as caught:
        run_unit(db_engine, roles.grant_role, Actor(STAFF), PARENT, "staff", admin_ids=admins)
    assert caught.value.has == "staff" and caught.value.needed == ("admin",)
    with pytest.raises(roles.RoleRequired):
        run_unit(db_engine, roles.require_role, PARENT, roles.STAFF, admin_ids=admins, action="/kb")
    assert run_unit(db_engine, roles.effective_role, PARENT) == "parent"
    with pytest.raises(roles.RoleError):
        run_unit(db_engine, roles.grant_role, Actor(ADMIN), PARENT, "operator", admin_ids=admins)
    with pytest.raises(roles.RoleError) as settings_admin:
        run_unit(db_engine, roles.revoke_role, Actor(ADMIN), ADMIN, admin_ids=admins)
    assert settings_admin.value.code == "settings_admin"

    assert run_unit(db_engine, roles.revoke_role, Actor(ADMIN), STAFF, admin_ids=admins) == "parent"
    assert not run_unit(db_engine, roles.has_role, STAFF, roles.STAFF, admin_ids=admins)
    assert run_unit(db_engine, roles.grant_role, Actor(cli_user="ops"), STAFF, "admin") == "admin"  # the CLI is trusted
    assert run_unit(db_engine, roles.has_role, STAFF, roles.STAFF)

    log = run_unit(db_engine, audit.entries)
    actions = [(e.actor, e.action) for e in reversed(log)]
    assert actions == [
        (f"tg:{ADMIN}", "grant"),
        (f"tg:{STAFF}", "denied"),
        (f"tg:{PARENT}", "denied"),
        (f"tg:{ADMIN}", "revoke"),
        ("cli:ops", "grant"),
    ]
    assert "/kb needs staff; user is parent" in log[2].detail


def test_operator_linking(db_engine):
    admins = {ADMIN}
    first = make_institution(db_engine, name="小橡果托育")
    second = make_institution(db_engine, name="阳光托育", external_id="demo:2")
    run_unit(db_engine, roles.grant_role, Actor(ADMIN), STAFF, "staff", admin_ids=admins)
    assert run_unit(db_engine, roles.link_operator, Actor(STAFF), PARENT, first, admin_ids=admins) == "小橡果托育"
    run_unit(db_engine, roles.link_operator, Actor(STAFF), PARENT, second, admin_ids=admins)
    assert run_unit(db_engine, roles.effective_role, PARENT) == "operator"
    assert run_unit(db_engine, roles.operator_institutions, PARENT) == [first, second]
    with pytest.raises(roles.RoleRequired):
        run_unit(db_engine, roles.link_operator, Actor(PARENT), PARENT, first, admin_ids=admins)  # operators cannot link
    with pytest.raises(roles.RoleError):
        run_unit(db_engine, roles.link_operator, Actor(STAFF), PARENT, 999_999, admin_ids=admins)
    assert run_unit(db_engine, roles.unlink_operator, Actor(STAFF), first, admin_ids=admins) == PARENT
    assert run_unit(db_engine, roles.effective_role, PARENT) == "operator", "still runs the second one"
    run_unit(db_engine, roles.link_operator, Actor(STAFF), 400, second, admin_ids=admins)  # the centre changes hands
    assert run_unit(db_engine, roles.effective_role, PARENT) == "parent"
    assert run_unit(db_engine, roles.operator_institutions, 400) == [second]
    run_unit(db_engine, roles.grant_role, Actor(ADMIN), 400, "staff", admin_ids=admins)
    assert run_unit(db_engine, roles.revoke_role, Actor(ADMIN), 400, admin_ids=admins) == "operator", (
        "back to operator, still linked"
    )
    people = run_unit(db_engine, roles.people_with_roles, admin_ids=admins)
    assert [(uid, role) for uid, role, _ in people] == [(ADMIN, "admin"), (STAFF, "staff"), (400, "operator")]
    with session_scope(db_engine) as session:
        assert session.get(User, PARENT).role == "parent"


# --- Registry ----------------------------------------------------------------------------------------------------

FIELDS = dict(
    title="深圳市普惠托育服务补贴实施办法", city="深圳市", content_hash="a" * 64, text_hash="b" * 64
)


def test_document_lifecycle_and_audit(db_engine):
    staff = Actor(telegram_id=STAFF)
    cli = Actor(cli_user="ops")
    run_unit(
        db_engine, registry.sync_catalog, [dict(doc_id="xiamen", title="厦门", city="厦门市", content_hash="c" * 64)]
    )
    assert run_unit(db_engine, registry.sync_catalog, [dict(doc_id="xiamen", title="厦门", city="厦门市")]) == 0
    draft = run_unit(db_engine, registry.create_draft, staff, doc_id="shenzhen", file_name="sz.txt", **FIELDS)
    assert (draft.version, draft.index_id, draft.status) == (1, "shenzhen", "draft")
    with pytest.raises(RegistryError) as exists:
        run_unit(db_engine, registry.create_draft, staff, doc_id="shenzhen", **FIELDS)
    assert exists.value.code == "exists"
    for bad in ("Shenzhen", "shenzhen-v2", "深圳", "a" * 41, ""):
        with pytest.raises(RegistryError):
            registry.check_doc_id(bad)
    assert run_unit(db_engine, registry.suggest_doc_id, "Shenzhen 2025!") == "shenzhen-2025"
    assert run_unit(db_engine, registry.suggest_doc_id, "shenzhen") == "shenzhen-2"

    run_unit(db_engine, registry.update_draft, draft.id, staff, date="2025-03-01")
    published, old = run_unit(db_engine, registry.publish, draft.id, staff)
    assert published.status == "published" and old is None
    with pytest.raises(RegistryError):
        run_unit(db_engine, registry.publish, draft.id, staff)
    assert run_unit(db_engine, registry.find_same_content, "x" * 64, "b" * 64).doc_id == "shenzhen"

    v2 = run_unit(
        db_engine,
        registry.create_draft,
        staff,
        doc_id="shenzhen",
        replaces="shenzhen",
        **{**FIELDS, "content_hash": "d" * 64, "text_hash": "e" * 64},
    )
    assert (v2.version, v2.index_id) == (2, "shenzhen-v2")
    new, old = run_unit(db_engine, registry.publish, v2.id, staff)
    assert old.version == 1 and run_unit(db_engine, registry.get_row, old.id).status == "replaced"
    assert run_unit(db_engine, registry.current, "shenzhen").version == 2

    run_unit(db_engine, registry.retire, "shenzhen", cli)
    assert run_unit(db_engine, registry.current, "shenzhen").status == "retired"
    with pytest.raises(RegistryError):
        run_unit(db_engine, registry.retire, "shenzhen", cli)
    restored, old = run_unit(db_engine, registry.restore, "shenzhen", cli, version=1)
    assert restored.version == 1 and old is None
    assert [r.status for r in run_unit(db_engine, registry.versions, "shenzhen")] == ["published", "retired"]
    restored, old = run_unit(db_engine, registry.restore, "shenzhen", cli)
    assert restored.version == 2 and old.version == 1

    listed = run_unit(db_engine, registry.list_documents)
    assert [(r.doc_id, r.version, r.status) for r in listed] == [
        ("xiamen", 1, "published"),
        ("shenzhen", 2, "published"),
    ]

    entries = run_unit(db_engine, audit.entries, doc_id="shenzhen")
    assert [e.action for e in reversed(entries)] == [
        "upload", "edit", "publish", "upload", "replace", "retire", "restore", "restore",
    ]  # fmt: skip
    assert {e.actor for e in entries} == {f"tg:{STAFF}", "cli:ops"}
    assert entries[-1].content_hash == "a" * 64 and entries[0].content_hash == "d" * 64
    assert all(e.at is not None for e in entries)


def test_discard_and_drafts(db_engine):
    staff = Actor(telegram_id=STAFF)
    draft = run_unit(db_engine, registry.create_draft, staff, doc_id="tmp", **FIELDS)
    assert [d.id for d in run_unit(db_engine, registry.drafts, staff.label)] == [draft.id]
    assert run_unit(db_engine, registry.drafts, "tg:1") == []
    run_unit(db_engine, registry.discard, draft.id, staff)
    assert run_unit(db_engine, registry.drafts) == [] and run_unit(db_engine, registry.list_documents) == []
    with pytest.raises(RegistryError):
        run_unit(db_engine, registry.update_draft, draft.id, staff, title="x")
