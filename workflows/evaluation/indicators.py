"""The shapes of an evaluation — indicators grouped in dimensions — and their JSON (what a
frozen evaluation keeps).

An indicator is computed (``value`` a number, ``score`` 1 to 5) or not (``value`` None,
``missing`` says why). ``counted`` names the rows it counted (e.g. ``{"deadlines": 12,
"met_on_time": 10}``); ``details`` holds what it shows beyond one number (the cantons, the
elements of the framing). Labels and formulas come from ``definitions`` by the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..i18n import Msg
from .definitions import DEFINITIONS, DIMENSION_LABELS, Definition
from .scores import scale

#: Decimals kept of a value (shares to a hundredth of a percent).
DECIMALS = 4


@dataclass(frozen=True)
class Indicator:
    code: str
    value: float | None
    score: int | None
    counted: dict[str, int] = field(default_factory=dict)
    display: Msg | None = None
    missing: Msg | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def definition(self) -> Definition:
        return DEFINITIONS[self.code]

    @property
    def label(self) -> Msg:
        return self.definition.label

    @property
    def formula(self) -> Msg:
        return self.definition.formula

    @property
    def dimension(self) -> str:
        return self.definition.dimension

    @property
    def computed(self) -> bool:
        return self.value is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "value": self.value,
            "score": self.score,
            "counted": dict(self.counted),
            "display": msg_to_json(self.display),
            "missing": msg_to_json(self.missing),
            "details": self.details,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Indicator:
        return cls(
            code=data["code"],
            value=data["value"],
            score=data["score"],
            counted=dict(data.get("counted") or {}),
            display=msg_from_json(data.get("display")),
            missing=msg_from_json(data.get("missing")),
            details=dict(data.get("details") or {}),
        )


def measured(
    code: str,
    value: float,
    display: Msg,
    counted: dict[str, int],
    details: dict[str, Any] | None = None,
) -> Indicator:
    """A computed indicator, scored by the thresholds in force."""
    value = round(float(value), DECIMALS)
    return Indicator(
        code, value, scale().score(code, value), dict(counted), display, None, details or {}
    )


def not_computed(
    code: str,
    missing: Msg,
    counted: dict[str, int] | None = None,
    details: dict[str, Any] | None = None,
) -> Indicator:
    """An indicator the record cannot give (yet), with the reason."""
    return Indicator(code, None, None, dict(counted or {}), None, missing, details or {})


@dataclass(frozen=True)
class Dimension:
    code: str
    indicators: tuple[Indicator, ...]

    @property
    def label(self) -> Msg:
        return DIMENSION_LABELS[self.code]

    @property
    def score(self) -> float | None:
        """The mean of its computed indicators' scores (one decimal); None if none is."""
        scores = [i.score for i in self.indicators if i.score is not None]
        return round(sum(scores) / len(scores), 1) if scores else None


@dataclass(frozen=True)
class Evaluation:
    """A démarche's evaluation: live (``frozen_at`` None) or as frozen at its closing.
    ``as_of``: the date of the data it was computed from."""

    demarche_id: int
    as_of: datetime
    scores_version: int
    dimensions: tuple[Dimension, ...]
    frozen_at: datetime | None = None

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for d in self.dimensions for i in d.indicators)

    def indicator(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators if i.code == code), None)

    def dimension(self, code: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.code == code), None)

    def with_dimension(self, dimension: Dimension) -> Evaluation:
        """The same evaluation with ``dimension`` in place of its namesake (read live)."""
        return replace(
            self,
            dimensions=tuple(dimension if d.code == dimension.code else d for d in self.dimensions),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "demarche_id": self.demarche_id,
            "as_of": self.as_of.isoformat(),
            "scores_version": self.scores_version,
            "dimensions": [
                {"code": d.code, "indicators": [i.to_json() for i in d.indicators]}
                for d in self.dimensions
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, frozen_at: datetime | None) -> Evaluation:
        return cls(
            demarche_id=data["demarche_id"],
            as_of=datetime.fromisoformat(data["as_of"]),
            scores_version=data["scores_version"],
            dimensions=tuple(
                Dimension(d["code"], tuple(Indicator.from_json(i) for i in d["indicators"]))
                for d in data["dimensions"]
            ),
            frozen_at=frozen_at,
        )


# -- messages as JSON -------------------------------------------------------------------------


def msg_to_json(msg: Msg | None) -> dict[str, Any] | None:
    """``{"text": …, "params": {…}}``; a message given as a parameter nests as ``{"msg": …}``."""
    if msg is None:
        return None
    return {
        "text": msg.text,
        "params": {
            k: {"msg": msg_to_json(v)} if isinstance(v, Msg) else v for k, v in msg.params.items()
        },
    }


def msg_from_json(data: dict[str, Any] | None) -> Msg | None:
    if data is None:
        return None
    params = {
        k: msg_from_json(v["msg"]) if isinstance(v, dict) and "msg" in v else v
        for k, v in (data.get("params") or {}).items()
    }
    return Msg(data["text"], params)
