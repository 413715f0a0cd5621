"""One retry policy for both delivery engines — the outbox (``workflows.outbox``: receipts,
notices, password resets) and the mailings (``workflows.mailings``).

A message the relay deferred (SMTP 4xx, a timeout, a lost or refused connection) is tried
again after 1, 2, 4 … 32 minutes, then every hour: ``MAX_ATTEMPTS`` attempts in all, the last
about two hours after the first (a relay down that long, a mailbox full that long); then it is
failed. A permanent refusal (5xx) is never tried again. The first delay is ``FIRST_RETRY``; a
mailing's may be set (``MAILING_RETRY_AFTER``, e.g. shorter in the fault tests), the doubling
and the cap stay.
"""

from __future__ import annotations

from datetime import timedelta

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
#: No wait is longer than this many first delays (an hour with the default).
CAP = 60


def backoff(attempts: int, first: timedelta = FIRST_RETRY) -> timedelta:
    """How long after its ``attempts``-th failed attempt a message is tried again."""
    return first * min(2 ** max(attempts - 1, 0), CAP)


def exhausted(attempts: int) -> bool:
    """After this many attempts, a deferred message is failed rather than tried again."""
    return attempts >= MAX_ATTEMPTS
