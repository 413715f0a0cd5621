"""``/api/v1/demarches/{id}/synthesis``: a démarche's synthesis, and what the back office's
synthesis sheet does with it (``backoffice/admin/syntheses.py``), through the same domain
functions (``workflows/syntheses/versions.py``), role rules and French messages: write the
introduction, the summaries and the themes' names, merge two themes, validate, publish, ask
for a new version. Staff read every version; anyone else only the published one."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from workflows.access import get_readable
from workflows.clock import utcnow
from workflows.errors import NotFound
from workflows.i18n import N_
from workflows.models import Demarche, Synthesis, SynthesisStatus, User
from workflows.roles import STAFF_ROLES
from workflows.syntheses import introduction, versions
from workflows.syntheses.requests import request_rebuild

from ..extensions import db
from ..outgoing.syntheses import XLSX, stored_document
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import (
    BuildRequestOut,
    SynthesisOut,
    SynthesisPatch,
    SynthesisVersionList,
    ThemeMergeIn,
)

blp = api_blueprint(
    "api_syntheses",
    "/api/v1/demarches",
    "Syntheses: figures, themes, copies, quotes; the mission edits, validates and publishes",
)

PDF = {"type": "string", "format": "binary"}


def _staff(user: User) -> bool:
    return user.has_any_role(*STAFF_ROLES)


def _matters(d: Demarche, user: User) -> Synthesis | None:
    """The version to read when none is named: staff get the one the sheet opens on (the
    published one, else the draft being edited, else the newest build); others the
    published one."""
    if _staff(user):
        return versions.version_that_matters(db.session(), d)
    return versions.latest(db.session(), d, published=True)


def _current(demarche_id: int) -> Synthesis:
    user = api_user()
    synthesis = _matters(get_readable(db.session(), user, demarche_id), user)
    if synthesis is None:
        raise NotFound(N_("no synthesis yet"))
    return synthesis


def _version(demarche_id: int, version: int) -> Synthesis:
    """Version ``version``, as the caller may see it (not published: staff only, 404 for
    anyone else, as if it did not exist)."""
    user = api_user()
    synthesis = versions.get_version(
        db.session(), get_readable(db.session(), user, demarche_id), version
    )
    if synthesis.status != SynthesisStatus.PUBLISHED and not _staff(user):
        raise NotFound(N_("no version %(version)s of this synthesis", version=version))
    return synthesis


def _view(synthesis: Synthesis) -> dict:
    """What the API shows of a version; the mission also gets the model introduction while
    there is none (what the sheet's form offers)."""
    offered = (
        api_user().is_mission
        and synthesis.status in versions.EDITABLE
        and not synthesis.introduction.strip()
    )
    model = introduction.drafted(synthesis) if offered else None
    return {**versions.public_view(synthesis), "introduction_model": model}


def _saved(synthesis: Synthesis) -> dict:
    db.session.commit()
    return _view(synthesis)


# -- reading -------------------------------------------------------------------------------------


@blp.route("/<int:demarche_id>/synthesis")
@blp.response(200, SynthesisOut)
@blp.errors(404)
def get_synthesis(demarche_id):
    """The version that matters: the published one; for staff, when none is, the draft the
    mission is editing, else the newest build (a build nobody asked for never hides them)."""
    return _view(_current(demarche_id))


@blp.route("/<int:demarche_id>/synthesis.pdf")
@blp.response(200, PDF, content_type="application/pdf")
@blp.errors(404)
def get_synthesis_pdf(demarche_id):
    """The same version as a print-quality PDF (figures, pictures, themes, decisions)."""
    return stored_document(db.session(), _current(demarche_id), "pdf")


@blp.route("/<int:demarche_id>/synthesis.xlsx")
@blp.response(200, PDF, content_type=XLSX)
@blp.errors(404)
def get_synthesis_xlsx(demarche_id):
    """The same version as a spreadsheet: figures, themes, anonymised contributions."""
    return stored_document(db.session(), _current(demarche_id), "xlsx")


@blp.route("/<int:demarche_id>/synthesis/versions")
@blp.response(200, SynthesisVersionList)
@blp.errors(404)
def list_versions(demarche_id):
    """Every version, newest first (staff; anyone else: the published one), and the one
    ``GET …/synthesis`` gives (``matters``)."""
    user = api_user()
    d = get_readable(db.session(), user, demarche_id)
    query = select(Synthesis).where(Synthesis.demarche_id == d.id)
    if not _staff(user):
        query = query.where(Synthesis.status == SynthesisStatus.PUBLISHED)
    rows = db.session.scalars(query.order_by(Synthesis.version.desc())).all()
    matters = _matters(d, user)
    return {
        "items": rows,
        "total": len(rows),
        "matters": matters.version if matters is not None else None,
    }


@blp.route("/<int:demarche_id>/synthesis/<int:version>")
@blp.response(200, SynthesisOut)
@blp.errors(404)
def get_version(demarche_id, version):
    """One version, by its number."""
    return _view(_version(demarche_id, version))


@blp.route("/<int:demarche_id>/synthesis/<int:version>.pdf")
@blp.response(200, PDF, content_type="application/pdf")
@blp.errors(404)
def get_version_pdf(demarche_id, version):
    """That version as a PDF (a published version's is made once and kept)."""
    return stored_document(db.session(), _version(demarche_id, version), "pdf")


@blp.route("/<int:demarche_id>/synthesis/<int:version>.xlsx")
@blp.response(200, PDF, content_type=XLSX)
@blp.errors(404)
def get_version_xlsx(demarche_id, version):
    """That version as a spreadsheet."""
    return stored_document(db.session(), _version(demarche_id, version), "xlsx")


# -- the mission's actions -----------------------------------------------------------------------


@blp.route("/<int:demarche_id>/synthesis/<int:version>", methods=["PATCH"])
@blp.arguments(SynthesisPatch, required=False)
@blp.response(200, SynthesisOut)
@blp.errors(400, 403, 404, 409)
def patch_version(fields, demarche_id, version):
    """Write the introduction, summaries (item id → text) and themes' names (theme id →
    name): the fields sent, the others kept. A validated version goes back to draft; a
    published one no longer changes (409)."""
    synthesis = _version(demarche_id, version)
    if not fields:  # nothing to write: refused as writing would be, else unchanged
        versions.check_editable(api_user(), synthesis)
        return _view(synthesis)
    versions.edit(
        db.session(),
        api_user(),
        synthesis,
        introduction=fields.get("introduction"),
        summaries=fields.get("summaries"),
        labels=fields.get("labels"),
        as_of=utcnow(),
    )
    return _saved(synthesis)


@blp.route("/<int:demarche_id>/synthesis/<int:version>/themes/merge", methods=["POST"])
@blp.arguments(ThemeMergeIn)
@blp.response(200, SynthesisOut)
@blp.errors(400, 403, 404, 409)
def merge_themes(fields, demarche_id, version):
    """Theme ``theme`` joins theme ``into`` (of the same item, or both overall): sizes add
    up, quotes and terms are kept. The version goes back to draft."""
    synthesis = _version(demarche_id, version)
    versions.merge_themes(
        db.session(), api_user(), synthesis, fields["into"], fields["theme"], as_of=utcnow()
    )
    return _saved(synthesis)


@blp.route("/<int:demarche_id>/synthesis/<int:version>/validate", methods=["POST"])
@blp.response(200, SynthesisOut)
@blp.errors(403, 404, 409)
def validate_version(demarche_id, version):
    """A draft with its introduction becomes validated (validated already: unchanged)."""
    synthesis = _version(demarche_id, version)
    versions.validate(db.session(), api_user(), synthesis, as_of=utcnow())
    return _saved(synthesis)


@blp.route("/<int:demarche_id>/synthesis/<int:version>/publish", methods=["POST"])
@blp.response(200, SynthesisOut)
@blp.errors(403, 404, 409)
def publish_version(demarche_id, version):
    """Make a validated version public, replacing the one published before; the workers
    make its PDF and spreadsheet. Published already: unchanged, nothing made again."""
    synthesis = _version(demarche_id, version)
    versions.publish(db.session(), api_user(), synthesis, as_of=utcnow())
    return _saved(synthesis)


@blp.route("/<int:demarche_id>/synthesis/builds", methods=["POST"])
@blp.response(202, BuildRequestOut)
@blp.errors(403, 404, 409)
def request_build(demarche_id):
    """Ask the workers for a new version (from the synthesis stage on; each request builds
    one): it appears in ``GET …/synthesis/versions`` above ``newest_version``."""
    user = api_user()
    d = get_readable(db.session(), user, demarche_id)
    request_rebuild(db.session(), user, d, as_of=utcnow())  # audited; built after commit
    newest = versions.latest(db.session(), d)
    db.session.commit()
    location = url_for("api_syntheses.list_versions", demarche_id=d.id)
    body = {"demarche_id": d.id, "newest_version": newest.version if newest else None}
    return body, 202, {"Location": location}
