"""Thin tasks: each takes ids or nothing, re-reads the database and calls the domain."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from backoffice.extensions import db
from backoffice.outgoing import mailer
from backoffice.outgoing.guide import make_edition
from backoffice.outgoing.notifications import send_notification
from workflows import calendar, charter, digests, events, imports, mailings, outbox
from workflows.clock import utcnow
from workflows.models import Demarche
from workflows.sheets import FileLimits

from .limits import memory_limit


@shared_task(name="workers.deliver_outbox")
def deliver_outbox(ids: list[int]) -> dict[str, int]:
    """Send the given outbox rows (those already sent or claimed are skipped)."""
    return outbox.deliver(db.session(), ids, send=send_notification)


@shared_task(name="workers.sweep_outbox")
def sweep_outbox() -> dict[str, int]:
    """Send what is due and was never picked up, or whose worker died."""
    return outbox.deliver(
        db.session(), outbox.due_ids(db.session(), utcnow()), send=send_notification
    )


@shared_task(name="workers.advance_calendar")
def advance_calendar() -> list[str]:
    """Open and close the consultations whose dates have come."""
    return calendar.advance(db.session(), as_of=utcnow()).lines()


@shared_task(name="workers.run_import")
def run_import(import_id: int) -> str:
    """Import a queued file of contributions, with progress (safe to run twice)."""
    limits = FileLimits.from_settings(current_app.config)
    record = imports.run_import(db.session(), import_id, limits=limits)
    return record.status.value if record else "taken by another run"


@shared_task(name="workers.preview_import")
def preview_import(import_id: int) -> str:
    """Read a large file into its preview, within IMPORT_PREVIEW_MEMORY bytes of memory."""
    limits = FileLimits.from_settings(current_app.config)
    with memory_limit(current_app.config["IMPORT_PREVIEW_MEMORY"]):
        record = imports.preview_import(db.session(), import_id, limits=limits)
    return record.status.value if record else "taken by another worker"


@shared_task(name="workers.sweep_imports")
def sweep_imports() -> list[int]:
    """Hand out again the imports a lost task or a dead worker left; forget stale previews."""
    now = utcnow()
    for import_id in imports.lost_previews(db.session(), as_of=now):
        preview_import.delay(import_id)
    ids = imports.sweep_imports(db.session(), as_of=now)
    for import_id in ids:
        run_import.delay(import_id)
    return ids


def _hand_out(mailing_id: int, count: int) -> None:
    for _ in range(count):
        deliver_mailing.delay(mailing_id)


@shared_task(name="workers.start_mailing")
def start_mailing(mailing_id: int) -> int:
    """Write a due mailing's delivery rows and set its chunks going (safe to run twice)."""
    rows = mailings.start(db.session(), mailing_id, as_of=utcnow())
    _hand_out(
        mailing_id,
        mailings.chunks_wanted(
            db.session(), mailing_id, current_app.config["MAILING_PARALLEL"], utcnow()
        ),
    )
    return rows


@shared_task(name="workers.deliver_mailing")
def deliver_mailing(mailing_id: int) -> dict[str, int | str] | None:
    """Send one chunk of a mailing over one SMTP connection; hand the mailing on if rows are
    still due. Rows recorded as sent are never sent again, however often this runs."""
    config = current_app.config
    report, more = mailings.deliver_chunk(
        db.session(),
        mailing_id,
        mailer.smtp_opener,
        lambda mailing: mailer.composer(db.session(), mailing),  # links under BASE_URL
        size=config["MAILING_CHUNK"],
        throttle=mailer.throttle(),
        retry_after=timedelta(seconds=config["MAILING_RETRY_AFTER"]),
        batch=config["MAILING_RECORD_BATCH"],
        parallel=config["MAILING_PARALLEL"],
    )
    if more:
        deliver_mailing.delay(mailing_id)
    return vars(report) if report is not None else None


@shared_task(name="workers.sweep_mailings")
def sweep_mailings() -> dict[str, int]:
    """Start the scheduled mailings that are due, settle what dead workers left, and hand
    out the chunks that no worker is sending (retries that came due, lost tasks)."""
    now = utcnow()
    report = mailings.sweep(db.session(), as_of=now)
    handed = 0
    for mailing_id in {*report.started, *report.to_send}:
        count = mailings.chunks_wanted(
            db.session(), mailing_id, current_app.config["MAILING_PARALLEL"], now
        )
        _hand_out(mailing_id, count)
        handed += count
    return {"started": len(report.started), "uncertain": report.uncertain, "chunks": handed}


@shared_task(name="workers.sweep_reminders")
def sweep_reminders() -> list[int]:
    """Make the reminders of the events starting within two days (each once)."""
    return mailings.schedule_reminders(db.session(), as_of=utcnow())


@shared_task(name="workers.expire_registrations")
def expire_registrations() -> list[int]:
    """Lapse the registrations made by typing an address that nobody confirmed in time."""
    return events.expire_pending(db.session(), as_of=utcnow())


@shared_task(name="workers.scan_charter")
def scan_charter() -> list[str]:
    """The charter's reminders and missed deadlines (each notice once)."""
    return charter.scan(db.session(), as_of=utcnow()).lines


@shared_task(name="workers.send_digests")
def send_digests() -> int:
    """The elected officials' weekly digest (once a week each)."""
    return digests.send_weekly(db.session(), as_of=utcnow())


@shared_task(name="workers.build_synthesis")
def build_synthesis(demarche_id: int, trigger: str | None = None) -> int | None:
    """Build a version of the démarche's synthesis (once per trigger); its version number."""
    from workflows.syntheses import build  # spaCy and scikit-learn: only where syntheses run

    d = db.session.get(Demarche, demarche_id)
    if d is None:
        return None
    return build.build(db.session(), d, actor=None, as_of=utcnow(), trigger=trigger).version


@shared_task(name="workers.sweep_syntheses")
def sweep_syntheses() -> list[int]:
    """Build what entering the synthesis stage asked for and a lost task never built."""
    from workflows.syntheses.requests import missing_builds, missing_documents

    versions = []
    for demarche_id, trigger in missing_builds(db.session()):
        versions.append(build_synthesis(demarche_id, trigger))
    for synthesis_id in missing_documents(db.session()):
        render_synthesis(synthesis_id)
    return versions


@shared_task(name="workers.render_guide")
def render_guide() -> str:
    """Make and keep the PDF of the guide and the toolbox if what it shows changed (a method,
    the charter in force, a shipped text): asked after such a commit, and swept."""
    return make_edition(db.session(), as_of=utcnow())


@shared_task(name="workers.render_synthesis")
def render_synthesis(synthesis_id: int) -> list[str]:
    """Make and keep the PDF and the spreadsheet of a published version (once)."""
    from backoffice.outgoing.syntheses import render_documents

    return render_documents(db.session(), synthesis_id)


@shared_task(name="workers.render_report")
def render_report(year: int, force: bool = False) -> str:
    """Make and keep the yearly report's PDF and spreadsheet of ``year`` if they are missing
    or stale (or ``force``): asked by a visitor, the command line, or the sweep."""
    from backoffice.outgoing.report import make_documents

    return make_documents(db.session(), year, as_of=utcnow(), force=force)


@shared_task(name="workers.sweep_reports")
def sweep_reports() -> list[str]:
    """The current year's documents made again when its figures changed; the past year's
    made once after its end."""
    from backoffice.outgoing.report import make_documents, years_to_sweep

    now = utcnow()
    return [make_documents(db.session(), year, as_of=now) for year in years_to_sweep(now)]
