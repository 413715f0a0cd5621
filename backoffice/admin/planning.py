"""The methods step shared by the guided saisine (step 4) and a démarche's planning page."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from workflows.clock import local_date, utcnow
from workflows.methods import facts, planning, suggestions
from workflows.models import Demarche

from ..extensions import db


def methods_choice(d: Demarche, chosen: Collection[str]) -> dict[str, Any]:
    """What ``methods_step`` of ``admin/saisine/_saisine.html`` shows: the methods that fit
    and the others, with their reasons, the restitution that ends every plan, the methods
    ``chosen``, and what the saisine said (its need)."""
    today = local_date(utcnow())
    found = suggestions.suggestions_for(db.session(), d, today)
    offered = [s for s in found if s.method.slug != planning.RESTITUTION]
    return {
        "fitting": [s for s in offered if s.fits],
        "others": [s for s in offered if not s.fits],
        "restitution": next(
            (s.method for s in found if s.method.slug == planning.RESTITUTION), None
        ),
        "chosen": set(chosen),
        "need": suggestions.need_of(d, today),
        "facts": facts,
    }
