"""The yearly report's figures, computed from the record in a fixed number of statements.

*The démarches of a year*: those whose consultation opened in that calendar year (their first
move to the consultation stage, Europe/Paris), by the date of the data. Each démarche belongs
to one year only, so that the years add up and compare: everything it gathered — its
contributions, participants, deadlines, feedback, survey and label — counts in the year it
opened, whenever it happened. A démarche never opened (a saisine, a launch under way) belongs
to no year yet.

What is counted, for the démarches of the year:

- the démarches by stage (where they stand at the date of the data), by participation level
  and by department;
- *participants*: the people who contributed (a contribution the moderation did not refuse)
  or attended an event, each once in the year; *contributions*: those not refused, with those
  without a person counted apart — the same rules as the evaluation's mobilisation;
- per canton: the participants of each canton (the canton of their contribution, else the
  commune of their participant record), per 1,000 inhabitants of the canton; Toulouse is one
  unit (``workflows.evaluation.mobilisation.territory_units``: its eleven cantons share the
  commune and the data does not say where its inhabitants live);
- the charter's deadlines of the démarches (not their questions'): the share met on time among
  those due — the rules of the evaluation's deadlines;
- feedback coverage: among the démarches at the feedback stage or closed, the share of their
  contributors told what became of their contribution (a feedback delivery sent), those who
  declined the feedback or erased their data left out unless told — the evaluation's rules,
  summed over the (démarche, contributor) pairs;
- the survey: the response rate and the share satisfied of the démarches whose answers reach
  the survey's publishing minimum (read from the answers, which keep coming after a closing);
- the labels awarded (``labels_awarded``);
- the trends: the same key figures for each earlier year that has démarches.

Nine statements whatever the number of démarches: every figure is an aggregate grouped by the
database, the year of each démarche a ``CASE`` over the years' first instants.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, or_, select, union
from sqlalchemy.orm import Session

from .. import authors, label, survey
from ..clock import local_date, start_of_local_day
from ..evaluation.feedback import DECLINED
from ..evaluation.mobilisation import canton_of_commune, territory_units
from ..models import (
    Contribution,
    ContributionStatus,
    Deadline,
    DeadlineStatus,
    Delivery,
    DeliveryStatus,
    Demarche,
    Department,
    Event,
    Mailing,
    MailingKind,
    Participant,
    Registration,
    StageTransition,
    SurveyAnswer,
    SurveyInvitation,
    SurveyScore,
    SurveySource,
)
from ..stages import ParticipationLevel, Stage
from ..survey.questions import AGREEING
from ..territory import WHOLE_DEPARTEMENT

#: The first year a report may be asked for (earlier: no such report, 404).
FIRST_YEAR = 2000
#: The survey's figures a report gives (the evaluation's indicators of the same names).
SURVEY_CODES = ("survey_response_rate", "survey_satisfaction")
#: Where the stages of the démarches of a year may stand (they all opened).
OPENED_STAGES = (Stage.CONSULTATION, Stage.SYNTHESIS, Stage.FEEDBACK, Stage.CLOSED)


@dataclass(frozen=True)
class YearFigures:
    """The key figures of one year, as the trends compare them."""

    year: int
    demarches: int = 0
    participants: int = 0
    contributions: int = 0
    per_1000: float = 0.0
    deadlines_due: int = 0
    deadlines_met_on_time: int = 0
    feedback_contributors: int = 0
    feedback_told: int = 0

    @property
    def deadlines_share(self) -> float | None:
        """The share of the due deadlines met on time (None: none due)."""
        return self.deadlines_met_on_time / self.deadlines_due if self.deadlines_due else None

    @property
    def feedback_share(self) -> float | None:
        """The share of the reachable contributors told (None: none to tell)."""
        return (
            self.feedback_told / self.feedback_contributors if self.feedback_contributors else None
        )


@dataclass(frozen=True)
class YearlyReport:
    """The yearly report of ``year`` as of ``as_of`` (plain data: kept as JSON as it is)."""

    year: int
    as_of: datetime
    figures: YearFigures
    by_stage: dict[str, int] = field(default_factory=dict)
    by_level: dict[str, int] = field(default_factory=dict)  # "" for a level not given
    by_department: list[dict[str, Any]] = field(default_factory=list)  # {name, demarches}
    contributions_without_person: int = 0
    population: int = 0
    per_canton: list[dict[str, Any]] = field(default_factory=list)
    participants_outside: int = 0  # located outside Haute-Garonne, or without a canton
    deadlines: dict[str, int] = field(default_factory=dict)
    feedback: dict[str, int] = field(default_factory=dict)
    survey: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, Any]] = field(default_factory=list)
    trends: list[YearFigures] = field(default_factory=list)  # earlier years, latest first

    @property
    def empty(self) -> bool:
        return not self.figures.demarches

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> YearlyReport:
        values = dict(data)
        values["as_of"] = datetime.fromisoformat(values["as_of"])
        values["figures"] = YearFigures(**values["figures"])
        values["trends"] = [YearFigures(**row) for row in values.get("trends", [])]
        return cls(**values)

    def content(self) -> dict[str, Any]:
        """What the report shows, the date of the data left out (what its documents' digest
        is taken of: the same figures a day later make no new documents)."""
        data = self.to_json()
        data.pop("as_of")
        return data


def valid_year(year: int, as_of: datetime) -> bool:
    """Whether a report of ``year`` may exist: from ``FIRST_YEAR`` to the current year."""
    return FIRST_YEAR <= year <= local_date(as_of).year


def labels_awarded(session: Session, year: int) -> tuple[dict[str, Any], ...]:
    """The labels held by the démarches of ``year`` (one query): ``{demarche_id, title,
    level, label}`` each, the highest level first, the latest awarded first within it."""
    opened = _opened()
    among = select(opened.c.demarche_id).where(
        opened.c.opened_at >= _year_start(year), opened.c.opened_at < _year_start(year + 1)
    )
    return tuple(
        {
            "demarche_id": held.demarche.id,
            "title": held.demarche.title,
            "level": held.level,
            "label": held.label,
        }
        for held in label.held(session, among=among)
    )


def _year_start(year: int) -> datetime:
    return start_of_local_day(date(year, 1, 1))


def _opened():
    """Each démarche's first opening of its consultation (a subquery)."""
    return (
        select(
            StageTransition.demarche_id.label("demarche_id"),
            func.min(StageTransition.at).label("opened_at"),
        )
        .where(StageTransition.to_stage == Stage.CONSULTATION)
        .group_by(StageTransition.demarche_id)
        .subquery("opened")
    )


