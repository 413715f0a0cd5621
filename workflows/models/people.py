"""The people of Dialogue citoyen: accounts, roles, departments, login sessions, API tokens.

``UserMixin``/``RoleMixin`` are Flask-Security's method mixins (password checks, role tests):
plain methods on the model, no request involved, so the domain stays usable outside Flask.
"""

from __future__ import annotations

from datetime import datetime

from flask_security import RoleMixin, UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, String, Table, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..roles import MISSION_ROLES
from .base import Base

roles_users = Table(
    "roles_users",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Department(Base):
    """A policy department of the Conseil départemental (direction, service)."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    agents: Mapped[list[User]] = relationship(back_populates="department")

    def __str__(self) -> str:
        return self.name


class Role(Base, RoleMixin):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))

    def __str__(self) -> str:
        return self.name

    # RoleMixin compares by name; keep instances hashable for SQLAlchemy collections.
    __hash__ = RoleMixin.__hash__


class User(Base, UserMixin):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    fs_uniquifier: Mapped[str] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[datetime | None]
    name: Mapped[str] = mapped_column(String(160), default="")
    # What an elected official or an agent is, e.g. "Vice-présidente chargée de la démocratie".
    position: Mapped[str] = mapped_column(String(255), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    department: Mapped[Department | None] = relationship(back_populates="agents")
    # Flask-Security's UserMixin declares list[RoleMixin]; a list is invariant, so a list of
    # our Role (a RoleMixin) does not match it, though Flask-Security only reads it.
    roles: Mapped[list[Role]] = relationship(  # type: ignore[assignment]
        secondary=roles_users, lazy="selectin"
    )

    @property
    def role_names(self) -> set[str]:
        return {role.name for role in self.roles}

    def has_any_role(self, *names: str) -> bool:
        return bool(self.role_names.intersection(names))

    @property
    def is_mission(self) -> bool:
        """Mission staff; administrators hold every right of the mission."""
        return self.has_any_role(*MISSION_ROLES)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __str__(self) -> str:
        return self.display_name


class LoginSession(Base):
    """A browser session of an account, from its login to its logout: the session cookie names
    it (only a SHA-256 digest of its identifier is stored), so that a copy of the cookie is
    worthless once its owner logged out. ``remember``: opened with « se souvenir de moi »,
    whose cookie may open new sessions until the account logs out."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
