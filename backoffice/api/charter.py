"""``/api/v1/deadlines`` and ``/api/v1/questions/{id}/answer``: the charter's clocks, which the
mission follows and waives, and the answers the departments give to citizens' questions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from workflows import charter, questions
from workflows.access import can_see, visible_clause
from workflows.charter import paris_midnight
from workflows.clock import utcnow
from workflows.errors import NotFound, PermissionDenied
from workflows.i18n import N_
from workflows.models import Deadline, DeadlineStatus, Demarche

from ..extensions import db
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import AnswerIn, DeadlineList, DeadlineOut, DeadlineQuery, QuestionOut, WaiveIn

blp = api_blueprint(
    "api_charter",
    "/api/v1",
    "The charter's deadlines (mission) and the answers to citizens' questions",
)


def _deadline(deadline_id: int) -> Deadline:
    """A deadline of a démarche the caller may see; any other is "not found", naming only
    the id the caller sent (never the other démarche)."""
    deadline = charter.get_deadline(db.session(), deadline_id)
    if not can_see(api_user(), deadline.demarche):
        raise NotFound(N_("no deadline %(id)s", id=deadline_id))
    return deadline


@blp.route("/deadlines")
@blp.arguments(DeadlineQuery, location="query")
@blp.response(200, DeadlineList)
@blp.errors()
def list_deadlines(args):
    """Deadlines, soonest end first: all for the mission, a department's or an official's
    own démarches for them. ``due_before`` is a date (last day on or before it) or a
    date-time (ending at or before it)."""
    query = select(Deadline).join(Demarche, Demarche.id == Deadline.demarche_id)
    query = query.where(visible_clause(api_user()))
    if "status" in args:
        query = query.where(Deadline.status == DeadlineStatus(args["status"]))
    if "demarche_id" in args:
        query = query.where(Deadline.demarche_id == args["demarche_id"])
    if "rule" in args:
        query = query.where(Deadline.rule_code == args["rule"])
    bound = args.get("due_before")
    if isinstance(bound, datetime):
        query = query.where(Deadline.due_at <= bound)
    elif isinstance(bound, date):
        query = query.where(Deadline.due_at <= paris_midnight(bound + timedelta(days=1)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page, per_page = args["page"], args["per_page"]
    items = db.session.scalars(
        query.order_by(Deadline.due_at, Deadline.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return {"items": items, "total": total, "page": page, "per_page": per_page}


@blp.route("/deadlines/<int:deadline_id>")
@blp.response(200, DeadlineOut)
@blp.errors(404)
def get_deadline(deadline_id):
    """One deadline (of a démarche the caller may see)."""
    return _deadline(deadline_id)


@blp.route("/deadlines/<int:deadline_id>/waive", methods=["POST"])
@blp.arguments(WaiveIn)
@blp.response(200, DeadlineOut)
@blp.errors(400, 403, 404, 409)
def waive_deadline(body, deadline_id):
    """The mission lifts a pending or missed deadline; the reason is public on the record."""
    if not api_user().is_mission:
        raise PermissionDenied(N_("only the mission waives a deadline"))
    deadline = _deadline(deadline_id)
    charter.waive(db.session(), api_user(), deadline, reason=body["reason"], as_of=utcnow())
    db.session.commit()
    return deadline


@blp.route("/questions/<int:question_id>/answer", methods=["POST"])
@blp.arguments(AnswerIn)
@blp.response(200, QuestionOut)
@blp.errors(400, 403, 404, 409)
def answer_question(body, question_id):
    """The démarche's department (or the mission) answers a citizen's question: the answer is
    published under it, the asker is emailed, the charter's deadline is met. Posting again
    corrects the answer (no second email)."""
    question = questions.get_question(db.session(), question_id)
    if not can_see(api_user(), question.demarche):
        raise NotFound(N_("no question %(id)s", id=question_id))
    questions.answer(db.session(), api_user(), question, body["answer"], as_of=utcnow())
    db.session.commit()
    question.deadline = charter.deadline_of_question(db.session(), question)
    return question