def yearly(session: Session, year: int, *, as_of: datetime) -> YearlyReport:
    """The report of ``year`` from the record as of ``as_of`` (the date of the data)."""
    opened = _opened()
    end = min(_year_start(year + 1), as_of)
    # 1. The first year any démarche opened: the years the trends go back to.
    first = session.scalar(select(func.min(opened.c.opened_at)))
    first_year = local_date(first).year if first is not None and first < end else year
    years = list(range(max(first_year, FIRST_YEAR), year + 1)) or [year]
    # The year of a démarche, by the database: a CASE over the years' first instants.
    year_of = case(
        *((opened.c.opened_at < _year_start(y + 1), literal(y)) for y in years),
        else_=literal(year + 1),
    ).label("year")
    mine = (
        select(opened.c.demarche_id, year_of)
        .where(opened.c.opened_at >= _year_start(years[0]), opened.c.opened_at < end)
        .subquery("mine")
    )
    per_year: dict[int, dict[str, Any]] = {y: {"year": y} for y in years}

    # 2. The démarches by year, stage, level and department.
    by_stage: Counter[str] = Counter()
    by_level: Counter[str] = Counter()
    by_department: Counter[str] = Counter()
    for y, stage, level, department, count in session.execute(
        select(
            mine.c.year,
            Demarche.stage,
            Demarche.participation_level,
            Department.name,
            func.count(),
        )
        .select_from(mine)
        .join(Demarche, Demarche.id == mine.c.demarche_id)
        .outerjoin(Department, Department.id == Demarche.department_id)
        .group_by(mine.c.year, Demarche.stage, Demarche.participation_level, Department.name)
    ):
        per_year[y]["demarches"] = per_year[y].get("demarches", 0) + count
        if y == year:
            by_stage[Stage(stage).value] += count
            by_level[ParticipationLevel(level).value if level else ""] += count
            by_department[department or ""] += count

    live = Contribution.status != ContributionStatus.REJECTED
    # (authors as ``workflows.authors`` counts them: participants, then imported authors)
    contributors = (
        select(mine.c.year, authors.author().label("person"))
        .join(Contribution, Contribution.demarche_id == mine.c.demarche_id)
        .where(live, authors.author().is_not(None))
    )
    attendees = (
        select(mine.c.year, cast(Registration.participant_id, String).label("person"))
        .join(Event, Event.demarche_id == mine.c.demarche_id)
        .join(Registration, Registration.event_id == Event.id)
        .where(Registration.attended.is_(True))
    )
    # 3. Participants: the people who contributed or attended, once a year.
    people = union(contributors, attendees).subquery("people")
    for y, count in session.execute(select(people.c.year, func.count()).group_by(people.c.year)):
        per_year[y]["participants"] = count
    # 4. Contributions, and those without a person.
    anonymous = 0
    for y, count, without in session.execute(
        select(
            mine.c.year,
            func.count(),
            authors.without_author(),
        )
        .join(Contribution, Contribution.demarche_id == mine.c.demarche_id)
        .where(live)
        .group_by(mine.c.year)
    ):
        per_year[y]["contributions"] = count
        if y == year:
            anonymous = without

    # 5–6. The year's participants per canton.
    located: Counter[str] = Counter()
    unlocated = 0
    in_year = (
        select(Contribution.participant_id)
        .join(mine, mine.c.demarche_id == Contribution.demarche_id)
        .where(live, Contribution.participant_id.is_not(None), mine.c.year == year)
    )
    for canton, count in session.execute(
        select(Contribution.canton_code, authors.people())
        .join(mine, mine.c.demarche_id == Contribution.demarche_id)
        .where(live, mine.c.year == year)
        .group_by(Contribution.canton_code)
    ):
        if canton:
            located[canton] += count
        else:
            unlocated += count
    cantons = canton_of_commune()
    attended = attendees.where(mine.c.year == year).with_only_columns(Registration.participant_id)
    for commune, count in session.execute(
        select(Participant.commune_insee, func.count(Participant.id))
        .where(
            Participant.id.in_(attended),
            Participant.id.not_in(in_year),
        )
        .group_by(Participant.commune_insee)
    ):
        if commune in cantons:
            located[cantons[commune]] += count
        else:
            unlocated += count
    units = territory_units(WHOLE_DEPARTEMENT)
    population = sum(u.population for u in units)
    per_canton = [
        {
            "code": u.code,
            "name": u.name,
            "population": u.population,
            "participants": located[u.code],
            "per_1000": round(located[u.code] / u.population * 1000, 4),
        }
        for u in units
    ]
    known = {u.code for u in units}
    outside = unlocated + sum(n for code, n in located.items() if code not in known)

    # 7. The charter's deadlines of the démarches (their questions' left out).
    met = Deadline.status == DeadlineStatus.MET
    on_time = and_(met, Deadline.met_at.is_not(None), Deadline.met_at < Deadline.due_at)
    late = and_(met, Deadline.met_at.is_not(None), Deadline.met_at >= Deadline.due_at)
    waived = Deadline.status == DeadlineStatus.WAIVED
    missed = and_(~met, ~waived, Deadline.due_at <= as_of)
    deadlines: dict[str, int] = {}
    for y, total, n_on_time, n_late, n_missed, n_waived in session.execute(
        select(
            mine.c.year,
            func.count(),
            func.count(case((on_time, 1))),
            func.count(case((late, 1))),
            func.count(case((missed, 1))),
            func.count(case((waived, 1))),
        )
        .join(Deadline, Deadline.demarche_id == mine.c.demarche_id)
        .where(Deadline.question_id.is_(None))
        .group_by(mine.c.year)
    ):
        per_year[y]["deadlines_due"] = n_on_time + n_late + n_missed
        per_year[y]["deadlines_met_on_time"] = n_on_time
        if y == year:
            deadlines = {
                "deadlines": total,
                "due": n_on_time + n_late + n_missed,
                "met_on_time": n_on_time,
                "met_late": n_late,
                "missed": n_missed,
                "waived": n_waived,
                "not_yet_due": total - n_on_time - n_late - n_missed - n_waived,
            }

    # 8. Feedback coverage, over the (démarche, contributor) pairs of the démarches told.
    pairs = (
        select(mine.c.year, Contribution.demarche_id, Contribution.participant_id)
        .join(Contribution, Contribution.demarche_id == mine.c.demarche_id)
        .join(Demarche, Demarche.id == mine.c.demarche_id)
        .where(
            Contribution.participant_id.is_not(None),
            Demarche.stage.in_((Stage.FEEDBACK, Stage.CLOSED)),
        )
        .distinct()
        .subquery("pairs")
    )
    delivery = (
        select(
            Mailing.demarche_id,
            Delivery.participant_id,
            Delivery.status,
            Delivery.skip_reason,
        )
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .where(Mailing.kind == MailingKind.FEEDBACK)
        .subquery("delivery")
    )
    declined = or_(
        Participant.consent_feedback.is_(False),
        Participant.erased_at.is_not(None),
        delivery.c.skip_reason.in_(DECLINED),
    )
    each = (
        select(
            pairs.c.year,
            func.max(case((delivery.c.status == DeliveryStatus.SENT, 1), else_=0)).label("told"),
            func.max(case((declined, 1), else_=0)).label("declined"),
        )
        .select_from(pairs)
        .join(Participant, Participant.id == pairs.c.participant_id)
        .outerjoin(
            delivery,
            and_(
                delivery.c.demarche_id == pairs.c.demarche_id,
                delivery.c.participant_id == pairs.c.participant_id,
            ),
        )
        .group_by(pairs.c.year, pairs.c.demarche_id, pairs.c.participant_id)
        .subquery("each")
    )
    feedback: dict[str, int] = {}
    for y, total, told, excused in session.execute(
        select(
            each.c.year,
            func.count(),
            func.coalesce(func.sum(each.c.told), 0),
            func.count(case((and_(each.c.told == 0, each.c.declined == 1), 1))),
        ).group_by(each.c.year)
    ):
        per_year[y]["feedback_contributors"] = total - excused
        per_year[y]["feedback_told"] = int(told)
        if y == year:
            feedback = {
                "contributors": total,
                "told": int(told),
                "declined_or_erased": excused,
            }

    # 9–10. The survey of the year's démarches, read from its answers (they keep coming after
    # the closing): invitations, then answers and the satisfaction statement, per démarche.
    survey = _survey(session, mine, year)

    for row in per_year.values():
        row["per_1000"] = round(row.get("participants", 0) / population * 1000, 4)
    figures = {y: YearFigures(**row) for y, row in per_year.items()}
    return YearlyReport(
        year=year,
        as_of=as_of,
        figures=figures[year],
        by_stage={s.value: by_stage[s.value] for s in OPENED_STAGES},
        by_level={
            **{level.value: by_level[level.value] for level in ParticipationLevel},
            **({"": by_level[""]} if by_level[""] else {}),
        },
        by_department=[
            {"name": name, "demarches": count}
            for name, count in sorted(by_department.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        contributions_without_person=anonymous,
        population=population,
        per_canton=per_canton,
        participants_outside=outside,
        deadlines=deadlines,
        feedback=feedback,
        survey=survey,
        labels=list(labels_awarded(session, year)),
        trends=[
            figures[y] for y in sorted(figures, reverse=True) if y != year and figures[y].demarches
        ],
    )


def _survey(session: Session, mine, year: int) -> list[dict[str, Any]]:
    """Per survey figure — the response rate (online answers over invitations) and the share
    satisfied (4 or 5 on « satisfaction globale ») —, over the démarches of ``year`` whose
    answers reach the survey's publishing minimum (below it a démarche's results are not
    published, so they are not added either): how many, the mean, lowest and highest, and
    the sums counted. Two statements whatever the number of démarches."""
    invitations = dict(
        session.execute(
            select(SurveyInvitation.demarche_id, func.count())
            .join(mine, mine.c.demarche_id == SurveyInvitation.demarche_id)
            .where(mine.c.year == year)
            .group_by(SurveyInvitation.demarche_id)
        ).all()
    )
    satisfaction = and_(
        SurveyScore.answer_id == SurveyAnswer.id, SurveyScore.question == "satisfaction"
    )
    rows = session.execute(
        select(
            SurveyAnswer.demarche_id,
            func.count(func.distinct(SurveyAnswer.id)),
            func.count(
                func.distinct(case((SurveyAnswer.source == SurveySource.ONLINE, SurveyAnswer.id)))
            ),
            func.count(SurveyScore.score),
            func.count(case((SurveyScore.score >= AGREEING, 1))),
        )
        .join(mine, mine.c.demarche_id == SurveyAnswer.demarche_id)
        .outerjoin(SurveyScore, satisfaction)
        .where(mine.c.year == year)
        .group_by(SurveyAnswer.demarche_id)
    ).all()
    values: dict[str, list[float]] = {code: [] for code in SURVEY_CODES}
    counted: dict[str, Counter[str]] = {code: Counter() for code in SURVEY_CODES}
    for demarche_id, answers, through_links, answered, agreeing in rows:
        if answers < survey.minimum():
            continue
        invited = invitations.get(demarche_id, 0)
        if invited:
            responded = min(through_links, invited)
            values["survey_response_rate"].append(responded / invited)
            counted["survey_response_rate"].update(invitations=invited, answers=responded)
        if answered:
            values["survey_satisfaction"].append(agreeing / answered)
            counted["survey_satisfaction"].update(answers=answered, agreeing=agreeing)
    return [
        {
            "code": code,
            "demarches": len(found),
            "mean": round(sum(found) / len(found), 4) if found else None,
            "lowest": round(min(found), 4) if found else None,
            "highest": round(max(found), 4) if found else None,
            "counted": dict(counted[code]),
        }
        for code, found in values.items()
    ]
