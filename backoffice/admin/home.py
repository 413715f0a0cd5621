"""The back-office home, a dashboard: the démarches the user sees per stage, what awaits
them, the charter's deadlines due within 7 days and those missed, the questions waiting for
an answer (oldest first), the mailings being sent; for the mission, which departments have
trained agents and which have none (``workflows.training``).

An elected official (who is neither of the mission nor of a department) reads instead the
démarches they sponsor, as ``workflows.overview`` tells them."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_admin import expose
from flask_security import current_user
from sqlalchemy import func, select

from workflows import charter, mailings, overview, training
from workflows.access import awaiting_stages, visible_clause
from workflows.clock import local_date, utcnow
from workflows.models import Demarche, Mailing, MailingStatus, User
from workflows.roles import RoleName
from workflows.stages import STAGE_LABELS

from ..extensions import db
from .base import ProtectedIndexView
from .charter import reads_contributions


class HomeView(ProtectedIndexView):
    @expose("/")
    def index(self):
        if official_only(current_user):
            return self.render(
                "admin/official_home.html",
                home=overview.official_home(db.session(), current_user, utcnow()),
            )
        now = utcnow()
        visible = visible_clause(current_user)
        counts = dict(
            db.session.execute(
                select(Demarche.stage, func.count()).where(visible).group_by(Demarche.stage)
            ).all()
        )
        waiting = awaiting_stages(current_user)
        todo = (
            db.session.scalars(
                select(Demarche)
                .where(visible, Demarche.stage.in_(waiting))
                .order_by(Demarche.updated_at)
                .limit(20)
            )
            .unique()
            .all()
            if waiting
            else []
        )
        deadlines = charter.overdue_or_due(
            db.session(), as_of=utcnow(), within=timedelta(days=7), visible=visible
        )
        sending = db.session.scalars(
            select(Mailing)
            .join(Demarche, Demarche.id == Mailing.demarche_id)
            .where(visible, Mailing.status.in_((MailingStatus.SCHEDULED, MailingStatus.SENDING)))
            .order_by(Mailing.id)
            .limit(20)
        ).all()
        return self.render(
            "admin/home.html",
            stages=[(stage, label, counts.get(stage, 0)) for stage, label in STAGE_LABELS.items()],
            todo=todo,
            soon=deadlines["soon"],
            missed=deadlines["missed"],
            questions=charter.unanswered_questions(db.session(), visible=visible, limit=20),
            sending=[(m, mailings.counts(db.session(), m.id)) for m in sending],
            now=now,
            reads_contributions=reads_contributions(),
            **(training_board(now) if current_user.is_mission else {"training": None}),
        )


def training_board(now: datetime) -> dict:
    """The mission's view of the training: departments with and without trained agents, the
    next sessions."""
    upcoming = training.all_sessions(db.session(), upcoming_on=local_date(now))
    return {
        "training": training.departments_status(db.session(), as_of=now),
        "next_trainings": upcoming[: training.NEXT_SESSIONS],
        "valid_years": training.VALID_YEARS,
    }


def official_only(user: User) -> bool:
    """An elected official and nothing else of the staff: their home is their démarches."""
    return (
        user.has_any_role(RoleName.ELECTED)
        and not user.is_mission
        and not user.has_any_role(RoleName.DEPARTMENT)
    )
