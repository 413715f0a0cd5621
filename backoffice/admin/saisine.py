"""``/admin/saisine/``: the guided form in which a department agent writes a saisine, in steps.

1. the project, 2. its public and territory, 3. participation and calendar, 4. methods,
5. review and submit. Each step saves the draft (« Save the draft » keeps it as it is; «
Continue » also asks for the fields that submitting needs, from the domain's own list
``workflows.guards.SAISINE_REQUIRED``). Writes go through ``workflows.demarches`` and the
submission through ``workflows.transitions.transition``, as the API and the sheet do.

Agents of the démarche's department write here while it is a draft or returned; the mission
may too (it keeps its own forms). Another department's démarche is not found (404).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, make_response, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_security import current_user
from sqlalchemy import select

from workflows import charter, training
from workflows import demarches as domain
from workflows.access import acts_for_department, get_visible
from workflows.clock import utcnow
from workflows.errors import DomainError, InvalidFields, NotFound
from workflows.guards import SAISINE_REQUIRED_FIELDS, saisine_missing
from workflows.i18n import N_, Msg
from workflows.methods import planning
from workflows.models import Demarche, Department, StageTransition
from workflows.roles import MISSION_ROLES, RoleName
from workflows.stages import PARTICIPATION_LABELS, ParticipationLevel, Stage
from workflows.territory import territories
from workflows.transitions import move_options, transition

from ..extensions import db
from ..i18n import tr
from .base import ProtectedView
from .charter import amount
from .perform import perform
from .planning import methods_choice
from .training import guide_href

#: The stages in which the saisine is written (and written again when returned).
WRITING = (Stage.DRAFT, Stage.RETURNED)


@dataclass(frozen=True)
class Step:
    key: str
    title: Msg
    fields: tuple[str, ...]
    #: What of this step becomes public, and when.
    public_note: Msg


STEPS = (
    Step(
        "project",
        N_("The project"),
        ("title", "department", "objectives"),
        N_(
            "The title, the department and the objectives will be published on the démarche's "
            "public page once the mission accepts the saisine. Until then only the mission, "
            "your department and the sponsoring elected official read them."
        ),
    ),
    Step(
        "public",
        N_("Its public and territory"),
        ("public", "territory"),
        N_(
            "The public concerned and the territory will be published on the public page once "
            "the mission accepts the saisine. The mission may then write to the participants "
            "of this territory who asked for its news."
        ),
    ),
    Step(
        "participation",
        N_("Participation and calendar"),
        (
            "participation_level",
            "expected_participants",
            "participation_ends_by",
            "desired_calendar",
            "budget",
            "elected_official",
        ),
        N_(
            "The participation level and the sponsoring elected official (name and position) "
            "will be published on the public page once the mission accepts the saisine. The "
            "desired calendar and the budget stay in the back office: they are never published."
        ),
    ),
    Step(
        "methods",
        N_("Methods"),
        (),
        N_(
            "The methods planned are published on the public page once the mission accepts "
            "the saisine, as the démarche's programme; the reasons shown here are not."
        ),
    ),
    Step(
        "review",
        N_("Review and submit"),
        (),
        N_(
            "Once submitted, the saisine waits for the mission's answer and can no longer be "
            "changed: the mission accepts it (its public page opens then), returns it to you "
            "with its remarks, or rejects it."
        ),
    ),
)
STEP_KEYS = tuple(s.key for s in STEPS)
_STEP_OF = {name: s.key for s in STEPS for name in s.fields}

LABELS: dict[str, Msg] = {
    **{name: f.label for name, f in domain.FIELDS.items()},
    "planned_methods": N_("Methods planned"),
}
HINTS: dict[str, Msg] = {
    "title": N_("A short name a citizen understands (200 characters at most)."),
    "department": N_("The department that carries the project."),
    "objectives": N_(
        "What the démarche must produce, what is already decided and what can still change, "
        "and who decides in the end."
    ),
    "public": N_("Who is concerned: residents, users, associations, professionals…"),
    "territory": N_("A canton, or Haute-Garonne for the whole département."),
    "desired_calendar": N_(
        "When you would like the consultation to open and close, and when the decision must "
        "be taken."
    ),
    "budget": N_("The budget set aside for the démarche, in euros (optional)."),
    "expected_participants": N_(
        "How many people you hope will take part, roughly (optional): the toolbox proposes "
        "methods made for that many."
    ),
    "participation_ends_by": N_(
        "The date by which the participation must be over (optional): the toolbox leaves out "
        "the methods that need longer to prepare and run."
    ),
    "elected_official": N_(
        "The elected official who sponsors the démarche; they receive an email at each change "
        "of stage."
    ),
}
LEVEL_HINTS: dict[ParticipationLevel, Msg] = {
    ParticipationLevel.INFORMATION: N_(
        "Citizens are told about the project; their opinion is not asked."
    ),
    ParticipationLevel.CONSULTATION: N_(
        "Citizens give their opinion; the Department decides and says what it kept."
    ),
    ParticipationLevel.CONCERTATION: N_(
        "Citizens work on the project with the Department, over several meetings, before it "
        "decides."
    ),
    ParticipationLevel.CO_CONSTRUCTION: N_(
        "Citizens and the Department build the project together and share the choices."
    ),
    ParticipationLevel.CODECISION: N_(
        "Citizens decide, within rules the Department sets beforehand (a participatory "
        "budget, for instance), and the Department carries out their choice."
    ),
}


def form_values(d: Demarche | None) -> dict[str, str]:
    """The saisine's fields as the form shows them (what a user would type)."""
    if d is None:
        return {}
    budget = f"{d.budget:f}".replace(".", ",") if d.budget is not None else ""
    return {
        "title": d.title or "",
        "department": d.department.name if d.department else "",
        "objectives": d.objectives or "",
        "public": d.public or "",
        "territory": d.territory or "",
        "participation_level": d.participation_level.value if d.participation_level else "",
        "desired_calendar": d.desired_calendar or "",
        "budget": budget,
        "expected_participants": str(d.expected_participants or ""),
        "participation_ends_by": d.participation_ends_by.isoformat()
        if d.participation_ends_by
        else "",
        "elected_official": d.elected_official.email if d.elected_official else "",
    }


