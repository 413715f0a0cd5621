"""Creating, editing, scheduling and cancelling mailings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from .. import audit
from ..after_commit import START_MAILING, after_commit
from ..errors import Conflict, InvalidFields, NotFound, PermissionDenied
from ..i18n import N_, Msg
from ..models import (
    Audience,
    Delivery,
    DeliveryStatus,
    Demarche,
    Event,
    Mailing,
    MailingKind,
    MailingStatus,
    User,
)
from ..sandbox import Budget
from ..sql import execute_dml
from ..text import clean_text, visible
from .policy import (
    AUDIENCES,
    FEEDBACK_STAGES,
    MAX_BODY,
    MAX_SUBJECT,
    SURVEY_STAGES,
    SURVEY_TOO_EARLY,
)
from .templates import check_template

# -- creating, editing, cancelling ----------------------------------------------------------


def _mission_only(actor: User | None) -> None:
    if actor is not None and not actor.is_mission:
        raise PermissionDenied(N_("mailings are the mission's"))


def mailing_values(
    session: Session, fields: dict[str, Any], budget: Budget | None = None
) -> dict[str, Any]:
    """The fields of a mailing, checked (InvalidFields, every error at once); its templates are
    rendered within ``budget`` for the recipients of :func:`check_template`."""
    errors: dict[str, Msg] = {}
    values: dict[str, Any] = {}
    try:
        values["kind"] = MailingKind(fields.get("kind", ""))
    except ValueError:
        errors["kind"] = N_("unknown kind “%(value)s”", value=fields.get("kind"))
    try:
        values["audience"] = Audience(fields.get("audience", ""))
    except ValueError:
        errors["audience"] = N_("unknown audience “%(value)s”", value=fields.get("audience"))
    if (
        "kind" in values
        and "audience" in values
        and values["audience"] not in AUDIENCES[values["kind"]]
    ):
        errors["audience"] = N_("this audience cannot receive this kind of mailing")
    demarche_id = fields.get("demarche_id")
    demarche = (
        session.get(Demarche, demarche_id)
        if isinstance(demarche_id, int) and 0 < demarche_id < 2**31
        else None
    )
    if demarche is None:
        errors["demarche_id"] = N_("no démarche %(id)s", id=demarche_id)
    values["demarche_id"] = demarche.id if demarche else None
    event_id = fields.get("event_id")
    values["event_id"] = None
    if event_id not in (None, ""):
        event = (
            session.get(Event, event_id)
            if isinstance(event_id, int) and 0 < event_id < 2**31
            else None
        )
        if event is None or (demarche is not None and event.demarche_id != demarche.id):
            errors["event_id"] = N_("no event %(id)s in this démarche", id=event_id)
        else:
            values["event_id"] = event.id
    subject = clean_text(str(fields.get("subject") or ""), single_line=True)
    body = str(fields.get("body") or "")
    if not subject:
        errors["subject"] = N_("the subject is empty")
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = N_("one line of at most %(max)s characters", max=MAX_SUBJECT)
    if not visible(body):
        errors["body"] = N_("the text is empty")
    elif len(body) > MAX_BODY:
        errors["body"] = N_("at most %(max)s characters", max=MAX_BODY)
    for name, source in (("subject", subject), ("body", body)):
        if name not in errors:
            try:
                check_template(
                    source,
                    name,
                    with_event=values["event_id"] is not None,
                    budget=budget,
                    kind=values.get("kind"),
                )
            except InvalidFields as exc:
                errors.update(exc.errors)
    if errors:
        raise InvalidFields(errors)
    values["subject"], values["body"] = subject, body
    return values


def create_mailing(
    session: Session,
    actor: User | None,
    fields: dict[str, Any],
    *,
    as_of: datetime,
    budget: Budget | None = None,
) -> Mailing:
    _mission_only(actor)
    mailing = Mailing(
        status=MailingStatus.DRAFT,
        created_by=actor,
        created_at=as_of,
        updated_at=as_of,
        **mailing_values(session, fields, budget),
    )
    session.add(mailing)
    session.flush()
    audit.record(
        session,
        "mailing.create",
        actor=actor,
        as_of=as_of,
        demarche=mailing.demarche,
        target=f"mailing:{mailing.id}",
        kind=mailing.kind.value,
        audience=mailing.audience.value,
    )
    return mailing


def update_mailing(
    session: Session,
    actor: User,
    mailing: Mailing,
    fields: dict[str, Any],
    *,
    as_of: datetime,
    budget: Budget | None = None,
) -> Mailing:
    _mission_only(actor)
    if mailing.status != MailingStatus.DRAFT:
        raise Conflict(N_("only a draft can be changed"))
    for name, value in mailing_values(session, fields, budget).items():
        setattr(mailing, name, value)
    mailing.updated_at = as_of
    audit.record(
        session,
        "mailing.update",
        actor=actor,
        as_of=as_of,
        demarche=mailing.demarche,
        target=f"mailing:{mailing.id}",
    )
    session.flush()
    return mailing


def get_mailing(session: Session, mailing_id: object) -> Mailing:
    mailing = (
        session.get(Mailing, mailing_id)
        if isinstance(mailing_id, int) and 0 < mailing_id < 2**31
        else None
    )
    if mailing is None:
        raise NotFound(N_("no mailing %(id)s", id=mailing_id))
    return mailing


def schedule(
    session: Session, actor: User | None, mailing: Mailing, *, at: datetime | None, as_of: datetime
) -> Mailing:
    """Send now (``at`` None or past) or at ``at``; the workers start it (after commit)."""
    _mission_only(actor)
    if mailing.kind == MailingKind.FEEDBACK and mailing.demarche.stage not in FEEDBACK_STAGES:
        raise Conflict(
            N_(
                "the feedback goes out when the démarche enters its feedback stage; "
                "prepare it as a draft until then"
            )
        )
    if mailing.kind == MailingKind.SURVEY and mailing.demarche.stage not in SURVEY_STAGES:
        raise Conflict(SURVEY_TOO_EARLY)
    when = max(at or as_of, as_of)
    changed = execute_dml(
        session,
        update(Mailing)
        .where(Mailing.id == mailing.id, Mailing.status == MailingStatus.DRAFT)
        .values(status=MailingStatus.SCHEDULED, scheduled_at=when, updated_at=as_of)
        .execution_options(synchronize_session=False),
    ).rowcount
    session.refresh(mailing)
    if not changed:  # sent, scheduled or cancelled meanwhile
        raise Conflict(N_("this mailing is already “%(status)s”", status=mailing.status.label))
    audit.record(
        session,
        "mailing.schedule",
        actor=actor,
        as_of=as_of,
        demarche=mailing.demarche,
        target=f"mailing:{mailing.id}",
        at=when.isoformat(),
    )
    if when <= as_of:
        after_commit(session, START_MAILING, mailing.id)  # else the sweep starts it when due
    session.flush()
    return mailing


def cancel(session: Session, actor: User | None, mailing: Mailing, *, as_of: datetime) -> int:
    """Stop what has not gone yet; returns how many deliveries are cancelled."""
    _mission_only(actor)
    result = execute_dml(
        session,
        update(Mailing)
        .where(
            Mailing.id == mailing.id,
            Mailing.status.in_(
                (MailingStatus.DRAFT, MailingStatus.SCHEDULED, MailingStatus.SENDING)
            ),
        )
        .values(status=MailingStatus.CANCELLED, updated_at=as_of, finished_at=as_of)
        .execution_options(synchronize_session=False),
    )
    if result.rowcount != 1:
        raise Conflict(N_("this mailing is already “%(status)s”", status=mailing.status.label))
    stopped = execute_dml(
        session,
        update(Delivery)
        .where(
            Delivery.mailing_id == mailing.id,
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)),
        )
        .values(status=DeliveryStatus.CANCELLED, chunk=None)
        .execution_options(synchronize_session=False),
    ).rowcount
    audit.record(
        session,
        "mailing.cancel",
        actor=actor,
        as_of=as_of,
        demarche=mailing.demarche,
        target=f"mailing:{mailing.id}",
        cancelled=stopped,
    )
    session.flush()
    session.refresh(mailing)
    return stopped
