"""Who is told what when a démarche changes stage (DESIGN §2, "on entering, the workers").

Only outbox rows are written here, in the transition's transaction; the emails themselves
are rendered and sent by the workers once the transaction committed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import outbox
from .models import Demarche, Role, StageTransition, User
from .roles import RoleName
from .stages import Stage

# Template names, one per kind of email (templates/emails/<name>.{txt,html}).
ACKNOWLEDGEMENT = "saisine_acknowledgement"
TO_REVIEW = "saisine_to_review"
RETURNED = "saisine_returned"
REJECTED = "saisine_rejected"
ACCEPTED = "demarche_accepted"
STAGE_CHANGED = "stage_changed"
ELECTED_STAGE_CHANGED = "elected_stage_changed"


def mission_staff(session: Session) -> list[User]:
    """Active mission members (administrators are not mailed for routine work)."""
    query = (
        select(User)
        .join(User.roles)
        .where(Role.name == RoleName.MISSION, User.active.is_(True))
        .order_by(User.id)
    )
    return list(session.scalars(query).unique())


def department_contacts(session: Session, d: Demarche) -> list[User]:
    """The agent who wrote the saisine, or else every active agent of the department."""
    creator = d.created_by
    if (
        creator is not None
        and creator.active
        and creator.department_id == d.department_id
        and creator.has_any_role(RoleName.DEPARTMENT)
    ):
        return [creator]
    if d.department_id is None:
        return []
    query = (
        select(User)
        .join(User.roles)
        .where(
            User.department_id == d.department_id,
            Role.name == RoleName.DEPARTMENT,
            User.active.is_(True),
        )
        .order_by(User.id)
    )
    return list(session.scalars(query).unique())


def recipients_for(
    session: Session, d: Demarche, t: StageTransition
) -> dict[int, tuple[User, str]]:
    """Recipient id → (user, template). One email per person and transition."""
    plan: dict[int, tuple[User, str]] = {}

    def tell(users: list[User], template: str) -> None:
        for user in users:
            plan.setdefault(user.id, (user, template))

    department = department_contacts(session, d)
    if t.to_stage == Stage.SUBMITTED:
        tell(department, ACKNOWLEDGEMENT)
        tell(mission_staff(session), TO_REVIEW)
    elif t.to_stage == Stage.RETURNED:
        tell(department, RETURNED)
    elif t.to_stage == Stage.REJECTED:
        tell(department, REJECTED)
    elif t.to_stage == Stage.LAUNCH:
        tell(department, ACCEPTED)
    else:
        tell(department, STAGE_CHANGED)
        if t.to_stage == Stage.SYNTHESIS:
            tell(mission_staff(session), STAGE_CHANGED)

    official = d.elected_official
    if official is not None and official.active and official.has_any_role(RoleName.ELECTED):
        # The official hears of every stage change, whatever else they are.
        plan[official.id] = (official, ELECTED_STAGE_CHANGED)
    # Whoever made the move knows it already; a submitter still gets the receipt (CRPA L112-3).
    if t.actor_id in plan and plan[t.actor_id][1] != ACKNOWLEDGEMENT:
        del plan[t.actor_id]
    return plan


def on_transition(session: Session, d: Demarche, t: StageTransition) -> None:
    for user, template in recipients_for(session, d, t).values():
        context: dict = {"transition_id": t.id}
        if template == ACKNOWLEDGEMENT:
            # Sending the receipt meets the charter's acknowledgement deadline of this round.
            context["settles"] = f"acknowledge_saisine:d{d.id}:r{t.id}"
        outbox.enqueue(
            session,
            key=f"transition:{t.id}:{user.id}",
            template=template,
            recipient=user,
            demarche=d,
            context=context,
            as_of=t.at,
        )
