"""The shapes of the API's requests and answers (they also make the OpenAPI document)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import marshmallow as ma
from marshmallow import fields

from workflows.contributions import public_author
from workflows.stages import ParticipationLevel, Stage
from workflows.territory import WHOLE_DEPARTEMENT

LEVELS = [level.value for level in ParticipationLevel]
STAGES = [stage.value for stage in Stage]


def page_field() -> fields.Integer:
    return fields.Integer(
        load_default=1,
        validate=ma.validate.Range(
            min=1, max=100_000, error="a page between 1 and 100000 expected"
        ),
    )


def per_page_field(most: int) -> fields.Integer:
    """Rows a page, 50 unless asked (the message is one of errors.MARSHMALLOW_MESSAGES)."""
    return fields.Integer(
        load_default=50,
        validate=ma.validate.Range(min=1, max=most, error=f"between 1 and {most} expected"),
    )


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class SaisineFields(StrictSchema):
    title = fields.String(metadata={"description": "Title of the démarche (200 characters max)"})
    objectives = fields.String(allow_none=True)
    public = fields.String(allow_none=True, metadata={"description": "The public concerned"})
    territory = fields.String(
        allow_none=True,
        metadata={"description": f"A canton of Haute-Garonne, or “{WHOLE_DEPARTEMENT}”"},
    )
    participation_level = fields.String(allow_none=True, metadata={"enum": LEVELS})
    elected_official = fields.String(
        allow_none=True,
        metadata={"description": "Email of the sponsoring elected official (role elected)"},
    )
    desired_calendar = fields.String(allow_none=True)
    budget = fields.Decimal(allow_none=True, metadata={"description": "In euros"})
    department = fields.String(
        allow_none=True,
        metadata={"description": "Department name; mission only (agents create for their own)"},
    )


class DemarcheCreate(SaisineFields):
    title = fields.String(required=True)


class DemarchePatch(SaisineFields):
    presentation = fields.String(allow_none=True)
    hold_for_review = fields.Boolean()
    consultation_opens = fields.Date(allow_none=True)
    consultation_closes = fields.Date(allow_none=True)
    synthesis_text = fields.String(allow_none=True)
    decision_text = fields.String(allow_none=True)


class TransitionIn(StrictSchema):
    to = fields.String(required=True, metadata={"enum": STAGES})
    comment = fields.String(load_default="")


class TransitionOut(ma.Schema):
    id = fields.Integer()
    at = fields.DateTime()
    from_ = fields.String(data_key="from", attribute="from_stage")
    to = fields.String(attribute="to_stage")
    actor = fields.Function(lambda t: t.actor.display_name if t.actor else None)
    actor_email = fields.Function(lambda t: t.actor.email if t.actor else None)
    source = fields.String()
    comment = fields.String()


class MoveOut(ma.Schema):
    to = fields.String()
    possible = fields.Boolean()
    comment_required = fields.Boolean()
    unmet = fields.List(fields.String())


class DemarcheOut(ma.Schema):
    id = fields.Integer()
    slug = fields.String()
    stage = fields.String()
    title = fields.String()
    department = fields.Function(lambda d: d.department.name if d.department else None)
    objectives = fields.String()
    public = fields.String()
    territory = fields.String(allow_none=True)
    participation_level = fields.String(allow_none=True)
    elected_official = fields.Function(
        lambda d: d.elected_official.email if d.elected_official else None
    )
    desired_calendar = fields.String()
    budget = fields.Decimal(as_string=True, allow_none=True)
    presentation = fields.String()
    consultation_opens = fields.Date(allow_none=True)
    consultation_closes = fields.Date(allow_none=True)
    synthesis_text = fields.String()
    decision_text = fields.String()
    hold_for_review = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class DemarcheDetail(DemarcheOut):
    history = fields.List(fields.Nested(TransitionOut), attribute="transitions")
    moves = fields.List(fields.Nested(MoveOut))
    deadlines = fields.List(
        fields.Nested("DeadlineOut"),
        metadata={"description": "The charter's deadlines of the démarche and its questions"},
    )


class DemarcheList(ma.Schema):
    items = fields.List(fields.Nested(DemarcheOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class DemarcheQuery(StrictSchema):
    stage = fields.String(
        validate=ma.validate.OneOf(STAGES, error="unknown value"), metadata={"enum": STAGES}
    )
    territory = fields.String()
    department = fields.String()
    elected_official = fields.String()
    page = page_field()
    per_page = per_page_field(200)


KINDS = ["comment", "question", "proposal"]
CHANNELS = ["online", "workshop", "meeting", "mail", "import"]
CONTRIBUTION_STATUSES = ["pending", "published", "hidden"]


class ItemIn(StrictSchema):
    title = fields.String(required=True)
    text = fields.String(load_default="")
    position = fields.Integer(
        allow_none=True,
        validate=ma.validate.Range(
            min=1, max=10_000, error="a position between 1 and 10000 expected"
        ),
        metadata={"description": "1 = first; default last"},
    )


class ItemOut(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    text = fields.String()
    position = fields.Integer()


class ItemList(ma.Schema):
    items = fields.List(fields.Nested(ItemOut))
    total = fields.Integer()


ID = ma.validate.Range(min=1, max=2**31 - 1, error="not a valid id")


class ContributionIn(StrictSchema):
    item_id = fields.Integer(required=True, validate=ID)
    body = fields.String(required=True)
    kind = fields.String(load_default="comment", metadata={"enum": KINDS})
    parent_id = fields.Integer(allow_none=True, validate=ID)
    title = fields.String(allow_none=True)
    channel = fields.String(
        metadata={
            "enum": CHANNELS,
            "description": "online for a citizen; the mission records "
            "another channel (default mail)",
        }
    )
    commune = fields.String(
        allow_none=True, metadata={"description": "Name, postal code or INSEE code"}
    )
    author_email = fields.Email(
        allow_none=True, metadata={"description": "Mission only: who gets the feedback"}
    )
    author_name = fields.String(allow_none=True)


def _author_name(c) -> str | None:
    """Staff see the name on record; anyone else what the public pages show."""
    if getattr(c, "show_email", False) or getattr(c, "staff_view", False):
        if c.participant is not None and c.participant.erased_at is None:
            return c.participant.name
    return public_author(c)


class ContributionOut(ma.Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    kind = fields.String()
    channel = fields.String()
    title = fields.Function(lambda c: None if c.status.value == "hidden" else c.title)
    body = fields.Function(lambda c: "" if c.status.value == "hidden" else c.body)
    status = fields.String()
    moderation_reason = fields.String()
    commune_insee = fields.String(allow_none=True)
    canton_code = fields.String(allow_none=True)
    contributed_at = fields.DateTime()
    author_name = fields.Function(_author_name)
    author_email = fields.Function(
        lambda c: c.participant.email if getattr(c, "show_email", False) and c.participant else None
    )


class ContributionList(ma.Schema):
    items = fields.List(fields.Nested(ContributionOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ContributionQuery(StrictSchema):
    item_id = fields.Integer(validate=ID)
    kind = fields.String(validate=ma.validate.OneOf(KINDS, error="unknown value"))
    status = fields.String(validate=ma.validate.OneOf(CONTRIBUTION_STATUSES, error="unknown value"))
    channel = fields.String(validate=ma.validate.OneOf(CHANNELS, error="unknown value"))
    format = fields.String(validate=ma.validate.OneOf(["json", "csv"], error="unknown value"))
    personal = fields.Boolean(load_default=False)
    page = page_field()
    per_page = per_page_field(500)


OUTCOMES = ["retained", "partly_retained", "not_retained", "under_study"]


class DecisionIn(StrictSchema):
    outcome = fields.String(required=True, metadata={"enum": OUTCOMES})
    justification = fields.String(required=True)


class DecisionOut(ma.Schema):
    item_id = fields.Integer()
    outcome = fields.String()
    justification = fields.String()
    decided_at = fields.DateTime()
    decided_by = fields.Function(lambda d: d.decided_by.display_name if d.decided_by else None)


MAILING_KINDS = ["feedback", "invitation", "reminder", "newsletter", "officials", "departments"]
AUDIENCES = [
    "contributors",
    "registrants",
    "territory_subscribers",
    "elected",
    "department_agents",
]
MAILING_STATUSES = ["draft", "scheduled", "sending", "sent", "cancelled"]
TEMPLATE_HELP = (
    "A Jinja template; variables: name, demarche (title, url, territory), decisions (item, "
    "outcome, justification), contributions (item, outcome, justification, text, date), "
    "synthesis_url, event (title, place, when), unsubscribe_url"
)


class MailingIn(StrictSchema):
    kind = fields.String(required=True, metadata={"enum": MAILING_KINDS})
    demarche_id = fields.Integer(required=True, validate=ID)
    audience = fields.String(required=True, metadata={"enum": AUDIENCES})
    subject = fields.String(required=True, metadata={"description": TEMPLATE_HELP})
    body = fields.String(required=True, metadata={"description": TEMPLATE_HELP})
    event_id = fields.Integer(
        allow_none=True,
        validate=ID,
        metadata={"description": "registrants: of this event only (default: all its events)"},
    )


class MailingPatch(MailingIn):
    class Meta:
        unknown = ma.RAISE

    kind = fields.String(metadata={"enum": MAILING_KINDS})
    demarche_id = fields.Integer(validate=ID)
    audience = fields.String(metadata={"enum": AUDIENCES})
    subject = fields.String()
    body = fields.String()


class SendIn(StrictSchema):
    scheduled_at = fields.AwareDateTime(
        allow_none=True,
        default_timezone=ZoneInfo("Europe/Paris"),
        metadata={"description": "When to send (default now); Europe/Paris if no offset"},
    )


class Counts(ma.Schema):
    to_send = fields.Integer()
    sent = fields.Integer()
    refused = fields.Integer()
    failed = fields.Integer()
    skipped = fields.Integer()
    uncertain = fields.Integer()
    cancelled = fields.Integer()


class MailingOut(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    audience = fields.String()
    demarche_id = fields.Integer()
    event_id = fields.Integer(allow_none=True)
    subject = fields.String()
    body = fields.String()
    status = fields.String(metadata={"enum": MAILING_STATUSES})
    scheduled_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    counts = fields.Nested(Counts)
    skipped_reasons = fields.Dict(keys=fields.String(), values=fields.Integer())


class MailingList(ma.Schema):
    items = fields.List(fields.Nested(MailingOut))
    total = fields.Integer()


class MailingQuery(StrictSchema):
    demarche_id = fields.Integer(validate=ID)
    status = fields.String(validate=ma.validate.OneOf(MAILING_STATUSES, error="unknown value"))


class PreviewQuery(StrictSchema):
    address = fields.String(
        metadata={"description": "Render for this recipient (default: the first)"}
    )


class PreviewOut(ma.Schema):
    address = fields.String()
    subject = fields.String()
    text = fields.String()


DEADLINE_STATUSES = ["pending", "met", "missed", "waived"]


class DeadlineOut(ma.Schema):
    id = fields.Integer()
    rule = fields.String(attribute="rule_code", metadata={"description": "The rule's code"})
    label = fields.Function(lambda d: d.rule.label)
    demarche_id = fields.Integer()
    question_id = fields.Integer(allow_none=True)
    due = fields.Date(
        attribute="due_date", metadata={"description": "Its last day (ends 23:59 Europe/Paris)"}
    )
    due_at = fields.DateTime(metadata={"description": "The instant it ends (UTC)"})
    status = fields.String(metadata={"enum": DEADLINE_STATUSES})
    started_at = fields.DateTime()
    met_at = fields.DateTime(allow_none=True)
    on_time = fields.Boolean(allow_none=True)
    missed_at = fields.DateTime(allow_none=True)
    waived_at = fields.DateTime(allow_none=True)
    waive_reason = fields.String()


class DeadlineList(ma.Schema):
    items = fields.List(fields.Nested(DeadlineOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class DateOrDateTime(fields.Field):
    """An ISO date (its whole day, Europe/Paris) or an ISO date-time (Paris if no offset)."""

    default_error_messages = {"invalid": "an ISO date or date-time expected"}

    def _deserialize(self, value, attr, data, **kwargs):
        from datetime import date, datetime

        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("Europe/Paris"))
        return moment


class DeadlineQuery(StrictSchema):
    status = fields.String(
        validate=ma.validate.OneOf(DEADLINE_STATUSES, error="unknown value"),
        metadata={"enum": DEADLINE_STATUSES},
    )
    due_before = DateOrDateTime(
        metadata={
            "description": "A date: deadlines whose last day is on or before it; a date-time: "
            "those ending at or before it"
        }
    )
    demarche_id = fields.Integer(validate=ID)
    rule = fields.String(metadata={"description": "A rule's code"})
    page = page_field()
    per_page = per_page_field(500)


class WaiveIn(StrictSchema):
    reason = fields.String(required=True, metadata={"description": "Public on the record"})


class AnswerIn(StrictSchema):
    answer = fields.String(required=True, metadata={"description": "Published under the question"})


class QuestionOut(ma.Schema):
    id = fields.Integer()
    demarche_id = fields.Integer()
    item_id = fields.Integer()
    body = fields.String()
    status = fields.String()
    contributed_at = fields.DateTime()
    answer = fields.String()
    answered_at = fields.DateTime(allow_none=True)
    answered_by = fields.Function(lambda c: c.answered_by.display_name if c.answered_by else None)
    deadline = fields.Nested(DeadlineOut, allow_none=True)


class ThemeOut(ma.Schema):
    id = fields.String()
    item_id = fields.Integer(allow_none=True, metadata={"description": "None: overall"})
    label = fields.String()
    size = fields.Integer(metadata={"description": "Contributions it weighs most in"})
    terms = fields.List(fields.String())
    quotes = fields.List(fields.String(), metadata={"description": "Pseudonymised"})


class CopiesOut(ma.Schema):
    size = fields.Integer()
    item_ids = fields.List(fields.Integer())
    text = fields.String(metadata={"description": "The text they share, pseudonymised"})


class SynthesisOut(ma.Schema):
    version = fields.Integer()
    status = fields.String(metadata={"enum": ["draft", "validated", "published", "superseded"]})
    built_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    introduction = fields.String()
    summaries = fields.Dict(keys=fields.String(), values=fields.String())
    figures = fields.Dict(
        metadata={
            "description": "contributions, participants, per_item, per_kind, per_channel, "
            "per_canton, per_commune, per_day, agreement, questions"
        }
    )
    themes = fields.List(fields.Nested(ThemeOut))
    duplicates = fields.List(fields.Nested(CopiesOut))
    inputs = fields.Dict(metadata={"description": "What it was built from, and how"})
