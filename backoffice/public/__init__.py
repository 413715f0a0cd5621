"""The public side: démarche pages, contributions, event registrations, espace citoyen, the
toolbox of methods."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)

from . import citizen, events, guide, pages, questionnaire, toolbox, unsubscribe  # noqa: E402,F401 - routes register on bp
