"""The shapes of the API's requests and answers (they also make the OpenAPI document).

Requests: unknown fields are refused; a text longer than the domain keeps is refused here
(``Text``), its other rules (not blank, a known department…) are the domain's and documented
here (``minLength``, ``pattern``). Answers (``OutSchema``): every field is always present.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import marshmallow as ma
from marshmallow import fields

from workflows import charter, contributions, decisions, items, mailings, questions, transitions
from workflows.access import MAX_ID
from workflows.contributions import public_author
from workflows.demarches import MAX_BUDGET, MAX_PARTICIPANTS, MAX_TEXT
from workflows.i18n import N_
from workflows.models import (
    Audience,
    Channel,
    ContributionKind,
    ContributionStatus,
    DeadlineStatus,
    DecisionOutcome,
    MailingKind,
    MailingStatus,
    SynthesisStatus,
)
from workflows.participants import MAX_NAME
from workflows.stages import ParticipationLevel, Stage
from workflows.syntheses import versions
from workflows.territory import WHOLE_DEPARTEMENT

from ..params import MAX_PAGE

LEVELS = [level.value for level in ParticipationLevel]
STAGES = [stage.value for stage in Stage]
KINDS = [kind.value for kind in ContributionKind]
CHANNELS = [channel.value for channel in Channel]
CONTRIBUTION_STATUSES = [status.value for status in ContributionStatus]
OUTCOMES = [outcome.value for outcome in DecisionOutcome]
MAILING_KINDS = [kind.value for kind in MailingKind]
AUDIENCES = [audience.value for audience in Audience]
MAILING_STATUSES = [status.value for status in MailingStatus]
DEADLINE_STATUSES = [status.value for status in DeadlineStatus]
SYNTHESIS_STATUSES = [status.value for status in SynthesisStatus]

#: A text that must hold something besides spaces (the domain refuses a blank one).
NOT_BLANK = {"minLength": 1, "pattern": r"\S"}


class MaxLength(ma.validate.Length):
    """``Length(max=…)`` whose message is the domain's (« au plus N caractères »)."""

    def __init__(self, most: int) -> None:
        super().__init__(max=most)

    def __call__(self, value):
        if self.max is not None and len(value) > self.max:
            raise ma.ValidationError([N_("at most %(max)s characters", max=self.max)])
        return value


def Text(most: int, *, blank: bool = True, **kwargs) -> fields.String:  # noqa: N802 - a field
    """A text of at most ``most`` characters (``blank``: may be empty)."""
    metadata = kwargs.pop("metadata", {})
    if not blank:
        metadata = {**NOT_BLANK, **metadata}
    return fields.String(validate=MaxLength(most), metadata=metadata, **kwargs)


def page_field() -> fields.Integer:
    return fields.Integer(
        load_default=1,
        validate=ma.validate.Range(
            min=1, max=MAX_PAGE, error="a page between 1 and 100000 expected"
        ),
    )


def per_page_field(most: int) -> fields.Integer:
    """Rows a page, 50 unless asked (the message is one of errors.MARSHMALLOW_MESSAGES)."""
    return fields.Integer(
        load_default=50,
        validate=ma.validate.Range(min=1, max=most, error=f"between 1 and {most} expected"),
    )


def one_of(values: list[str]) -> ma.validate.OneOf:
    return ma.validate.OneOf(values, error="unknown value")


def text_out(serialize, **metadata) -> fields.Function:
    """A text computed for the answer, or null (documented as such)."""
    return fields.Function(serialize, metadata={"type": "string", "nullable": True, **metadata})


