"""Mobilisation: how many took part against the population, where, who was new, through how
many channels and methods, and how evenly.

*Participants*: the people who contributed (a contribution the moderation did not refuse,
whatever its channel; an imported author by their identity in the source — the one rule of
``workflows.authors``) or attended one of the démarche's events (attendance recorded), each
once. Contributions without a known author count no one; they are counted apart.
*Where*: the canton of the commune given with the contribution; for someone who only
attended an event, the commune of their participant record.

*Cantons* (the territory data, ``workflows/data/haute-garonne-communes.csv``): the canton
codes the communes carry, each with the population of its communes (INSEE 2023). Toulouse
counts as one unit, 3199: the commune spans Toulouse-1 to Toulouse-11 and the data does not
say where its inhabitants live. A démarche of the whole département has the 22 units; a
démarche of one canton has that canton's communes (and Toulouse's unit for a Toulouse-N
canton).

Five queries and the methods used (``methods.planning.used``), whatever the contributions.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import and_, case, exists, func, select, union
from sqlalchemy.orm import Session

from .. import authors
from ..charter import paris_midnight
from ..clock import local_date
from ..i18n import N_
from ..methods.planning import used
from ..models import (
    Channel,
    Contribution,
    ContributionStatus,
    Demarche,
    Event,
    Participant,
    Registration,
)
from ..stages import Stage, add_months
from ..territory import (
    TOULOUSE_CANTON_CODE,
    WHOLE_DEPARTEMENT,
    canton_names,
    communes,
)
from . import display
from .indicators import Dimension, Indicator, measured, not_computed
from .record import reached_by, stage_moments

#: Who took part before is looked for over this many months before the opening.
NEWCOMER_MONTHS = 24


@dataclass(frozen=True)
class Unit:
    """A canton of the territory data, with its population."""

    code: str
    name: str
    population: int


@cache
def _populations() -> dict[str, int]:
    found: Counter[str] = Counter()
    for commune in communes():
        found[commune.canton_code] += commune.population
    return dict(found)


@cache
def canton_of_commune() -> dict[str, str]:
    """INSEE commune code → its canton code (Toulouse: 3199)."""
    return {c.insee_code: c.canton_code for c in communes()}


def territory_units(territory: str | None) -> tuple[Unit, ...]:
    """The cantons a démarche of ``territory`` covers (all for the whole département)."""
    populations, names = _populations(), canton_names()
    if not territory or territory == WHOLE_DEPARTEMENT:
        codes = set(populations)
    else:
        codes = {c.canton_code for c in communes() if c.canton_name == territory}
        if territory.startswith("Toulouse-"):
            codes.add(TOULOUSE_CANTON_CODE)  # Toulouse spans its eleven cantons
        codes = codes or set(populations)
    return tuple(Unit(code, names.get(code, code), populations[code]) for code in sorted(codes))


def mobilisation(session: Session, d: Demarche, as_of: datetime) -> Dimension:
    live = and_(
        Contribution.demarche_id == d.id, Contribution.status != ContributionStatus.REJECTED
    )
    contributors = select(Contribution.participant_id.label("person")).where(
        live, Contribution.participant_id.is_not(None)
    )
    attendees = (
        select(Registration.participant_id.label("person"))
        .join(Event, Event.id == Registration.event_id)
        .where(Event.demarche_id == d.id, Registration.attended.is_(True))
    )

    # 1. Per channel: contributions.
    per_channel = {
        Channel(channel).value: count
        for channel, count in session.execute(
            select(Contribution.channel, func.count()).where(live).group_by(Contribution.channel)
        )
    }
    # 2. Contributors: how many people, and contributions without a person.
    identified, anonymous = session.execute(
        select(
            authors.people(),
            authors.without_author(),
        ).where(live)
    ).one()
    # 3. Per canton: the contributors of each canton.
    located: Counter[str] = Counter()
    unlocated = 0
    for canton, people in session.execute(
        select(Contribution.canton_code, authors.people())
        .where(live)
        .group_by(Contribution.canton_code)
    ):
        if canton:
            located[canton] += people
        else:
            unlocated += people
    # 4. Those who only attended an event, per commune.
    attended_only = 0
    cantons = canton_of_commune()
    for commune, people in session.execute(
        select(Participant.commune_insee, func.count(Participant.id))
        .where(Participant.id.in_(attendees), Participant.id.not_in(contributors))
        .group_by(Participant.commune_insee)
    ):
        attended_only += people
        if commune in cantons:
            located[cantons[commune]] += people
        else:
            unlocated += people
    participants = identified + attended_only

    units = territory_units(d.territory)
    population = sum(u.population for u in units)
    rates = {u.code: located[u.code] / u.population * 1000 for u in units}
    per_canton = [
        {
            "code": u.code,
            "name": u.name,
            "population": u.population,
            "participants": located[u.code],
            "per_1000": round(rates[u.code], 4),
        }
        for u in units
    ]
    outside = sum(n for code, n in located.items() if code not in rates)
    counted = {
        "participants": participants,
        "contributors": identified,
        "attended_only": attended_only,
        "contributions_without_person": anonymous,
        "population": population,
        "cantons": len(units),
        "located_outside_territory": outside,
        "without_canton": unlocated,
    }
    nobody = N_("nobody has taken part yet")
    found: list[Indicator] = []
    if not participants:
        found += [
            not_computed(code, nobody, counted)
            for code in (
                "mobilisation_per_1000",
                "mobilisation_cantons_reached",
                "mobilisation_canton_spread",
                "mobilisation_newcomers",
            )
        ]
    else:
        rate = participants / population * 1000
        found.append(
            measured(
                "mobilisation_per_1000",
                rate,
                display.per_1000(rate),
                counted,
                {"per_canton": per_canton},
            )
        )
        reached = sum(1 for u in units if located[u.code])
        found.append(
            measured(
                "mobilisation_cantons_reached",
                reached / len(units),
                display.share(reached / len(units)),
                {"cantons": len(units), "reached": reached},
            )
        )
        found.append(_spread(units, rates))
        found.append(_newcomers(session, d, as_of, contributors, attendees))
    found.append(_channels(per_channel))
    found.append(_methods(session, d))
    found.append(_evenness(per_channel))
    return Dimension("mobilisation", tuple(found))


def _spread(units: tuple[Unit, ...], rates: dict[str, float]) -> Indicator:
    code = "mobilisation_canton_spread"
    if len(units) < 2:
        return not_computed(code, N_("the territory is one canton"), {"cantons": len(units)})
    least = min(units, key=lambda u: (rates[u.code], u.code))
    most = max(units, key=lambda u: (rates[u.code], u.code))
    if not rates[most.code]:
        return not_computed(
            code, N_("no participant located in a canton of the territory"), {"cantons": len(units)}
        )
    ratio = rates[least.code] / rates[most.code]
    return measured(
        code,
        ratio,
        display.share(ratio),
        {"cantons": len(units)},
        {
            "least": {
                "code": least.code,
                "name": least.name,
                "per_1000": round(rates[least.code], 4),
            },
            "most": {"code": most.code, "name": most.name, "per_1000": round(rates[most.code], 4)},
        },
    )


def _newcomers(session: Session, d: Demarche, as_of: datetime, contributors, attendees):
    """Among the participants with an address or an account (an imported author is known by
    their identity in one source only), those who took part in no other démarche — a
    contribution not refused, an event attended — in the 24 months before the opening (the
    date of the data for a démarche not open yet)."""
    code = "mobilisation_newcomers"
    opened = reached_by(stage_moments(session, d), Stage.CONSULTATION, as_of) or as_of
    since = paris_midnight(add_months(local_date(opened), -NEWCOMER_MONTHS))
    people = union(contributors, attendees).subquery("people")
    person = people.c.person
    contributed_before = exists().where(
        Contribution.participant_id == person,
        Contribution.demarche_id != d.id,
        Contribution.status != ContributionStatus.REJECTED,
        Contribution.contributed_at >= since,
        Contribution.contributed_at < opened,
    )
    attended_before = exists().where(
        Registration.participant_id == person,
        Registration.attended.is_(True),
        Event.id == Registration.event_id,
        Event.demarche_id != d.id,
        Event.starts_at >= since,
        Event.starts_at < opened,
    )
    total, new = session.execute(
        select(
            func.count(),
            func.count(case((and_(~contributed_before, ~attended_before), 1))),
        ).select_from(people)
    ).one()
    counted = {"participants": total, "newcomers": new}
    if not total:
        # Imported authors are known by their identity in one source only: whether they took
        # part before cannot be told.
        return not_computed(code, N_("no participant with an address or an account"), counted)
    return measured(code, new / total, display.share(new / total), counted)


def _channels(per_channel: dict[str, int]) -> Indicator:
    code = "mobilisation_channels"
    counted = {channel.value: per_channel.get(channel.value, 0) for channel in Channel}
    if not per_channel:
        return not_computed(code, N_("no contribution yet"), counted)
    return measured(code, len(per_channel), display.channels(len(per_channel)), counted)


def _methods(session: Session, d: Demarche) -> Indicator:
    code = "mobilisation_methods"
    uses = used(session, d)
    methods = {u.method.slug: u.method.name for u in uses}
    via = Counter(u.via for u in uses)
    counted = {"uses": len(uses), "events": via["event"], "channels": via["channel"]}
    if not methods:
        return not_computed(code, N_("no method used yet"), counted)
    return measured(
        code,
        len(methods),
        display.methods(len(methods)),
        counted,
        {"methods": [{"slug": slug, "name": name} for slug, name in sorted(methods.items())]},
    )


def _evenness(per_channel: dict[str, int]) -> Indicator:
    code = "mobilisation_evenness"
    counted = dict(per_channel)
    total = sum(per_channel.values())
    if not total:
        return not_computed(code, N_("no contribution yet"), counted)
    if len(per_channel) == 1:
        return measured(code, 0.0, display.out_of_one(0.0), counted)
    entropy = -sum(n / total * math.log(n / total) for n in per_channel.values())
    evenness = entropy / math.log(len(per_channel))
    return measured(code, evenness, display.out_of_one(evenness), counted)
