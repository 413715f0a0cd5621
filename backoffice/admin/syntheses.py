"""``/admin/synthesis/<démarche id>/``: the versions of a démarche's synthesis. Everyone of
the démarche reads them; the mission writes the introduction and the summaries, renames and
merges themes, validates, publishes, and asks for a rebuild (a worker builds it)."""

from __future__ import annotations

from flask import abort, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_security import current_user
from sqlalchemy import select

from workflows.access import get_visible
from workflows.clock import utcnow
from workflows.errors import NotFound
from workflows.models import Synthesis
from workflows.syntheses import introduction, versions
from workflows.syntheses.requests import request_rebuild

from ..extensions import db
from ..outgoing.syntheses import context, method_labels, stored_document
from .base import ProtectedView
from .perform import perform


class SynthesisView(ProtectedView):
    def is_visible(self) -> bool:
        return False  # reached from a démarche's sheet

    def _demarche(self, demarche_id: int):
        try:
            return get_visible(db.session(), current_user, demarche_id)
        except NotFound:
            abort(404)

    def _back(self, d, version: int | None = None):
        return redirect(self.get_url(".sheet", demarche_id=d.id, version=version))

    @expose("/")
    def index(self):
        return redirect(self.get_url("demarche.index_view"))

    @expose("/<int:demarche_id>/")
    def sheet(self, demarche_id: int):
        d = self._demarche(demarche_id)
        rows = db.session.execute(
            select(Synthesis.version, Synthesis.status, Synthesis.built_at)
            .where(Synthesis.demarche_id == d.id)
            .order_by(Synthesis.version.desc())
        ).all()
        number = request.args.get("version", type=int)
        synthesis = (
            versions.get_version(db.session(), d, number)
            if number
            else versions.version_that_matters(db.session(), d)
        )
        # Opened on the published version, the sheet says where the mission's next one is.
        in_progress = versions.being_edited(db.session(), d)
        if synthesis is None or in_progress is None or in_progress.id == synthesis.id:
            in_progress = None
        return self.render(
            "admin/synthesis/sheet.html",
            d=d,
            versions=rows,
            s=context(synthesis) if synthesis else None,
            in_progress=in_progress,
            method=method_labels(synthesis) if synthesis else [],
            # The model introduction, filled from the version, while none is written.
            introduction_draft=introduction.drafted(synthesis) if synthesis else "",
            editable=synthesis is not None
            and current_user.is_mission
            and synthesis.status in versions.EDITABLE,
            # A validated version older than the published one: why it has no Publish button.
            publish_refusal=versions.publish_refusal(db.session(), synthesis)
            if synthesis is not None
            else None,
            is_mission=current_user.is_mission,
        )

    def _act(self, demarche_id: int, action, success: str):
        d = self._demarche(demarche_id)
        synthesis = versions.get_version(db.session(), d, request.form.get("version", type=int))
        perform(lambda: action(synthesis), success)
        return self._back(d, synthesis.version)

    @expose("/<int:demarche_id>/edit/", methods=("POST",))
    def edit(self, demarche_id: int):
        form = request.form
        summaries = {k[8:]: v for k, v in form.items() if k.startswith("summary-")}
        labels = {k[6:]: v for k, v in form.items() if k.startswith("label-")}
        return self._act(
            demarche_id,
            lambda s: versions.edit(
                db.session(),
                current_user,
                s,
                introduction=form.get("introduction", ""),
                summaries=summaries,
                labels=labels,
                as_of=utcnow(),
            ),
            gettext("The synthesis is saved (as a draft)."),
        )

    @expose("/<int:demarche_id>/merge/", methods=("POST",))
    def merge(self, demarche_id: int):
        return self._act(
            demarche_id,
            lambda s: versions.merge_themes(
                db.session(),
                current_user,
                s,
                request.form.get("keep", ""),
                request.form.get("into", ""),
                as_of=utcnow(),
            ),
            gettext("The two themes are one now."),
        )

    @expose("/<int:demarche_id>/validate/", methods=("POST",))
    def validate(self, demarche_id: int):
        return self._act(
            demarche_id,
            lambda s: versions.validate(db.session(), current_user, s, as_of=utcnow()),
            gettext("The synthesis is validated: it can be published."),
        )

    @expose("/<int:demarche_id>/publish/", methods=("POST",))
    def publish(self, demarche_id: int):
        return self._act(
            demarche_id,
            lambda s: versions.publish(db.session(), current_user, s, as_of=utcnow()),
            gettext("The synthesis is public on the démarche's page."),
        )

    @expose("/<int:demarche_id>/<any(pdf, xlsx):extension>/")
    def download(self, demarche_id: int, extension: str):
        d = self._demarche(demarche_id)
        synthesis = versions.get_version(db.session(), d, request.args.get("version", type=int))
        return stored_document(db.session(), synthesis, extension)

    @expose("/<int:demarche_id>/build/", methods=("POST",))
    def build(self, demarche_id: int):
        d = self._demarche(demarche_id)
        if not current_user.is_mission:
            abort(403)
        perform(
            lambda: request_rebuild(db.session(), current_user, d, as_of=utcnow()),
            gettext(
                "A new version is being built by the workers: it appears in the list of "
                "versions in a moment."
            ),
        )  # audited; built after commit
        return self._back(d)
