"""The charter's label (DESIGN §6, issue 14): versioned rules — gates every level needs, and
levels (★ charte respectée, ★★ démarche de qualité, ★★★ démarche exemplaire) defined by
thresholds on the evaluation's indicators —; the domain proposes a level, each criterion met
or not; the mission awards it, or another with a public reason, audited.

- ``rules``: the rules as data, checked (``workflows/data/label/default.json`` shipped);
- ``versions``: the versions the mission saves, the rules in force;
- ``proposal``: ``propose(evaluation, rules)``;
- ``award``: the mission's award, the rules version a démarche was judged by.

Above ``workflows.evaluation``, which it reads; nothing below reads it.
"""

from .award import (
    MAX_REASON,
    NONE,
    Held,
    award,
    award_of,
    facts,
    held,
    held_by,
    may_award,
    proposal_for,
    rules_for,
)
from .proposal import MET, NOT_COMPUTED, NOT_MET, Check, LevelCheck, Proposal, propose
from .rules import (
    COMPARISONS,
    LEVELS,
    MEASURES,
    Criterion,
    Level,
    Rules,
    known_codes,
    parse,
    shipped,
)
from .versions import current_row, ensure_current, in_force, read, save

__all__ = [
    "COMPARISONS",
    "LEVELS",
    "MAX_REASON",
    "MEASURES",
    "MET",
    "NONE",
    "NOT_COMPUTED",
    "NOT_MET",
    "Check",
    "Criterion",
    "Held",
    "Level",
    "LevelCheck",
    "Proposal",
    "Rules",
    "award",
    "award_of",
    "current_row",
    "ensure_current",
    "facts",
    "held",
    "held_by",
    "in_force",
    "known_codes",
    "may_award",
    "parse",
    "proposal_for",
    "propose",
    "read",
    "rules_for",
    "save",
    "shipped",
]
