"""``/api/v1/demarches``: the same rules and messages as the back office, over JSON."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from workflows import charter, training
from workflows import demarches as domain
from workflows.access import get_visible, visible_clause
from workflows.clock import utcnow
from workflows.methods import planning
from workflows.models import Demarche, Department, User
from workflows.territory import canonical_territory
from workflows.transitions import move_options, transition

from ..extensions import db
from ..i18n import tr
from ..outgoing import links
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import (
    DemarcheCreate,
    DemarcheDetail,
    DemarcheList,
    DemarchePatch,
    DemarcheQuery,
    TransitionDone,
    TransitionIn,
)

blp = api_blueprint(
    "api_demarches",
    "/api/v1/demarches",
    "Démarches: saisine, sheet and stage transitions",
)


def _detail(d: Demarche) -> Demarche:
    """Attach what DemarcheDetail shows besides the columns: the caller's moves, the
    charter's deadlines."""
    d.moves = [  # type: ignore[attr-defined]
        {
            "to": option.move.target.value,
            "possible": option.possible,
            "comment_required": option.move.needs_comment or option.comment_required,
            "unmet": [tr(m) for m in option.unmet],
        }
        for option in move_options(db.session(), d, api_user(), utcnow())
    ]
    d.deadlines = charter.deadlines_of(db.session(), d)  # type: ignore[attr-defined]
    d.planned_methods = planning.planned(db.session(), d)  # type: ignore[attr-defined]
    d.used_methods = planning.used(db.session(), d)  # type: ignore[attr-defined]
    return d


@blp.route("")
@blp.arguments(DemarcheQuery, location="query")
@blp.response(200, DemarcheList)
@blp.errors()
def list_demarches(args):
    """The démarches the caller may see (all for the mission), newest change first."""
    query = select(Demarche).where(visible_clause(api_user()))
    if "stage" in args:
        query = query.where(Demarche.stage == args["stage"])
    if "territory" in args:
        query = query.where(Demarche.territory == canonical_territory(args["territory"]))
    if "department" in args:
        query = query.join(Department, Demarche.department).where(
            Department.name == args["department"]
        )
    if "elected_official" in args:
        query = query.join(User, Demarche.elected_official).where(
            func.lower(User.email) == args["elected_official"].lower()
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page, per_page = args["page"], args["per_page"]
    items = (
        db.session.scalars(
            query.order_by(Demarche.updated_at.desc(), Demarche.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        .unique()
        .all()
    )
    return {"items": items, "total": total, "page": page, "per_page": per_page}


@blp.route("", methods=["POST"])
@blp.arguments(DemarcheCreate)
@blp.response(201, DemarcheDetail)
@blp.errors(400, 403)
def create_demarche(fields):
    """Create a draft (a department agent: for their own department)."""
    d = domain.create_draft(db.session(), api_user(), fields, as_of=utcnow())
    db.session.commit()
    location = url_for("api_demarches.get_demarche", demarche_id=d.id)
    return _detail(d), 201, {"Location": location}


@blp.route("/<int:demarche_id>")
@blp.response(200, DemarcheDetail)
@blp.errors(404)
def get_demarche(demarche_id):
    """One démarche with its history and the moves open to the caller now."""
    return _detail(get_visible(db.session(), api_user(), demarche_id))


@blp.route("/<int:demarche_id>", methods=["PATCH"])
@blp.arguments(DemarchePatch, required=False)
@blp.response(200, DemarcheDetail)
@blp.errors(400, 403, 404, 409)
def patch_demarche(changes, demarche_id):
    """Change fields; 409 when the stage no longer allows a field, 422 for bad values."""
    d = get_visible(db.session(), api_user(), demarche_id, lock=True)
    domain.update_demarche(db.session(), api_user(), d, changes, as_of=utcnow())
    db.session.commit()
    return _detail(d)


@blp.route("/<int:demarche_id>/transitions", methods=["POST"])
@blp.arguments(TransitionIn)
@blp.response(201, TransitionDone)
@blp.errors(400, 403, 404, 409)
def post_transition(body, demarche_id):
    """Move to stage ``to``; 409 lists the unmet conditions, 403 for a role that may not.
    An agent submitting for a department with no trained agent gets a ``nudge``."""
    done = transition(
        db.session(),
        demarche_id,
        body["to"],
        actor=api_user(),
        as_of=utcnow(),
        comment=body["comment"],
        source="api",
    )
    db.session.commit()
    nudge = training.submission_nudge(db.session(), api_user(), done.demarche, as_of=utcnow())
    done.nudge = tr(nudge.text(links.absolute(training.GUIDE_PATH))) if nudge else None
    return done
