"""What the timeline of a démarche says of each audited action."""

from __future__ import annotations

from . import audit
from .demarches import FIELDS
from .i18n import N_, Msg
from .models import AuditEntry


def describe(entry: AuditEntry) -> Msg:
    """What the timeline says of an audited action."""
    data = entry.data or {}
    if entry.action == "demarche.update":
        labels = [FIELDS[f].label if f in FIELDS else Msg(f) for f in data.get("fields", [])]
        return N_("changed %(fields)s", fields=labels)
    if entry.action == "contributions.import":
        return N_(
            "imported %(count)s contributions (%(format)s)",
            count=data.get("imported", 0),
            format=data.get("format", ""),
        )
    if entry.action == "contributions.export" and data.get("personal"):
        return N_("exported the contributions, with personal data")
    known = audit.ACTION_LABELS.get(entry.action)
    return (
        known if known is not None else N_("an action of the log (%(action)s)", action=entry.action)
    )
