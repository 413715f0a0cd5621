"""The whole guide as plain data, assembled from what the project knows at ``as_of``: the
stages and their moves, the roles per stage, the checklists derived from the guards, the
charter in force, the participation ladder with the methods of each rung, the templates the
project sends, and the toolbox's methods. The web page, the API and the PDF all read it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from .. import methods
from ..i18n import Msg
from ..models import Method, MethodFormat, Recruitment
from ..stages import ParticipationLevel, Stage
from .checklists import Exit, exits
from .commitments import CharterText, RuleText, charter_text, in_force
from .templates import TemplateText, template_texts
from .texts import ladder_texts, stage_roles


@dataclass(frozen=True)
class StageGuide:
    stage: Stage
    label: Msg
    summary: str
    department: str
    mission: str
    elected: str
    exits: tuple[Exit, ...]  # none: a final stage
    deadlines: tuple[RuleText, ...]  # the charter's clocks that start at this stage

    @property
    def final(self) -> bool:
        return not self.exits


@dataclass(frozen=True)
class MethodSheet:
    """A method of the toolbox as the guide prints it: its values (``methods.COLUMNS``) and
    its labels in words."""

    slug: str
    name: str
    values: dict[str, Any]
    levels: tuple[ParticipationLevel, ...]
    format: MethodFormat
    recruitment: tuple[Recruitment, ...]
    group: Msg
    cost: Msg

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


@dataclass(frozen=True)
class Rung:
    level: ParticipationLevel
    label: Msg
    text: str
    methods: tuple[tuple[str, str], ...]  # (slug, name) of the methods serving it


@dataclass(frozen=True)
class Guide:
    as_of: datetime
    stages: tuple[StageGuide, ...]
    ladder: tuple[Rung, ...]
    charter: CharterText
    templates: tuple[TemplateText, ...]
    methods: tuple[MethodSheet, ...]

    def stage(self, stage: Stage | str) -> StageGuide:
        return next(s for s in self.stages if s.stage == stage)

    def as_data(self) -> dict[str, Any]:
        """Everything, as JSON-ready values (messages as their id and parameters)."""
        return plain(self)

    @property
    def digest(self) -> str:
        """The digest of what the guide says — not of when it was assembled."""
        data = {k: v for k, v in self.as_data().items() if k != "as_of"}
        text = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses as dicts, a message as its id and parameters,
    enums as their value, dates in ISO."""
    if isinstance(value, Msg):
        return {"text": value.text, "params": {k: plain(v) for k, v in value.params.items()}}
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def method_sheet(method: Method) -> MethodSheet:
    values = {name: getattr(method, name) for name in methods.COLUMNS}
    values["format"] = MethodFormat(method.format).value
    return MethodSheet(
        slug=method.slug,
        name=method.name,
        values=values,
        levels=tuple(ParticipationLevel(v) for v in method.levels if v in methods.LEVELS),
        format=MethodFormat(method.format),
        recruitment=tuple(Recruitment(v) for v in method.recruitment if v in methods.RECRUITMENTS),
        group=methods.group_size(method),
        cost=methods.costs(method),
    )


def build_guide(session: Session, *, as_of: datetime) -> Guide:
    """The guide as it stands at ``as_of`` (the charter version in force then; the toolbox's
    methods not retired)."""
    version = in_force(session, as_of)
    charter = charter_text(version)

    def rule(code: str):
        return version.rule(code) if version is not None else None

    roles = stage_roles()
    stages = tuple(
        StageGuide(
            stage=stage,
            label=stage.label,
            summary=roles[stage].summary,
            department=roles[stage].department,
            mission=roles[stage].mission,
            elected=roles[stage].elected,
            exits=exits(stage, rule),
            deadlines=tuple(r for r in charter.rules if r.stage == stage),
        )
        for stage in Stage
    )
    catalogue = methods.search(session)  # by name, retired ones left out
    texts = ladder_texts()
    ladder = tuple(
        Rung(
            level=level,
            label=level.label,
            text=texts[level],
            methods=tuple((m.slug, m.name) for m in catalogue if level.value in m.levels),
        )
        for level in ParticipationLevel
    )
    return Guide(
        as_of=as_of,
        stages=stages,
        ladder=ladder,
        charter=charter,
        templates=template_texts(),
        methods=tuple(method_sheet(m) for m in catalogue),
    )
