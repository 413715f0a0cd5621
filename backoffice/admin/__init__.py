"""The Flask-Admin back office, built per app (a module-level ``Admin`` breaks a second app)."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _L
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from workflows.models import (
    Contribution,
    Deadline,
    Demarche,
    Department,
    Event,
    Item,
    Mailing,
    Method,
    Role,
    TrainingSession,
    User,
)

from ..extensions import db
from ..headers import csp_nonce
from .charter import CharterView, DeadlineView
from .consultation import ContributionView, EventView, ItemView
from .demarches import DemarcheView
from .home import HomeView
from .label import LabelRulesView
from .mailings import MailingView
from .methods import MethodView
from .people import DepartmentView, ElectedOfficialView, RoleView, UserView
from .saisine import SaisineView
from .syntheses import SynthesisView
from .training import TrainingView


def init_app(app: Flask) -> Admin:
    # Our templates override a few of Flask-Admin's (templates/admin/…) and reach the originals
    # as "flask_admin/admin/…" to import the macros they leave unchanged.
    own = app.jinja_loader
    assert own is not None  # create_app gives the app its template folder
    app.jinja_loader = ChoiceLoader(
        [
            own,
            PrefixLoader({"flask_admin": PackageLoader("flask_admin", "templates/bootstrap4")}),
        ]
    )
    admin = Admin(
        app,
        name="Dialogue citoyen",
        theme=Bootstrap4Theme(base_template="admin/dialogue_base.html", fluid=True),
        index_view=HomeView(name=_L("Home"), url="/admin"),
        csp_nonce_generator=csp_nonce,
    )
    admin.add_view(DemarcheView(Demarche, db, name=_L("Démarches"), endpoint="demarche"))
    admin.add_view(SaisineView(name=_L("Saisine"), endpoint="saisine", url="saisine"))
    consultation = _L("Consultation")
    admin.add_view(ItemView(Item, db, name=_L("Items"), category=consultation, endpoint="item"))
    admin.add_view(
        ContributionView(
            Contribution,
            db,
            name=_L("Contributions"),
            category=consultation,
            endpoint="contribution",
        )
    )
    admin.add_view(EventView(Event, db, name=_L("Events"), category=consultation, endpoint="event"))
    admin.add_view(MailingView(Mailing, db, name=_L("Mailings"), endpoint="mailing"))
    admin.add_view(SynthesisView(name=_L("Synthesis"), endpoint="synthesis", url="synthesis"))
    admin.add_view(MethodView(Method, db, name=_L("Toolbox"), endpoint="method"))
    admin.add_view(
        TrainingView(TrainingSession, db, name=_L("Training sessions"), endpoint="training")
    )
    promises = _L("Charter")
    admin.add_view(
        DeadlineView(Deadline, db, name=_L("Deadlines"), category=promises, endpoint="deadline")
    )
    admin.add_view(
        CharterView(
            name=_L("Rules and versions"), category=promises, endpoint="charter", url="charter"
        )
    )
    admin.add_view(
        LabelRulesView(
            name=_L("The label's rules"), category=promises, endpoint="label_rules", url="label"
        )
    )
    people = _L("People")
    admin.add_view(UserView(User, db, name=_L("Accounts"), category=people, endpoint="user"))
    admin.add_view(
        ElectedOfficialView(
            User, db, name=_L("Elected officials"), category=people, endpoint="elected"
        )
    )
    admin.add_view(
        DepartmentView(
            Department, db, name=_L("Departments"), category=people, endpoint="department"
        )
    )
    admin.add_view(RoleView(Role, db, name=_L("Roles"), category=people, endpoint="role"))
    if app.config["DIALOGUE_ENV"] == "development":
        from ..devmail import DevMailView

        admin.add_view(DevMailView(name=_L("Emails (dev)"), endpoint="devmail", url="mail"))

    def may_open(endpoint: str) -> bool:
        """Whether the current user may open the back-office view ``endpoint`` (pages show
        a link only to those it will not refuse)."""
        view = next((v for v in admin._views if v.endpoint == endpoint), None)
        return view is not None and view.is_accessible()

    app.context_processor(lambda: {"may_open": may_open})
    return admin
