"""The append-only audit log. Entries name people by id only, never copy personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .i18n import N_
from .models import AuditEntry, Demarche, User


def record(
    session: Session,
    action: str,
    *,
    actor: User | None,
    as_of: datetime,
    demarche: Demarche | None = None,
    target: str = "",
    **data: Any,
) -> AuditEntry:
    entry = AuditEntry(
        at=as_of,
        actor_id=actor.id if actor else None,
        action=action,
        demarche_id=demarche.id if demarche else None,
        target=target,
        data=data,
    )
    session.add(entry)
    return entry


# What the log and a démarche's timeline say of each audited action: every action that
# ``record`` is called with has its line here (``tests/domain/test_audit_labels.py`` reads
# the code for them). ``timeline.describe`` adds details from the data (fields, counts).
ACTION_LABELS = {
    # the démarche and its consultation
    "demarche.create": N_("created the draft"),
    "demarche.update": N_("changed the démarche's sheet"),
    "item.create": N_("added an item to comment"),
    "item.update": N_("changed an item"),
    "item.delete": N_("deleted an item"),
    "item.decide": N_("wrote the department's decision on an item"),
    "event.create": N_("organised an event"),
    "event.update": N_("changed an event"),
    "event.attendance": N_("recorded an event's attendance and minutes"),
    # contributions and questions
    "contribution.hide": N_("hid a contribution"),
    "contribution.reject": N_("did not publish a held contribution"),
    "contribution.restore": N_("restored a contribution"),
    "contribution.publish": N_("published a held contribution"),
    "contribution.report": N_("reported a contribution"),
    "contributions.import": N_("imported contributions"),
    "contributions.export": N_("exported the contributions"),
    "question.answer": N_("answered a citizen's question"),
    # the synthesis
    "synthesis.rebuild": N_("asked for a new version of the synthesis"),
    "synthesis.build": N_("built a new version of the synthesis"),
    "synthesis.edit": N_("edited the synthesis"),
    "synthesis.merge_themes": N_("merged two themes of the synthesis"),
    "synthesis.validate": N_("validated the synthesis"),
    "synthesis.publish": N_("published the synthesis"),
    # the evaluation
    "evaluation.freeze": N_("froze the démarche's evaluation at its closing"),
    "self_assessment.submit": N_("filled the démarche's self-assessment"),
    "self_assessment.review": N_("reviewed the démarche's self-assessment"),
    # the label
    "label.award": N_("awarded the charter's label"),
    "label.withdraw": N_("withdrew the charter's label"),
    "label.rules": N_("saved a new version of the label's rules"),
    "label.install_default": N_("saved the shipped label rules as their first version"),
    "survey.paper_answer": N_("typed in a paper answer to the participants' survey"),
    # mailings
    "mailing.create": N_("wrote a mailing"),
    "mailing.update": N_("changed a mailing"),
    "mailing.test": N_("sent themselves a test of a mailing"),
    "mailing.schedule": N_("scheduled a mailing"),
    "mailing.start": N_("started sending a mailing"),
    "mailing.sent": N_("finished sending a mailing"),
    "mailing.cancel": N_("cancelled a mailing"),
    "mailing.unsubscribe": N_("unsubscribed an address from mailings"),
    # the charter
    "charter.draft": N_("drafted a new version of the charter"),
    "charter.rule": N_("changed a rule of the charter"),
    "charter.publish": N_("published a new version of the charter"),
    "charter.install_default": N_("restored the default charter"),
    "deadline.waive": N_("waived a deadline of the charter"),
    # the toolbox
    "method.create": N_("added a method to the toolbox"),
    "method.update": N_("changed a method of the toolbox"),
    "method.retire": N_("retired a method of the toolbox"),
    "method.restore": N_("brought a method of the toolbox back"),
    "method.delete": N_("deleted a method of the toolbox"),
    "methods.load": N_("loaded the toolbox's shipped methods"),
    "methods.plan": N_("changed the methods planned"),
    "methods.channel": N_("named the method of a channel of contributions"),
    # the training of agents and elected officials
    "training.create": N_("recorded a training session"),
    "training.update": N_("changed a training session"),
    "training.delete": N_("deleted a training session"),
    # people and accounts
    "participant.consents": N_("changed their consents"),
    "user.create": N_("created an account"),
    "user.update": N_("changed an account"),
    "user.erase": N_("erased an account's personal data"),
    "department.create": N_("created a department"),
    "department.update": N_("renamed a department"),
}
