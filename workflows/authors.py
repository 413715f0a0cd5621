"""Who wrote a contribution, and how the people who took part are counted — the one rule
every participant count follows (syntheses, evaluation, public pages, dashboards, digests).

A contribution's author is, in this order:

1. its **participant** — an account or an address, the person the feedback can reach;
2. else its **author in the source it was imported from** (``Contribution.author_key``):
   the export's author id (``decidim:<id>``), else, for a name without an address, that name
   within that one import file — kept only as a digest of the file and the name, so that the
   name itself is not stored twice and two imports never merge two namesakes;
3. else **nobody known** (a paper contribution typed without a name, a spreadsheet row without
   author): counted apart, as "contributions without a known author".

The people who took part are the distinct authors of 1 and 2. ``author`` is that identity as
one SQL value (NULL for 3), so each count is one ``COUNT(DISTINCT …)`` in the database.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import String, case, cast, func
from sqlalchemy.sql.elements import ColumnElement

from .models import Contribution


def author() -> ColumnElement[str | None]:
    """The author of a ``Contribution`` row as one comparable value; NULL: nobody known."""
    return func.coalesce(cast(Contribution.participant_id, String), Contribution.author_key)


def people() -> ColumnElement[int]:
    """How many distinct people wrote the rows selected (an aggregate)."""
    return func.count(func.distinct(author()))


def without_author() -> ColumnElement[int]:
    """How many of the rows selected have no known author (an aggregate)."""
    return func.count(
        case((Contribution.participant_id.is_(None) & Contribution.author_key.is_(None), 1))
    )


def source_author(source_id: object, name: str | None, file_digest: str) -> str | None:
    """The ``author_key`` of an imported row without an address: the export's author id,
    else its name within that file (a digest); None when the row names nobody."""
    if source_id not in (None, ""):
        return f"decidim:{source_id}"
    if name:
        digest = hashlib.sha256(f"{file_digest}\x1f{name.casefold()}".encode()).hexdigest()
        return f"name:{digest[:32]}"
    return None