ID = ma.validate.Range(min=1, max=MAX_ID, error="not a valid id")


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class OutSchema(ma.Schema):
    """An answer: every field is always there (documented as required; null where allowed)."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.required = True


class SaisineFields(StrictSchema):
    title = Text(
        200, blank=False, metadata={"description": "Title of the démarche (200 characters max)"}
    )
    objectives = Text(MAX_TEXT, allow_none=True)
    public = Text(MAX_TEXT, allow_none=True, metadata={"description": "The public concerned"})
    territory = Text(
        80,
        allow_none=True,
        metadata={"description": f"A canton of Haute-Garonne, or “{WHOLE_DEPARTEMENT}”"},
    )
    participation_level = fields.String(allow_none=True, metadata={"enum": [*LEVELS, None]})
    elected_official = fields.String(
        allow_none=True,
        metadata={"description": "Email of the sponsoring elected official (role elected)"},
    )
    desired_calendar = Text(MAX_TEXT, allow_none=True)
    budget = fields.Decimal(
        allow_none=True,
        metadata={"description": "In euros", "minimum": 0, "maximum": float(MAX_BUDGET)},
    )
    expected_participants = fields.Integer(
        allow_none=True,
        strict=True,
        metadata={
            "description": "Participants expected (weighed by the toolbox's suggestions)",
            "minimum": 1,
            "maximum": MAX_PARTICIPANTS,
        },
    )
    participation_ends_by = fields.Date(
        allow_none=True,
        metadata={"description": "The date by which the participation must be over"},
    )
    department = fields.String(
        allow_none=True,
        metadata={"description": "Department name; mission only (agents create for their own)"},
    )


class DemarcheCreate(SaisineFields):
    title = Text(200, blank=False, required=True)


class DemarchePatch(SaisineFields):
    presentation = Text(MAX_TEXT, allow_none=True)
    hold_for_review = fields.Boolean()
    consultation_opens = fields.Date(allow_none=True)
    consultation_closes = fields.Date(allow_none=True)


class TransitionIn(StrictSchema):
    to = fields.String(required=True, metadata={"enum": STAGES})
    comment = Text(transitions.MAX_COMMENT, load_default="")


class TransitionOut(OutSchema):
    id = fields.Integer()
    at = fields.DateTime()
    from_ = fields.String(data_key="from", attribute="from_stage", metadata={"enum": STAGES})
    to = fields.String(attribute="to_stage", metadata={"enum": STAGES})
    actor = text_out(lambda t: t.actor.display_name if t.actor else None)
    actor_email = text_out(lambda t: t.actor.email if t.actor else None)
    source = fields.String()
    comment = fields.String()


class TransitionDone(TransitionOut):
    """The answer to a move: the transition, and for a department agent who submits a saisine
    while their department has no trained agent, the nudge of ``workflows.training``."""

    nudge = text_out(
        lambda t: getattr(t, "nudge", None),
        description="Submitted by an agent whose department has no agent trained in citizen "
        "participation: says so, names the next training sessions and the guide (French); "
        "null otherwise",
    )


class MoveOut(OutSchema):
    to = fields.String(metadata={"enum": STAGES})
    possible = fields.Boolean()
    comment_required = fields.Boolean()
    unmet = fields.List(fields.String())


class DemarcheOut(OutSchema):
    id = fields.Integer()
    slug = fields.String()
    stage = fields.String(metadata={"enum": STAGES})
    title = fields.String()
    department = text_out(lambda d: d.department.name if d.department else None)
    objectives = fields.String()
    public = fields.String()
    territory = fields.String(allow_none=True)
    participation_level = fields.String(allow_none=True, metadata={"enum": [*LEVELS, None]})
    elected_official = text_out(lambda d: d.elected_official.email if d.elected_official else None)
    desired_calendar = fields.String()
    budget = fields.Float(allow_none=True, metadata={"description": "In euros"})
    expected_participants = fields.Integer(allow_none=True)
    participation_ends_by = fields.Date(allow_none=True)
    presentation = fields.String()
    consultation_opens = fields.Date(allow_none=True)
    consultation_closes = fields.Date(allow_none=True)
    hold_for_review = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class MethodRef(OutSchema):
    slug = fields.String()
    name = fields.String()
    retired = fields.Boolean()


class UseOut(OutSchema):
    slug = fields.Function(lambda u: u.method.slug, metadata={"type": "string"})
    name = fields.Function(lambda u: u.method.name, metadata={"type": "string"})
    via = fields.String(metadata={"enum": ["event", "channel", "feedback"]})
    event_id = fields.Function(
        lambda u: u.event.id if u.event else None, metadata={"type": "integer", "nullable": True}
    )
    channel = fields.Function(
        lambda u: u.channel.value if u.channel else None,
        metadata={"type": "string", "nullable": True},
    )
    named = fields.Boolean(
        metadata={"description": "false: the channel's usual method, the démarche named none"}
    )


class DemarcheDetail(DemarcheOut):
    history = fields.List(fields.Nested(TransitionOut), attribute="transitions")
    moves = fields.List(fields.Nested(MoveOut))
    deadlines = fields.List(
        fields.Nested("DeadlineOut"),
        metadata={"description": "The charter's deadlines of the démarche and its questions"},
    )
    planned_methods = fields.List(
        fields.Nested(MethodRef),
        metadata={"description": "The methods planned, in order (the restitution last)"},
    )
    used_methods = fields.List(
        fields.Nested(UseOut),
        metadata={"description": "The methods really used: events, channels, the feedback"},
    )


class DemarcheList(OutSchema):
    items = fields.List(fields.Nested(DemarcheOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class DemarcheQuery(StrictSchema):
    stage = fields.String(validate=one_of(STAGES), metadata={"enum": STAGES})
    territory = fields.String()
    department = fields.String()
    elected_official = fields.String()
    page = page_field()
    per_page = per_page_field(200)


class ItemIn(StrictSchema):
    title = Text(items.MAX_TITLE, blank=False, required=True)
    text = Text(items.MAX_ITEM_TEXT, load_default="")
    position = fields.Integer(
        allow_none=True,
        validate=ma.validate.Range(
            min=1, max=10_000, error="a position between 1 and 10000 expected"
        ),
        metadata={"description": "1 = first; default last"},
    )


class ItemOut(OutSchema):
    id = fields.Integer()
    title = fields.String()
    text = fields.String()
    position = fields.Integer()


class ItemList(OutSchema):
    items = fields.List(fields.Nested(ItemOut))
    total = fields.Integer()


class ContributionIn(StrictSchema):
    item_id = fields.Integer(required=True, validate=ID)
    body = Text(contributions.MAX_BODY, blank=False, required=True)
    kind = fields.String(load_default="comment", metadata={"enum": KINDS})
    parent_id = fields.Integer(allow_none=True, validate=ID)
    title = fields.String(
        allow_none=True,
        metadata={"description": f"Cut at {contributions.MAX_TITLE} characters"},
    )
    channel = fields.String(
        metadata={
            "enum": CHANNELS,
            "description": "online for a citizen; the mission records "
            "another channel (default mail)",
        }
    )
    commune = Text(
        200, allow_none=True, metadata={"description": "Name, postal code or INSEE code"}
    )
    author_email = fields.Email(
        allow_none=True, metadata={"description": "Mission only: who gets the feedback"}
    )
    author_name = Text(MAX_NAME, allow_none=True)


def _author_name(c) -> str | None:
    """Staff see the name on record; anyone else what the public pages show."""
    if getattr(c, "show_email", False) or getattr(c, "staff_view", False):
        if c.participant is not None and c.participant.erased_at is None:
            return c.participant.name
    return public_author(c)


class ContributionOut(OutSchema):
    id = fields.Integer()
    item_id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    kind = fields.String(metadata={"enum": KINDS})
    channel = fields.String(metadata={"enum": CHANNELS})
    title = text_out(
        lambda c: None if c.status.value == "hidden" else c.title, description="null when hidden"
    )
    body = fields.Function(
        lambda c: "" if c.status.value == "hidden" else c.body,
        metadata={"type": "string", "description": "Empty when hidden"},
    )
    status = fields.String(metadata={"enum": CONTRIBUTION_STATUSES})
    moderation_reason = fields.String()
    commune_insee = fields.String(allow_none=True)
    canton_code = fields.String(allow_none=True)
    contributed_at = fields.DateTime()
    author_name = text_out(_author_name)
    author_email = text_out(
        lambda c: (
            c.participant.email if getattr(c, "show_email", False) and c.participant else None
        ),
        description="The mission only",
    )


class ContributionList(OutSchema):
    items = fields.List(fields.Nested(ContributionOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ContributionQuery(StrictSchema):
    item_id = fields.Integer(validate=ID)
    kind = fields.String(validate=one_of(KINDS))
    status = fields.String(validate=one_of(CONTRIBUTION_STATUSES))
    channel = fields.String(validate=one_of(CHANNELS))
    format = fields.String(
        validate=one_of(["json", "csv"]),
        metadata={"description": "csv: the export (staff), as text/csv"},
    )
    personal = fields.Boolean(
        load_default=False,
        metadata={"description": "With the authors' addresses and names (mission; audited)"},
    )
    page = page_field()
    per_page = per_page_field(500)


class DecisionIn(StrictSchema):
    outcome = fields.String(required=True, metadata={"enum": OUTCOMES})
    justification = Text(decisions.MAX_JUSTIFICATION, blank=False, required=True)


class DecisionOut(OutSchema):
    item_id = fields.Integer()
    outcome = fields.String(metadata={"enum": OUTCOMES})
    justification = fields.String()
    decided_at = fields.DateTime()
    decided_by = text_out(lambda d: d.decided_by.display_name if d.decided_by else None)


TEMPLATE_HELP = (
    "Plain text in which placeholders between square brackets become each recipient's own "
    "words: "
    + ", ".join(p.token for p in mailings.PLACEHOLDERS)
    + " (GET /api/v1/mailings/placeholders says what each becomes and which mailings may use "
    "it). The Jinja templates of before still read: variables name, demarche (title, url, "
    "territory), decisions (item, outcome, justification), contributions (item, outcome, "
    "justification, text, date), synthesis_url, event (title, place, when), unsubscribe_url"
)


def _subject(**kwargs) -> fields.String:
    return Text(
        mailings.MAX_SUBJECT,
        blank=False,
        metadata={"description": f"One line. {TEMPLATE_HELP}"},
        **kwargs,
    )


def _body(**kwargs) -> fields.String:
    return Text(mailings.MAX_BODY, blank=False, metadata={"description": TEMPLATE_HELP}, **kwargs)


class MailingIn(StrictSchema):
    kind = fields.String(required=True, metadata={"enum": MAILING_KINDS})
    demarche_id = fields.Integer(required=True, validate=ID)
    audience = fields.String(required=True, metadata={"enum": AUDIENCES})
    subject = _subject(required=True)
    body = _body(required=True)
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
    subject = _subject()
    body = _body()


class SendIn(StrictSchema):
    scheduled_at = fields.AwareDateTime(
        allow_none=True,
        default_timezone=ZoneInfo("Europe/Paris"),
        metadata={"description": "When to send (default now); Europe/Paris if no offset"},
    )


class Counts(OutSchema):
    to_send = fields.Integer()
    sent = fields.Integer()
    refused = fields.Integer()
    failed = fields.Integer()
    skipped = fields.Integer()
    uncertain = fields.Integer()
    cancelled = fields.Integer()


class MailingOut(OutSchema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": MAILING_KINDS})
    audience = fields.String(metadata={"enum": AUDIENCES})
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


class MailingList(OutSchema):
    items = fields.List(fields.Nested(MailingOut))
    total = fields.Integer()


class MailingQuery(StrictSchema):
    demarche_id = fields.Integer(validate=ID)
    status = fields.String(validate=one_of(MAILING_STATUSES))


class PreviewQuery(StrictSchema):
    address = fields.String(
        metadata={"description": "Render for this recipient (default: the first)"}
    )


class PreviewOut(OutSchema):
    address = fields.String()
    subject = fields.String()
    text = fields.String()


class DraftPreviewIn(MailingIn):
    address = Text(
        320,
        metadata={
            "description": "Render for this recipient of the audience (default, or not in "
            "it: the first one who will receive it)"
        },
    )


class RecipientOut(OutSchema):
    address = fields.String()
    name = fields.String()


class DraftPreviewOut(OutSchema):
    recipient = fields.Nested(
        RecipientOut,
        allow_none=True,
        metadata={"description": "null: a fictional recipient (nobody in the audience yet)"},
    )
    subject = fields.String()
    text = fields.String()
    choices = fields.List(
        fields.Nested(RecipientOut),
        metadata={"description": "The first 100 recipients who will receive it"},
    )
    placeholders = fields.List(
        fields.String(), metadata={"description": "The keys of the placeholders it may use"}
    )
    near_misses = fields.List(
        fields.List(fields.String()),
        metadata={"description": "[as written, the placeholder meant]: sent as written"},
    )


class PlaceholderQuery(StrictSchema):
    kind = fields.String(
        validate=one_of(MAILING_KINDS),
        metadata={"description": "Only those of this kind of mailing (default: all)"},
    )
    with_event = fields.Boolean(
        metadata={"description": "A mailing to one event's registrants (default false)"}
    )


class PlaceholderOut(OutSchema):
    key = fields.String()
    token = fields.String(metadata={"description": "What to write in the subject or text"})
    help = fields.String(metadata={"description": "What it becomes (French)"})
    block = fields.Boolean(metadata={"description": "Several lines: the text only"})
    needs = fields.String(
        allow_none=True,
        metadata={
            "description": "citizens: mailings to citizens only; event: to one event's registrants",
        },
    )


class PlaceholderList(OutSchema):
    items = fields.List(fields.Nested(PlaceholderOut))
    total = fields.Integer()


class DeadlineOut(OutSchema):
    id = fields.Integer()
    rule = fields.String(attribute="rule_code", metadata={"description": "The rule's code"})
    label = fields.Function(lambda d: d.rule.label, metadata={"type": "string"})
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


class DeadlineList(OutSchema):
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
    status = fields.String(validate=one_of(DEADLINE_STATUSES), metadata={"enum": DEADLINE_STATUSES})
    due_before = DateOrDateTime(
        metadata={
            "description": "A date: deadlines whose last day is on or before it; a date-time: "
            "those ending at or before it",
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
            ],
        }
    )
    demarche_id = fields.Integer(validate=ID)
    rule = fields.String(metadata={"description": "A rule's code"})
    page = page_field()
    per_page = per_page_field(500)


class WaiveIn(StrictSchema):
    reason = Text(
        charter.MAX_REASON,
        blank=False,
        required=True,
        metadata={"description": "Public on the record"},
    )


class AnswerIn(StrictSchema):
    answer = Text(
        questions.MAX_ANSWER,
        blank=False,
        required=True,
        metadata={"description": "Published under the question"},
    )


class QuestionOut(OutSchema):
    id = fields.Integer()
    demarche_id = fields.Integer()
    item_id = fields.Integer()
    body = fields.String()
    status = fields.String(metadata={"enum": CONTRIBUTION_STATUSES})
    contributed_at = fields.DateTime()
    answer = fields.String()
    answered_at = fields.DateTime(allow_none=True)
    answered_by = text_out(lambda c: c.answered_by.display_name if c.answered_by else None)
    deadline = fields.Nested(DeadlineOut, allow_none=True)


class ThemeOut(OutSchema):
    id = fields.String()
    item_id = fields.Integer(allow_none=True, metadata={"description": "None: overall"})
    label = fields.String()
    size = fields.Integer(metadata={"description": "Contributions it weighs most in"})
    terms = fields.List(fields.String())
    quotes = fields.List(fields.String(), metadata={"description": "Pseudonymised"})


class CopiesOut(OutSchema):
    size = fields.Integer()
    item_ids = fields.List(fields.Integer())
    text = fields.String(metadata={"description": "The text they share, pseudonymised"})


class SynthesisOut(OutSchema):
    version = fields.Integer()
    status = fields.String(metadata={"enum": SYNTHESIS_STATUSES})
    built_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    introduction = fields.String()
    introduction_model = fields.String(
        allow_none=True,
        metadata={
            "description": "For the mission, while this version has no introduction and may "
            "still change: the model introduction filled from it (French), to rewrite and "
            "send as introduction; null otherwise"
        },
    )
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


class SynthesisVersionOut(OutSchema):
    version = fields.Integer()
    status = fields.String(metadata={"enum": SYNTHESIS_STATUSES})
    built_at = fields.DateTime()
    edited_at = fields.DateTime(
        allow_none=True, metadata={"description": "The mission's last change to its text"}
    )
    validated_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)


class SynthesisVersionList(OutSchema):
    items = fields.List(
        fields.Nested(SynthesisVersionOut), metadata={"description": "Newest first"}
    )
    total = fields.Integer()
    matters = fields.Integer(
        allow_none=True,
        metadata={
            "description": "The version GET …/synthesis gives the caller: the published one; "
            "for staff, else the draft the mission is editing, else the newest build"
        },
    )


class SynthesisPatch(StrictSchema):
    introduction = Text(versions.MAX_TEXT)
    summaries = fields.Dict(
        keys=fields.String(),
        values=Text(versions.MAX_TEXT),
        metadata={"description": "Item id → its summary (the items not named keep theirs)"},
    )
    labels = fields.Dict(
        keys=fields.String(),
        values=Text(versions.MAX_LABEL, blank=False),
        metadata={"description": "Theme id → its name, on one line"},
    )


class ThemeMergeIn(StrictSchema):
    theme = fields.String(
        required=True,
        validate=MaxLength(100),
        metadata={"description": "The theme that joins the other one (it is no more)"},
    )
    into = fields.String(
        required=True,
        validate=MaxLength(100),
        metadata={"description": "The theme that stays (same item, or both overall)"},
    )


class BuildRequestOut(OutSchema):
    demarche_id = fields.Integer()
    newest_version = fields.Integer(
        allow_none=True,
        metadata={
            "description": "The newest version when asked (null: none yet); the new one is "
            "numbered above it in GET …/synthesis/versions"
        },
    )
