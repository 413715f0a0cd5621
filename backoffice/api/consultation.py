"""``/api/v1/demarches/{id}/items`` and ``…/contributions``: the same rules and messages as
the pages. A citizen's token contributes as that citizen (online); a mission token records
on behalf of another channel (a paper form, a workshop) with the author's address, so that
the author gets the feedback."""

from __future__ import annotations

from flask import Response
from sqlalchemy import func, select

from workflows import contributions as domain
from workflows import decisions, exports
from workflows.access import get_readable, get_visible, parse_id, sees_personal_data
from workflows.clock import utcnow
from workflows.errors import NotFound, PermissionDenied
from workflows.i18n import N_
from workflows.items import add_item
from workflows.models import Channel, Contribution, Item
from workflows.participants import participant_for_email, participant_for_user
from workflows.roles import RoleName

from ..extensions import db
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import (
    ContributionIn,
    ContributionList,
    ContributionOut,
    ContributionQuery,
    DecisionIn,
    DecisionOut,
    ItemIn,
    ItemList,
    ItemOut,
)

blp = api_blueprint(
    "api_consultation",
    "/api/v1/demarches",
    "Items put to consultation, and contributions",
)


@blp.route("/<int:demarche_id>/items")
@blp.response(200, ItemList)
@blp.errors(404)
def list_items(demarche_id):
    """The items of a démarche, in their order."""
    d = get_readable(db.session(), api_user(), demarche_id)
    return {"items": d.items, "total": len(d.items)}


@blp.route("/<int:demarche_id>/items", methods=["POST"])
@blp.arguments(ItemIn)
@blp.response(201, ItemOut)
@blp.errors(400, 403, 404, 409)
def create_item(fields, demarche_id):
    """Add an item (the mission, or the démarche's department, until the consultation closes)."""
    d = get_visible(db.session(), api_user(), demarche_id, lock=True)
    item = add_item(
        db.session(),
        api_user(),
        d,
        title=fields["title"],
        text=fields.get("text", ""),
        position=fields.get("position"),
        as_of=utcnow(),
    )
    db.session.commit()
    return item


def _is_staff(user) -> bool:
    return user.is_mission or user.has_any_role(RoleName.DEPARTMENT, RoleName.ELECTED)


@blp.route("/<int:demarche_id>/contributions")
@blp.arguments(ContributionQuery, location="query")
@blp.response(200, ContributionList)
@blp.alt_response(
    200,
    schema={"type": "string"},
    content_type="text/csv",
    description="format=csv: the export (UTF-8 with BOM, `;`)",
    success=True,
)
@blp.errors(403, 404)
def list_contributions(args, demarche_id):
    """Contributions, oldest first, paginated; ``format=csv`` gives the export (CSV)."""
    user = api_user()
    d = get_readable(db.session(), user, demarche_id)
    staff = _is_staff(user)
    if args.get("format") == "csv":
        if not staff:
            raise PermissionDenied(N_("the export is for the back office"))
        content, mimetype, filename = exports.export(
            db.session(),
            d,
            fmt="csv",
            personal=args.get("personal", False),
            actor=user,
            as_of=utcnow(),
        )
        return Response(
            content,
            content_type=mimetype,  # it names its charset already
            headers={"Content-Disposition": f"attachment; filename={filename}"},
        )
    query = select(Contribution).where(Contribution.demarche_id == d.id)
    if not staff:
        query = query.where(Contribution.status.in_(domain.PUBLICLY_SHOWN))
    for name in ("item_id", "kind", "status", "channel"):
        if name in args:
            query = query.where(getattr(Contribution, name) == args[name])
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page, per_page = args["page"], args["per_page"]
    rows = db.session.scalars(
        query.order_by(Contribution.contributed_at, Contribution.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    for row in rows:
        row.show_email = sees_personal_data(user)
        row.staff_view = staff
    return {"items": rows, "total": total, "page": page, "per_page": per_page}


@blp.route("/<int:demarche_id>/contributions", methods=["POST"])
@blp.arguments(ContributionIn)
@blp.response(201, ContributionOut)
@blp.errors(400, 403, 404, 409)
def create_contribution(fields, demarche_id):
    """A citizen contributes online; the mission records another channel's contribution."""
    user = api_user()
    now = utcnow()
    citizen = user.has_any_role(RoleName.CITIZEN) and not _is_staff(user)
    d = (
        get_readable(db.session(), user, demarche_id)
        if citizen
        else get_visible(db.session(), user, demarche_id)
    )
    channel = fields.get("channel") or (Channel.ONLINE if citizen else Channel.MAIL)
    if citizen:
        if channel != Channel.ONLINE:
            raise PermissionDenied(N_("a citizen contributes online"))
        author = participant_for_user(db.session(), user, as_of=now)
    elif fields.get("author_email"):
        author = participant_for_email(
            db.session(), fields["author_email"], name=fields.get("author_name"), as_of=now
        )
    else:
        author = None
    contribution = domain.contribute(
        db.session(),
        d,
        item_id=fields["item_id"],
        body=fields["body"],
        kind=fields.get("kind", "comment"),
        channel=channel,
        author=author,
        actor=user,
        as_of=now,
        parent_id=fields.get("parent_id"),
        commune=fields.get("commune"),
        title=fields.get("title"),
    )
    db.session.commit()
    contribution.show_email = sees_personal_data(user)
    contribution.staff_view = not citizen
    return contribution


def _item(d, item_id: int) -> Item:
    item = db.session.get(Item, item_id) if parse_id(item_id) else None
    if item is None or item.demarche_id != d.id:
        raise NotFound(N_("no item %(id)s in this démarche", id=item_id))
    return item


@blp.route("/<int:demarche_id>/items/<int:item_id>/decision")
@blp.response(200, DecisionOut)
@blp.errors(404)
def get_decision(demarche_id, item_id):
    """What the department decided about an item (404 while it has not decided)."""
    d = get_readable(db.session(), api_user(), demarche_id)
    item = _item(d, item_id)
    if item.decision is None:
        raise NotFound(N_("no decision on this item yet"))
    return item.decision


@blp.route("/<int:demarche_id>/items/<int:item_id>/decision", methods=["PUT"])
@blp.arguments(DecisionIn)
@blp.response(200, DecisionOut)
@blp.errors(400, 403, 404, 409)
def put_decision(fields, demarche_id, item_id):
    """The department's decision on an item (``retained``, ``partly_retained``,
    ``not_retained``, ``under_study``) and its justification, at the synthesis stage."""
    d = get_visible(db.session(), api_user(), demarche_id, lock=True)
    decision = decisions.decide(
        db.session(),
        api_user(),
        _item(d, item_id),
        outcome=fields["outcome"],
        justification=fields["justification"],
        as_of=utcnow(),
    )
    db.session.commit()
    return decision
