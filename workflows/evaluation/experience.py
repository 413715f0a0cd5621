"""Experience: what the participants said of the démarche in their survey.

Read from the survey's aggregates (``workflows.survey.results``): whether the survey went
out, the response rate, and the shares agreeing with three statements — overall
satisfaction, « j'ai compris ce qu'est devenue ma contribution », « je participerais de
nouveau ». Below the minimum of answers each of these says « trop peu de réponses pour
publier »; ``survey_sent`` does not depend on the answers. The survey's answers keep coming
after the closing, so a frozen evaluation reads this dimension live (``compute.evaluate``).
A fixed number of statements: the survey's four.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..i18n import N_
from ..mailings.policy import SURVEY_STAGES
from ..models import Demarche
from ..survey import SurveyResults, results
from .display import share
from .indicators import Dimension, Indicator, measured, not_computed

#: The indicators read from one statement's share agreeing: (code, statement).
AGREEING = (
    ("survey_satisfaction", "satisfaction"),
    ("survey_understood_outcome", "outcome"),
    ("survey_would_return", "would_return"),
)
NOBODY = N_("nobody answered this statement")


def experience(
    session: Session, d: Demarche, as_of: datetime, found: SurveyResults | None = None
) -> Dimension:
    """The dimension, from the survey's results (``found`` if read already: revealed or not,
    they give the same dimension, which reads nothing of a result not published)."""
    found = found or results(session, d)
    counted = {"invitations": found.invitations, "answers": found.answers}
    indicators: list[Indicator] = []
    if found.sent:
        indicators.append(measured("survey_sent", 1.0, N_("sent"), counted))
    elif d.stage in SURVEY_STAGES:
        indicators.append(measured("survey_sent", 0.0, N_("not sent"), counted))
    else:
        missing = N_("the survey goes out after the feedback to the participants")
        indicators.append(not_computed("survey_sent", missing, counted))
    detail = {**counted, "online": found.online, "paper": found.paper, "minimum": found.minimum}
    if not found.published or found.response_rate is None:
        reason = found.missing or N_("no invitation sent")
        indicators.append(not_computed("survey_response_rate", reason, detail))
    else:
        rate = found.response_rate
        indicators.append(measured("survey_response_rate", rate, share(rate), detail))
    for code, statement_code in AGREEING:
        statement = found.statement(statement_code)
        if not found.published or statement is None or statement.agreeing is None:
            indicators.append(not_computed(code, found.missing or NOBODY, detail))
            continue
        agreeing = round(statement.agreeing * statement.answered)
        indicators.append(
            measured(
                code,
                statement.agreeing,
                share(statement.agreeing),
                {**detail, "answered": statement.answered, "agreeing": agreeing},
                {"distribution": list(statement.counts), "mean": statement.mean},
            )
        )
    return Dimension("experience", tuple(indicators))
