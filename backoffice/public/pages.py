"""The démarches as the public sees them, and contributing to them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_security import current_user
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from workflows import charter, evaluation, survey
from workflows import contributions as domain
from workflows import events as event_domain
from workflows.access import parse_id
from workflows.clock import local_date, utcnow
from workflows.errors import DomainError
from workflows.items import item_counts
from workflows.methods import planning
from workflows.models import (
    Contribution,
    ContributionStatus,
    Demarche,
    Event,
    Item,
    Participant,
    Registration,
    RegistrationStatus,
)
from workflows.participants import participant_for_user
from workflows.roles import RoleName
from workflows.stages import LIFE, PUBLIC_STAGES, Stage

from ..extensions import db, limiter
from ..i18n import tr
from . import bp
from .cache import cached, demarche_scopes, uncacheable
from .forms import ContributionForm, EventRegistrationForm, ReportForm
from .label import label_of
from .notices import notify

log = logging.getLogger(__name__)
PAGE_SIZE = 20
VISIBLE = domain.PUBLICLY_SHOWN


def public_demarche(slug: str) -> Demarche:
    d = db.session.scalar(select(Demarche).where(Demarche.slug == slug))
    if d is None or d.stage not in PUBLIC_STAGES:
        abort(404)
    return d


def is_citizen() -> bool:
    return current_user.is_authenticated and current_user.has_any_role(RoleName.CITIZEN)


@bp.route("/")
@cached(lambda: ("any",))
def home():
    demarches = (
        db.session.scalars(
            select(Demarche)
            .where(Demarche.stage.in_(PUBLIC_STAGES))
            .order_by(
                Demarche.stage != Stage.CONSULTATION,
                Demarche.consultation_closes.desc(),
                Demarche.id.desc(),
            )
        )
        .unique()
        .all()
    )
    return render_template("public/home.html", demarches=demarches)


@bp.route("/apres-connexion")
def after_login():
    """Flask-Security's post-login view: staff to the back office, citizens to their space."""
    if current_user.is_authenticated and not current_user.has_any_role(RoleName.CITIZEN):
        return redirect(url_for("admin.index"))
    return redirect(url_for("public.espace"))


def calendar(d: Demarche) -> list[dict]:
    """The stages of the démarche's life: done (with their day) or planned."""
    entered = {t.to_stage: t.at for t in d.transitions}
    steps = []
    for stage in LIFE:
        step: dict[str, Any] = {"stage": stage, "at": entered.get(stage), "planned": None}
        if stage == Stage.CONSULTATION and step["at"] is None:
            step["planned"] = d.consultation_opens
        if stage == Stage.SYNTHESIS and step["at"] is None:
            step["planned"] = d.consultation_closes
        steps.append(step)
    return steps


@bp.route("/demarches/<slug>")
@cached(demarche_scopes)
def demarche(slug: str):
    d = public_demarche(slug)
    counts = item_counts(db.session(), d)
    latest = domain.newest_threads(db.session(), d, 3)
    events = db.session.scalars(
        select(Event).where(Event.demarche_id == d.id).order_by(Event.starts_at)
    ).all()
    results = survey.results(db.session(), d) if d.stage == Stage.CLOSED else None
    return render_template(
        "public/demarche.html",
        d=d,
        counts=counts,
        latest=latest,
        events=events,
        calendar=calendar(d),
        record=charter.record_of(db.session(), d),
        s=_published_synthesis(d),
        answers=charter.questions_record(db.session(), d),
        now=utcnow(),
        registration_form=EventRegistrationForm(),
        seats=event_domain.seats(db.session(), events),
        mine=_my_registrations(events),
        programme=planning.planned(db.session(), d),
        evaluation=_frozen_evaluation(d, results),
        label=label_of(d),
        survey=results,
        scale=survey.SCALE,
    )


def _frozen_evaluation(d: Demarche, results: survey.SurveyResults | None):
    """A closed démarche's evaluation, as frozen at its closing (values and scores; the
    self-assessment's free texts are never public), from its survey's ``results``."""
    if d.stage != Stage.CLOSED:
        return None
    found = evaluation.evaluate(db.session(), d, as_of=utcnow(), survey=results)
    return found if found.frozen_at is not None else None


