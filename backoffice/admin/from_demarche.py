"""Items and events created from a démarche's sheet belong to that démarche."""

from __future__ import annotations

from flask import abort, g, request, url_for
from flask_security import current_user
from sqlalchemy import select

from workflows.access import may_act_on, parse_id, visible_clause
from workflows.models import Demarche

from ..extensions import db


class FromDemarche:
    """A creation started from a démarche's sheet (``?demarche_id=``) belongs to it: the form
    shows the démarche as text and has no démarche field (a posted one is ignored), and saving
    returns to the sheet. Without ``demarche_id`` the form offers the démarches to choose."""

    create_template = "admin/consultation/create.html"

    def fixed_demarche(self) -> Demarche | None:
        """The démarche of ``?demarche_id=`` (404 unseen, 403 not to act on), read once a
        request: the form, the save and the return address all ask for it."""
        if "fixed_demarche" not in g:
            g.fixed_demarche = self._read_fixed_demarche()
        return g.fixed_demarche

    def _read_fixed_demarche(self) -> Demarche | None:
        raw = request.args.get("demarche_id")
        if raw is None:
            return None
        key = parse_id(raw)
        found = (
            db.session.scalars(
                select(Demarche).where(Demarche.id == key, visible_clause(current_user))
            )
            .unique()
            .one_or_none()
            if key is not None
            else None
        )
        if found is None:
            abort(404)
        if not may_act_on(current_user, found):
            abort(403)
        return found

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if self.fixed_demarche() is not None:
            del form.demarche
        return form

    def _demarche_of(self, form) -> Demarche:
        return self.fixed_demarche() or form.demarche.data

    def get_url(self, endpoint, **kwargs):
        """« Save and add another » stays on the démarche it started from."""
        fixed = request.args.get("demarche_id") if endpoint == ".create_view" else None
        if fixed is not None:
            kwargs.setdefault("demarche_id", fixed)
        return super().get_url(endpoint, **kwargs)

    def get_save_return_url(self, model, is_created=False):
        fixed = self.fixed_demarche() if is_created else None
        if fixed is not None:
            return url_for("demarche.details_view", id=fixed.id)
        return super().get_save_return_url(model, is_created)
