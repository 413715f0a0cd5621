"""The import as a record: upload, preview, run, sweep, forget."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .. import sheets
from ..access import may_act_on
from ..after_commit import PREVIEW_IMPORT, RUN_IMPORT, after_commit
from ..clock import utcnow
from ..errors import DomainError, PermissionDenied
from ..i18n import N_, Msg
from ..models import ContributionImport, Demarche, ImportStatus, User
from ..sheets import FileLimits
from ..sql import database_unavailable, execute_dml
from .reading import FORMAT_BY_SUFFIX, Preview, guess_format, read_file
from .rows import Importer

log = logging.getLogger(__name__)


# -- the import as a record: upload, preview, run -------------------------------------------


def refused_report(preview: Preview) -> list[dict[str, Any]]:
    return [
        {"line": line, "reason": reason.text, "params": reason.params}
        for line, reason in preview.refused
    ]


def start_import(
    session: Session,
    demarche: Demarche,
    *,
    actor: User | None,
    filename: str,
    raw: bytes,
    fmt: str | None,
    item_id: int | None,
    directory: Path,
    as_of: datetime,
    limits: FileLimits | None = None,
    preview_now: bool = True,
) -> ContributionImport:
    """Check the file and record its preview, keeping the file for the import; nothing is
    imported yet (flushes). A refused file is not kept.

    ``preview_now`` False (a large file): only what is quick and takes no memory is checked
    now — a workbook's zip, a text's encoding — and the import waits, "previewing", for a
    worker to read it (``preview_import``, asked for after commit; else ``lost_previews``)."""
    if actor is not None and not may_act_on(actor, demarche):
        raise PermissionDenied(N_("only the mission or the démarche's department imports"))
    fmt = fmt or guess_format(filename, raw)
    importer = Importer(session, demarche, fmt, item_id=item_id, limits=limits)
    if preview_now:
        preview = importer.preview(raw)
    else:
        if fmt == "xlsx":
            sheets.check_workbook(raw, importer.limits)
        else:
            sheets.decode(raw)
        preview = None
    digest = hashlib.sha256(raw).hexdigest()
    directory.mkdir(parents=True, exist_ok=True)
    suffix = Path(filename).suffix.lower()
    path = directory / f"{uuid.uuid4().hex}{suffix if suffix in FORMAT_BY_SUFFIX else ''}"
    path.write_bytes(raw)
    try:
        record = _record(
            session, demarche, actor, filename, path, digest, fmt, item_id, preview, as_of
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if preview is None:
        after_commit(session, PREVIEW_IMPORT, record.id)
    return record


def _record(
    session: Session,
    demarche: Demarche,
    actor: User | None,
    filename: str,
    path: Path,
    digest: str,
    fmt: str,
    item_id: int | None,
    preview: Preview | None,
    as_of: datetime,
) -> ContributionImport:
    record = ContributionImport(
        demarche_id=demarche.id,
        format=fmt,
        filename=_printable(Path(filename.replace("\\", "/")).name)[:255] or "?",
        path=str(path),
        digest=digest,
        status=ImportStatus.PREVIEWING,
        refused=[],
        options={"item_id": item_id},
        created_by_id=actor.id if actor else None,
        created_at=as_of,
        updated_at=None,  # set by the worker that takes it
    )
    if preview is not None:
        _previewed(record, preview)
        record.updated_at = as_of
    session.add(record)
    session.flush()
    return record


def _previewed(record: ContributionImport, preview: Preview) -> None:
    record.status = ImportStatus.PREVIEWED
    record.rows_read, record.rows_to_import = preview.rows_read, preview.rows_to_import
    record.duplicates, record.refused = preview.duplicates, refused_report(preview)


def _fail(session: Session, record: ContributionImport, reason: Msg, at: datetime) -> None:
    """The import ends failed, its file deleted; ``reason`` is kept for the status page."""
    Path(record.path).unlink(missing_ok=True)
    record.status = ImportStatus.FAILED
    record.error = str(reason)[:2000]
    record.options = {**(record.options or {}), "error": _stored(reason)}
    record.finished_at = record.updated_at = at


def _stored(message: Msg) -> dict[str, Any]:
    """A message as JSON (its parameters may be messages: a stage's label)."""
    return {
        "text": message.text,
        "params": {
            key: _stored(value)
            if isinstance(value, Msg)
            else value
            if isinstance(value, str | int | float | bool | None)
            else str(value)
            for key, value in message.params.items()
        },
    }


def _message(stored: dict[str, Any]) -> Msg:
    return Msg(
        stored["text"],
        {
            key: _message(value) if isinstance(value, dict) else value
            for key, value in (stored.get("params") or {}).items()
        },
    )


def failure(record: ContributionImport) -> Msg | None:
    """Why the import failed, as a message to translate (None: not known that way)."""
    error = (record.options or {}).get("error")
    return _message(error) if error else None


PREVIEW_LOST = N_(
    "the preview did not finish (its worker stopped, perhaps for lack of memory): upload the "
    "file again, or split it"
)
TOO_BIG = N_(
    "the file is too large to be read within the memory allowed to a preview: split it into "
    "several files"
)


def preview_import(
    session: Session,
    import_id: int,
    *,
    now: Callable[[], datetime] = utcnow,
    limits: FileLimits | None = None,
) -> ContributionImport | None:
    """Read a kept file into its preview (a worker does it for large files): "previewing"
    becomes "previewed", or "failed" with the file-level reason and the file deleted. None
    if another worker took it. A worker that dies reading it (out of memory) leaves it to
    ``sweep_imports``, which fails it rather than handing it to the next worker."""
    start = now()
    taken = execute_dml(
        session,
        update(ContributionImport)
        .where(
            ContributionImport.id == import_id,
            ContributionImport.status == ImportStatus.PREVIEWING,
            ContributionImport.updated_at.is_(None),
        )
        .values(updated_at=start)
        .execution_options(synchronize_session=False),
    )
    session.commit()
    if taken.rowcount != 1:
        return None
    record = session.get(ContributionImport, import_id, populate_existing=True)
    assert record is not None  # just taken by the update above; imports are never deleted
    try:
        importer = Importer(
            session,
            record.demarche,
            record.format,
            item_id=record.options.get("item_id"),
            limits=limits,
        )
        preview = importer.preview(read_file(record.path))
    except Exception as exc:  # noqa: BLE001 - a preview ends, whatever went wrong
        if database_unavailable(exc):
            raise  # not the file's fault; the sweep ends it (PREVIEW_LOST)
        exc.__traceback__ = None  # what the preview's frames held goes with them
        session.rollback()
        record = session.get(ContributionImport, import_id, populate_existing=True)
        assert record is not None  # its claim was committed; imports are never deleted
        if isinstance(exc, DomainError):
            reason = exc.messages[0]
        elif isinstance(exc, MemoryError):
            reason = TOO_BIG
        else:
            log.error("preview of import %s failed: %s", import_id, type(exc).__name__)
            reason = N_("the file could not be read (%(error)s)", error=type(exc).__name__)
        _fail(session, record, reason, now())
    else:
        _previewed(record, preview)
        record.updated_at = now()
    session.commit()
    return record


#: A run that has not moved for this long belongs to a worker that died: it is taken again.
STALE_RUN = timedelta(minutes=10)
#: A queued import that no worker took (the broker lost the task) is handed out again.
STALE_QUEUE = timedelta(minutes=2)
#: Files previewed but never imported are deleted after this (they may hold personal data).
PREVIEW_KEPT = timedelta(days=1)


def _move(
    session: Session,
    import_id: int,
    allowed: Any,
    to: ImportStatus,
    as_of: datetime,
    then: str | None = None,
) -> bool:
    """Compare-and-set the import's status (of two clicks or two workers, one wins), and
    commit; the winner's ``then`` task is asked for after that commit."""
    result = execute_dml(
        session,
        update(ContributionImport)
        .where(ContributionImport.id == import_id, allowed)
        .values(status=to, updated_at=as_of)
        .execution_options(synchronize_session=False),
    )
    moved = result.rowcount == 1
    if moved and then is not None:
        after_commit(session, then, import_id)
    session.commit()
    return moved


def queue_import(session: Session, import_id: int, *, as_of: datetime) -> bool:
    """Previewed → queued, for a worker (asked for after commit; else ``sweep_imports``);
    False if it was already on its way."""
    return _move(
        session,
        import_id,
        ContributionImport.status == ImportStatus.PREVIEWED,
        ImportStatus.QUEUED,
        as_of,
        then=RUN_IMPORT,
    )


def _printable(name: str) -> str:
    """A file name as a person gave it, without control characters (NUL included)."""
    return "".join(c for c in name if c.isprintable())


def run_import(
    session: Session,
    import_id: int,
    *,
    now: Callable[[], datetime] = utcnow,
    limits: FileLimits | None = None,
) -> ContributionImport | None:
    """Import a previewed (or queued, or abandoned) file; None if another run has it.

    Commits batch by batch and records its progress; safe to run twice (what is already
    there is a duplicate). Whatever happens, the run ends done or failed — never stuck —
    and the file is deleted: it may hold personal data.
    """
    start = now()
    claimable = or_(
        ContributionImport.status.in_((ImportStatus.PREVIEWED, ImportStatus.QUEUED)),
        (ContributionImport.status == ImportStatus.RUNNING)
        & (ContributionImport.updated_at < start - STALE_RUN),
    )
    if not _move(session, import_id, claimable, ImportStatus.RUNNING, start):
        return None
    record = session.get(ContributionImport, import_id, populate_existing=True)
    assert record is not None  # just moved by _move; imports are never deleted
    try:
        importer = Importer(
            session,
            record.demarche,
            record.format,
            item_id=record.options.get("item_id"),
            limits=limits,
        )
        preview = importer.preview(read_file(record.path))
        record.rows_to_import, record.duplicates = preview.rows_to_import, preview.duplicates
        record.refused = refused_report(preview)
        record.rows_done = 0
        session.commit()

        running = record  # the closure's own name: `record` is fetched again on failure

        def progress(done: int) -> None:
            running.rows_done, running.updated_at = done, now()
            session.commit()

        actor = session.get(User, record.created_by_id) if record.created_by_id else None
        record.imported = importer.apply(preview, actor=actor, as_of=start, on_batch=progress)
        record.status = ImportStatus.DONE
    except Exception as exc:  # noqa: BLE001 - a run must end, whatever went wrong
        if database_unavailable(exc):
            raise  # a restart, not the file's fault: the sweep resumes the run (and its file)
        log.exception("import %s failed", import_id)
        session.rollback()
        record = session.get(ContributionImport, import_id, populate_existing=True)
        assert record is not None  # its claim was committed; imports are never deleted
        record.status = ImportStatus.FAILED
        record.error = (
            str(exc) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        )[:2000]
        if isinstance(exc, DomainError) and exc.messages:  # shown translated
            record.options = {**record.options, "error": _stored(exc.messages[0])}
    record.finished_at = record.updated_at = now()
    Path(record.path).unlink(missing_ok=True)
    session.commit()
    return record


def sweep_imports(session: Session, *, as_of: datetime) -> list[int]:
    """Imports to hand to a worker again (a lost task, a dead worker), and previews nobody
    ran, whose files are deleted. Returns the ids to (re)run."""
    stale = session.scalars(
        select(ContributionImport.id).where(
            or_(
                (ContributionImport.status == ImportStatus.QUEUED)
                & (ContributionImport.updated_at < as_of - STALE_QUEUE),
                (ContributionImport.status == ImportStatus.RUNNING)
                & (ContributionImport.updated_at < as_of - STALE_RUN),
            )
        )
    ).all()
    for record in session.scalars(
        select(ContributionImport).where(
            ContributionImport.status == ImportStatus.PREVIEWED,
            ContributionImport.created_at < as_of - PREVIEW_KEPT,
        )
    ):
        Path(record.path).unlink(missing_ok=True)
        record.status = ImportStatus.FAILED
        record.error = "preview not imported within a day: file deleted"
        record.finished_at = record.updated_at = as_of
    # A preview taken by a worker that never finished it: the worker died reading the file
    # (out of memory?). Not handed out again — the next worker would die the same way.
    for record in session.scalars(
        select(ContributionImport).where(
            ContributionImport.status == ImportStatus.PREVIEWING,
            ContributionImport.updated_at < as_of - STALE_RUN,
        )
    ):
        _fail(session, record, PREVIEW_LOST, as_of)
    session.commit()
    return list(stale)


def lost_previews(session: Session, *, as_of: datetime) -> list[int]:
    """Large files waiting for a preview that no worker took (a lost task): to hand out."""
    return list(
        session.scalars(
            select(ContributionImport.id).where(
                ContributionImport.status == ImportStatus.PREVIEWING,
                ContributionImport.updated_at.is_(None),
                ContributionImport.created_at < as_of - STALE_QUEUE,
            )
        )
    )


def forget_files_of(session: Session, email: str, name: str | None = None) -> int:
    """An erasure: delete the import files not yet run that name the person (by ``email``),
    and take their address and name out of every import's file name and refused rows;
    returns how many files were deleted."""
    needle = email.lower().encode()
    names = {email.lower()} | ({name.lower()} if name and len(name.strip()) >= 4 else set())
    deleted = 0
    for record in session.scalars(select(ContributionImport)):
        path = Path(record.path)
        if (
            record.status in (ImportStatus.PREVIEWING, ImportStatus.PREVIEWED, ImportStatus.QUEUED)
            and path.exists()
            and needle in path.read_bytes().lower()
        ):
            path.unlink()
            record.status = ImportStatus.FAILED
            record.error = "file deleted: it named a person who erased their account"
            deleted += 1
        if any(n in record.filename.lower() for n in names):
            record.filename = f"import-{record.id}{Path(record.filename).suffix.lower()[:10]}"

        def scrub(value: Any) -> Any:
            return "…" if any(n in str(value).lower() for n in names) else value

        if any(n in str(record.refused).lower() for n in names):
            record.refused = [
                {**row, "params": {k: scrub(v) for k, v in (row.get("params") or {}).items()}}
                for row in record.refused
            ]
    return deleted
