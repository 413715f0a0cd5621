"""The items put to consultation, prepared by the mission or the démarche's department."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .contributions import MAX_TITLE, may_record_for_channels, to_text
from .errors import Conflict, InvalidFields, PermissionDenied
from .i18n import N_, Msg
from .models import Contribution, Demarche, Item, User
from .stages import Stage

#: Items are prepared until the consultation closes (a typo may be fixed while it runs).
ITEM_STAGES = frozenset(
    {Stage.DRAFT, Stage.SUBMITTED, Stage.RETURNED, Stage.LAUNCH, Stage.CONSULTATION}
)
MAX_ITEM_TEXT = 20_000


def _check_rights(actor: User, demarche: Demarche) -> None:
    if not may_record_for_channels(actor, demarche):
        raise PermissionDenied(N_("only the mission or the démarche's department prepares items"))
    if demarche.stage not in ITEM_STAGES:
        raise Conflict(
            N_("items can no longer be changed at stage “%(stage)s”", stage=demarche.stage.label)
        )


def _values(title: object, text: object, position: object) -> tuple[str, str, int | None]:
    errors: dict[str, Msg] = {}
    clean_title = to_text(title if isinstance(title, str) else "")
    if not clean_title:
        errors["title"] = N_("title missing")
    elif len(clean_title) > MAX_TITLE:
        errors["title"] = N_("at most %(max)s characters", max=MAX_TITLE)
    clean_text = to_text(text if isinstance(text, str) else "")
    if len(clean_text) > MAX_ITEM_TEXT:
        errors["text"] = N_("at most %(max)s characters", max=MAX_ITEM_TEXT)
    if position is not None and (
        isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= 10_000
    ):
        errors["position"] = N_("a position between 1 and 10000 expected")
    if errors:
        raise InvalidFields(errors)
    return clean_title, clean_text, position


def next_position(session: Session, demarche: Demarche) -> int:
    last = session.scalar(select(func.max(Item.position)).where(Item.demarche_id == demarche.id))
    return (last or 0) + 1


def add_item(
    session: Session,
    actor: User | None,
    demarche: Demarche,
    *,
    title: object,
    text: object = "",
    position: object = None,
    as_of: datetime,
    source: str | None = None,
) -> Item:
    """A new item, last unless a position is given (flushes). ``actor`` None: an import."""
    if actor is not None:
        _check_rights(actor, demarche)
    clean_title, clean_text, position = _values(title, text, position)
    item = Item(
        demarche_id=demarche.id,
        title=clean_title,
        text=clean_text,
        position=position or next_position(session, demarche),
        source=source,
        created_at=as_of,
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        "item.create",
        actor=actor,
        as_of=as_of,
        demarche=demarche,
        target=f"item:{item.id}",
    )
    return item


def update_item(
    session: Session,
    actor: User,
    item: Item,
    *,
    title: object,
    text: object,
    position: object,
    as_of: datetime,
) -> Item:
    _check_rights(actor, item.demarche)
    item.title, item.text, position = _values(title, text, position)
    item.position = position or item.position
    audit.record(
        session,
        "item.update",
        actor=actor,
        as_of=as_of,
        demarche=item.demarche,
        target=f"item:{item.id}",
    )
    session.flush()
    return item


def delete_item(session: Session, actor: User, item: Item, *, as_of: datetime) -> None:
    _check_rights(actor, item.demarche)
    said = session.scalar(
        select(func.count(Contribution.id)).where(Contribution.item_id == item.id)
    )
    if said:
        raise Conflict(
            N_("this item has %(count)s contributions: it cannot be deleted", count=said)
        )
    audit.record(
        session,
        "item.delete",
        actor=actor,
        as_of=as_of,
        demarche=item.demarche,
        target=f"item:{item.id}",
    )
    session.delete(item)
    session.flush()


def item_counts(session: Session, demarche: Demarche) -> dict[int, int]:
    """Published contributions per item."""
    from .models import ContributionStatus

    rows = session.execute(
        select(Contribution.item_id, func.count())
        .where(
            Contribution.demarche_id == demarche.id,
            Contribution.status == ContributionStatus.PUBLISHED,
        )
        .group_by(Contribution.item_id)
    )
    return dict(rows.all())
