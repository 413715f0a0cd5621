"""The roles of DESIGN §1. Administrators hold every right of the mission."""

from __future__ import annotations

import enum

from .i18n import N_, Msg


class RoleName(enum.StrEnum):
    ADMIN = "admin"
    MISSION = "mission"
    DEPARTMENT = "department"
    ELECTED = "elected"
    CITIZEN = "citizen"

    @property
    def label(self) -> Msg:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    RoleName.ADMIN: N_("Administrator"),
    RoleName.MISSION: N_("Participatory democracy mission"),
    RoleName.DEPARTMENT: N_("Department agent"),
    RoleName.ELECTED: N_("Elected official"),
    RoleName.CITIZEN: N_("Citizen"),
}

STAFF_ROLES = frozenset(RoleName) - {RoleName.CITIZEN}
MISSION_ROLES = frozenset({RoleName.MISSION, RoleName.ADMIN})
