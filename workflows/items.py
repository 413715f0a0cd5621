"""The items put to consultation, prepared by the mission or the démarche's department.

Items have places 1, 2, 3 … in their démarche, one item at each (an import names items by
their position): adding one at a place moves the next ones down, moving one shifts those in
between, deleting one closes the gap. The démarche's row is locked meanwhile, so that two
people adding items at once do not take the same place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import audit
from .access import may_act_on
from .contributions import MAX_TITLE
from .errors import Conflict, InvalidFields, PermissionDenied
from .i18n import N_, Msg
from .models import Contribution, ContributionStatus, Demarche, Item, User
from .stages import Stage
from .text import to_text

#: Items are prepared until the consultation closes (a typo may be fixed while it runs).
ITEM_STAGES = frozenset(
    {Stage.DRAFT, Stage.SUBMITTED, Stage.RETURNED, Stage.LAUNCH, Stage.CONSULTATION}
)
MAX_ITEM_TEXT = 20_000


def may_prepare_items(user: User, demarche: Demarche) -> bool:
    """Whether ``user`` may add, change or delete ``demarche``'s items now (what
    ``_check_rights`` lets through)."""
    return may_act_on(user, demarche) and demarche.stage in ITEM_STAGES


def _check_rights(actor: User, demarche: Demarche) -> None:
    if not may_act_on(actor, demarche):
        raise PermissionDenied(N_("only the mission or the démarche's department prepares items"))
    if demarche.stage not in ITEM_STAGES:
        raise Conflict(
            N_("items can no longer be changed at stage “%(stage)s”", stage=demarche.stage.label)
        )


def _values(title: object, text: object, position: object) -> tuple[str, str, int | None]:
    errors: dict[str, Msg] = {}
    clean_title = to_text(title if isinstance(title, str) else "", single_line=True)
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
    assert position is None or isinstance(position, int)  # checked above
    return clean_title, clean_text, position


def next_position(session: Session, demarche: Demarche) -> int:
    last = session.scalar(select(func.max(Item.position)).where(Item.demarche_id == demarche.id))
    return (last or 0) + 1


def lock_items(session: Session, demarche: Demarche) -> None:
    """Hold the démarche's row until the commit: one change of its items' places at a time
    (only that row: a lock over an outer join is refused by PostgreSQL)."""
    session.execute(select(Demarche.id).where(Demarche.id == demarche.id).with_for_update())


def _shift(session: Session, demarche: Demarche, first: int, last: int, by: int) -> None:
    """Move the items at places first..last by ``by``. Through negative places, so that no
    two items share a place at any moment (the unique index is checked row by row)."""
    where = (Item.demarche_id == demarche.id, Item.position >= first, Item.position <= last)
    session.execute(
        update(Item).where(*where).values(position=-(Item.position + by)),
        execution_options={"synchronize_session": "fetch"},
    )
    _settle(session, demarche)


def _settle(session: Session, demarche: Demarche) -> None:
    """The items put at a negative place (their new place, negated) take it."""
    session.execute(
        update(Item)
        .where(Item.demarche_id == demarche.id, Item.position < 0)
        .values(position=-Item.position),
        execution_options={"synchronize_session": "fetch"},
    )


def _renumber(session: Session, demarche: Demarche) -> None:
    """Places 1, 2, 3 … in the present order (after a deletion)."""
    places = session.execute(
        select(Item.id, Item.position)
        .where(Item.demarche_id == demarche.id)
        .order_by(Item.position, Item.id)
    ).all()
    moved = False
    for place, (item_id, now) in enumerate(places, start=1):
        if now != place:
            session.execute(
                update(Item).where(Item.id == item_id).values(position=-place),
                execution_options={"synchronize_session": "fetch"},
            )
            moved = True
    if moved:
        _settle(session, demarche)
    session.expire(demarche, ["items"])


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
    lock_items(session, demarche)
    last = next_position(session, demarche)
    place = min(position or last, last)
    if place < last:
        _shift(session, demarche, place, last - 1, 1)
    item = Item(
        demarche_id=demarche.id,
        title=clean_title,
        text=clean_text,
        position=place,
        source=source,
        created_at=as_of,
    )
    session.add(item)
    session.flush()
    session.expire(demarche, ["items"])
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
    if position is not None and position != item.position:
        _move(session, item, position)
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


def _move(session: Session, item: Item, position: int) -> None:
    """Put ``item`` at ``position`` (at most the last place); those in between shift."""
    demarche = item.demarche
    lock_items(session, demarche)
    session.refresh(item, ["position"])
    place = min(position, next_position(session, demarche) - 1)
    start = item.position
    if place == start:
        return
    session.execute(
        update(Item).where(Item.id == item.id).values(position=-place),
        execution_options={"synchronize_session": "fetch"},
    )
    if place < start:
        _shift(session, demarche, place, start - 1, 1)
    else:
        _shift(session, demarche, start + 1, place, -1)
    session.expire(demarche, ["items"])


def delete_item(session: Session, actor: User, item: Item, *, as_of: datetime) -> None:
    _check_rights(actor, item.demarche)
    said = session.scalar(
        select(func.count(Contribution.id)).where(Contribution.item_id == item.id)
    )
    if said:
        raise Conflict(
            N_("this item has %(count)s contributions: it cannot be deleted", count=said)
        )
    demarche = item.demarche
    lock_items(session, demarche)
    audit.record(
        session,
        "item.delete",
        actor=actor,
        as_of=as_of,
        demarche=demarche,
        target=f"item:{item.id}",
    )
    session.delete(item)
    session.flush()
    _renumber(session, demarche)


@dataclass
class Deleted:
    """What a deletion of several items did: the titles deleted, and those kept with why."""

    deleted: list[str] = field(default_factory=list)
    kept: list[tuple[str, Msg]] = field(default_factory=list)


def delete_items(session: Session, actor: User, items: list[Item], *, as_of: datetime) -> Deleted:
    """Delete the items that may be (no contributions, the démarche still preparing them);
    the others are kept, each with its reason. Each démarche's places are renumbered."""
    outcome = Deleted()
    for item in sorted(items, key=lambda i: (i.demarche_id, i.position, i.id)):
        title = item.title
        try:
            delete_item(session, actor, item, as_of=as_of)
        except (Conflict, PermissionDenied) as exc:
            outcome.kept.append((title, exc.messages[0]))
        else:
            outcome.deleted.append(title)
    return outcome


def item_counts(session: Session, demarche: Demarche) -> dict[int, int]:
    """Published contributions per item."""
    rows = session.execute(
        select(Contribution.item_id, func.count())
        .where(
            Contribution.demarche_id == demarche.id,
            Contribution.status == ContributionStatus.PUBLISHED,
        )
        .group_by(Contribution.item_id)
    )
    return dict(rows.all())
