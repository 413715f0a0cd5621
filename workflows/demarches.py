"""Creating and editing démarches: which fields, valid values, and who may change what when.

``create_draft`` and ``update_demarche`` are called by the back office forms and the API
alike, so that both apply the same rules and speak the same messages. The stage is not a
field: only ``workflows.transitions.transition`` changes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from slugify import slugify
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, charter
from .access import acts_for_department
from .clock import local_date
from .errors import Conflict, InvalidFields, PermissionDenied
from .i18n import N_, Msg
from .models import Demarche, Department, Role, User
from .roles import RoleName
from .stages import SAISINE_STAGES, ParticipationLevel, Stage
from .territory import canonical_territory
from .text import clean_text

MAX_TEXT = 20_000
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_BUDGET = Decimal("9999999999.99")  # the column is Numeric(12, 2)
MAX_PARTICIPANTS = 10_000_000  # more than the département's inhabitants

_S = Stage
_BEFORE_CONSULTATION = frozenset({_S.DRAFT, _S.SUBMITTED, _S.RETURNED, _S.LAUNCH})
_DEPARTMENT_SAISINE = frozenset({_S.DRAFT, _S.RETURNED})


class Invalid(Exception):
    """Raised by a field parser; carries the message for that field."""

    def __init__(self, message: Msg) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Field:
    label: Msg
    parse: Callable[[Session, Any], Any]
    # Stages in which each kind of actor may change the field ("mission" includes admins).
    mission: frozenset[Stage]
    department: frozenset[Stage] = frozenset()


def _text(
    max_length: int, required: Msg | None = None, *, single_line: bool = False
) -> Callable[[Session, Any], str]:
    def parse(session: Session, value: Any) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise Invalid(N_("text expected"))
        if "\x00" in value:
            raise Invalid(N_("invalid character in the text"))
        value = clean_text(value, single_line=single_line)
        if required is not None and not value:
            raise Invalid(required)
        if len(value) > max_length:
            raise Invalid(N_("at most %(max)s characters", max=max_length))
        return value

    return parse


def _territory(session: Session, value: Any) -> str | None:
    if value in (None, ""):
        return None
    name = canonical_territory(str(value))
    if name is None:
        raise Invalid(
            N_(
                "unknown territory “%(value)s”: give a canton of Haute-Garonne or "
                "Haute-Garonne for the whole département",
                value=value,
            )
        )
    return name


def _participation_level(session: Session, value: Any) -> ParticipationLevel | None:
    if value in (None, ""):
        return None
    try:
        return ParticipationLevel(value)
    except ValueError:
        raise Invalid(
            N_(
                "unknown participation level “%(value)s”: choose information, consultation, "
                "concertation, co-construction or codecision",
                value=value,
            )
        ) from None


def _elected_official(session: Session, value: Any) -> User | None:
    if value in (None, ""):
        return None
    if isinstance(value, User):
        user = value
    elif "\x00" in str(value):
        user = None
    else:
        user = session.scalar(
            select(User).where(func.lower(User.email) == str(value).strip().lower())
        )
    if user is None or not user.active or not user.has_any_role(RoleName.ELECTED):
        raise Invalid(N_("no elected official has the email address “%(value)s”", value=value))
    return user


def _department(session: Session, value: Any) -> Department | None:
    if value in (None, ""):
        return None
    if isinstance(value, Department):
        return value
    if "\x00" in str(value):
        raise Invalid(N_("unknown department “%(value)s”", value=value))
    department = session.scalar(select(Department).where(Department.name == str(value).strip()))
    if department is None:
        raise Invalid(N_("unknown department “%(value)s”", value=value))
    return department


def _budget(session: Session, value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise Invalid(N_("an amount in euros expected"))
    try:
        if isinstance(value, str):
            value = value.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
            value = value.replace("€", "").replace(",", ".")
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise InvalidOperation
        amount = amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        raise Invalid(N_("an amount in euros expected")) from None
    if amount < 0 or amount > MAX_BUDGET:
        raise Invalid(N_("an amount in euros expected, at most %(max)s", max=MAX_BUDGET))
    return amount


def _participants(session: Session, value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = value.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise Invalid(N_("a whole number of people expected"))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(N_("a whole number of people expected")) from None
    if not 1 <= number <= MAX_PARTICIPANTS:
        raise Invalid(
            N_("a whole number of people between 1 and %(max)s expected", max=MAX_PARTICIPANTS)
        )
    return number


def _boolean(session: Session, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "n", "off"):
        return False
    if value in ("1", "true", "y", "on"):
        return True
    raise Invalid(N_("yes or no expected"))


def _date(session: Session, value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        raise Invalid(N_("a date expected (YYYY-MM-DD)"))
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise Invalid(N_("a date expected (YYYY-MM-DD)")) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise Invalid(
            N_("a date between %(first)s and %(last)s expected", first=MIN_YEAR, last=MAX_YEAR)
        )
    return value


_ALL_BEFORE_CLOSE = frozenset({*_BEFORE_CONSULTATION, _S.CONSULTATION})

FIELDS: dict[str, Field] = {
    "title": Field(
        N_("Title"),
        _text(200, N_("title missing"), single_line=True),
        _BEFORE_CONSULTATION,
        _DEPARTMENT_SAISINE,
    ),
    "department": Field(N_("Department"), _department, frozenset(SAISINE_STAGES)),
    "objectives": Field(
        N_("Objectives"), _text(MAX_TEXT), _BEFORE_CONSULTATION, _DEPARTMENT_SAISINE
    ),
    "public": Field(
        N_("Public concerned"), _text(MAX_TEXT), _BEFORE_CONSULTATION, _DEPARTMENT_SAISINE
    ),
    "territory": Field(N_("Territory"), _territory, _BEFORE_CONSULTATION, _DEPARTMENT_SAISINE),
    "participation_level": Field(
        N_("Participation level"), _participation_level, _BEFORE_CONSULTATION, _DEPARTMENT_SAISINE
    ),
    "elected_official": Field(
        N_("Sponsoring elected official"),
        _elected_official,
        _BEFORE_CONSULTATION,
        _DEPARTMENT_SAISINE,
    ),
    "desired_calendar": Field(
        N_("Desired calendar"), _text(MAX_TEXT), _BEFORE_CONSULTATION, _DEPARTMENT_SAISINE
    ),
    "budget": Field(N_("Budget (€)"), _budget, _BEFORE_CONSULTATION, _DEPARTMENT_SAISINE),
    "expected_participants": Field(
        N_("Participants expected"), _participants, _BEFORE_CONSULTATION, _DEPARTMENT_SAISINE
    ),
    "participation_ends_by": Field(
        N_("Participation over by"), _date, _BEFORE_CONSULTATION, _DEPARTMENT_SAISINE
    ),
    "presentation": Field(
        N_("Public presentation"),
        _text(MAX_TEXT),
        _ALL_BEFORE_CLOSE,
        frozenset({*_DEPARTMENT_SAISINE, _S.LAUNCH}),
    ),
    "consultation_opens": Field(
        N_("Consultation opens on"),
        _date,
        _BEFORE_CONSULTATION,
        frozenset({*_DEPARTMENT_SAISINE, _S.LAUNCH}),
    ),
    "consultation_closes": Field(
        N_("Consultation closes on"),
        _date,
        _ALL_BEFORE_CLOSE,
        frozenset({*_DEPARTMENT_SAISINE, _S.LAUNCH}),
    ),
    "hold_for_review": Field(N_("Hold contributions for review"), _boolean, _ALL_BEFORE_CLOSE),
}

#: Fields holding a related object, set through their ``*_id`` column.
_RELATIONS = {"department", "elected_official"}


def editable_fields(actor: User, d: Demarche) -> set[str]:
    """The fields ``actor`` may change on ``d`` at its current stage."""
    return {name for name, f in FIELDS.items() if d.stage in _stages_for(actor, f, d)}


def creatable_fields(actor: User) -> set[str]:
    """The fields ``actor`` may fill in a new draft (an agent's drafts are their department's)."""
    return editable_fields(actor, Demarche(stage=Stage.DRAFT, department_id=actor.department_id))


def _stages_for(actor: User, f: Field, d: Demarche) -> frozenset[Stage]:
    if actor.is_mission:
        return f.mission
    if acts_for_department(actor, d):
        return f.department
    return frozenset()


def _parse(session: Session, changes: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, Msg] = {}
    values: dict[str, Any] = {}
    for name, raw in changes.items():
        spec = FIELDS.get(name)
        if spec is None:
            errors[name] = N_("unknown field")
            continue
        try:
            values[name] = spec.parse(session, raw)
        except Invalid as exc:
            errors[name] = exc.message
    if errors:
        raise InvalidFields(errors)
    return values


def _check_dates(d: Demarche, as_of: datetime, changed: set[str]) -> None:
    opens, closes = d.consultation_opens, d.consultation_closes
    if opens and closes and closes <= opens:
        raise InvalidFields(
            {"consultation_closes": N_("the consultation must close after it opens")}
        )
    if (
        d.stage == Stage.CONSULTATION
        and "consultation_closes" in changed
        and (closes is None or closes < local_date(as_of))
    ):
        raise InvalidFields(
            {"consultation_closes": N_("an open consultation cannot close in the past")}
        )


def _unique_slug(session: Session, title: str, demarche_id: int | None) -> str:
    base = slugify(title, max_length=100, word_boundary=True) or "demarche"
    slug, n = base, 1
    while True:
        taken = session.scalar(select(Demarche.id).where(Demarche.slug == slug))
        if taken is None or taken == demarche_id:
            return slug
        n += 1
        slug = f"{base}-{n}"


def _insert_with_unique_slug(session: Session, d: Demarche) -> None:
    """Insert ``d`` with a free slug; two users creating the same title at once both succeed."""
    slug = _unique_slug(session, d.title, None)
    for _ in range(5):
        d.slug = slug
        try:
            with session.begin_nested():
                session.add(d)
        except IntegrityError:
            slug = f"{_unique_slug(session, d.title, None)}-{secrets.token_hex(2)}"
        else:
            return
    raise Conflict(N_("too many démarches are being created with this title; try again"))


def _apply(d: Demarche, values: dict[str, Any]) -> set[str]:
    changed = set()
    for name, value in values.items():
        attr = f"{name}_id" if name in _RELATIONS else name
        new = value.id if name in _RELATIONS and value is not None else value
        if getattr(d, attr) != new:
            changed.add(name)
            setattr(d, name, value)
    return changed


def create_draft(
    session: Session,
    actor: User,
    fields: Mapping[str, Any],
    *,
    as_of: datetime,
) -> Demarche:
    """A new démarche at the draft stage, for the actor's department (or any, for the mission)."""
    values = _parse(session, fields)
    if not values.get("title"):
        raise InvalidFields({"title": N_("title missing")})
    if actor.is_mission:
        department = values.pop("department", None)
    elif actor.has_any_role(RoleName.DEPARTMENT):
        department = actor.department
        if department is None:
            raise PermissionDenied(N_("your account is not attached to a department"))
        asked = values.pop("department", None)
        if asked is not None and asked.id != department.id:
            raise PermissionDenied(N_("you may only create démarches for your own department"))
    else:
        raise PermissionDenied(N_("your role does not allow creating a démarche"))

    draft = Demarche(
        stage=Stage.DRAFT,
        department=department,
        charter_version=charter.current_version(session),  # kept for the démarche's whole life
        created_by=actor,
        created_at=as_of,
        updated_at=as_of,
        title=values["title"],
    )
    _apply(draft, values)
    _check_dates(draft, as_of, set(values))
    _insert_with_unique_slug(session, draft)
    audit.record(session, "demarche.create", actor=actor, as_of=as_of, demarche=draft)
    return draft


