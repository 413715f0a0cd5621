"""The methodological guide (DESIGN §6), generated from what the project already knows.

- ``texts``: the guide's own shipped texts (the roles per stage, the rungs of the ladder);
- ``commitments``: the charter version in force, its rules in words;
- ``checklists``: per stage, what must be true to leave it (from the guards);
- ``templates``: the invitation, the feedback message, the synthesis introduction;
- ``content``: the whole guide as plain data (``build_guide``), with its digest;
- ``documents``: its PDF editions, made by a worker and kept.
"""

from .checklists import CHECKS, Exit, unexplained_guards
from .commitments import EVENT_STAGES, CharterText, RuleText, in_force
from .content import Guide, MethodSheet, Rung, StageGuide, build_guide, plain
from .documents import claim, edition, keep, latest, request_render
from .templates import TemplateText
from .texts import ladder_texts, stage_roles

__all__ = [
    "CHECKS",
    "EVENT_STAGES",
    "CharterText",
    "Exit",
    "Guide",
    "MethodSheet",
    "Rung",
    "RuleText",
    "StageGuide",
    "TemplateText",
    "build_guide",
    "claim",
    "edition",
    "in_force",
    "keep",
    "ladder_texts",
    "latest",
    "plain",
    "request_render",
    "stage_roles",
    "unexplained_guards",
]