def _my_registrations(events: Sequence[Event]) -> dict[int, Registration]:
    """A signed-in citizen's live registrations to these events, by event (their page is
    never kept in the cache)."""
    if not events or not is_citizen():
        return {}
    participant = db.session.scalar(
        select(Participant).where(Participant.user_id == current_user.id)
    )
    if participant is None:
        return {}
    return {
        r.event_id: r
        for r in db.session.scalars(
            select(Registration).where(
                Registration.participant_id == participant.id,
                Registration.event_id.in_([e.id for e in events]),
                Registration.status != RegistrationStatus.CANCELLED,
            )
        )
    }


def _published_synthesis(d: Demarche):
    from workflows.syntheses import versions

    from ..outgoing.syntheses import context

    published = versions.latest(db.session(), d, published=True)
    return context(published) if published else None


@bp.route("/demarches/<slug>/synthese.<any(pdf, xlsx):extension>")
def synthesis_document(slug: str, extension: str):
    """The published synthesis as a PDF or a spreadsheet."""
    from workflows.syntheses import versions

    from ..outgoing.syntheses import stored_document

    published = versions.latest(db.session(), public_demarche(slug), published=True)
    if published is None:
        abort(404)
    return stored_document(db.session(), published, extension)


@bp.route("/charte")
@cached(lambda: None if request.args else ("any",))
def charter_kept():
    """« La charte, tenue ? »: per rule and department, the share of the deadlines ending in
    the period (``du``, ``au``: ISO dates; default the last twelve months) met on time."""
    today = local_date(utcnow())
    since, until = today - timedelta(days=365), today
    errors = []
    for name, label in (("du", gettext("from")), ("au", gettext("to"))):
        raw = request.args.get(name, "").strip()
        if not raw:
            continue
        try:
            day = date.fromisoformat(raw[:10]) if len(raw) <= 10 else None
        except ValueError:
            day = None
        if day is None:
            errors.append(gettext("“%(field)s” is not a date (YYYY-MM-DD).", field=label))
        elif name == "du":
            since = day
        else:
            until = day
    if since > until:
        errors.append(gettext("The period ends before it begins."))
        since, until = until, since
    return render_template(
        "public/charter.html",
        lines=charter.kept(db.session(), since=since, until=until),
        since=since,
        until=until,
        errors=errors,
        rules=charter.current_version(db.session()),
    )


def _thread(roots: Sequence[Contribution]) -> dict[int | None, list[Contribution]]:
    """The answers under ``roots``, by parent, all levels (one query per level)."""
    children: dict[int | None, list[Contribution]] = {}
    level = [c.id for c in roots]
    while level:
        answers = db.session.scalars(
            select(Contribution)
            .where(Contribution.parent_id.in_(level), Contribution.status.in_(VISIBLE))
            .options(selectinload(Contribution.participant))
            .order_by(Contribution.contributed_at, Contribution.id)
        ).all()
        for answer in answers:
            children.setdefault(answer.parent_id, []).append(answer)
        level = [a.id for a in answers]
    return children


def public_item(d: Demarche, item_id: int) -> Item:
    found = db.session.get(Item, item_id) if parse_id(item_id) else None
    if found is None or found.demarche_id != d.id:
        abort(404)
    return found


