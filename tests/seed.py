"""Contributors in bulk for the mailing tests and the bench: real texts (the FEAMP
consultation's proposals, ``tests/data/reference``), one participant per address."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from workflows.models import (
    Channel,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Demarche,
    Participant,
)

DATA = Path(__file__).resolve().parent / "data" / "reference"


@cache
def proposals() -> list[str]:
    with (DATA / "feamp-consultation-proposals.csv").open(encoding="utf-8") as f:
        return [row["body"] for row in csv.DictReader(f) if row["body"].strip()]


def address(number: int, domain: str = "exemple.fr") -> str:
    return f"citoyen{number:05d}@{domain}"


def seed_contributors(
    session: Session,
    demarche: Demarche,
    count: int,
    *,
    as_of: datetime,
    per_person: int = 2,
    first: int = 1,
    news: bool = False,
) -> list[int]:
    """``count`` participants who each contributed ``per_person`` times, across the
    démarche's items (``news``: who also asked for the news of their territory); returns
    their ids (in address order)."""
    texts = proposals()
    items = [item.id for item in demarche.items]
    session.execute(
        insert(Participant),
        [
            {
                "email": address(n),
                "name": f"Citoyen {n}",
                "consent_feedback": True,
                "consent_territory_news": news,
                "created_at": as_of,
            }
            for n in range(first, first + count)
        ],
    )
    ids = list(
        session.scalars(
            select(Participant.id)
            .where(Participant.email.in_([address(n) for n in range(first, first + count)]))
            .order_by(Participant.email)
        )
    )
    rows = []
    for index, participant_id in enumerate(ids):
        for k in range(per_person):
            rows.append(
                {
                    "demarche_id": demarche.id,
                    "item_id": items[(index + k) % len(items)],
                    "participant_id": participant_id,
                    "kind": ContributionKind.COMMENT,
                    "channel": Channel.ONLINE,
                    "body": texts[(index * per_person + k) % len(texts)],
                    "status": ContributionStatus.PUBLISHED,
                    "moderation_reason": "",
                    "contributed_at": as_of - timedelta(days=10, minutes=index + k),
                    "created_at": as_of,
                }
            )
    for start in range(0, len(rows), 5000):
        session.execute(insert(Contribution), rows[start : start + 5000])
    session.flush()
    return ids