def returned_reason(d: Demarche | None) -> StageTransition | None:
    """The mission's latest return of ``d``, while it is returned."""
    if d is None or d.stage != Stage.RETURNED:
        return None
    return next((t for t in reversed(d.transitions) if t.to_stage == Stage.RETURNED), None)


class SaisineView(ProtectedView):
    roles = MISSION_ROLES | {RoleName.DEPARTMENT}

    def is_visible(self) -> bool:
        return False  # reached from « Create » of the démarches and from a draft's « Edit »

    # -- who writes what ---------------------------------------------------------------

    def _writable(self, demarche_id: int) -> Demarche | None:
        """The démarche if the user writes its saisine now; None (redirect to its sheet)
        once submitted; 404 unseen, 403 seen but not theirs to write."""
        try:
            d = get_visible(db.session(), current_user, demarche_id)
        except NotFound:
            abort(404)
        if not (current_user.is_mission or acts_for_department(current_user, d)):
            abort(403)
        return d if d.stage in WRITING else None

    def _to_sheet(self, demarche_id: int):
        flash(gettext("This saisine is no longer a draft: it is read on its sheet."), "info")
        return redirect(self.get_url("demarche.details_view", id=demarche_id))

    def _editable(self, d: Demarche | None) -> set[str]:
        if d is None:
            return domain.creatable_fields(current_user)
        return domain.editable_fields(current_user, d)

    # -- the steps ---------------------------------------------------------------------

    @expose("/")
    def index(self):
        return redirect(self.get_url(".new"))

    @expose("/new/", methods=("GET", "POST"))
    def new(self):
        if not (current_user.is_mission or current_user.department_id):
            abort(403)  # an agent without a department has no saisine to write
        if request.method == "POST":
            return self._save(None, STEPS[0])
        return self._render_step(None, STEPS[0])

    @expose("/<int:demarche_id>/")
    def resume(self, demarche_id: int):
        """Back to a draft: its first step that lacks something, else the review."""
        d = self._writable(demarche_id)
        if d is None:
            return self._to_sheet(demarche_id)
        missing = saisine_missing(d)
        step = next((s.key for s in STEPS if any(n in missing for n in s.fields)), "review")
        return redirect(self.get_url(".step", demarche_id=d.id, key=step))

    @expose("/<int:demarche_id>/<key>/", methods=("GET", "POST"))
    def step(self, demarche_id: int, key: str):
        if key not in STEP_KEYS:
            abort(404)
        d = self._writable(demarche_id)
        if d is None:
            return self._to_sheet(demarche_id)
        step = STEPS[STEP_KEYS.index(key)]
        if request.method == "POST" and step.key != "review":
            return self._save(d, step)
        if request.method == "POST":  # the review is submitted from its own form
            return redirect(self.get_url(".step", demarche_id=d.id, key=step.key))
        if step.key == "review":
            return self._render_review(d)
        return self._render_step(d, step)

    def _save(self, d: Demarche | None, step: Step):
        """Save the step's fields; « Continue » also wants those that submitting needs."""
        going_on = request.form.get("action") == "next"
        editable = self._editable(d)
        values = {n: request.form.get(n, "") for n in step.fields if n in editable}

        def save() -> Demarche:
            if going_on:  # read by the domain's parsers first: nothing is written then
                _dry_run(step, values)
            if d is None:
                saved = domain.create_draft(db.session(), current_user, values, as_of=utcnow())
            else:
                saved = get_visible(db.session(), current_user, d.id, lock=True)
                domain.update_demarche(db.session(), current_user, saved, values, as_of=utcnow())
            if step.key == "methods":
                planning.plan(
                    db.session(),
                    current_user,
                    saved,
                    request.form.getlist("planned"),
                    as_of=utcnow(),
                )
            if going_on:  # and what the domain finds missing once the values are read
                _require(step, saisine_missing(saved))
            return saved

        errors: dict[str, str] = {}

        def refused(exc: DomainError) -> None:
            for name, message in getattr(exc, "errors", {}).items():
                errors[name] = _field_error(name, message)
            for message in exc.messages:
                if message not in getattr(exc, "errors", {}).values():
                    flash(tr(message), "error")

        done = perform(save, refused=refused)
        if not done:
            if d is not None:
                key, d = d.id, db.session.get(Demarche, d.id)
                if d is None or d.stage not in WRITING:  # submitted meanwhile
                    return self._to_sheet(key)
            order = {name: n for n, name in enumerate(step.fields)}
            ordered = dict(sorted(errors.items(), key=lambda e: order.get(e[0], len(order))))
            page = self._render_step(d, step, typed=request.form, errors=ordered)
            return make_response(page, done.error.status if done.error else 422)
        saved = done.value
        assert saved is not None
        if going_on and step.key != "review":
            following = STEPS[STEP_KEYS.index(step.key) + 1]
            return redirect(self.get_url(".step", demarche_id=saved.id, key=following.key))
        flash(
            gettext(
                "Draft saved. Come back to it whenever you like: it waits in your home page's "
                "list and among the démarches."
            ),
            "success",
        )
        return redirect(self.get_url(".step", demarche_id=saved.id, key=step.key))

    @expose("/<int:demarche_id>/submit/", methods=("POST",))
    def submit(self, demarche_id: int):
        d = self._writable(demarche_id)
        if d is None:
            return self._to_sheet(demarche_id)
        comment, key = request.form.get("comment", ""), d.id
        done = perform(
            lambda: transition(
                db.session(),
                key,
                Stage.SUBMITTED,
                actor=current_user,
                as_of=utcnow(),
                comment=comment,
                source="backoffice",
                expected_from=request.form.get("from") or None,
            )
        )
        if not done:
            d = db.session.get(Demarche, d.id)
            if d is None or d.stage not in WRITING:
                return self._to_sheet(demarche_id)
            status = done.error.status if done.error else 409
            return make_response(self._render_review(d, comment=comment), status)
        return redirect(self.get_url(".sent", demarche_id=d.id))

    @expose("/<int:demarche_id>/sent/")
    def sent(self, demarche_id: int):
        """What happens next, once submitted."""
        try:
            d = get_visible(db.session(), current_user, demarche_id)
        except NotFound:
            abort(404)
        if d.stage != Stage.SUBMITTED:
            return redirect(self.get_url("demarche.details_view", id=d.id))
        rule = charter.rule_for(d, "review_saisine")
        delay = amount(rule.duration, rule.unit) if rule is not None and rule.duration else None
        return self.render(
            "admin/saisine/sent.html",
            d=d,
            delay=delay,
            nudge=training.submission_nudge(db.session(), current_user, d, as_of=utcnow()),
            guide_href=guide_href(),
        )

    # -- pages -------------------------------------------------------------------------

    def _common(self, d: Demarche | None, step: Step) -> dict[str, Any]:
        return {
            "d": d,
            "step": step,
            "steps": STEPS,
            "number": STEP_KEYS.index(step.key) + 1,
            "returned": returned_reason(d),
            "required": SAISINE_REQUIRED_FIELDS,
        }

    def _render_step(
        self,
        d: Demarche | None,
        step: Step,
        *,
        typed: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
    ) -> str:
        editable = self._editable(d)
        values = {**form_values(d), **(typed or {})}
        officials = [(u.email, u.display_name) for u in domain.elected_officials(db.session())]
        chosen = values.get("elected_official")
        if chosen and chosen not in {email for email, _ in officials}:
            officials.append((chosen, chosen))  # kept, so that saving does not drop it
        departments = db.session.scalars(select(Department.name).order_by(Department.name))
        return self.render(
            "admin/saisine/step.html",
            **self._common(d, step),
            fields=[n for n in step.fields if n in editable],
            department=d.department if d is not None else current_user.department,
            values=values,
            errors=errors or {},
            labels=LABELS,
            hints=HINTS,
            levels=[(lv.value, PARTICIPATION_LABELS[lv], LEVEL_HINTS[lv]) for lv in LEVEL_HINTS],
            territories=territories(),
            officials=officials,
            departments=list(departments),
            **self._methods(d, step, typed),
        )

    def _methods(
        self, d: Demarche | None, step: Step, typed: Mapping[str, str] | None
    ) -> dict[str, Any]:
        """Step 4: the toolbox's suggestions and the methods ticked (as typed, else planned)."""
        if step.key != "methods" or d is None:
            return {}
        if typed is not None and hasattr(typed, "getlist"):
            chosen = set(typed.getlist("planned"))
        else:
            chosen = {m.slug for m in planning.planned(db.session(), d)}
        return {
            **methods_choice(d, chosen),
            "step3_url": self.get_url(".step", demarche_id=d.id, key="participation"),
        }

    def _render_review(self, d: Demarche, comment: str = "") -> str:
        option = next(
            (
                o
                for o in move_options(db.session(), d, current_user, utcnow())
                if o.move.target == Stage.SUBMITTED
            ),
            None,
        )
        missing = saisine_missing(d)
        return self.render(
            "admin/saisine/review.html",
            **self._common(d, STEPS[-1]),
            values=form_values(d),
            labels=LABELS,
            levels=PARTICIPATION_LABELS,
            missing=[(name, msg, _STEP_OF.get(name, "project")) for name, msg in missing.items()],
            other_unmet=[m for m in (option.unmet if option else []) if m not in missing.values()],
            may_submit=option is not None and option.possible,
            comment=comment,
            planned=planning.planned(db.session(), d),
        )


def _require(step: Step, missing: Collection[str], errors: Mapping[str, Msg] | None = None) -> None:
    """Refuse « Continue » while a field of ``step`` that submitting needs is missing (and
    say what else is wrong with the values, ``errors``)."""
    blocking = {
        n: SAISINE_REQUIRED_FIELDS[n]
        for n in step.fields
        if n in missing and n in SAISINE_REQUIRED_FIELDS
    }
    if blocking or errors:
        raise InvalidFields({**blocking, **(errors or {})})


def _dry_run(step: Step, values: Mapping[str, str]) -> None:
    """The step's values as the domain's parsers read them, without writing: every missing
    or wrong field at once."""
    errors: dict[str, Msg] = {}
    blank = set()
    for name, raw in values.items():
        try:
            value = domain.FIELDS[name].parse(db.session(), raw)
        except domain.Invalid as exc:
            errors[name] = exc.message
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            blank.add(name)
    _require(step, blank, errors)


def _field_error(name: str, message: Msg) -> str:
    """A field's error, saying how to fix it when it is one that submitting needs."""
    if SAISINE_REQUIRED_FIELDS.get(name) == message:
        return gettext("%(missing)s: fill it in to submit the saisine.", missing=tr(message))
    return tr(message)
