"""The « Évaluation » section of a démarche's sheet: its indicators, the participants'
survey (its results, the paper answers the mission types in, the button that sends it), and
the self-assessment that the department fills and the mission reviews (``workflows.evaluation``,
``workflows.survey``). A refused form comes back inside the sheet, what was typed kept and
each message beside its field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import flash, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_security import current_user

from workflows import evaluation, label, mailings, survey
from workflows.clock import utcnow
from workflows.evaluation.self_assessment import QUESTIONS
from workflows.models import Demarche, SelfAssessmentStatus
from workflows.stages import PUBLIC_STAGES

from ..extensions import db
from .perform import in_the_form, perform
from .sheet import Refusal

SELF_ASSESSMENT_FIELDS = (
    *(q.code for q in QUESTIONS),
    *(f"{q.code}_comment" for q in QUESTIONS),
    "notes",
)
SURVEY_FIELDS = (*(s.code for s in survey.STATEMENTS), "comment", "first_time", "age_band")


def evaluation_context(model: Demarche) -> dict[str, Any]:
    """What the sheet's « Évaluation » section shows: the evaluation once the démarche is
    public (live, or frozen at its closing), the self-assessment and who may do what."""
    if model.stage not in PUBLIC_STAGES:
        return {"evaluation": None}
    session = db.session()
    found = evaluation.self_assessment_of(session, model)
    context = survey_context(model)
    evaluated = evaluation.evaluate(session, model, as_of=utcnow(), survey=context["survey"])
    return {
        **context,
        "evaluation": evaluated,
        "label_proposal": label.proposal_for(session, model, evaluated, as_of=utcnow()),
        "label_award": label.award_of(session, model),
        "may_award_label": label.may_award(current_user, model, evaluated),
        "self_assessment": found,
        "questions": QUESTIONS,
        "may_fill_self_assessment": evaluation.may_fill(current_user, model),
        "may_review_self_assessment": current_user.is_mission
        and found is not None
        and found.status == SelfAssessmentStatus.SUBMITTED,
        "may_type_paper": survey.may_type_paper(current_user, model),
        "may_send_survey": mailings.may_send_survey(session, current_user, model),
    }


def survey_context(model: Demarche) -> dict[str, Any]:
    """The survey's results as staff read them (hidden below the minimum for the public, shown
    here, marked unpublished), and its free texts for the mission only."""
    session = db.session()
    return {
        "survey": survey.results(session, model, reveal=True),
        "survey_texts": survey.free_texts(session, model) if current_user.is_mission else [],
        "statements": survey.STATEMENTS,
        "scale": survey.SCALE,
        "first_time_choices": survey.FIRST_TIME,
        "age_bands": survey.AGE_BANDS,
    }


class EvaluationViews:
    """The self-assessment's two forms, on the démarche view (``DemarcheView``)."""

    if TYPE_CHECKING:  # what the démarche view brings

        def get_one(self, id: Any) -> Demarche | None: ...
        def get_url(self, endpoint: str, **kwargs: Any) -> str: ...
        def _render_sheet(self, model: Demarche, refusal: Refusal | None = None): ...

    @expose("/self-assessment/", methods=("POST",))
    def self_assessment_view(self):
        model = self.get_one(request.form.get("id"))
        if model is None:
            return self._not_found()
        values = {name: request.form.get(name, "") for name in SELF_ASSESSMENT_FIELDS}
        done = perform(
            lambda: evaluation.submit(
                db.session(),
                current_user,
                self.get_one(model.id),
                answers={q.code: values[q.code] for q in QUESTIONS},
                comments={q.code: values[f"{q.code}_comment"] for q in QUESTIONS},
                notes=values["notes"],
                as_of=utcnow(),
            ),
            gettext("The self-assessment is saved: the mission will review it."),
            refused=in_the_form,
        )
        if not done:
            refusal = Refusal.of("self-assessment", done.error, values, set(SELF_ASSESSMENT_FIELDS))
            return self._sheet_again(model.id, refusal), done.error.status
        return redirect(self._sheet_url(model.id))

    @expose("/self-assessment/review/", methods=("POST",))
    def self_assessment_review_view(self):
        model = self.get_one(request.form.get("id"))
        if model is None:
            return self._not_found()
        values = {
            "decision": request.form.get("decision", ""),
            "comment": request.form.get("comment", ""),
        }
        done = perform(
            lambda: evaluation.review(
                db.session(),
                current_user,
                self.get_one(model.id),
                **values,
                as_of=utcnow(),
            ),
            gettext("The review of the self-assessment is saved."),
            refused=in_the_form,
        )
        if not done:
            refusal = Refusal.of("self-assessment-review", done.error, values, set(values))
            return self._sheet_again(model.id, refusal), done.error.status
        return redirect(self._sheet_url(model.id))

    @expose("/label/", methods=("POST",))
    def label_view(self):
        model = self.get_one(request.form.get("id"))
        if model is None:
            return self._not_found()
        values = {
            "level": request.form.get("level", ""),
            "reason": request.form.get("reason", ""),
        }
        done = perform(
            lambda: label.award(
                db.session(),
                self.get_one(model.id),
                values["level"],
                values["reason"],
                current_user,
                utcnow(),
            ),
            lambda found: (
                gettext("The label is awarded; it shows on the démarche's public page.")
                if found.level
                else gettext("The label is withdrawn.")
            ),
            refused=in_the_form,
        )
        if not done:
            refusal = Refusal.of("label", done.error, values, set(values))
            return self._sheet_again(model.id, refusal), done.error.status
        return redirect(self._sheet_url(model.id, "label"))

    @expose("/survey/paper/", methods=("POST",))
    def survey_paper_view(self):
        model = self.get_one(request.form.get("id"))
        if model is None:
            return self._not_found()
        values = {name: request.form.get(name, "") for name in SURVEY_FIELDS}
        done = perform(
            lambda: survey.add_paper_answer(
                db.session(), current_user, self.get_one(model.id), values, as_of=utcnow()
            ),
            gettext("The paper answer is recorded."),
            refused=in_the_form,
        )
        if not done:
            refusal = Refusal.of("survey-paper", done.error, values, set(SURVEY_FIELDS))
            return self._sheet_again(model.id, refusal), done.error.status
        return redirect(self._sheet_url(model.id, "survey"))

    @expose("/survey/send/", methods=("POST",))
    def survey_send_view(self):
        model = self.get_one(request.form.get("id"))
        if model is None:
            return self._not_found()
        perform(
            lambda: mailings.send_survey(
                db.session(), self.get_one(model.id), as_of=utcnow(), actor=current_user
            ),
            gettext("The participants' survey is on its way: see it in the mailings."),
        )
        return redirect(self._sheet_url(model.id, "survey"))

    def _sheet_url(self, demarche_id: int, anchor: str = "evaluation") -> str:
        return self.get_url(".details_view", id=demarche_id) + "#" + anchor

    def _sheet_again(self, demarche_id: int, refusal: Refusal):
        found = self.get_one(demarche_id)  # read again: the refusal rolled back
        return self._render_sheet(found, refusal) if found is not None else self._not_found()

    def _not_found(self):
        flash(gettext("This démarche does not exist or is not yours to see."), "error")
        return redirect(self.get_url(".index_view"))
