"""The methodological guide as people read it — the public page and the PDF of the guide and
the toolbox, made by a worker and kept (``workflows.guide.documents``).

The PDF is made from HTML (WeasyPrint), from the same template pieces as the page
(``templates/_guide.html``). An edition is known by the digest of its HTML, the date of the
edition left out: the guide's content, its templates, its styles and its translations — any
change of what it prints makes a new edition, nothing else does.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from typing import Any

from flask import render_template
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from workflows import guide as domain
from workflows.models import GuideDocument

from ..i18n import local_datetime
from .links import absolute, url

log = logging.getLogger(__name__)

#: Where the edition's date goes in the HTML, put in after the digest is taken.
EDITION = "\x00edition\x00"
FILENAME = "guide-dialogue-citoyen.pdf"
_FIELD = re.compile(r"(\[[^\[\]\n]{1,80}\])")


def bracketed(text: str) -> Markup:
    """A template's text with its bracketed fields marked (everything escaped)."""
    out = Markup("")
    for i, part in enumerate(_FIELD.split(text or "")):
        out += Markup('<span class="field">{0}</span>').format(part) if i % 2 else escape(part)
    return out


def helpers() -> dict[str, Any]:
    """What the guide's templates use besides the guide."""
    return {"bracketed": bracketed}


def print_html(guide: domain.Guide, *, edition: str = EDITION) -> str:
    return render_template(
        "guide/print.html",
        guide=guide,
        edition=edition,
        method_url=lambda slug: url("public.toolbox_method", slug=slug),
        method_anchor=lambda slug: f"#methode-{slug}",  # a link inside the PDF
        guide_url=absolute("/guide"),
        **helpers(),
    )


def digest_of(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()


def to_pdf(html: str, edition: str) -> tuple[bytes, int]:
    """The PDF of the print HTML, with its edition's date, and its number of pages."""
    import weasyprint

    document = weasyprint.HTML(string=html.replace(EDITION, edition)).render()
    return document.write_pdf(), len(document.pages)


def make_edition(session: Session, *, as_of: datetime) -> str:
    """Make and keep the edition of the guide as it stands at ``as_of``, unless one with the
    same content is made or being made (the worker's task; idempotent). Says what it did."""
    guide = domain.build_guide(session, as_of=as_of)
    html = print_html(guide)
    digest = digest_of(html)
    document = domain.claim(
        session,
        digest,
        as_of=as_of,
        charter_number=guide.charter.number,
        methods=len(guide.methods),
    )
    if document is None:
        session.rollback()
        return "up to date"
    session.commit()  # the claim: another worker leaves this edition alone
    pdf, pages = to_pdf(html, local_datetime(as_of, "d MMMM y"))
    domain.keep(session, document, pdf, pages=pages, as_of=as_of)
    session.commit()
    log.info("guide edition %s made: %s pages, %s bytes", digest[:12], pages, len(pdf))
    return f"made {digest[:12]} ({pages} pages)"


def latest(session: Session) -> GuideDocument | None:
    return domain.latest(session)