def item_page(d: Demarche, found: Item, *, page: int, form: ContributionForm | None = None):
    """An item with its contributions, newest threads first, PAGE_SIZE a page."""
    roots_query = select(Contribution).where(
        Contribution.item_id == found.id,
        Contribution.parent_id.is_(None),
        Contribution.status.in_(VISIBLE),
    )
    total = db.session.scalars(select(func.count()).select_from(roots_query.subquery())).one()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if not 1 <= page <= pages:
        uncacheable()  # one page per address: not one per number asked
        page = min(max(page, 1), pages)
    roots = db.session.scalars(
        roots_query.options(selectinload(Contribution.participant))
        .order_by(Contribution.contributed_at.desc(), Contribution.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return render_template(
        "public/item.html",
        d=d,
        item=found,
        roots=roots,
        children=_thread(roots),
        page=page,
        pages=pages,
        total=total,
        form=form or ContributionForm(),
        report_form=ReportForm(),
        can_contribute=d.stage == Stage.CONSULTATION,
        is_citizen=is_citizen(),
    )


@bp.route("/demarches/<slug>/elements/<int:item_id>")
@cached(demarche_scopes, args={"page": "1"})
def item(slug: str, item_id: int):
    d = public_demarche(slug)
    return item_page(d, public_item(d, item_id), page=request.args.get("page", 1, type=int))


def public_post_limit() -> str:
    return current_app.config["PUBLIC_POST_LIMIT"]


def _page_of(contribution: Contribution) -> int:
    """The page of its item where ``contribution``'s thread is (threads newest first)."""
    root = contribution
    while root.parent_id is not None:
        parent = db.session.get(Contribution, root.parent_id)
        if parent is None:
            break
        root = parent
    newer = db.session.scalar(
        select(func.count(Contribution.id)).where(
            Contribution.item_id == root.item_id,
            Contribution.parent_id.is_(None),
            Contribution.status.in_(VISIBLE),
            or_(
                Contribution.contributed_at > root.contributed_at,
                and_(
                    Contribution.contributed_at == root.contributed_at,
                    Contribution.id > root.id,
                ),
            ),
        )
    )
    return (newer or 0) // PAGE_SIZE + 1


def _at(contribution: Contribution) -> str:
    """The address of a contribution on its item's page (the page its thread is on)."""
    page = _page_of(contribution)
    values: dict[str, Any] = {"page": page} if page > 1 else {}
    return url_for(
        "public.item",
        slug=contribution.demarche.slug,
        item_id=contribution.item_id,
        _anchor=f"contribution-{contribution.id}",
        **values,
    )


#: The card of an item's page that holds its form: messages about what was sent go there.
FORM_PLACE = "participer"


@bp.route("/demarches/<slug>/elements/<int:item_id>/contribuer", methods=["POST"])
@limiter.limit(public_post_limit)
def contribute(slug: str, item_id: int):
    d = public_demarche(slug)
    found = public_item(d, item_id)
    back = url_for("public.item", slug=slug, item_id=item_id)
    if not is_citizen():
        flash(gettext("Log in to your espace citoyen to take part."), "error")
        return redirect(url_for("security.login", next=back))
    form = ContributionForm()
    if form.is_bot():
        log.info("honeypot filled on a contribution form; nothing saved")
        notify(gettext("Thank you: your contribution is recorded."), "success", at=FORM_PLACE)
        return redirect(f"{back}#{FORM_PLACE}")
    if not form.validate():
        for errors in form.errors.values():
            for error in errors:
                notify(str(error), "error", at=FORM_PLACE)
        return item_page(d, found, page=1, form=form), 422
    parent = parse_id(form.parent_id.data) if form.parent_id.data else None
    if form.parent_id.data and parent is None:
        abort(400)
    try:
        now = utcnow()
        contribution = domain.contribute(
            db.session(),
            d,
            item_id=found.id,
            body=form.body.data,
            kind="comment" if parent else form.kind.data,
            channel="online",
            author=participant_for_user(db.session(), current_user, as_of=now),
            actor=current_user,
            as_of=now,
            parent_id=parent,
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        for message in exc.messages:
            notify(tr(message), "error", at=FORM_PLACE)
        return item_page(d, found, page=1, form=form), exc.status
    if contribution.status == ContributionStatus.PENDING:
        # Not shown until the moderation has read it: the message goes where it was written,
        # the form (or the contribution it answers).
        thanks = gettext(
            "Thank you: your contribution will be published once the moderation has read it."
        )
        answered = db.session.get(Contribution, parent) if parent else None
        if answered is not None:
            notify(thanks, "success", at=f"contribution-{answered.id}")
            return redirect(_at(answered))
        notify(thanks, "success", at=FORM_PLACE)
        return redirect(f"{back}#{FORM_PLACE}")
    notify(
        gettext("Thank you: your contribution is published."),
        "success",
        at=f"contribution-{contribution.id}",
    )
    return redirect(_at(contribution))


@bp.route("/contributions/<int:contribution_id>/signaler", methods=["POST"])
@limiter.limit(public_post_limit)
def report(contribution_id: int):
    if not current_user.is_authenticated:
        abort(401)
    contribution = (
        db.session.get(Contribution, contribution_id) if parse_id(contribution_id) else None
    )
    if contribution is None or contribution.demarche.stage not in PUBLIC_STAGES:
        abort(404)
    form = ReportForm()
    if not form.validate():
        abort(400)
    place = f"contribution-{contribution.id}"
    try:
        domain.report(
            db.session(),
            contribution,
            reporter=current_user,
            reason=form.reason.data,
            as_of=utcnow(),
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        notify(tr(exc.messages[0]), "error", at=place)
        return redirect(_at(contribution))
    notify(
        gettext("Thank you: the moderation will look at this contribution."), "success", at=place
    )
    return redirect(_at(contribution))


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for it on every page, the back office's included."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
