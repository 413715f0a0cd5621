"""The evaluation of a démarche: computed from its record while it lives, frozen when it closes.

``evaluate`` is what every reader calls: the frozen evaluation as stored once the démarche
closed, else one computed now from the record (as of ``as_of``). ``freeze`` is called by the
move to the closed stage (``workflows.transitions``), in its transaction: the evaluation is
computed from the record at that moment and kept, once — a second call returns the first.

Each dimension is one function ``(session, démarche, as_of) -> Dimension`` in ``DIMENSIONS``;
each runs a fixed number of queries (aggregates counted by the database), so an evaluation
takes the same number of statements for 10 contributions as for 100,000.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..models import Demarche, FrozenEvaluation, User
from ..stages import Stage
from ..survey import SurveyResults
from .deadlines import deadlines
from .experience import experience
from .feedback import feedback
from .framing import framing
from .indicators import Dimension, Evaluation
from .influence import influence
from .mobilisation import mobilisation
from .scores import scale
from .transparency import transparency

DimensionFunction = Callable[[Session, Demarche, datetime], Dimension]

#: The dimensions, in the order they are shown, each computed by its own function.
DIMENSIONS: tuple[tuple[str, DimensionFunction], ...] = (
    ("framing", framing),
    ("deadlines", deadlines),
    ("feedback", feedback),
    ("influence", influence),
    ("transparency", transparency),
    ("mobilisation", mobilisation),
    ("experience", experience),
)


def compute(
    session: Session, d: Demarche, *, as_of: datetime, survey: SurveyResults | None = None
) -> Evaluation:
    """The evaluation of ``d`` from its record now (never the frozen one); ``survey``: its
    survey's results if the caller read them already."""
    return Evaluation(
        demarche_id=d.id,
        as_of=as_of,
        scores_version=scale().version,
        dimensions=tuple(
            experience(session, d, as_of, survey)
            if function is experience
            else function(session, d, as_of)
            for _, function in DIMENSIONS
        ),
    )


def stored(session: Session, d: Demarche) -> Evaluation | None:
    """The evaluation frozen at ``d``'s closing, as stored; None if there is none."""
    row = session.scalar(select(FrozenEvaluation).where(FrozenEvaluation.demarche_id == d.id))
    return _read(row) if row is not None else None


def _read(row: FrozenEvaluation) -> Evaluation:
    return Evaluation.from_json(row.data, frozen_at=row.frozen_at)


def evaluate(
    session: Session, d: Demarche, *, as_of: datetime, survey: SurveyResults | None = None
) -> Evaluation:
    """The evaluation of ``d``: frozen as stored once it closed, else computed from the
    record as of ``as_of``. Never fails for want of data: what cannot be computed says why.

    The participants' survey goes out after the feedback and its answers keep coming after
    the closing: a frozen evaluation's experience dimension is read live (as of ``as_of``;
    from ``survey``, the results, if the caller read them already)."""
    found = stored(session, d)
    if found is None:
        return compute(session, d, as_of=as_of, survey=survey)
    return found.with_dimension(experience(session, d, as_of, survey))


def freeze(
    session: Session, d: Demarche, *, as_of: datetime, actor: User | None = None
) -> Evaluation:
    """Compute ``d``'s evaluation as of ``as_of`` and keep it; idempotent (a démarche is
    frozen once: a second call, or a race lost, returns the evaluation kept first)."""
    found = stored(session, d)
    if found is not None:
        return found
    evaluation = compute(session, d, as_of=as_of)
    row = FrozenEvaluation(
        demarche_id=d.id,
        frozen_at=as_of,
        data_as_of=evaluation.as_of,
        scores_version=evaluation.scores_version,
        data=evaluation.to_json(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        kept = stored(session, d)
        assert kept is not None  # the unique démarche id is what refused the row
        return kept
    audit.record(session, "evaluation.freeze", actor=actor, as_of=as_of, demarche=d)
    return _read(row)


def unfrozen_closed(session: Session) -> list[Demarche]:
    """Closed démarches without a frozen evaluation (closed before evaluations were kept)."""
    frozen = select(FrozenEvaluation.demarche_id)
    return list(
        session.scalars(
            select(Demarche)
            .where(Demarche.stage == Stage.CLOSED, Demarche.id.not_in(frozen))
            .order_by(Demarche.id)
        ).unique()
    )
