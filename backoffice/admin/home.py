"""The back-office home: the démarches the user sees, per stage, and what awaits them."""

from __future__ import annotations

from flask_admin import expose
from flask_security import current_user
from sqlalchemy import func, select

from workflows.access import visible_clause
from workflows.models import Demarche
from workflows.roles import RoleName
from workflows.stages import STAGE_LABELS, Stage

from ..extensions import db
from .base import ProtectedIndexView


def awaiting_stages(user) -> tuple[Stage, ...]:
    """The stages at which a démarche waits for this user's action."""
    if user.is_mission:
        return (Stage.SUBMITTED,)
    if user.has_any_role(RoleName.DEPARTMENT):
        return (Stage.DRAFT, Stage.RETURNED, Stage.SYNTHESIS)
    return ()


class HomeView(ProtectedIndexView):
    @expose("/")
    def index(self):
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
        return self.render(
            "admin/home.html",
            stages=[(stage, label, counts.get(stage, 0)) for stage, label in STAGE_LABELS.items()],
            todo=todo,
        )
