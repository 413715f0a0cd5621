"""What asks for a synthesis to be built — entering the synthesis stage, the mission's
rebuild — or its documents made, kept light (no text libraries): the web side and the
transitions import it. Each asks a worker after commit (``workflows.after_commit``); a sweep
does what a lost task did not (``missing_builds``, ``missing_documents``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit
from ..after_commit import BUILD_SYNTHESIS, RENDER_SYNTHESIS, after_commit
from ..errors import Conflict, PermissionDenied
from ..i18n import N_
from ..models import Demarche, StageTransition, Synthesis, SynthesisStatus, User
from ..stages import Stage, reached


def trigger_of(transition_id: int) -> str:
    return f"transition:{transition_id}"


def request_build(session: Session, demarche_id: int, transition_id: int) -> None:
    """Entering the synthesis stage asks for a first version, built by a worker after commit
    (and by the sweep if that task is lost)."""
    after_commit(session, BUILD_SYNTHESIS, demarche_id, trigger_of(transition_id))


def request_rebuild(session: Session, actor: User, demarche: Demarche, *, as_of: datetime) -> None:
    """The mission asks for a new version (after contributions came in, a merge it regrets…):
    audited, built by a worker after commit. No trigger: each request builds a version. Not
    before the consultation has closed (the synthesis stage or later)."""
    if not actor.is_mission:
        raise PermissionDenied(N_("the synthesis is the mission's to write and publish"))
    if not reached(demarche.stage, Stage.SYNTHESIS):
        raise Conflict(N_("a synthesis is built once the consultation has closed"))
    audit.record(session, "synthesis.rebuild", actor=actor, as_of=as_of, demarche=demarche)
    after_commit(session, BUILD_SYNTHESIS, demarche.id, None)


def missing_builds(session: Session) -> list[tuple[int, str]]:
    """Démarches at the synthesis stage whose entry into it has no version yet."""
    entered = (
        select(StageTransition.demarche_id, func.max(StageTransition.id).label("id"))
        .where(StageTransition.to_stage == Stage.SYNTHESIS)
        .group_by(StageTransition.demarche_id)
        .subquery()
    )
    rows = session.execute(
        select(Demarche.id, entered.c.id)
        .join(entered, entered.c.demarche_id == Demarche.id)
        .where(Demarche.stage == Stage.SYNTHESIS)
        .order_by(Demarche.id)
    ).all()
    built = set(
        session.execute(
            select(Synthesis.demarche_id, Synthesis.trigger).where(Synthesis.trigger.is_not(None))
        ).all()
    )
    return [
        (demarche_id, trigger_of(tid))
        for demarche_id, tid in rows
        if (demarche_id, trigger_of(tid)) not in built
    ]


def request_documents(session: Session, synthesis_id: int) -> None:
    """A published version's documents (PDF, spreadsheet), made by a worker after commit."""
    after_commit(session, RENDER_SYNTHESIS, synthesis_id)


def missing_documents(session: Session) -> list[int]:
    """Published versions whose documents were never made (a lost task)."""
    return list(
        session.scalars(
            select(Synthesis.id)
            .where(
                Synthesis.status == SynthesisStatus.PUBLISHED,
                (Synthesis.pdf.is_(None)) | (Synthesis.xlsx.is_(None)),
            )
            .order_by(Synthesis.id)
        )
    )
