"""The mailing editor of the back office: the placeholders to insert (the domain's list, in
the writer's words), and the preview of the text being written for a real recipient of its
audience — on the page (« Prévisualiser », without JavaScript) and as JSON for the live
preview (``MailingView.preview_view``). Both render through ``workflows.mailings.preview``:
the sending's sandbox, its budget, and nobody's personal data for who may not see it."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext, lazy_gettext
from flask_security import current_user

from workflows import mailings as domain
from workflows.access import parse_id
from workflows.errors import DomainError, InvalidFields
from workflows.i18n import N_
from workflows.mailings.audiences import Recipient
from workflows.models import MailingKind

from ..extensions import db
from ..i18n import tr
from ..outgoing.mail import text_to_html
from ..outgoing.mailer import budget, links

#: The template of the creation and edition pages.
EDITOR = "admin/mailing/edit.html"

#: What the skip reasons mean, in the counts of a mailing.
SKIP_LABELS = {
    "no_consent": lazy_gettext("without the consent this kind of mailing needs"),
    "suppressed": lazy_gettext("on the suppression list (the address bounced)"),
    "unsubscribed": lazy_gettext("unsubscribed"),
    "erased": lazy_gettext("account deleted"),
    "registration_cancelled": lazy_gettext("registration cancelled"),
    "event_moved": lazy_gettext("the event moved"),
}


def fields_from(values: Any) -> dict[str, Any]:
    """A mailing's fields from a posted form (the editor's, or its live preview's)."""
    event = values.get("event_id") or ""
    return {
        "kind": values.get("kind") or "",
        "audience": values.get("audience") or "",
        "demarche_id": parse_id(values.get("demarche_id")),
        "event_id": parse_id(event) if event else None,
        "subject": values.get("subject") or "",
        "body": values.get("body") or "",
    }


def _kind(value: object) -> MailingKind | None:
    return next((k for k in MailingKind if k.value == value), None)


def placeholders(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """Every placeholder, in the writer's words, marked whether this mailing may use it."""
    allowed = {
        p.key for p in domain.available(_kind(fields["kind"]), with_event=bool(fields["event_id"]))
    }
    return [
        {
            "key": p.key,
            "token": p.token,
            "help": tr(p.help),
            "block": p.block,
            "available": p.key in allowed,
        }
        for p in domain.PLACEHOLDERS
    ]


def recipient_label(recipient: Recipient) -> str:
    """« Name <address> », and why they will not receive the mailing if they will not."""
    label = f"{recipient.name} <{recipient.address}>" if recipient.name else recipient.address
    if recipient.skip:
        why = SKIP_LABELS.get(recipient.skip, recipient.skip)
        label += " — " + gettext("will not receive it: %(why)s", why=why)
    return label


def preview(fields: dict[str, Any], address: str | None) -> dict[str, Any]:
    """The preview of ``fields`` for ``address`` (else the first recipient), as the page and
    the JSON show it: ``ok`` and ``subject``, ``html``, ``recipient`` (None: a fictional
    one), ``choices`` (address, label), ``notes``; or ``errors`` by field."""
    answer: dict[str, Any] = {
        "placeholders": [p["key"] for p in placeholders(fields) if p["available"]]
    }
    try:
        shown = domain.preview(
            db.session(),
            current_user,
            fields,
            links=links(),
            address=address,
            label=tr,
            budget=budget(),
        )
    except InvalidFields as exc:
        return {**answer, "ok": False, "errors": {k: [tr(m)] for k, m in exc.errors.items()}}
    except DomainError as exc:
        return {**answer, "ok": False, "errors": {"": [tr(m) for m in exc.messages]}}
    return {
        **answer,
        "ok": True,
        "subject": shown.subject,
        "html": text_to_html(shown.text),
        "recipient": shown.recipient.address if shown.recipient else None,
        "recipient_label": recipient_label(shown.recipient)
        if shown.recipient
        else tr(
            N_(
                "%(name)s, a fictional recipient: nobody in the audience yet",
                name=domain.SAMPLE_NAME,
            )
        ),
        "choices": [{"address": r.address, "label": recipient_label(r)} for r in shown.choices],
        "notes": [
            tr(
                N_(
                    "%(written)s is not a placeholder and will be sent as it is: "
                    "did you mean %(token)s?",
                    written=written,
                    token=token,
                )
            )
            for written, token in shown.near_misses
        ],
    }


def editor(form: Any) -> dict[str, Any]:
    """What the editor page shows beside the form: the placeholders, the preview (or why
    there is none), and each kind's default text for the script to offer."""
    fields = fields_from(
        {name: getattr(form, name).data for name in fields_from({}) if hasattr(form, name)}
    )
    address = request.values.get("preview_address")
    defaults = {}
    for kind in MailingKind:
        subject, body = domain.default_text(kind)
        defaults[kind.value] = {"subject": subject, "body": body}
    return {
        "placeholders": placeholders(fields),
        "preview": preview(fields, address),
        "defaults": defaults,
        "preview_url": url_for(".preview_view"),
    }
