"""Every model of the domain, importable from one place (and one metadata for Alembic)."""

from .base import Base, UTCDateTime
from .consultation import (
    Channel,
    Contribution,
    ContributionImport,
    ContributionKind,
    ContributionReport,
    ContributionStatus,
    Event,
    EventKind,
    ImportStatus,
    Item,
    Participant,
    Registration,
    RegistrationStatus,
)
from .demarches import AuditEntry, Demarche, StageTransition
from .mailings import (
    Audience,
    DecisionOutcome,
    Delivery,
    DeliveryStatus,
    ItemDecision,
    Mailing,
    MailingKind,
    MailingStatus,
    Suppression,
)
from .outbox import OutboxMessage, OutboxStatus
from .people import ApiToken, Department, Role, User, roles_users

__all__ = [
    "Audience",
    "DecisionOutcome",
    "Delivery",
    "DeliveryStatus",
    "ItemDecision",
    "Mailing",
    "MailingKind",
    "MailingStatus",
    "Suppression",
    "Channel",
    "Contribution",
    "ContributionImport",
    "ContributionKind",
    "ContributionReport",
    "ContributionStatus",
    "Event",
    "EventKind",
    "ImportStatus",
    "Item",
    "Participant",
    "Registration",
    "RegistrationStatus",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Demarche",
    "Department",
    "OutboxMessage",
    "OutboxStatus",
    "Role",
    "StageTransition",
    "UTCDateTime",
    "User",
    "roles_users",
]
