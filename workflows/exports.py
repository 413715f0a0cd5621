"""Exporting a démarche's contributions (CSV, XLSX), with or without personal data.

No cell is ever run as a formula: in CSV, what a spreadsheet would read as one (=, +, -, @,
tab, carriage return) is prefixed with an apostrophe (``spreadsheets.safe_cell``, OWASP's
advice against CSV injection); in XLSX, text cells are typed as text. Including personal data
is an explicit choice, and every export is audited with that choice.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from . import audit
from .access import sees_personal_data
from .errors import InvalidFields, PermissionDenied
from .i18n import N_
from .models import Contribution, Demarche, User
from .spreadsheets import XLSX, safe_cell, xlsx
from .territory import canton_names, communes

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": XLSX,
}
COLUMNS = [
    "id",
    "item",
    "kind",
    "channel",
    "title",
    "text",
    "date",
    "commune",
    "canton",
    "status",
    "moderation_reason",
    "in_reply_to",
    "agreement",
    "endorsements",
]
PERSONAL_COLUMNS = ["author_email", "author_name"]


def rows(session: Session, demarche: Demarche, *, personal: bool) -> Iterator[list[Any]]:
    """The table of contributions, header first, values raw (each format makes them safe)."""
    names = {c.insee_code: c.name for c in communes()}
    cantons = canton_names()
    yield COLUMNS + (PERSONAL_COLUMNS if personal else [])
    query = (
        select(Contribution)
        .where(Contribution.demarche_id == demarche.id)
        .options(joinedload(Contribution.item), joinedload(Contribution.participant))
        .order_by(Contribution.contributed_at, Contribution.id)
        .execution_options(yield_per=2000)
    )
    for c in session.scalars(query):
        row = [
            c.id,
            c.item.title,
            c.kind.value,
            c.channel.value,
            c.title or "",
            c.body,
            c.contributed_at.isoformat(),
            names.get(c.commune_insee, "") if c.commune_insee else "",
            cantons.get(c.canton_code, "") if c.canton_code else "",
            c.status.value,
            c.moderation_reason,
            c.parent_id or "",
            "" if c.alignment is None else c.alignment,
            "" if c.endorsements is None else c.endorsements,
        ]
        if personal:
            author = c.participant
            row += [author.email or "" if author else "", author.name or "" if author else ""]
        yield row


def to_csv(table: Iterator[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")  # what French spreadsheets open by default
    writer.writerows([safe_cell(v) for v in row] for row in table)
    return out.getvalue().encode("utf-8-sig")


def export(
    session: Session,
    demarche: Demarche,
    *,
    fmt: str,
    personal: bool,
    actor: User,
    as_of: datetime,
) -> tuple[bytes, str, str]:
    """(content, mimetype, filename) of the export; audited."""
    if fmt not in FORMATS:
        raise InvalidFields({"format": N_("unknown format “%(value)s”: csv or xlsx", value=fmt)})
    if personal and not sees_personal_data(actor):
        raise PermissionDenied(N_("only the mission exports personal data"))
    table = rows(session, demarche, personal=personal)
    content = to_csv(table) if fmt == "csv" else xlsx([("contributions", table)])
    audit.record(
        session,
        "contributions.export",
        actor=actor,
        as_of=as_of,
        demarche=demarche,
        format=fmt,
        personal=personal,
    )
    session.commit()
    suffix = "-donnees-personnelles" if personal else ""
    return content, FORMATS[fmt], f"contributions-{demarche.slug}{suffix}.{fmt}"
