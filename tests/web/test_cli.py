"""The operations contract on the command line (``flask --app wsgi …``)."""

from __future__ import annotations

from sqlalchemy import func, select

from backoffice.api.auth import digest
from backoffice.extensions import db
from workflows.models import ApiToken, Demarche, Department, User
from workflows.stages import Stage


def test_users_create_makes_the_department_and_prints_a_password(app, ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Rita@Routes.cd31.fr",
            "--role",
            "department",
            "--department",
            "Direction des routes",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created rita@routes.cd31.fr (department, Direction des routes)." in result.output
    password = result.output.split("Password: ")[1].strip()
    user = db.session.scalar(select(User))
    assert user.department.name == "Direction des routes"
    assert user.verify_and_update_password(password)

    again = runner.invoke(args=["users", "create", "rita@routes.cd31.fr", "--role", "mission"])
    assert again.exit_code == 1 and "already exists" in again.output
    no_dept = runner.invoke(args=["users", "create", "x@cd31.fr", "--role", "department"])
    assert no_dept.exit_code == 1 and "must belong to a department" in no_dept.output
    bad_role = runner.invoke(args=["users", "create", "y@cd31.fr", "--role", "king"])
    assert bad_role.exit_code == 2
    assert db.session.scalar(select(func.count(Department.id))) == 1


def test_users_token_prints_a_working_bearer_token(app, ctx, client):
    runner = app.test_cli_runner()
    weak = runner.invoke(
        args=["users", "create", "m@cd31.fr", "--role", "mission", "--password", "pw"]
    )
    assert weak.exit_code == 1 and "10" in weak.output  # Flask-Security's length rule
    runner.invoke(
        args=[
            "users",
            "create",
            "m@cd31.fr",
            "--role",
            "mission",
            "--password",
            "a long passphrase",
        ]
    )
    result = runner.invoke(args=["users", "token", "m@cd31.fr"])
    token = result.output.strip()
    assert result.exit_code == 0 and len(token) > 30
    assert db.session.scalar(select(ApiToken.digest)) == digest(token)  # only the digest is kept
    response = client.get("/api/v1/demarches", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert runner.invoke(args=["users", "token", "nobody@cd31.fr"]).exit_code == 1


def test_demo_load_is_idempotent_and_shows_the_accounts(app, ctx):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Demo data loaded." in first.output and "mission@demo.cd31.fr" in first.output
    count = db.session.scalar(select(func.count(Demarche.id)))
    stages = set(db.session.scalars(select(Demarche.stage)))
    assert stages >= {
        Stage.DRAFT,
        Stage.SUBMITTED,
        Stage.RETURNED,
        Stage.CONSULTATION,
        Stage.SYNTHESIS,
    }
    second = runner.invoke(args=["demo", "load"])
    assert "already present" in second.output
    assert db.session.scalar(select(func.count(Demarche.id))) == count


def test_demo_load_refuses_outside_development(app, ctx):
    app.config["DIALOGUE_ENV"] = "production"
    try:
        result = app.test_cli_runner().invoke(args=["demo", "load"])
    finally:
        app.config["DIALOGUE_ENV"] = "development"
    assert result.exit_code == 1 and "DIALOGUE_ENV=development" in result.output


def test_synthesis_build_prints_each_step_and_makes_a_version(app, make_demarche):
    d = make_demarche("synthesis")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["synthesis", "build", str(d.id)])
    assert result.exit_code == 0, result.output
    for step in ("read", "figures", "duplicates", "lemmas", "themes", "quotes", "save"):
        assert f"  {step} " in result.output
    assert "version 1: 0 contributions" in result.output
    missing = runner.invoke(args=["synthesis", "build", "999999"])
    assert missing.exit_code != 0 and "no démarche 999999" in missing.output
