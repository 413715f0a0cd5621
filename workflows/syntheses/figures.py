"""The figures of a synthesis: what was said, by how many, where, when and through which
channel — counted by the database in a fixed number of queries, whatever the size.

Only published contributions count (a hidden or rejected one is not part of what the
consultation says); replies count as contributions of their item.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from .. import authors
from ..clock import PARIS
from ..models import (
    Channel,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Deadline,
    DeadlineStatus,
    Demarche,
    Item,
    Participant,
)
from ..territory import canton_names, communes

KINDS = [k.value for k in ContributionKind]
CHANNELS = [c.value for c in Channel]


def published_of(d: Demarche):
    """What a synthesis counts and quotes: the démarche's published contributions."""
    return and_(
        Contribution.demarche_id == d.id, Contribution.status == ContributionStatus.PUBLISHED
    )


def _hour(session: Session):
    """The contribution's hour (UTC), the finest grain that maps to a Paris day exactly."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Contribution.contributed_at), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", Contribution.contributed_at)


def compute(session: Session, d: Demarche) -> dict[str, Any]:
    """Every figure of the synthesis of ``d``, as plain JSON-ready data."""
    published = published_of(d)
    items = session.execute(
        select(Item.id, Item.position, Item.title)
        .where(Item.demarche_id == d.id)
        .order_by(Item.position, Item.id)
    ).all()

    # Per item, kind and channel, with the agreement the source recorded.
    per_item: dict[int, dict[str, Any]] = {
        item_id: {
            "item_id": item_id,
            "position": position,
            "title": title,
            "contributions": 0,
            "participants": 0,
            "per_kind": dict.fromkeys(KINDS, 0),
            "agree": 0,
            "disagree": 0,
            "endorsements": 0,
        }
        for item_id, position, title in items
    }
    per_kind: Counter[str] = Counter()
    per_channel: Counter[str] = Counter()
    agreement: Counter[str] = Counter()
    for item_id, kind, channel, count, agree, disagree, endorsements in session.execute(
        select(
            Contribution.item_id,
            Contribution.kind,
            Contribution.channel,
            func.count(),
            func.count(case((Contribution.alignment > 0, 1))),
            func.count(case((Contribution.alignment < 0, 1))),
            func.coalesce(func.sum(Contribution.endorsements), 0),
        )
        .where(published)
        .group_by(Contribution.item_id, Contribution.kind, Contribution.channel)
    ):
        line = per_item[item_id]
        kind_name, channel_name = ContributionKind(kind).value, Channel(channel).value
        endorsed = int(endorsements or 0)  # (None never comes: the sum is coalesced to 0)
        line["contributions"] += count
        line["per_kind"][kind_name] += count
        line["agree"] += agree
        line["disagree"] += disagree
        line["endorsements"] += endorsed
        per_kind[kind_name] += count
        per_channel[channel_name] += count
        agreement.update(agree=agree, disagree=disagree, endorsements=endorsed)

    for item_id, people in session.execute(
        select(Contribution.item_id, authors.people())
        .where(published)
        .group_by(Contribution.item_id)
    ):
        per_item[item_id]["participants"] = people
    total, participants, unidentified = session.execute(
        select(
            func.count(),
            authors.people(),
            authors.without_author(),
        ).where(published)
    ).one()

    # Where: per commune (INSEE code), and per canton with its name.
    names = canton_names()
    commune_names = {c.insee_code: c.name for c in communes()}
    per_canton: dict[str | None, dict[str, Any]] = {}
    per_commune = []
    for canton, commune, count, people in session.execute(
        select(
            Contribution.canton_code,
            Contribution.commune_insee,
            func.count(),
            authors.people(),
        )
        .where(published)
        .group_by(Contribution.canton_code, Contribution.commune_insee)
        .order_by(Contribution.canton_code, Contribution.commune_insee)
    ):
        entry = per_canton.setdefault(
            canton,
            {"code": canton, "name": names.get(canton) if canton else None, "contributions": 0},
        )
        entry["contributions"] += count
        if commune:
            per_commune.append(
                {
                    "insee": commune,
                    "name": commune_names.get(commune, commune),
                    "canton": canton,
                    "contributions": count,
                    "participants": people,
                }
            )

    # When: per day in Europe/Paris, from UTC hours (a DST night splits no hour).
    per_day: Counter[str] = Counter()
    hour_of = _hour(session)  # one expression, so that GROUP BY repeats it with its binds
    for hour, count in session.execute(
        select(hour_of, func.count()).where(published).group_by(hour_of)
    ):
        moment = datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)
        per_day[moment.astimezone(PARIS).date().isoformat()] += count

    # Questions: asked (published, not replies), answered, and answered on time.
    questions = session.execute(
        select(
            func.count(Contribution.id),
            func.count(Contribution.answered_at),
            func.count(
                case(
                    (
                        and_(
                            Deadline.status == DeadlineStatus.MET,
                            Deadline.met_at < Deadline.due_at,
                        ),
                        1,
                    )
                )
            ),
        )
        .outerjoin(Deadline, Deadline.question_id == Contribution.id)
        .where(
            published,
            Contribution.kind == ContributionKind.QUESTION,
            Contribution.parent_id.is_(None),
        )
    ).one()

    return {
        "contributions": total,
        "participants": participants,
        "unidentified_contributions": unidentified,
        "per_item": list(per_item.values()),
        "per_kind": {kind: per_kind.get(kind, 0) for kind in KINDS},
        "per_channel": {
            channel: per_channel[channel] for channel in CHANNELS if per_channel[channel]
        },
        "per_canton": sorted(
            per_canton.values(), key=lambda c: (-c["contributions"], c["code"] or "")
        ),
        "per_commune": sorted(per_commune, key=lambda c: (-c["contributions"], c["insee"])),
        "per_day": [{"date": day, "contributions": per_day[day]} for day in sorted(per_day)],
        "agreement": {
            "agree": agreement["agree"],
            "disagree": agreement["disagree"],
            "endorsements": agreement["endorsements"],
        },
        "questions": {"asked": questions[0], "answered": questions[1], "on_time": questions[2]},
    }


def participant_names(session: Session, d: Demarche) -> tuple[str, ...]:
    """The names the démarche's participants gave: replaced wherever a text quotes them."""
    return tuple(
        name
        for name in session.scalars(
            select(func.distinct(Participant.name))
            .join(Contribution, Contribution.participant_id == Participant.id)
            .where(Contribution.demarche_id == d.id, Participant.name != "")
        )
        if name
    )
