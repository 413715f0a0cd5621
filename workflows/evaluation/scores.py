"""The scores from 1 to 5: thresholds as data (``workflows/data/evaluation/scores.json``).

Each indicator has four thresholds, from the edge of score 2 to the edge of score 5:

- ``"better": "higher"`` (a share, a rate): the score is 1 plus the number of thresholds the
  value reaches (value ≥ threshold); the thresholds go up;
- ``"better": "lower"`` (days late): the score is 1 plus the number of thresholds the value
  does not pass (value ≤ threshold); the thresholds go down.

The file carries a ``version``: a frozen evaluation keeps the scores (and the version) it was
given, whatever the thresholds become.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .definitions import CODES

PATH = "data/evaluation/scores.json"


@dataclass(frozen=True)
class Buckets:
    better: str  # "higher" | "lower"
    thresholds: tuple[float, float, float, float]

    def score(self, value: float) -> int:
        if self.better == "higher":
            return 1 + sum(1 for t in self.thresholds if value >= t)
        return 1 + sum(1 for t in self.thresholds if value <= t)


@dataclass(frozen=True)
class Scale:
    version: int
    buckets: dict[str, Buckets]

    def score(self, code: str, value: float | None) -> int | None:
        if value is None:
            return None
        return self.buckets[code].score(value)


def parse(data: Any) -> Scale:
    """The scale in ``data`` (the file's JSON), checked: every indicator has four thresholds
    in the order its direction needs; raises ValueError saying what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("indicators"), dict):
        raise ValueError("scores: an object with “version” and “indicators” expected")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError("scores: “version” must be a whole number from 1")
    found = data["indicators"]
    if sorted(found) != sorted(CODES):
        missing, unknown = set(CODES) - set(found), set(found) - set(CODES)
        raise ValueError(f"scores: missing {sorted(missing)}, unknown {sorted(unknown)}")
    buckets = {}
    for code, spec in found.items():
        better = spec.get("better") if isinstance(spec, dict) else None
        thresholds = spec.get("thresholds") if isinstance(spec, dict) else None
        if better not in ("higher", "lower"):
            raise ValueError(f"scores: {code}: “better” is “higher” or “lower”")
        if (
            not isinstance(thresholds, list)
            or len(thresholds) != 4
            or not all(
                isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t)
                for t in thresholds
            )
        ):
            raise ValueError(f"scores: {code}: four numbers expected as “thresholds”")
        ordered = sorted(thresholds, reverse=better == "lower")
        if thresholds != ordered or len(set(thresholds)) != 4:
            way = "up" if better == "higher" else "down"
            raise ValueError(f"scores: {code}: the thresholds must go strictly {way}")
        buckets[code] = Buckets(better, tuple(float(t) for t in thresholds))  # type: ignore[arg-type]
    return Scale(version, buckets)


@cache
def scale() -> Scale:
    """The thresholds shipped with the project."""
    with resources.files("workflows").joinpath(PATH).open(encoding="utf-8") as fh:
        return parse(json.load(fh))
