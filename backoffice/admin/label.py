"""The label's rules in the back office (``/admin/label/``): the mission edits the gates and
each level's criteria; saving checks them whole (``workflows.label.parse``) and makes a new
version, in force from then on — a refused edit comes back with what was typed and each
message beside its field, nothing saved."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_security import current_user
from sqlalchemy import select

from workflows import label
from workflows.clock import utcnow
from workflows.errors import DomainError, InvalidFields
from workflows.models import LabelRules
from workflows.roles import MISSION_ROLES

from ..extensions import db
from ..i18n import tr
from ..params import id_arg
from .base import ProtectedView
from .perform import in_the_form, perform

#: Empty rows offered under each block, to add criteria.
SPARE_ROWS = 2
COLUMNS = ("indicator", "measure", "comparison", "threshold", "label")


def _blocks() -> tuple[str, ...]:
    return ("gates", *label.LEVELS)


def _threshold(text: str) -> Any:
    """A number as the mission types it (« 0,9 », « 60 »); kept as typed if it is not one,
    for the domain to refuse with its message."""
    try:
        return float(text.replace(",", ".").replace(" ", "").replace("\u202f", ""))
    except ValueError:
        return text


def rows_of(rules: label.Rules) -> dict[str, list[dict[str, str]]]:
    """The form's rows for ``rules``, each value as text, plus spare rows."""

    def row(c: label.Criterion) -> dict[str, str]:
        return {
            "indicator": c.indicator,
            "measure": c.measure,
            "comparison": c.comparison,
            "threshold": f"{c.threshold:g}".replace(".", ","),
            "label": c.label,
        }

    blank = {name: "" for name in COLUMNS}
    found: dict[str, list[dict[str, str]]] = {"gates": [row(c) for c in rules.gates]}
    for lv in rules.levels:
        found[lv.code] = [row(c) for c in lv.criteria]
    return {block: [*rows, *([blank] * SPARE_ROWS)] for block, rows in found.items()}


def read_form(form: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[int, int]]]:
    """What the mission typed: the form's values (to show again), the rules' JSON for the
    domain (empty rows left out), and per block the domain's index → the form's row."""
    typed: dict[str, Any] = {"note": form.get("note", ""), "rows": {}, "labels": {}}
    data: dict[str, Any] = {"note": typed["note"], "gates": [], "levels": []}
    where: dict[str, dict[int, int]] = {}
    for block in _blocks():
        rows: list[dict[str, str]] = []
        criteria: list[dict[str, Any]] = []
        where[block] = {}
        n = 0
        while f"{block}-{n}-indicator" in form:
            row = {name: form.get(f"{block}-{n}-{name}", "").strip() for name in COLUMNS}
            rows.append(row)
            if row["indicator"] or row["label"] or row["threshold"]:
                where[block][len(criteria)] = n
                criteria.append(
                    {
                        "indicator": row["indicator"],
                        "measure": row["measure"] or "value",
                        "comparison": row["comparison"],
                        "threshold": _threshold(row["threshold"]),
                        "label": row["label"],
                    }
                )
            n += 1
        typed["rows"][block] = rows
        if block == "gates":
            data["gates"] = criteria
        else:
            typed["labels"][block] = form.get(f"{block}-label", "")
            data["levels"].append(
                {"code": block, "label": typed["labels"][block], "criteria": criteria}
            )
    return typed, data, where


def errors_by_field(exc: DomainError, where: dict[str, dict[int, int]]) -> dict[str, str]:
    """The domain's messages by the form's field names (its row numbers, not the domain's)."""
    found: dict[str, str] = {}
    for name, message in (exc.errors if isinstance(exc, InvalidFields) else {}).items():
        block, _, rest = name.partition("-")
        index, _, column = rest.partition("-")
        if block in where and index.isdigit() and column:
            name = f"{block}-{where[block].get(int(index), int(index))}-{column}"
        found[name] = tr(message)
    return found


class LabelRulesView(ProtectedView):
    """``/admin/label/``: the rules in force, their versions, the form that saves a new one."""

    roles = MISSION_ROLES

    def _render(
        self,
        typed: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        general: list[str] | None = None,
    ):
        session = db.session()
        rules = label.in_force(session)
        if typed is None:
            typed = {
                "note": rules.note,
                "rows": rows_of(rules),
                "labels": {lv.code: lv.label for lv in rules.levels},
            }
        versions = session.scalars(select(LabelRules).order_by(LabelRules.number.desc())).all()
        number = id_arg(request.args, "version")
        shown_row = next((v for v in versions if v.number == number), None)
        if number is not None and shown_row is None:
            abort(404)
        shown = label.read(shown_row) if shown_row is not None else None
        return self.render(
            "admin/label/index.html",
            rules=rules,
            shown=shown,
            versions=versions,
            typed=typed,
            errors=errors or {},
            general=general or [],
            blocks=_blocks(),
            indicators=label.known_codes(),
            comparisons=label.COMPARISONS,
            measures=label.MEASURES,
        )

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if request.method == "GET":
            return self._render()
        typed, data, where = read_form(request.form)
        done = perform(
            lambda: label.save(db.session(), current_user, data, as_of=utcnow()),
            lambda row: gettext(
                "Version %(number)s of the label's rules is in force: it judges the démarches "
                "not judged yet.",
                number=row.number,
            ),
            refused=in_the_form,
        )
        if not done:
            assert done.error is not None
            errors = errors_by_field(done.error, where)
            general = [tr(m) for m in done.error.messages if tr(m) not in errors.values()]
            return self._render(typed, errors, general), done.error.status
        return redirect(self.get_url(".index"))
