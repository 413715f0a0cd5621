"""The guide's own shipped texts, in French: what the department, the mission and the elected
official do at each stage (``workflows/data/guide/stages.json``, keyed by ``Stage`` value), and
what each rung of the participation ladder means (``ladder.json``, keyed by
``ParticipationLevel`` value). Everything else in the guide is derived from the project."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..stages import ParticipationLevel, Stage

#: Who does something at each stage, in the order the guide shows them.
ACTORS = ("department", "mission", "elected")


@dataclass(frozen=True)
class StageRoles:
    summary: str
    department: str
    mission: str
    elected: str


@cache
def _read(name: str) -> dict[str, Any]:
    text = resources.files("workflows").joinpath(f"data/guide/{name}").read_text("utf-8")
    return json.loads(text)


def stage_roles() -> dict[Stage, StageRoles]:
    """Each stage's summary and roles; a stage the file lacks is left out (a test checks that
    none is)."""
    found = _read("stages.json")["stages"]
    return {
        stage: StageRoles(**{key: found[stage.value][key] for key in ("summary", *ACTORS)})
        for stage in Stage
        if stage.value in found
    }


def ladder_texts() -> dict[ParticipationLevel, str]:
    found = _read("ladder.json")["levels"]
    return {level: found[level.value] for level in ParticipationLevel if level.value in found}
