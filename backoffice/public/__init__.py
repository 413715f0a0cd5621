"""The public side: démarche pages, contributions, event registrations, espace citoyen, the
toolbox of methods."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)

from . import (  # noqa: E402,F401 - routes register on bp
    citizen,
    events,
    guide,
    label,
    pages,
    questionnaire,
    toolbox,
    unsubscribe,
    yearly_report,
)
