"""The territory of Haute-Garonne: its 27 cantons and 586 communes.

Source: ``data/haute-garonne-communes.csv`` (INSEE commune list and 2023 populations,
La Poste postal codes, INSEE 2025 cantons; Licence Ouverte). Toulouse spans cantons
Toulouse-1 to 11 and carries the pseudo-canton code 3199.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from slugify import slugify

WHOLE_DEPARTEMENT = "Haute-Garonne"
TOULOUSE_CANTON_CODE = "3199"


@dataclass(frozen=True)
class Commune:
    insee_code: str
    name: str
    postal_codes: tuple[str, ...]
    canton_code: str
    canton_name: str
    population: int


@cache
def communes() -> tuple[Commune, ...]:
    with (
        resources.files("workflows")
        .joinpath("data/haute-garonne-communes.csv")
        .open(encoding="utf-8") as fh
    ):
        return tuple(
            Commune(
                insee_code=row["insee_code"],
                name=row["name"],
                postal_codes=tuple(row["postal_codes"].split()),
                canton_code=row["canton_code"],
                canton_name=row["canton_name"],
                population=int(row["population"]),
            )
            for row in csv.DictReader(fh)
        )


@cache
def cantons() -> tuple[str, ...]:
    """The 27 canton names in INSEE order (Toulouse-1 … Toulouse-11 included)."""
    names = {
        c.canton_code: c.canton_name for c in communes() if c.canton_code != TOULOUSE_CANTON_CODE
    }
    # Toulouse's own cantons hold no commune of their own in the CSV: add them by number.
    names.update({f"31{14 + n:02d}": f"Toulouse-{n}" for n in range(1, 12)})
    return tuple(name for _, name in sorted(names.items()))


def territories() -> tuple[str, ...]:
    """What a démarche may cover: the whole département or one canton."""
    return (WHOLE_DEPARTEMENT, *cantons())


@cache
def _territory_index() -> dict[str, str]:
    return {slugify(name): name for name in territories()}


def canonical_territory(value: str) -> str | None:
    """The canonical spelling of a territory name, whatever its case or accents; None if unknown."""
    return _territory_index().get(slugify(value or ""))
