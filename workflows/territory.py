"""The territory of Haute-Garonne: its 27 cantons and 586 communes.

Source: ``data/haute-garonne-communes.csv`` (INSEE commune list and 2023 populations,
La Poste postal codes, INSEE 2025 cantons; Licence Ouverte). Toulouse spans cantons
Toulouse-1 to 11 and carries the pseudo-canton code 3199.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache, lru_cache
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


class AmbiguousCommune(ValueError):
    """A postal code shared by several communes."""

    def __init__(self, value: str, names: list[str]) -> None:
        super().__init__(value)
        self.value, self.names = value, names


@cache
def _commune_indexes() -> tuple[dict[str, Commune], dict[str, Commune], dict[str, list[Commune]]]:
    by_code = {c.insee_code: c for c in communes()}
    by_name = {slugify(c.name): c for c in communes()}
    by_postal: dict[str, list[Commune]] = {}
    for c in communes():
        for code in c.postal_codes:
            by_postal.setdefault(code, []).append(c)
    return by_code, by_name, by_postal


@lru_cache(maxsize=8192)
def find_commune(value: str | float | int | None) -> Commune | None:
    """The commune of Haute-Garonne named by ``value``: its name (any case or accents), its
    postal code (a float such as 31400.0 too) or else its INSEE code — five digits are read as
    a postal code first, as people write them. None if unknown; raises AmbiguousCommune for a
    postal code shared by several communes."""
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]  # postal codes stored as floats lose nothing but their type
    if not text:
        return None
    by_code, by_name, by_postal = _commune_indexes()
    if text.isdigit():
        text = text.zfill(5)
        matches = by_postal.get(text, [])
        if len(matches) > 1:
            raise AmbiguousCommune(text, [c.name for c in matches])
        return matches[0] if matches else by_code.get(text)
    return by_name.get(slugify(text))


def canton_of(commune: Commune | None) -> str | None:
    """The canton code of a commune (Toulouse keeps its pseudo-canton 3199)."""
    return commune.canton_code if commune else None


@cache
def canton_names() -> dict[str, str]:
    """Canton code → name, Toulouse's pseudo-canton included."""
    names = {c.canton_code: c.canton_name for c in communes()}
    names.update({f"31{14 + n:02d}": f"Toulouse-{n}" for n in range(1, 12)})
    names[TOULOUSE_CANTON_CODE] = "Toulouse"
    return names
