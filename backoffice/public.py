"""Public pages. For now the home page leads to the back office; the citizens' pages
(démarches, espace citoyen) come with the consultation work."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for

bp = Blueprint("public", __name__)


@bp.route("/")
def home():
    return redirect(url_for("admin.index"))
