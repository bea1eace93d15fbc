"""Roles, the documents registry and the audit log on SQLite and PostgreSQL (migration 0003 included)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect
from sqlmodel import SQLModel

from db.accounts import roles
from db.core.engine import session_scope
from db.knowledge import registry
from db.knowledge.registry import Actor, RegistryError
from db.models import User
from tests.db_fixtures import db_engine_fixture, make_institution  # noqa: F401

TABLES = {"knowledge_documents", "audit_log"}
ADMIN, STAFF, PARENT = 100, 200, 300


def test_migration_creates_the_tables_and_matches_the_models(db_engine):
    assert set(inspect(db_engine).get_table_names()) >= TABLES
    ours = MetaData()
    for name in TABLES:
        SQLModel.metadata.tables[name].to_metadata(ours)
    with db_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, ours)
    mine = [d for d in diffs if _table_of(d) in TABLES | {"?"}]
    assert mine == []


def _table_of(diff) -> str:
    if isinstance(diff, list):
        return diff[0][2]
    op, obj = diff[0], diff[1]
    if op in ("add_table", "remove_table"):
        return obj.name
    if op in ("add_index", "remove_index", "add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        return obj.table.name
    if op in ("add_column", "remove_column"):
        return diff[2]
    return "?"


# --- Roles ------------------------------------------------------------------------------------------------------


def test_roles_from_settings_and_grants(db_engine):
    admins = {ADMIN}
    assert roles.effective_role(db_engine, ADMIN, admins) == "admin"
    assert roles.effective_role(db_engine, PARENT, admins) == "parent"  # a stranger is a parent
    assert roles.grant_role(db_engine, ADMIN, STAFF, "staff", admin_ids=admins) == "staff"
    assert roles.has_role(db_engine, STAFF, roles.STAFF, admin_ids=admins)
    assert roles.has_role(db_engine, ADMIN, roles.STAFF, roles.OPERATOR, admin_ids=admins), (
        "admins pass every check"
    )
    assert not roles.has_role(db_engine, STAFF, roles.OPERATOR, admin_ids=admins), "staff are not operators"
    assert roles.require_role(db_engine, STAFF, roles.STAFF, admin_ids=admins) == "staff"

    with pytest.raises(roles.RoleRequired) as caught:
        roles.grant_role(db_engine, STAFF, PARENT, "staff", admin_ids=admins)
    assert caught.value.has == "staff" and caught.value.needed == ("admin",)
    with pytest.raises(roles.RoleRequired):
        roles.require_role(db_engine, PARENT, roles.STAFF, admin_ids=admins, action="/kb")
    with pytest.raises(roles.RoleError):
        roles.grant_role(db_engine, ADMIN, PARENT, "operator", admin_ids=admins)
    with pytest.raises(roles.RoleError) as settings_admin:
        roles.revoke_role(db_engine, ADMIN, ADMIN, admin_ids=admins)
    assert settings_admin.value.code == "settings_admin"

    assert roles.revoke_role(db_engine, ADMIN, STAFF, admin_ids=admins) == "parent"
    assert not roles.has_role(db_engine, STAFF, roles.STAFF, admin_ids=admins)
    assert roles.grant_role(db_engine, None, STAFF, "admin", cli_user="ops") == "admin"  # the CLI is trusted
    assert roles.has_role(db_engine, STAFF, roles.STAFF)

    log = registry.audit_entries(db_engine)
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
    roles.grant_role(db_engine, ADMIN, STAFF, "staff", admin_ids=admins)
    assert roles.link_operator(db_engine, STAFF, PARENT, first, admin_ids=admins) == "小橡果托育"
    roles.link_operator(db_engine, STAFF, PARENT, second, admin_ids=admins)
    assert roles.effective_role(db_engine, PARENT) == "operator"
    assert roles.operator_institutions(db_engine, PARENT) == [first, second]
    with pytest.raises(roles.RoleRequired):
        roles.link_operator(db_engine, PARENT, PARENT, first, admin_ids=admins)  # operators cannot link
    with pytest.raises(roles.RoleError):
        roles.link_operator(db_engine, STAFF, PARENT, 999_999, admin_ids=admins)
    assert roles.unlink_operator(db_engine, STAFF, first, admin_ids=admins) == PARENT
    assert roles.effective_role(db_engine, PARENT) == "operator", "still runs the second one"
    roles.link_operator(db_engine, STAFF, 400, second, admin_ids=admins)  # the centre changes hands
    assert roles.effective_role(db_engine, PARENT) == "parent"
    assert roles.operator_institutions(db_engine, 400) == [second]
    roles.grant_role(db_engine, ADMIN, 400, "staff", admin_ids=admins)
    assert roles.revoke_role(db_engine, ADMIN, 400, admin_ids=admins) == "operator", (
        "back to operator, still linked"
    )
    people = roles.people_with_roles(db_engine, admins)
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
    registry.sync_catalog(
        db_engine, [dict(doc_id="xiamen", title="厦门", city="厦门市", content_hash="c" * 64)]
    )
    assert registry.sync_catalog(db_engine, [dict(doc_id="xiamen", title="厦门", city="厦门市")]) == 0
    draft = registry.create_draft(db_engine, staff, doc_id="shenzhen", file_name="sz.txt", **FIELDS)
    assert (draft.version, draft.index_id, draft.status) == (1, "shenzhen", "draft")
    with pytest.raises(RegistryError) as exists:
        registry.create_draft(db_engine, staff, doc_id="shenzhen", **FIELDS)
    assert exists.value.code == "exists"
    for bad in ("Shenzhen", "shenzhen-v2", "深圳", "a" * 41, ""):
        with pytest.raises(RegistryError):
            registry.check_doc_id(bad)
    assert registry.suggest_doc_id(db_engine, "Shenzhen 2025!") == "shenzhen-2025"
    assert registry.suggest_doc_id(db_engine, "shenzhen") == "shenzhen-2"

    registry.update_draft(db_engine, draft.id, staff, date="2025-03-01")
    published, old = registry.publish(db_engine, draft.id, staff)
    assert published.status == "published" and old is None
    with pytest.raises(RegistryError):
        registry.publish(db_engine, draft.id, staff)
    assert registry.find_same_content(db_engine, "x" * 64, "b" * 64).doc_id == "shenzhen"

    v2 = registry.create_draft(
        db_engine,
        staff,
        doc_id="shenzhen",
        replaces="shenzhen",
        **{**FIELDS, "content_hash": "d" * 64, "text_hash": "e" * 64},
    )
    assert (v2.version, v2.index_id) == (2, "shenzhen-v2")
    new, old = registry.publish(db_engine, v2.id, staff)
    assert old.version == 1 and registry.get_row(db_engine, old.id).status == "replaced"
    assert registry.current(db_engine, "shenzhen").version == 2

    registry.retire(db_engine, "shenzhen", cli)
    assert registry.current(db_engine, "shenzhen").status == "retired"
    with pytest.raises(RegistryError):
        registry.retire(db_engine, "shenzhen", cli)
    restored, old = registry.restore(db_engine, "shenzhen", cli, version=1)
    assert restored.version == 1 and old is None
    assert [r.status for r in registry.versions(db_engine, "shenzhen")] == ["published", "retired"]
    restored, old = registry.restore(db_engine, "shenzhen", cli)
    assert restored.version == 2 and old.version == 1

    listed = registry.list_documents(db_engine)
    assert [(r.doc_id, r.version, r.status) for r in listed] == [
        ("xiamen", 1, "published"),
        ("shenzhen", 2, "published"),
    ]

    entries = registry.audit_entries(db_engine, "shenzhen")
    assert [e.action for e in reversed(entries)] == [
        "upload", "edit", "publish", "upload", "replace", "retire", "restore", "restore",
    ]  # fmt: skip
    assert {e.actor for e in entries} == {f"tg:{STAFF}", "cli:ops"}
    assert entries[-1].content_hash == "a" * 64 and entries[0].content_hash == "d" * 64
    assert all(e.at is not None for e in entries)


def test_discard_and_drafts(db_engine):
    staff = Actor(telegram_id=STAFF)
    draft = registry.create_draft(db_engine, staff, doc_id="tmp", **FIELDS)
    assert [d.id for d in registry.drafts(db_engine, staff.label)] == [draft.id]
    assert registry.drafts(db_engine, "tg:1") == []
    registry.discard(db_engine, draft.id, staff)
    assert registry.drafts(db_engine) == [] and registry.list_documents(db_engine) == []
    with pytest.raises(RegistryError):
        registry.update_draft(db_engine, draft.id, staff, title="x")
