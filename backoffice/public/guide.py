"""The methodological guide, public: ``/guide`` (the page, generated from the stages, the
guards, the charter in force, the templates and the toolbox — ``workflows.guide``) and
``/guide.pdf`` (the guide and the toolbox as one PDF, made by a worker and kept:
``backoffice.outgoing.guide``)."""

from __future__ import annotations

from flask import Response, render_template, url_for

from workflows.clock import utcnow
from workflows.guide import build_guide

from ..extensions import db
from ..outgoing import guide as outgoing
from . import bp
from .cache import cached

#: Seconds a visitor is asked to wait when no edition of the PDF is made yet (the workers'
#: sweep makes it within 15 minutes; a method edited or a charter published, at once).
RETRY_AFTER = 300


@bp.route("/guide")
@cached(lambda: ("shared",))
def guide():
    session = db.session()
    return render_template(
        "public/guide.html",
        guide=build_guide(session, as_of=utcnow()),
        edition=outgoing.latest(session),
        method_url=lambda slug: url_for("public.toolbox_method", slug=slug),
        **outgoing.helpers(),
    )


@bp.route("/guide.pdf")
def guide_pdf():
    """The latest edition the workers made; none yet: 503, in French, with Retry-After."""
    edition = outgoing.latest(db.session())
    if edition is None or edition.pdf is None:
        page = render_template("public/guide_pending.html")
        return page, 503, {"Retry-After": str(RETRY_AFTER)}
    return Response(
        edition.pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{outgoing.FILENAME}"',
            "Cache-Control": "public, max-age=300",
        },
    )
