"""The participants' survey (issue 14): after the feedback, each participant who kept the
feedback and the survey consents gets a short questionnaire by email (the mailing kind
``survey``, through the mailing engine), answerable once through a signed link without an
account; the mission types in paper answers. Answers are stored apart from the people, and
published only as aggregates, from a minimum number of answers.

- ``questions``: the statements, the scale, the optional questions, the check of an answer;
- ``answering``: invitations (one per participant per démarche), an answer through a link,
  the paper answers;
- ``results``: the aggregates (``results``, ``sent``) and the threshold.

Above the mailings (whose ``survey`` module makes the mailing); the evaluation reads it.
"""

from .answering import (
    ALREADY_ANSWERED,
    INVALID_LINK,
    add_paper_answer,
    answer,
    invitation,
    invitation_nonce,
    may_type_paper,
)
from .questions import AGE_BANDS, FIRST_TIME, SCALE, STATEMENTS, Answer, Statement, parse
from .results import (
    MIN_ANSWERS,
    TOO_FEW,
    StatementResult,
    SurveyResults,
    answer_count,
    configure,
    free_texts,
    minimum,
    results,
    sent,
)

__all__ = [
    "AGE_BANDS",
    "ALREADY_ANSWERED",
    "Answer",
    "FIRST_TIME",
    "INVALID_LINK",
    "MIN_ANSWERS",
    "SCALE",
    "STATEMENTS",
    "Statement",
    "StatementResult",
    "SurveyResults",
    "TOO_FEW",
    "add_paper_answer",
    "answer",
    "answer_count",
    "configure",
    "free_texts",
    "invitation",
    "invitation_nonce",
    "may_type_paper",
    "minimum",
    "parse",
    "results",
    "sent",
]
