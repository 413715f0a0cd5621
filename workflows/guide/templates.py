"""The templates the guide shows — the invitation, the feedback message, the synthesis
introduction — read from the very files the project sends them from, with the meaning of
each bracketed field as the mailing editor explains it. Never copied: edit the file, the
guide follows."""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_, Msg
from ..mailings.placeholders import used
from ..mailings.policy import AUDIENCES
from ..mailings.templates import default_text
from ..models import Audience, MailingKind
from ..syntheses import introduction


@dataclass(frozen=True)
class TemplateText:
    key: str
    title: Msg
    use: Msg
    to: tuple[Msg, ...]  # who receives it (nothing for the synthesis introduction)
    subject: str
    text: str
    fields: tuple[tuple[str, Msg], ...]  # (the bracketed field, what it becomes)
    source: str  # the file it comes from


#: Which mailings the guide shows, with when they are used.
MAILINGS = (
    (
        MailingKind.INVITATION,
        N_(
            "The text an invitation to take part starts from: the mission adapts it and sends "
            "it when the démarche opens."
        ),
    ),
    (
        MailingKind.FEEDBACK,
        N_(
            "The message that tells each participant what their participation made possible: "
            "it goes out by itself when the démarche enters its feedback stage, unless the "
            "mission wrote its own."
        ),
    ),
)


def _mailing(kind: MailingKind, use: Msg) -> TemplateText:
    subject, text = default_text(kind)
    audiences = tuple(a.label for a in Audience if a in AUDIENCES[kind])
    return TemplateText(
        key=kind.value,
        title=kind.label,
        use=use,
        to=audiences,
        subject=subject,
        text=text.strip(),
        fields=tuple((p.token, p.help) for p in used(f"{subject}\n{text}")),
        source=f"workflows/data/mailings/{kind.value}.txt",
    )


def template_texts() -> tuple[TemplateText, ...]:
    return (
        *(_mailing(kind, use) for kind, use in MAILINGS),
        TemplateText(
            key="synthesis_introduction",
            title=N_("Introduction of a synthesis"),
            use=N_(
                "The introduction a synthesis version offers, filled from the version, until "
                "the mission writes its own; it opens the published synthesis."
            ),
            to=(),
            subject="",
            text=introduction.model(),
            fields=introduction.FIELDS,
            source=f"workflows/{introduction.MODEL}",
        ),
    )
