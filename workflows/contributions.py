"""Contributions: who may say what, where and when; threads; moderation; reports.

``contribute`` is the one way a contribution is recorded — online by a citizen, on behalf of
a channel by the mission (a paper form, a workshop), or by an import — so the same rules hold
everywhere: the right item of the right démarche, the consultation open for online
contributions, the author kept (for the feedback), the commune mapped to its canton.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session, selectinload

from . import audit, charter
from .access import may_act_on, parse_id
from .errors import Conflict, InvalidFields, NotFound, PermissionDenied
from .i18n import N_, Msg
from .models import (
    Channel,
    Contribution,
    ContributionKind,
    ContributionReport,
    ContributionStatus,
    Demarche,
    Event,
    Item,
    Participant,
    User,
)
from .roles import RoleName
from .stages import Stage
from .territory import AmbiguousCommune, find_commune
from .text import to_text

MAX_BODY = 10_000
MAX_TITLE = 300
#: Stages in which contributions from other channels (workshops, mail, imports) are recorded.
RECORDING_STAGES = frozenset({Stage.CONSULTATION, Stage.SYNTHESIS})
# What the public sees of a démarche's contributions: the published, and the hidden ones as
# « masqué par la modération » with the reason (never the held or the rejected).
PUBLICLY_SHOWN = (ContributionStatus.PUBLISHED, ContributionStatus.HIDDEN)


def parse_kind(value: str | ContributionKind) -> ContributionKind:
    try:
        return ContributionKind(value)
    except ValueError:
        raise InvalidFields(
            {"kind": N_("unknown kind “%(value)s”: comment, question or proposal", value=value)}
        ) from None


def parse_channel(value: str | Channel) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise InvalidFields(
            {
                "channel": N_(
                    "unknown channel “%(value)s”: online, workshop, meeting, mail or import",
                    value=value,
                )
            }
        ) from None


def commune_fields(value: str | None, field: str = "commune") -> tuple[str | None, str | None]:
    """(INSEE code, canton code) of a commune given by name, postal or INSEE code."""
    try:
        commune = find_commune(value)
    except AmbiguousCommune as exc:
        raise InvalidFields(
            {
                field: N_(
                    "the postal code %(code)s is shared by several communes (%(names)s): "
                    "give the name",
                    code=exc.value,
                    names=", ".join(exc.names[:5]) + ("…" if len(exc.names) > 5 else ""),
                )
            }
        ) from None
    if commune is None:
        if value is not None and str(value).strip():
            raise InvalidFields(
                {field: N_("unknown commune of Haute-Garonne “%(value)s”", value=value)}
            )
        return None, None
    return commune.insee_code, commune.canton_code


def not_open_message(demarche: Demarche) -> Msg:
    return N_(
        "the consultation is not open: the démarche is at stage “%(stage)s”",
        stage=demarche.stage.label,
    )


def may_record_collected(user: User, demarche: Demarche) -> bool:
    """Whether ``user`` may record now what other channels collected, by hand or by an import
    (what ``contribute`` lets through for a channel other than online, and an import)."""
    return may_act_on(user, demarche) and demarche.stage in RECORDING_STAGES


def contribute(
    session: Session,
    demarche: Demarche,
    *,
    item_id: int | None,
    body: str,
    kind: str | ContributionKind = ContributionKind.COMMENT,
    channel: str | Channel = Channel.ONLINE,
    author: Participant | None,
    actor: User | None,
    as_of: datetime,
    parent_id: int | None = None,
    commune: str | None = None,
    title: str | None = None,
    contributed_at: datetime | None = None,
    event: Event | None = None,
    source: str | None = None,
    alignment: int | None = None,
    endorsements: int | None = None,
) -> Contribution:
    """Record one contribution (flushes). ``actor`` None: the system (an import task)."""
    kind, channel = parse_kind(kind), parse_channel(channel)
    online = channel == Channel.ONLINE
    if actor is not None and not online and not may_act_on(actor, demarche):
        raise PermissionDenied(N_("only the mission records contributions from other channels"))
    if actor is not None and online and not actor.has_any_role(RoleName.CITIZEN):
        raise PermissionDenied(N_("contributions online are made from a citizen account"))
    if online and demarche.stage != Stage.CONSULTATION:
        raise Conflict(not_open_message(demarche))
    if not online and demarche.stage not in RECORDING_STAGES:
        raise Conflict(
            N_(
                "contributions are recorded during the consultation and its "
                "synthesis; the démarche is at stage “%(stage)s”",
                stage=demarche.stage.label,
            )
        )
    errors: dict[str, Msg] = {}
    text = to_text(body)
    if not text:
        errors["body"] = N_("the text is empty")
    elif len(text) > MAX_BODY:
        errors["body"] = N_("at most %(max)s characters", max=MAX_BODY)
    clean_title = to_text(title, single_line=True)[:MAX_TITLE] or None
    item_key = parse_id(item_id)
    item = session.get(Item, item_key) if item_key else None
    if item is None or item.demarche_id != demarche.id:
        errors["item_id"] = N_("no item %(id)s in this démarche", id=item_id)
    parent = None
    if parent_id is not None:
        parent_key = parse_id(parent_id)
        parent = session.get(Contribution, parent_key) if parent_key else None
        if parent is None or parent.item_id != (item.id if item else None):
            errors["parent_id"] = N_("no contribution %(id)s on this item to answer", id=parent_id)
        elif parent.status != ContributionStatus.PUBLISHED and source is None:
            errors["parent_id"] = N_("this contribution cannot be answered")
        elif kind != ContributionKind.COMMENT:
            errors["kind"] = N_("an answer to a contribution is a comment")
    if alignment not in (None, -1, 0, 1):
        errors["alignment"] = N_("agreement is 1, 0 or -1")
    insee, canton = None, None
    try:
        insee, canton = commune_fields(commune)
    except InvalidFields as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidFields(errors)
    assert item is not None  # else an error above
    if author is not None and insee is None and author.commune_insee:
        insee, canton = commune_fields(author.commune_insee)
    held = online and demarche.hold_for_review and actor is not None
    contribution = Contribution(
        demarche_id=demarche.id,
        item_id=item.id,
        parent_id=parent.id if parent else None,
        participant=author,
        event=event,
        kind=kind,
        channel=channel,
        title=clean_title,
        body=text,
        commune_insee=insee,
        canton_code=canton,
        alignment=alignment,
        endorsements=endorsements,
        status=ContributionStatus.PENDING if held else ContributionStatus.PUBLISHED,
        contributed_at=contributed_at or as_of,
        created_at=as_of,
        source=source,
    )
    session.add(contribution)
    session.flush()
    if source is None:
        question_published(session, contribution, as_of=as_of)
    return contribution


def question_published(session: Session, contribution: Contribution, *, as_of: datetime) -> None:
    """A published question starts the charter's answer clock (imports, said elsewhere
    and long ago, start none)."""
    if (
        contribution.kind == ContributionKind.QUESTION
        and contribution.status == ContributionStatus.PUBLISHED
        and contribution.parent_id is None
    ):
        charter.event(
            session, contribution.demarche, "question_published", at=as_of, question=contribution
        )


def get_contribution(session: Session, contribution_id: object) -> Contribution:
    key = parse_id(contribution_id)
    contribution = session.get(Contribution, key) if key else None
    if contribution is None:
        raise NotFound(N_("no contribution %(id)s", id=contribution_id))
    return contribution


_S = ContributionStatus
MODERATION = {
    # action: (allowed from, status after, reason required)
    "hide": ({_S.PUBLISHED}, _S.HIDDEN, True),  # the reason is shown publicly
    "reject": ({_S.PENDING}, _S.REJECTED, True),  # held, never shown: its author sees why
    "restore": ({_S.HIDDEN}, _S.PUBLISHED, False),
    "publish": ({_S.PENDING, _S.REJECTED}, _S.PUBLISHED, False),
}


def moderate(
    session: Session,
    contribution: Contribution,
    action: str,
    *,
    actor: User,
    reason: str = "",
    as_of: datetime,
) -> Contribution:
    """Hide (with a public reason), restore or publish a contribution; audited."""
    if not actor.is_mission:
        raise PermissionDenied(N_("only the mission moderates contributions"))
    if action not in MODERATION:
        raise InvalidFields({"action": N_("unknown moderation action")})
    allowed, after, needs_reason = MODERATION[action]
    reason = to_text(reason)[:1000]
    if needs_reason and not reason:
        raise InvalidFields({"reason": N_("give the reason")})
    if contribution.status not in allowed:
        raise Conflict(
            N_("this contribution is already “%(status)s”", status=contribution.status.label)
        )
    hidden_at = contribution.moderated_at if contribution.status == _S.HIDDEN else None
    contribution.status = after
    contribution.moderation_reason = reason if needs_reason else ""
    contribution.moderated_at = as_of
    contribution.moderated_by_id = actor.id
    if contribution.kind == ContributionKind.QUESTION:
        session.flush()
        if action == "publish":
            question_published(session, contribution, as_of=as_of)
        elif action == "hide":
            charter.question_hidden(session, contribution, actor, reason=reason, as_of=as_of)
        elif action == "restore":
            charter.question_restored(session, contribution, hidden_at=hidden_at)
    for report in session.scalars(
        select(ContributionReport).where(
            ContributionReport.contribution_id == contribution.id,
            ContributionReport.resolved_at.is_(None),
        )
    ):
        report.resolved_at = as_of
    audit.record(
        session,
        f"contribution.{action}",
        actor=actor,
        as_of=as_of,
        demarche=contribution.demarche,
        target=f"contribution:{contribution.id}",
        reason=reason,
    )
    session.flush()
    return contribution


def report(
    session: Session, contribution: Contribution, *, reporter: User, reason: str, as_of: datetime
) -> ContributionReport:
    """Flag a published contribution to the moderation (once per person; audited)."""
    if contribution.status != ContributionStatus.PUBLISHED:
        raise Conflict(N_("this contribution is not published"))
    reason = to_text(reason)[:1000]
    existing = session.scalar(
        select(ContributionReport).where(
            ContributionReport.contribution_id == contribution.id,
            ContributionReport.reporter_id == reporter.id,
        )
    )
    if existing is not None:
        return existing
    flagged = ContributionReport(
        contribution_id=contribution.id, reporter_id=reporter.id, reason=reason, created_at=as_of
    )
    session.add(flagged)
    audit.record(
        session,
        "contribution.report",
        actor=reporter,
        as_of=as_of,
        demarche=contribution.demarche,
        target=f"contribution:{contribution.id}",
    )
    session.flush()
    return flagged


def open_reports(session: Session, contribution_ids: list[int]) -> dict[int, int]:
    """Number of unresolved reports per contribution."""
    if not contribution_ids:
        return {}
    rows = session.execute(
        select(ContributionReport.contribution_id, func.count())
        .where(
            ContributionReport.contribution_id.in_(contribution_ids),
            ContributionReport.resolved_at.is_(None),
        )
        .group_by(ContributionReport.contribution_id)
    )
    return dict(rows.all())


ERASED = "participant supprimé"


def public_author(contribution: Contribution) -> str | None:
    """The name shown to the public: only a name its owner gave from their own account, for
    what they wrote online (not names from paper forms, workshops or imports). None: show
    "un·e participant·e"; ``ERASED`` for an account deleted since."""
    author = contribution.participant
    if author is None:
        return None
    if author.erased_at is not None:
        return ERASED
    if author.user_id is not None and contribution.channel == Channel.ONLINE:
        return author.name or None
    return None


def newest_threads(session: Session, d: Demarche, per_item: int) -> dict[int, list[Contribution]]:
    """The ``per_item`` newest publicly shown threads of each of ``d``'s items, in one query:
    a ``UNION ALL`` of each item's newest (each read from the index on item, status, date)."""
    latest: dict[int, list[Contribution]] = {item.id: [] for item in d.items}
    if not latest:
        return latest
    newest = union_all(
        *(
            select(
                select(Contribution.id)
                .where(
                    Contribution.item_id == item_id,
                    Contribution.parent_id.is_(None),
                    Contribution.status.in_(PUBLICLY_SHOWN),
                )
                .order_by(Contribution.contributed_at.desc(), Contribution.id.desc())
                .limit(per_item)
                .subquery()
            )
            for item_id in latest
        )
    ).subquery()
    for contribution in session.scalars(
        select(Contribution)
        .where(Contribution.id.in_(select(newest.c.id)))
        .options(selectinload(Contribution.participant))
        .order_by(Contribution.contributed_at.desc(), Contribution.id.desc())
    ):
        latest[contribution.item_id].append(contribution)
    return latest
