"""The evaluation of a démarche (DESIGN §6, issue 14): indicators computed by the domain from
the record — deadlines, contributions per canton against the population, channels and
methods, decisions, feedback, questions — live from the launch, frozen at the closing; each
with its formula, what it counted and a score from 1 to 5 (thresholds as data). And the
department's self-assessment, reviewed by the mission.

- ``definitions``: each indicator's code, dimension, label and formula;
- ``scores``: the 1–5 buckets (``workflows/data/evaluation/scores.json``);
- ``indicators``: the shapes (``Evaluation``, ``Dimension``, ``Indicator``) and their JSON;
- one module per dimension: ``framing``, ``deadlines``, ``feedback``, ``influence``,
  ``transparency``, ``mobilisation``, ``experience``;
- ``compute`` (above them): ``evaluate``, ``freeze``;
- ``self_assessment``: the department's form and the mission's review.

A cross-module command: it reads the charter, the mailings' deliveries, the decisions, the
methods and the territory; none of them reads it.
"""

from .compute import DIMENSIONS, compute, evaluate, freeze, stored, unfrozen_closed
from .definitions import CODES, DEFINITIONS, DIMENSION_LABELS
from .indicators import Dimension, Evaluation, Indicator
from .scores import scale
from .self_assessment import QUESTIONS, may_fill, review, self_assessment_of, submit

__all__ = [
    "CODES",
    "DEFINITIONS",
    "DIMENSIONS",
    "DIMENSION_LABELS",
    "Dimension",
    "Evaluation",
    "Indicator",
    "QUESTIONS",
    "compute",
    "evaluate",
    "freeze",
    "may_fill",
    "review",
    "scale",
    "self_assessment_of",
    "stored",
    "submit",
    "unfrozen_closed",
]
