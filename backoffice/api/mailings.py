"""``/api/v1/mailings``: the mission writes a mailing, sends or schedules it, cancels it, and
follows its counts while the workers send it."""

from __future__ import annotations

from sqlalchemy import select

from workflows import mailings as domain
from workflows.clock import utcnow
from workflows.errors import NotFound, PermissionDenied
from workflows.i18n import N_
from workflows.models import Mailing, MailingKind

from ..extensions import db
from ..i18n import tr
from ..outgoing.mailer import budget, composer, links
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import (
    DraftPreviewIn,
    DraftPreviewOut,
    MailingIn,
    MailingList,
    MailingOut,
    MailingPatch,
    MailingQuery,
    PlaceholderList,
    PlaceholderQuery,
    PreviewOut,
    PreviewQuery,
    SendIn,
)

blp = api_blueprint(
    "api_mailings",
    "/api/v1/mailings",
    "Mailings (mission only): write, send or schedule, cancel, follow",
)


@blp.before_request
def mission_only() -> None:
    if not api_user().is_mission:
        raise PermissionDenied(N_("mailings are the mission's"))


def _out(mailing: Mailing) -> Mailing:
    mailing.counts = domain.counts(db.session(), mailing.id)  # type: ignore[attr-defined]
    mailing.skipped_reasons = domain.skip_reasons(db.session(), mailing.id)  # type: ignore[attr-defined]
    return mailing


@blp.route("")
@blp.arguments(MailingQuery, location="query")
@blp.response(200, MailingList)
@blp.errors(403)
def list_mailings(args):
    """Mailings, newest first (of one démarche, in one status)."""
    query = select(Mailing).order_by(Mailing.id.desc()).limit(500)
    if "demarche_id" in args:
        query = query.where(Mailing.demarche_id == args["demarche_id"])
    if "status" in args:
        query = query.where(Mailing.status == args["status"])
    rows = [_out(m) for m in db.session.scalars(query)]
    return {"items": rows, "total": len(rows)}


@blp.route("", methods=["POST"])
@blp.arguments(MailingIn)
@blp.response(201, MailingOut)
@blp.errors(400, 403)
def create_mailing(fields):
    """A draft mailing: kind, démarche, audience, subject and body (templates)."""
    mailing = domain.create_mailing(
        db.session(), api_user(), fields, as_of=utcnow(), budget=budget()
    )
    db.session.commit()
    return _out(mailing)


@blp.route("/placeholders")
@blp.arguments(PlaceholderQuery, location="query")
@blp.response(200, PlaceholderList)
@blp.errors(403)
def placeholders(args):
    """What a subject or a text may name between square brackets — each recipient reads
    their own words instead —, for a kind of mailing (to one event's registrants or not)."""
    kind = MailingKind(args["kind"]) if "kind" in args else None
    found = domain.available(kind, with_event=args.get("with_event", False))
    items = [
        {"key": p.key, "token": p.token, "help": tr(p.help), "block": p.block, "needs": p.needs}
        for p in found
    ]
    return {"items": items, "total": len(items)}


@blp.route("/preview", methods=["POST"])
@blp.arguments(DraftPreviewIn)
@blp.response(200, DraftPreviewOut)
@blp.errors(400, 403)
def preview_draft(fields):
    """A mailing being written — the fields of ``POST /api/v1/mailings``, not saved — as one
    recipient of its audience will read it (``address``, else the first); rendered as the
    sending renders it, and refused (422) as saving would refuse it."""
    address = fields.pop("address", None)
    shown = domain.preview(
        db.session(),
        api_user(),
        fields,
        links=links(),
        address=address,
        label=tr,
        budget=budget(),
    )
    return {
        "recipient": shown.recipient,
        "subject": shown.subject,
        "text": shown.text,
        "choices": shown.choices,
        "placeholders": [p.key for p in shown.placeholders],
        "near_misses": [list(pair) for pair in shown.near_misses],
    }


def _get(mailing_id: int) -> Mailing:
    return domain.get_mailing(db.session(), mailing_id)


@blp.route("/<int:mailing_id>")
@blp.response(200, MailingOut)
@blp.errors(403, 404)
def get_mailing(mailing_id):
    """A mailing with its status and live counts (to send, sent, refused, failed, skipped,
    uncertain) and why those skipped were."""
    return _out(_get(mailing_id))


@blp.route("/<int:mailing_id>", methods=["PATCH"])
@blp.arguments(MailingPatch, required=False)
@blp.response(200, MailingOut)
@blp.errors(400, 403, 404, 409)
def update_mailing(fields, mailing_id):
    """Change a draft."""
    mailing = _get(mailing_id)
    current = {
        "kind": mailing.kind.value,
        "demarche_id": mailing.demarche_id,
        "audience": mailing.audience.value,
        "subject": mailing.subject,
        "body": mailing.body,
        "event_id": mailing.event_id,
    }
    domain.update_mailing(
        db.session(), api_user(), mailing, {**current, **fields}, as_of=utcnow(), budget=budget()
    )
    db.session.commit()
    return _out(mailing)


@blp.route("/<int:mailing_id>/preview")
@blp.arguments(PreviewQuery, location="query")
@blp.response(200, PreviewOut)
@blp.errors(403, 404)
def preview(args, mailing_id):
    """The message as one recipient will read it (default: the first recipient)."""
    mailing = _get(mailing_id)
    recipient = domain.sample_recipient(db.session(), mailing, args.get("address"))
    if recipient is None and args.get("address"):
        raise NotFound(N_("this address is not among the mailing's recipients"))
    render = composer(db.session(), mailing)
    letter = render.for_recipient(recipient) if recipient else render.compose("", "", None)
    return {"address": letter.address, "subject": letter.subject, "text": letter.text}


@blp.route("/<int:mailing_id>/send", methods=["POST"])
@blp.arguments(SendIn(partial=True), required=False)
@blp.response(202, MailingOut)
@blp.errors(400, 403, 404, 409)
def send_mailing(fields, mailing_id):
    """Send now, or at ``scheduled_at``: the workers write one delivery per address and
    send them; follow with GET."""
    mailing = _get(mailing_id)
    domain.schedule(
        db.session(), api_user(), mailing, at=fields.get("scheduled_at"), as_of=utcnow()
    )
    db.session.commit()
    return _out(mailing)


@blp.route("/<int:mailing_id>/cancel", methods=["POST"])
@blp.response(200, MailingOut)
@blp.errors(403, 404, 409)
def cancel_mailing(mailing_id):
    """Stop what has not gone yet (what was sent stays recorded)."""
    mailing = _get(mailing_id)
    domain.cancel(db.session(), api_user(), mailing, as_of=utcnow())
    db.session.commit()
    return _out(mailing)
