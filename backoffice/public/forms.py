"""Public forms: Flask-WTF (CSRF), French labels, a honeypot field against simple bots."""

from __future__ import annotations

from flask_babel import lazy_gettext as _L
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from workflows.contributions import MAX_BODY


class HoneypotForm(FlaskForm):
    """A field people never see nor fill (hidden by CSS, skipped by keyboards and screen
    readers); bots that fill every field give themselves away."""

    website = StringField(
        _L("Leave this field empty"),
        render_kw={
            "tabindex": "-1",
            "autocomplete": "off",
            "aria-hidden": "true",
        },
    )

    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())


class ContributionForm(HoneypotForm):
    kind = SelectField(
        _L("Your contribution is"),
        choices=[
            SelectChoice("comment", _L("a comment")),
            SelectChoice("question", _L("a question to the department")),
            SelectChoice("proposal", _L("a proposal")),
        ],
        default="comment",
    )
    body = TextAreaField(_L("Your text"), validators=[DataRequired(), Length(max=MAX_BODY)])
    parent_id = HiddenField()


class ReportForm(FlaskForm):
    reason = TextAreaField(
        _L("Why should the moderation look at it?"), validators=[Optional(), Length(max=1000)]
    )


class EventRegistrationForm(HoneypotForm):
    # No name here: whoever types an address may not be its owner. The owner gives their
    # name, if they wish, when they confirm (ConfirmRegistrationForm).
    email = EmailField(
        _L("Your email address"), validators=[Optional(), Email(check_deliverability=False)]
    )


class ConfirmRegistrationForm(FlaskForm):
    name = StringField(
        _L("Your name"),
        validators=[Optional(), Length(max=160)],
        description=_L("Optional: for the attendance list and our emails to you."),
    )


class CancelForm(FlaskForm):
    pass


class ConsentForm(FlaskForm):
    consent_feedback = BooleanField(_L("Tell me what became of my contributions"))
    consent_territory_news = BooleanField(_L("Tell me of new démarches in my territory"))
    consent_survey = BooleanField(
        _L("Ask me my opinion of the démarches I took part in (a short questionnaire)")
    )
    commune = StringField(
        _L("My commune in Haute-Garonne (optional)"),
        validators=[Optional(), Length(max=80)],
        description=_L(
            "Its name or its postal code; it tells us your canton for the news of your territory."
        ),
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_L("Your password"), validators=[DataRequired()])
    confirm = BooleanField(
        _L(
            "I understand that my account and my personal data are deleted "
            "for good; my contributions stay, without my name."
        ),
        validators=[DataRequired()],
    )
