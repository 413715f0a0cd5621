"""Experience: what the participants said of the démarche in their survey.

The participants' survey is not part of the house yet (issue 14's first part): this dimension
holds one indicator, ``experience_survey``, that says so. When the survey comes, this function
reads its aggregates (``workflows.survey.results.results(session, d)``) and gives one indicator
per statement, under threshold-hidden aggregates; nothing else changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..i18n import N_
from ..models import Demarche
from .indicators import Dimension, not_computed


def experience(session: Session, d: Demarche, as_of: datetime) -> Dimension:
    missing = N_("the participants' survey is not available yet")
    return Dimension("experience", (not_computed("experience_survey", missing),))
