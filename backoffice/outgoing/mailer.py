"""Mailings on the web side: the SMTP sender of the delivery engine, the links its messages
carry (their unsubscription tokens are made in ``tokens``).

The domain (``workflows.mailings``) renders each recipient's subject and text; here the text
becomes the HTML part too (one source for both), the message gets its ``List-Unsubscribe``
headers, and SMTP answers become the domain's delivery errors.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import flask_mail
from flask import current_app
from redis import Redis
from redis.exceptions import RedisError

from workflows import mailings, survey
from workflows.clock import utcnow
from workflows.mailings import Composer, Letter, Links, Spacer
from workflows.models import Mailing
from workflows.sandbox import Budget

from ..i18n import tr
from ..tokens import survey_token, unsubscribe_token
from . import links as urls
from .mail import build_message, connection, send, text_to_html

log = logging.getLogger(__name__)


def links() -> Links:
    """Absolute links under ``BASE_URL`` (``outgoing.links``), in a request as in a worker."""
    unsubscribe = urls.url_with("public.unsubscribe", "token")
    return Links(
        demarche=lambda d: urls.url("public.demarche", slug=d.slug),
        unsubscribe=lambda participant_id, scope: unsubscribe(
            unsubscribe_token(participant_id, scope)
        ),
        # A preview's link (answers nothing); the sending's composer makes the real ones.
        questionnaire=lambda demarche_id, participant_id: questionnaire_url(
            None, demarche_id, None
        ),
    )


def budget() -> Budget:
    """What rendering one message may spend (``MAILING_RENDER_SECONDS``,
    ``MAILING_RENDER_CHARS``; a subject gets a fifth of the time and 20,000 characters)."""
    config = current_app.config
    return Budget(seconds=config["MAILING_RENDER_SECONDS"], chars=config["MAILING_RENDER_CHARS"])


def questionnaire_url(session: Any, demarche_id: int, participant_id: int | None) -> str:
    """A recipient's own link to the survey (their invitation, made the first time); a
    preview's or a test's (``participant_id`` None) answers nothing."""
    if participant_id is None:
        return urls.url("public.questionnaire", token="exemple")
    nonce = survey.invitation_nonce(session, demarche_id, participant_id, as_of=utcnow())
    return urls.url("public.questionnaire", token=survey_token(nonce))


def composer(session: Any, mailing: Mailing) -> Composer:
    with_links = replace(links(), questionnaire=lambda d, p: questionnaire_url(session, d, p))
    return Composer(session, mailing, with_links, label=tr, budget=budget())


def build(letter: Letter) -> flask_mail.Message:
    """The email of a letter: text part, the same text as HTML, unsubscription headers."""
    # The layout straight from Jinja (compiled once, cached by the environment): it reads
    # only what it is given, so Flask's context processors need not run for each message.
    layout = current_app.jinja_env.get_template("emails/layout.html")
    # Its own variables only ("shared"): the app's globals, which it does not read, are not
    # copied into a context for every message.
    context = layout.new_context(
        {
            "subject": letter.subject,
            "body": text_to_html(letter.text),
            "unsubscribe_url": letter.unsubscribe_url,
        },
        shared=True,
    )
    html = layout.environment.concat(layout.root_render_func(context))
    text = letter.text
    if letter.unsubscribe_url:
        text = text.rstrip() + "\n\n-- \nSe désabonner : " + letter.unsubscribe_url + "\n"
    message = build_message(letter.address, letter.subject, text, html)
    if letter.unsubscribe_url:
        message.extra_headers = {
            "List-Unsubscribe": f"<{letter.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return message


class SmtpSender:
    """One SMTP connection of the engine: ``send(letter)`` returns the Message-ID."""

    def __init__(self, conn: flask_mail.Connection) -> None:
        self.conn = conn

    def send(self, letter: Letter) -> str:
        return send(build(letter), self.conn)


@contextmanager
def smtp_opener() -> Iterator[SmtpSender]:
    """A connection reused for a whole chunk (``MAIL_TIMEOUT`` on every operation)."""
    with connection() as conn:
        yield SmtpSender(conn)


def send_test(session: Any, mailing: Mailing, to: str, address: str | None = None) -> str:
    """Send the mailing as ``address`` (else its first recipient) would read it, to ``to``
    (whose own unsubscription link it carries, not the recipient's)."""
    recipient = mailings.sample_recipient(session, mailing, address)
    letter = composer(session, mailing).compose(
        to,
        recipient.name if recipient else "",
        recipient.participant_id if recipient else None,
        test=True,
    )
    return send(build(replace(letter, subject="[TEST] " + letter.subject)))


def display_subject(mailing: Mailing) -> str:
    """The subject as the lists of mailings show it: rendered for nobody in particular,
    within a subject's budget; the body is never rendered for a list."""
    return mailings.subject_line(mailing, links(), budget())


class RedisThrottle:
    """``rate`` messages a second for every worker process together (the relay's limit):
    a counter per time window in Redis; who finds the window full waits for the next one.
    If Redis does not answer, this process falls back to its own spacing."""

    def __init__(
        self,
        client: Any,
        rate: float,
        key: str = "dialogue:mailing-rate",
        sleep: Any = time.sleep,
        clock: Any = time.time,
    ) -> None:
        self.client, self.key, self.sleep, self.clock = client, key, sleep, clock
        self.window = max(1.0, 1.0 / rate)
        self.allowed = max(1, int(rate * self.window))
        self.fallback = Spacer(rate, sleep)

    def __call__(self) -> None:
        while True:
            now = self.clock()
            slot = int(now // self.window)
            key = f"{self.key}:{slot}"
            try:
                pipe = self.client.pipeline()
                pipe.incr(key)
                pipe.expire(key, math.ceil(self.window) + 1)
                taken = pipe.execute()[0]
            except RedisError:
                log.warning("mailing rate: Redis does not answer; spacing this process alone")
                return self.fallback()
            if taken <= self.allowed:
                return None
            self.sleep((slot + 1) * self.window - now)


def throttle() -> Any:
    """The throttle of the workers' SMTP sends (``MAILING_RATE``; 0: none): shared through
    Redis when the broker is Redis, else per process."""
    rate = current_app.config["MAILING_RATE"]
    if rate <= 0:
        return None
    url = current_app.config.get("REDIS_URL") or ""
    if url.startswith(("redis://", "rediss://")):
        return RedisThrottle(_redis(url), rate)
    return Spacer(rate)


@functools.cache
def _redis(url: str) -> Any:
    return Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
