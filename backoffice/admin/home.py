"""The back-office home: the démarches the user sees, per stage, and what awaits them."""

from __future__ import annotations

from flask_admin import expose
from flask_security import current_user
from sqlalchemy import func, select

from workflows.access import awaiting_stages, visible_clause
from workflows.models import Demarche
from workflows.stages import STAGE_LABELS

from ..extensions import db
from .base import ProtectedIndexView


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
