"""``/api/v1/demarches/{id}/synthesis``: the latest version of a démarche's synthesis (the
published one for citizens)."""

from __future__ import annotations

from workflows.access import get_readable
from workflows.errors import NotFound
from workflows.i18n import N_
from workflows.roles import STAFF_ROLES
from workflows.syntheses import versions

from ..extensions import db
from ..outgoing.syntheses import XLSX, stored_document
from .auth import api_user
from .blueprints import api_blueprint
from .schemas import SynthesisOut

blp = api_blueprint(
    "api_syntheses",
    "/api/v1/demarches",
    "Syntheses: figures, themes, copies, quotes",
)


def _latest(demarche_id: int):
    """The latest version (staff: whatever its status; others: the published one)."""
    user = api_user()
    d = get_readable(db.session(), user, demarche_id)
    synthesis = versions.latest(db.session(), d, published=not user.has_any_role(*STAFF_ROLES))
    if synthesis is None:
        raise NotFound(N_("no synthesis yet"))
    return synthesis


@blp.route("/<int:demarche_id>/synthesis")
@blp.response(200, SynthesisOut)
@blp.errors(404)
def get_synthesis(demarche_id):
    """The latest version (staff: whatever its status; others: the published one)."""
    return versions.public_view(_latest(demarche_id))


@blp.route("/<int:demarche_id>/synthesis.pdf")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf")
@blp.errors(404)
def get_synthesis_pdf(demarche_id):
    """The same version as a print-quality PDF (figures, pictures, themes, decisions)."""
    return stored_document(db.session(), _latest(demarche_id), "pdf")


@blp.route("/<int:demarche_id>/synthesis.xlsx")
@blp.response(200, {"type": "string", "format": "binary"}, content_type=XLSX)
@blp.errors(404)
def get_synthesis_xlsx(demarche_id):
    """The same version as a spreadsheet: figures, themes, anonymised contributions."""
    return stored_document(db.session(), _latest(demarche_id), "xlsx")
