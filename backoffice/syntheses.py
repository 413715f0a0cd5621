"""A synthesis version as people read it (back office, public page, PDF): its pictures with
French titles, its figures with French labels."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from markupsafe import Markup

from workflows.models import Channel, Synthesis
from workflows.syntheses import charts

from .i18n import tr

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


def context(synthesis: Synthesis) -> dict[str, Any]:
    """Everything the shared template needs."""
    themes = synthesis.themes
    return {
        "synthesis": synthesis,
        "pictures": pictures(synthesis),
        "kinds": kinds(synthesis),
        "overall": [t for t in themes if t["item_id"] is None],
        "per_item": {
            row["item_id"]: [t for t in themes if t["item_id"] == row["item_id"]]
            for row in synthesis.figures["per_item"]
        },
    }
