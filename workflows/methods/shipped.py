"""The methods shipped with the project (``workflows/data/methods/catalogue.json``), loaded
into the database by ``flask methods load`` and the demo — safe to run any number of times.

What a load does, per method of the file (matched by its slug):

- not in the database: created;
- in the database, never changed by the mission: updated to the file's text when the file
  changed since the last load, else left as it is;
- changed by the mission in the back office (or written by it under that slug): kept as the
  mission left it — unless ``force``, which puts the file's text back (audited).

A load never retires, restores nor deletes a method: that is the mission's decision. The file
names a licence by key (``licences``): its notice is stored with each method taken from it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..after_commit import RENDER_GUIDE, after_commit
from ..models import Method
from .fields import COLUMNS, method_values

CATALOGUE = "data/methods/catalogue.json"


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # edited by the mission: left alone

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def lines(self) -> list[str]:
        lines = [
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.kept)} kept as the mission edited them"
        ]
        if self.kept:
            lines.append("kept: " + ", ".join(self.kept) + " (--force puts the shipped text back)")
        return lines


@cache
def _file() -> dict[str, Any]:
    text = resources.files("workflows").joinpath(CATALOGUE).read_text("utf-8")
    return json.loads(text)


def shipped_methods(data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The methods of the catalogue file, validated, with their licence notice spelled out."""
    data = data if data is not None else _file()
    licences = data.get("licences", {})
    methods = []
    for entry in data["methods"]:
        raw = {**entry, "licence": licences.get(entry.get("licence", ""), "")}
        methods.append(method_values({name: raw.get(name) for name in COLUMNS}))
    return methods


def digest(values: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(values, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def load_catalogue(
    session: Session,
    *,
    as_of: datetime,
    force: bool = False,
    data: dict[str, Any] | None = None,
) -> LoadReport:
    """Bring the database up to the catalogue file (see the module's docstring)."""
    report = LoadReport()
    existing = {m.slug: m for m in session.scalars(select(Method))}
    for values in shipped_methods(data):
        slug, mark = values["slug"], digest(values)
        method = existing.get(slug)
        if method is None:
            session.add(
                Method(
                    **values,
                    shipped=True,
                    shipped_digest=mark,
                    created_at=as_of,
                    updated_at=as_of,
                )
            )
            report.created.append(slug)
            continue
        edited = method.edited_at is not None or not method.shipped
        if edited and not force:
            report.kept.append(slug)
            continue
        if not edited and method.shipped_digest == mark:
            report.unchanged.append(slug)
            continue
        for name, value in values.items():
            setattr(method, name, value)
        method.shipped, method.shipped_digest = True, mark
        method.edited_at, method.edited_by_id = None, None
        method.updated_at = as_of
        report.updated.append(slug)
    if report.changed:
        audit.record(
            session,
            "methods.load",
            actor=None,
            as_of=as_of,
            target="methods",
            created=report.created,
            updated=report.updated,
        )
        after_commit(session, RENDER_GUIDE)  # the guide's PDF prints the toolbox
    session.flush()
    return report
