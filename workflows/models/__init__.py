"""Every model of the domain, importable from one place (and one metadata for Alembic)."""

from .base import Base, UTCDateTime
from .charter import (
    CharterRule,
    CharterVersion,
    Deadline,
    DeadlineNotice,
    DeadlineStatus,
    RuleKind,
)
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
from .evaluation import FrozenEvaluation, SelfAssessment, SelfAssessmentStatus
from .guide import GuideDocument
from .label import LabelAward, LabelRules
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
from .methods import Method, MethodFormat, PlannedMethod, Recruitment, UsedMethod
from .outbox import OutboxMessage, OutboxStatus
from .people import ApiToken, Department, LoginSession, Role, User, roles_users
from .report import ReportDocument
from .survey import SurveyAnswer, SurveyInvitation, SurveyScore, SurveySource
from .syntheses import Synthesis, SynthesisStatus
from .training import TrainingSession, training_attendees

__all__ = [
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyScore",
    "SurveySource",
    "FrozenEvaluation",
    "SelfAssessment",
    "SelfAssessmentStatus",
    "GuideDocument",
    "ReportDocument",
    "LabelAward",
    "LabelRules",
    "Synthesis",
    "TrainingSession",
    "training_attendees",
    "SynthesisStatus",
    "Method",
    "MethodFormat",
    "PlannedMethod",
    "Recruitment",
    "UsedMethod",
    "CharterRule",
    "CharterVersion",
    "Deadline",
    "DeadlineNotice",
    "DeadlineStatus",
    "RuleKind",
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
    "LoginSession",
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
