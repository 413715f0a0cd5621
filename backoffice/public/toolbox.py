"""The public toolbox: ``/boite-a-outils`` (the methods, filtered by query arguments — a GET
form, no JavaScript needed) and ``/boite-a-outils/<slug>`` (one method, retired or not)."""

from __future__ import annotations

import re

from flask import abort, render_template, request
from markupsafe import Markup, escape

from workflows import methods
from workflows.errors import NotFound
from workflows.models import Method, MethodFormat, Recruitment
from workflows.stages import ParticipationLevel

from ..extensions import db
from . import bp
from .cache import cached

#: The durations the form offers, in days (any other number still works in the address).
DURATIONS = (1, 7, 30, 90, 180, 365)
_URL = re.compile(r"(https?://[^\s<>\"]+[^\s<>\".,;:!?)])")


def linkified(text: str) -> Markup:
    """Text with its web addresses made links (everything else escaped)."""
    parts = _URL.split(text or "")
    out = Markup("")
    for i, part in enumerate(parts):
        if i % 2:
            out += Markup('<a href="{0}" rel="noopener">{0}</a>').format(part)
        else:
            out += escape(part)
    return out


def labels(method: Method) -> dict:
    """The method's enum values as the visitor reads them (unknown values left out)."""
    levels = [ParticipationLevel(v) for v in method.levels or [] if v in methods.LEVELS]
    recruits = [Recruitment(v) for v in method.recruitment or [] if v in methods.RECRUITMENTS]
    return {
        "levels": levels,
        "format": MethodFormat(method.format),
        "recruitment": recruits,
    }


def _common() -> dict:
    return {
        "LEVELS": list(ParticipationLevel),
        "FORMATS": list(MethodFormat),
        "labels": labels,
        "costs": methods.costs,
        "group_size": methods.group_size,
    }


@bp.route("/boite-a-outils")
@cached(lambda: None if request.args else ("shared",))
def toolbox():
    filters, errors = methods.parse_filters(request.args)
    found = methods.search(db.session(), filters)
    durations = list(DURATIONS)
    if filters.duration and filters.duration not in durations:
        durations = sorted({*durations, filters.duration})
    return render_template(
        "public/toolbox.html",
        found=found,
        filters=filters,
        errors=errors,
        durations=durations,
        **_common(),
    )


@bp.route("/boite-a-outils/<slug>")
@cached(lambda slug: ("shared",))
def toolbox_method(slug: str):
    try:
        method = methods.get_method(db.session(), slug)
    except NotFound:
        abort(404)
    return render_template(
        "public/toolbox_method.html",
        m=method,
        linkified=linkified,
        **_common(),
    )
