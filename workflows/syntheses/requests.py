"""What asks for a synthesis to be built — entering the synthesis stage — kept light (no
text libraries): the web side and the transitions import it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Demarche, StageTransition, Synthesis, SynthesisStatus
from ..stages import Stage

#: ``session.info`` key: the (démarche id, trigger) pairs to build once the transaction commits.
TO_BUILD = "syntheses_to_build"


def trigger_of(transition_id: int) -> str:
    return f"transition:{transition_id}"


def request_build(session: Session, demarche_id: int, transition_id: int) -> None:
    """Entering the synthesis stage asks for a first version, built by a worker after commit
    (and by the sweep if that task is lost)."""
    session.info.setdefault(TO_BUILD, []).append((demarche_id, trigger_of(transition_id)))


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


#: ``session.info`` key: the syntheses whose documents (PDF, spreadsheet) a worker makes
#: once the transaction that published them commits.
TO_RENDER = "syntheses_to_render"


def request_documents(session: Session, synthesis_id: int) -> None:
    session.info.setdefault(TO_RENDER, []).append(synthesis_id)


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
