"""What makes a mailing fast changes nothing of what it sends: the email written straight to
bytes is the one the ``email`` package writes, byte for byte (what it cannot write it leaves
to the package), and a subject rendered once for a mailing is one that names nobody."""

from __future__ import annotations

import email
from email.policy import default as default_policy

import pytest

from backoffice.outgoing import mail
from workflows.mailings.templates import reads_the_same_for_all

BOUNDARY = "=_0123456789abcdef0123456789abcdef"
LONG = "Une contribution très longue, écrite d'un seul paragraphe. " * 40


@pytest.mark.parametrize(
    ("subject", "text", "html", "extra"),
    [
        ("Ce que votre participation a permis", "Bonjour,\n\nMerci.\n", "<p>Merci.</p>\n", {}),
        ("Accents é « guillemets » " * 6, LONG + "\n\n-- \nfin\n", "<p>" + LONG + "</p>", {}),
        ("Sans HTML", "ligne\r\nautre\rencore\n=égal= \t\n", None, {}),
        (
            "Retour",
            "Se désabonner : https://x.fr/u/abc\n",
            '<a href="https://x.fr/u/abc">x</a>',
            {"List-Unsubscribe": "<https://x.fr/u/abc>", "List-Unsubscribe-Post": "One-Click"},
        ),
        ("Vide", "", "", {}),
    ],
)
def test_the_written_bytes_are_the_email_packages(app, subject, text, html, extra):
    with app.app_context():
        message = mail.build_message("personne@exemple.fr", subject, text, html or "")
        if html is None:
            message.html = None
            message.alts = {}
        message.extra_headers = extra
        message.date = 1_765_000_000.0
        written = message.written(BOUNDARY)
        assert written is not None
        assert written == message.flattened(BOUNDARY)
        parsed = email.message_from_bytes(written, policy=default_policy)
        assert parsed["Subject"] == subject
        assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == (
            text.replace("\r\n", "\n").replace("\r", "\n")
        )


def test_attachments_and_non_ascii_headers_go_through_the_email_package(app):
    with app.app_context():
        message = mail.build_message("personne@exemple.fr", "Invitation", "Texte", "")
        message.attach("evenement.ics", "text/calendar", b"BEGIN:VCALENDAR")
        assert message.written(BOUNDARY) is None
        assert b"evenement.ics" in message.as_bytes()
        message = mail.build_message("personne@exemple.fr", "Objet", "Texte", "")
        message.extra_headers = {"X-Note": "déjà"}
        assert message.written(BOUNDARY) is None
        assert b"X-Note: =?utf-8?" in message.as_bytes()


@pytest.mark.parametrize(
    ("subject", "same"),
    [
        ("Ce que votre participation à « [Titre de la démarche] » a permis", True),
        ("Retour sur {{ demarche.title }}", True),
        ("[Bonjour et nom du destinataire], voici la suite", False),
        ("Pour {{ name }}", False),
        ("{% set n = name %}{{ n }}", False),
        ("{{ contributions | length }} contributions", False),
        ("{{ ['a', 'b'] | random }}", False),
        ("{{ unsubscribe_url }}", False),
        ("{% if %}", False),  # does not read: rendered (and refused) for each
    ],
)
def test_a_subject_is_rendered_once_only_when_it_names_nobody(subject, same):
    assert reads_the_same_for_all(subject) is same


@pytest.mark.parametrize(
    "address",
    [
        "camille.martin@exemple.fr",
        "jean+retour@mairie-muret.fr",
        "Camille Martin <camille@exemple.fr>",
        '"a b"@exemple.fr',
        "(note)camille@exemple.fr",
        "a@[10.0.0.1]",
    ],
)
@pytest.mark.parametrize("options", [(), ("size=1234",), ("SMTPUTF8", "size=10")])
def test_the_envelope_is_the_one_smtplib_writes(address, options):
    """MAIL FROM and RCPT TO skip smtplib's address parse only where it would change nothing."""

    def commands(client: type) -> list[str]:
        smtp = client()
        smtp.does_esmtp = True
        smtp.esmtp_features = {"smtputf8": ""}
        sent: list[str] = []
        smtp.putcmd = lambda cmd, args="": sent.append(f"{cmd} {args}")
        smtp.getreply = lambda: (250, b"ok")
        smtp.mail(address, options)
        smtp.rcpt(address, options)
        return sent

    import smtplib

    assert commands(mail._SMTP) == commands(smtplib.SMTP)


@pytest.mark.parametrize(
    "message",
    [
        b"Subject: x\r\n\r\nBonjour.\r\n",
        b"Subject: x\r\n\r\nSans fin de ligne",
        b".Subject: x\r\n\r\nUn point d'abord\r\n",
        b"Subject: x\r\n\r\nUne ligne\r\n.\r\nUn point seul\r\n..deux\r\n",
        b"Subject: x\r\n\r\nFin de ligne nue\n.point\n",
        "Subject: é\n\nDu texte\n.point\n",
    ],
)
def test_data_is_the_one_smtplib_writes(message):
    """DATA is dot-stuffed as smtplib does it, without its regex."""
    import smtplib

    def written(client: type) -> list[bytes]:
        smtp = client()
        sent: list[bytes] = []
        smtp.putcmd = lambda cmd, args="": sent.append(f"{cmd} {args}".encode())
        smtp.getreply = lambda: (354, b"go") if sent[-1:] == [b"data "] else (250, b"ok")
        smtp.send = lambda data: sent.append(data if isinstance(data, bytes) else data.encode())
        assert smtp.data(message) == (250, b"ok")
        return sent

    if isinstance(message, str):  # smtplib wants ASCII text; ours passes it on the same way
        message = message.replace("é", "e")
    assert written(mail._SMTP) == written(smtplib.SMTP)


def _html_per_paragraph(text: str, links=None) -> str:
    """The HTML part as it was written before, paragraph by paragraph: the reference."""
    import html
    import re

    from markupsafe import escape

    def link(match):
        url = match.group(0)
        if links is not None and html.unescape(url) not in links:
            return url
        return f'<a href="{url}">{url}</a>'

    parts = []
    for paragraph in [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]:
        linked = mail.URL.sub(link, str(escape(paragraph)))
        parts.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return "\n".join(parts)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  \n \n\t\n",
        "Bonjour Camille,\n\nVotre avis : « <b>plus</b> de bus & de vélos ».\nMerci.\n",
        'Lien : https://dialogue.test/d?x=1&y=2\n\n\n  https://autre.fr/a"b\n\nFin https://x.fr',
        "Un paragraphe\n   \n\n  indenté\r\nsuite\u00a0\n\n\u2028\n\nhttps://dialogue.test/",
    ],
)
@pytest.mark.parametrize("links", [None, {"https://dialogue.test/d?x=1&y=2"}])
def test_the_html_part_is_the_one_written_paragraph_by_paragraph(text, links):
    assert mail.text_to_html(text, links=links) == _html_per_paragraph(text, links)
