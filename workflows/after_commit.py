"""Work for the workers that waits for the commit of the transaction that asked for it.

A domain function that wants a worker to act on what it wrote — deliver the outbox rows, start
a mailing, build a synthesis, read an uploaded file, make the guide's PDF again — records a
*job* (a task's name and its arguments) with ``after_commit(session, task, *args)``; the
outbox's rows, many per commit, gather into one job with ``after_commit_each``. The jobs wait
in ``session.info``:

- after the real commit, the web or worker side (``backoffice.after_commit``, the one listener)
  takes them with ``committed`` and publishes each;
- after the real rollback, ``rolled_back`` drops them: what they were about never existed;
- a SAVEPOINT released or rolled back changes nothing: the outer transaction decides.

A job is a hint, never the only record: if it is lost (broker away, process killed), a periodic
sweep finds the same work from the rows (``due_ids``, ``sweep``, ``missing_builds`` …). A task
is therefore idempotent, and the same job recorded twice in a transaction is published once.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

#: ``session.info`` key: the jobs of the transaction under way, in the order recorded.
JOBS = "after_commit.jobs"

# The workers' tasks the domain asks for, by name (the domain never imports the workers).
DELIVER_OUTBOX = "workers.deliver_outbox"  # (ids): the outbox rows written
START_MAILING = "workers.start_mailing"  # (mailing id): a mailing due now
BUILD_SYNTHESIS = "workers.build_synthesis"  # (démarche id, trigger or None)
RENDER_SYNTHESIS = "workers.render_synthesis"  # (synthesis id): a published version's files
PREVIEW_IMPORT = "workers.preview_import"  # (import id): a file too large to read in a request
RUN_IMPORT = "workers.run_import"  # (import id): an import too large to run in a request
RENDER_GUIDE = "workers.render_guide"  # (): the guide's PDF, if what it shows changed
RENDER_REPORT = "workers.render_report"  # (year): the yearly report's documents


@dataclass(frozen=True)
class Job:
    task: str
    args: tuple[object, ...]


def _jobs(session: Session) -> dict:
    # Keys: (task, args) for a job; a task's name alone for the list that ``after_commit_each``
    # gathers. A dict keeps the order and publishes a repeated job once.
    return session.info.setdefault(JOBS, {})


def after_commit(session: Session, task: str, *args: Hashable) -> None:
    """Publish ``task(*args)`` once the transaction commits; nothing if it rolls back.

    Recorded by the function that writes what the job is about, in the same transaction
    (a session that wrote nothing has no transaction to roll back: its jobs would wait for
    the next commit)."""
    _jobs(session).setdefault((task, args), None)


def after_commit_each(session: Session, task: str, items: Iterable[Hashable]) -> None:
    """Add ``items`` to the one job ``task([all the items of the transaction])``: the outbox's
    new rows go to the workers as one task per commit, however many modules wrote some."""
    _jobs(session).setdefault(task, []).extend(items)


def pending(session: Session) -> list[Job]:
    """The jobs recorded in the transaction under way (they stay recorded)."""
    jobs = []
    for key, items in session.info.get(JOBS, {}).items():
        if isinstance(key, str):
            if items:
                jobs.append(Job(key, (list(items),)))
        else:
            task, args = key
            jobs.append(Job(task, args))
    return jobs


def committed(session: Session) -> list[Job]:
    """The jobs to publish now that ``session`` committed, forgotten here; none when only a
    SAVEPOINT was released (its rows are not committed yet, nor may ever be)."""
    if session.in_nested_transaction():
        return []
    jobs = pending(session)
    session.info.pop(JOBS, None)
    return jobs


def rolled_back(session: Session) -> None:
    """Forget the jobs of a transaction that rolled back; a SAVEPOINT rolled back keeps them
    (the rows written before it still stand, and a job about a row that is gone finds
    nothing to do)."""
    if not session.in_nested_transaction():
        session.info.pop(JOBS, None)