def announce(d: Demarche, as_of: datetime) -> None:
    """The opening date is public from the launch on: the public notice runs from then."""
    if d.stage == Stage.LAUNCH and d.consultation_opens is not None:
        d.announced_at = as_of


def update_demarche(
    session: Session,
    actor: User,
    d: Demarche,
    changes: Mapping[str, Any],
    *,
    as_of: datetime,
) -> set[str]:
    """Change fields of ``d``; returns the names of the fields that really changed.

    403 when the actor's role may never change a field, 409 when the stage no longer
    allows it, 422 for bad values; nothing is changed then.
    """
    unknown = {name: N_("unknown field") for name in changes if name not in FIELDS}
    if unknown:
        raise InvalidFields(unknown)
    editable = editable_fields(actor, d)
    frozen = [name for name in changes if name not in editable]
    if frozen:
        never = [n for n in frozen if not _stages_for(actor, FIELDS[n], d)]
        if never:
            raise PermissionDenied(
                *(N_("your role may not change “%(field)s”", field=FIELDS[n].label) for n in never)
            )
        raise Conflict(
            *(
                N_(
                    "“%(field)s” can no longer be changed at stage “%(stage)s”",
                    field=FIELDS[n].label,
                    stage=d.stage.label,
                )
                for n in frozen
            )
        )
    values = _parse(session, changes)
    if "title" in values and not values["title"]:
        raise InvalidFields({"title": N_("title missing")})
    changed = _apply(d, values)
    if not changed:
        return changed
    _check_dates(d, as_of, changed)
    if "consultation_opens" in changed:
        announce(d, as_of)
    if "title" in changed and d.stage in SAISINE_STAGES:
        d.slug = _unique_slug(session, d.title, d.id)
    d.updated_at = as_of
    audit.record(
        session, "demarche.update", actor=actor, as_of=as_of, demarche=d, fields=sorted(changed)
    )
    session.flush()
    return changed


def elected_officials(session: Session) -> list[User]:
    query = (
        select(User)
        .join(User.roles)
        .where(Role.name == RoleName.ELECTED, User.active.is_(True))
        .order_by(User.name, User.email)
    )
    return list(session.scalars(query).unique())
