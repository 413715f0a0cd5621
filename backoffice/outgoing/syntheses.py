"""A synthesis version as people read it (back office, public page, PDF): its pictures with
French titles, its figures with French labels."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask_babel import gettext
from markupsafe import Markup

from workflows.clock import PARIS
from workflows.errors import DomainError
from workflows.i18n import N_
from workflows.models import Channel, Synthesis
from workflows.spreadsheets import XLSX, safe_cell, xlsx
from workflows.syntheses import charts

from ..i18n import tr

MONTHS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)

log = logging.getLogger(__name__)


def pictures(synthesis: Synthesis) -> dict[str, Markup]:
    """The four pictures, as inline SVG (escaped by construction)."""
    f = synthesis.figures
    items = [(f"{row['position']}. {row['title']}", row["contributions"]) for row in f["per_item"]]
    channels = [(tr(Channel(k).label), v) for k, v in f["per_channel"].items()]
    return {
        "items": Markup(charts.bars(items, gettext("Contributions per item"))),
        "channels": Markup(charts.bars(channels, gettext("Contributions per channel"))),
        "days": Markup(charts.timeline(f["per_day"], gettext("Contributions per day"), MONTHS)),
        "map": Markup(
            charts.canton_map(
                f["per_canton"], gettext("Participation per canton"), gettext("Contributions")
            )
        ),
    }


def kinds(synthesis: Synthesis) -> list[tuple[str, int]]:
    names = {
        "comment": gettext("Comments"),
        "question": gettext("Questions"),
        "proposal": gettext("Proposals"),
    }
    return [(names[k], v) for k, v in synthesis.figures["per_kind"].items()]


def step_labels() -> dict[str, str]:
    return {
        "read": gettext("reading the contributions"),
        "figures": gettext("figures"),
        "duplicates": gettext("copies"),
        "lemmas": gettext("lemmas"),
        "themes": gettext("themes"),
        "quotes": gettext("quotes"),
        "save": gettext("saving"),
    }


def method_labels(synthesis: Synthesis) -> list[tuple[str, str]]:
    """How the version was made, step by step, in French: the step's name and the method
    its inputs recorded (a method the catalog no longer knows is shown as recorded)."""
    names = {
        "lemmas": gettext("Words"),
        "themes": gettext("Themes"),
        "duplicates": gettext("Copies"),
        "pseudonymisation": gettext("Quotes"),
    }
    recorded = (synthesis.inputs or {}).get("method") or {}
    return [(names.get(key, key), tr(str(how))) for key, how in recorded.items()]


def unassigned(synthesis: Synthesis) -> dict[int | None, int]:
    """The contributions in no theme, overall (``None``) and per item id, where there are
    themes (a version built before they were counted has none)."""
    counted = (synthesis.figures or {}).get("unassigned") or {}
    scopes = {t["item_id"] for t in synthesis.themes}
    found: dict[int | None, int] = {}
    for key, value in counted.items():
        scope = None if key == "overall" else int(key)
        if value and scope in scopes:
            found[scope] = value
    return found


def context(synthesis: Synthesis) -> dict[str, Any]:
    """Everything the shared template needs."""
    themes = synthesis.themes
    return {
        "synthesis": synthesis,
        "steps": step_labels(),
        "pictures": pictures(synthesis),
        "kinds": kinds(synthesis),
        # Whether anything was said (themes, a summary, copies): a heading never stands empty.
        "said": bool(
            themes
            or synthesis.duplicates
            or any(text.strip() for text in (synthesis.summaries or {}).values())
        ),
        "overall": [t for t in themes if t["item_id"] is None],
        "unassigned": unassigned(synthesis),
        "per_item": {
            row["item_id"]: [t for t in themes if t["item_id"] == row["item_id"]]
            for row in synthesis.figures["per_item"]
        },
    }


def to_pdf(synthesis: Synthesis) -> bytes:
    """A print-quality document: the figures, the pictures, the themes and quotes, the
    decisions (WeasyPrint, from the same template pieces as the pages)."""
    import weasyprint
    from flask import render_template

    d = synthesis.demarche
    html = render_template(
        "synthesis/print.html",
        d=d,
        s=context(synthesis),
        decided=[item for item in d.items if item.decision is not None],
        method=method_labels(synthesis),
    )
    screen = Path(__file__).parent.parent / "static" / "synthesis.css"  # the pages' own styles
    return weasyprint.HTML(string=html).write_pdf(
        stylesheets=[weasyprint.CSS(filename=str(screen))]
    )


def to_xlsx(session, synthesis: Synthesis) -> bytes:
    """The figures and the anonymised contributions (pseudonymised texts, no author), one
    sheet each; cells that a spreadsheet would read as formulas are neutralised."""
    from sqlalchemy import select

    from workflows.models import Contribution
    from workflows.syntheses.figures import participant_names, published_of
    from workflows.syntheses.pseudonymise import pseudonymise_many
    from workflows.territory import canton_names, communes

    f = synthesis.figures
    figures: list[list[Any]] = []
    figures.append([gettext("Contributions"), f["contributions"]])
    figures.append([gettext("Participants"), f["participants"]])
    for label, value in kinds(synthesis):
        figures.append([label, value])
    figures.append([])
    figures.append([gettext("Item"), gettext("Contributions"), gettext("Participants")])
    for row in f["per_item"]:
        figures.append(
            [
                safe_cell(f"{row['position']}. {row['title']}"),
                row["contributions"],
                row["participants"],
            ]
        )
    figures.append([])
    figures.append([gettext("Channel"), gettext("Contributions")])
    for key, value in f["per_channel"].items():
        figures.append([tr(Channel(key).label), value])
    figures.append([])
    figures.append([gettext("Canton"), gettext("Contributions")])
    for row in f["per_canton"]:
        figures.append([row["name"] or gettext("unknown"), row["contributions"]])
    figures.append([])
    figures.append([gettext("Day"), gettext("Contributions")])
    for row in f["per_day"]:
        figures.append([row["date"], row["contributions"]])

    themes = [
        [gettext("Item"), gettext("Theme"), gettext("Size"), gettext("Terms"), gettext("Quotes")]
    ]
    items = {item.id: f"{item.position}. {item.title}" for item in synthesis.demarche.items}
    for theme in synthesis.themes:
        themes.append(
            [
                safe_cell(items.get(theme["item_id"], gettext("Overall"))),
                safe_cell(theme["label"]),
                theme["size"],
                safe_cell(", ".join(theme["terms"])),
                safe_cell("\n".join(q["text"] for q in theme["quotes"])),
            ]
        )
    for scope, size in unassigned(synthesis).items():
        themes.append(
            [
                safe_cell(items.get(scope, "") if scope is not None else gettext("Overall")),
                gettext("Not classified"),
                size,
                "",
                "",
            ]
        )

    said = [
        [
            gettext("No."),
            gettext("Item"),
            gettext("Kind"),
            gettext("Channel"),
            gettext("Date"),
            gettext("Commune"),
            gettext("Canton"),
            gettext("Text"),
        ]
    ]
    rows = session.execute(
        select(
            Contribution.item_id,
            Contribution.kind,
            Contribution.channel,
            Contribution.contributed_at,
            Contribution.commune_insee,
            Contribution.canton_code,
            Contribution.title,
            Contribution.body,
        )
        .where(published_of(synthesis.demarche))
        .order_by(Contribution.id)
    ).all()
    texts = pseudonymise_many(
        [f"{r.title}. {r.body}" if r.title else r.body for r in rows],
        participant_names(session, synthesis.demarche),
    )
    town = {c.insee_code: c.name for c in communes()}
    cantons = canton_names()
    for n, (row, text) in enumerate(zip(rows, texts, strict=True), start=1):
        said.append(
            [
                n,
                safe_cell(items.get(row.item_id, "")),
                tr(row.kind.label),
                tr(row.channel.label),
                row.contributed_at.astimezone(PARIS).date().isoformat(),
                town.get(row.commune_insee or "", ""),
                cantons.get(row.canton_code or "", ""),
                safe_cell(text),
            ]
        )
    return xlsx(
        [
            (gettext("Figures"), figures),
            (gettext("Themes"), themes),
            (gettext("Contributions"), said),
        ]
    )


TYPES = {"pdf": "application/pdf", "xlsx": XLSX}


def document(synthesis: Synthesis, extension: str, content: bytes):
    """A download named after the démarche and the version."""
    from flask import Response

    name = f"synthese-{synthesis.demarche.slug}-v{synthesis.version}.{extension}"
    return Response(
        content,
        mimetype=TYPES[extension],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class DocumentsUnavailable(DomainError):
    """This process was installed without the ``synthesis`` extra (WeasyPrint, spaCy): it
    serves the documents the workers made, and cannot make one itself."""

    status = 503


def stored_document(session, synthesis: Synthesis, extension: str):
    """The document of a version as a download. A published (or formerly published) version
    never changes: its documents are made once — by a worker right after publishing, or here
    the first time — and kept; a draft's are made afresh."""
    from workflows.models import SynthesisStatus

    keep = synthesis.status in (SynthesisStatus.PUBLISHED, SynthesisStatus.SUPERSEDED)
    content = getattr(synthesis, extension) if keep else None
    if content is None:
        try:
            content = to_pdf(synthesis) if extension == "pdf" else to_xlsx(session, synthesis)
        except ImportError as missing:
            log.warning("no synthesis libraries here (%s): document refused", missing.name)
            raise DocumentsUnavailable(
                N_(
                    "this server does not make synthesis documents (the “synthesis” extra is "
                    "not installed); the workers make those of a published version"
                )
            ) from None
        if keep:
            setattr(synthesis, extension, content)
            session.commit()
    return document(synthesis, extension, content)


def render_documents(session, synthesis_id: int) -> list[str]:
    """Make and keep the documents a published version lacks (the worker's task)."""
    from workflows.models import SynthesisStatus

    synthesis = session.get(Synthesis, synthesis_id)
    if synthesis is None or synthesis.status != SynthesisStatus.PUBLISHED:
        return []
    made = []
    if synthesis.pdf is None:
        synthesis.pdf = to_pdf(synthesis)
        made.append("pdf")
    if synthesis.xlsx is None:
        synthesis.xlsx = to_xlsx(session, synthesis)
        made.append("xlsx")
    session.commit()
    return made
