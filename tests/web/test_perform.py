"""``backoffice.admin.perform``: the one way a back-office view runs a domain action."""

from __future__ import annotations

from flask import get_flashed_messages
from sqlalchemy import func, select

from backoffice.admin.perform import perform
from backoffice.extensions import db
from workflows.errors import InvalidFields, PermissionDenied
from workflows.i18n import N_
from workflows.models import Department


def departments() -> int:
    return db.session.scalar(select(func.count(Department.id)))


def add(name: str) -> Department:
    department = Department(name=name)
    db.session.add(department)
    db.session.flush()
    return department


def test_a_done_action_is_committed_and_said(app, ctx):
    with app.test_request_context():
        done = perform(lambda: add("Routes"), lambda d: f"{d.name}: c’est fait.")
        assert done and done.value.name == "Routes" and done.error is None
        assert get_flashed_messages(with_categories=True) == [("success", "Routes: c’est fait.")]
    db.session.rollback()  # committed: a rollback keeps it
    assert departments() == 1


def test_a_refused_action_is_rolled_back_and_each_reason_shown_in_french(app, ctx):
    refusal = InvalidFields(
        {"a": N_("only the mission waives a deadline"), "b": N_("invalid email address")}
    )

    def refused_after_a_write():
        add("Routes")
        raise refusal

    with app.test_request_context():
        done = perform(refused_after_a_write, "jamais dit")
        assert not done and done.value is None and done.error is refusal
        assert get_flashed_messages(with_categories=True) == [
            ("error", "seule la mission lève une échéance"),
            ("error", "adresse électronique invalide"),
        ]
    assert departments() == 0


def test_a_refusal_may_be_shown_otherwise(app, ctx):
    def refuse():
        raise PermissionDenied(N_("no"))

    seen = []
    with app.test_request_context():
        done = perform(refuse, refused=seen.append)
        assert not done and seen == [done.error] and get_flashed_messages() == []
