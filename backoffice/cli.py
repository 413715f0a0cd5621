"""Command-line operations: ``flask --app wsgi users|demo|demarches|dev …``."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from workflows import calendar, charter, digests, evaluation, imports, methods
from workflows.accounts import find_user
from workflows.clock import utcnow
from workflows.errors import DomainError
from workflows.models import Demarche
from workflows.roles import RoleName
from workflows.sheets import FileLimits

from .auth import AccountError, create_user
from .extensions import db
from .i18n import tr

users = AppGroup("users", help="Staff accounts and API tokens.")
demo = AppGroup("demo", help="Demonstration data (development only).")
demarches = AppGroup("demarches", help="Démarches and their calendar.")
dev = AppGroup("dev", help="Development helpers.")
contributions = AppGroup("contributions", help="Contributions of a démarche.")
charter_cli = AppGroup("charter", help="The charter's rules and deadlines.")


def _as_of(value: str | None) -> datetime:
    if not value:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            "an ISO datetime expected, e.g. 2026-11-25T09:00:00+01:00", param_hint="--as-of"
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter(
            "give an offset, e.g. 2026-11-25T09:00:00+01:00", param_hint="--as-of"
        )
    return moment


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in RoleName]))
@click.option("--department", help="Department of an agent (created if it does not exist).")
@click.option("--password", help="Password; a random one is generated and printed if omitted.")
@click.option("--name", default="", help="Full name shown in the back office and emails.")
@click.option("--position", default="", help="Position, e.g. of an elected official.")
def users_create(email, role, department, password, name, position):
    """Create a staff account with one role."""
    try:
        user, generated = create_user(
            email, role, department=department, password=password, name=name, position=position
        )
        db.session.commit()
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Created {user.email} ({role}"
        + (f", {user.department.name}" if user.department else "")
        + ")."
    )
    if generated:
        click.echo(f"Password: {generated}")


@users.command("token")
@click.argument("email")
def users_token(email):
    """Issue a new API bearer token for EMAIL and print it (it is shown only once)."""
    from .api.auth import issue_token

    user = find_user(db.session(), email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    if not user.active:
        raise click.ClickException(f"the account {email} is deactivated")
    token = issue_token(user, utcnow())
    db.session.commit()
    click.echo(token)


@users.command("revoke-tokens")
@click.argument("email")
def users_revoke_tokens(email):
    """Revoke every API token of EMAIL."""
    from .api.auth import revoke_tokens

    user = find_user(db.session(), email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    count = revoke_tokens(user)
    db.session.commit()
    click.echo(f"Revoked {count} token(s) of {user.email}.")


@demo.command("load")
def demo_load():
    """Load demonstration accounts and démarches, and the toolbox's methods (development
    only; safe to run twice)."""
    from . import demo as demo_data

    if current_app.config["DIALOGUE_ENV"] != "development":
        raise click.ClickException(
            "demo data holds known passwords: it loads only with DIALOGUE_ENV=development"
        )
    toolbox = methods.load_catalogue(db.session(), as_of=utcnow())
    created = demo_data.load(db.session(), as_of=utcnow())
    db.session.commit()
    click.echo("Demo data loaded." if created else "Demo data already present.")
    click.echo("Toolbox: " + toolbox.lines()[0] + ".")
    click.echo(demo_data.accounts_table(current_app.config["BASE_URL"]))


@demarches.command("advance")
@click.option("--as-of", "as_of", help="ISO datetime with offset (default: now).")
def demarches_advance(as_of):
    """Open and close consultations whose dates have come (what the beat does every 5 min)."""
    report = calendar.advance(db.session(), as_of=_as_of(as_of))
    for line in report.lines():
        click.echo(line)


@dev.command("mailsink")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=1025, type=int)
def dev_mailsink(host, port):
    """A local SMTP server that keeps every email in instance/mail (read them at /admin/mail/)."""
    from .devmail import serve

    serve(host, port, current_app.config["MAIL_SINK_DIR"] or f"{current_app.instance_path}/mail")


@contributions.command("import")
@click.argument("demarche_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(imports.FORMATS),
    help="Default: from the file's name and columns.",
)
@click.option("--item", "item_id", type=int, help="Put every row under this item.")
@click.option("--dry-run", is_flag=True, help="Print the preview only; write nothing.")
def contributions_import(demarche_id, file, fmt, item_id, dry_run):
    """Import contributions from a CSV/XLSX spreadsheet or a Decidim export."""
    from pathlib import Path

    demarche = db.session.get(Demarche, demarche_id)
    if demarche is None:
        raise click.ClickException(f"no démarche {demarche_id}")
    raw = Path(file).read_bytes()
    try:
        fmt = fmt or imports.guess_format(file, raw)
        limits = FileLimits.from_settings(current_app.config)
        importer = imports.Importer(db.session(), demarche, fmt, item_id=item_id, limits=limits)
        preview = importer.preview(raw)
    except DomainError as exc:
        raise click.ClickException("; ".join(tr(m) for m in exc.messages)) from None
    click.echo(f"Format: {fmt}")
    click.echo(f"Rows read: {preview.rows_read}")
    click.echo(f"To import: {preview.rows_to_import}")
    click.echo(f"Already there (duplicates): {preview.duplicates}")
    click.echo(f"Refused: {len(preview.refused)}")
    for line, reason in preview.refused:
        click.echo(f"  line {line}: {tr(reason)}")
    if preview.new_items:
        click.echo(f"New items: {len(preview.new_items)}")
    if dry_run:
        click.echo("Dry run: nothing written.")
        return
    try:
        done = importer.apply(
            preview, actor=None, as_of=utcnow(), on_batch=lambda n: click.echo(f"  … {n} imported")
        )
    except DomainError as exc:
        raise click.ClickException("; ".join(tr(m) for m in exc.messages)) from None
    click.echo(f"Imported: {done}")


@charter_cli.command("scan")
@click.option("--as-of", "as_of", help="ISO datetime with offset (default: now).")
def charter_scan(as_of):
    """Send the deadlines' reminders that came due, mark the missed ones and alert (what the
    beat does every 5 minutes; safe to run twice)."""
    report = charter.scan(db.session(), as_of=_as_of(as_of))
    for line in report.lines:
        click.echo(line)


@charter_cli.command("install-default")
@click.option("--reset", is_flag=True, help="Install it again as a new current version.")
def charter_install_default(reset):
    """Install the default charter (db upgrade already does); --reset makes it current again
    (démarches already started keep their version)."""
    current = charter.current_version(db.session())
    if current is not None and not reset:
        click.echo(f"The charter is installed (version {current.number}); --reset to reset it.")
        return
    version = charter.install_default(db.session(), as_of=utcnow())
    db.session.commit()
    click.echo(f"Default charter installed as version {version.number}.")


@charter_cli.command("digest")
@click.option("--as-of", "as_of", help="ISO datetime with offset (default: now).")
def charter_digest(as_of):
    """Queue the elected officials' weekly digest (what the beat does on Monday at 8:00; a
    second run in the same week queues nothing)."""
    queued = digests.send_weekly(db.session(), as_of=_as_of(as_of))
    click.echo(f"{queued} digests queued.")


synthesis_cli = AppGroup("synthesis", help="The syntheses of the consultations.")


@synthesis_cli.command("build")
@click.argument("demarche_id", type=int)
def synthesis_build(demarche_id):
    """Build a new version of the démarche's synthesis in the foreground (what the worker
    does), printing each step's time."""
    from workflows.models import Demarche
    from workflows.syntheses import build

    d = db.session.get(Demarche, demarche_id)
    if d is None:
        raise click.ClickException(f"no démarche {demarche_id}")
    click.echo(f"« {d.title} »")
    synthesis = build.build(
        db.session(),
        d,
        actor=None,
        as_of=utcnow(),
        on_step=lambda step, seconds: click.echo(f"  {step:<11} {seconds:8.2f} s"),
    )
    total = sum(synthesis.timings.values())
    click.echo(
        f"version {synthesis.version}: {synthesis.inputs['contributions']} contributions, "
        f"{len(synthesis.themes)} themes, {len(synthesis.duplicates)} groups of copies "
        f"({total:.2f} s)"
    )


methods_cli = AppGroup("methods", help="The toolbox's catalogue of methods.")


@methods_cli.command("load")
@click.option(
    "--force", is_flag=True, help="Put the shipped text back over the mission's own changes too."
)
def methods_load(force):
    """Load the methods shipped with the project (workflows/data/methods/catalogue.json):
    new ones are created, unchanged ones updated to the file; a method the mission edited is
    kept unless --force. Safe to run twice; never retires nor deletes."""
    report = methods.load_catalogue(db.session(), as_of=utcnow(), force=force)
    db.session.commit()
    for line in report.lines():
        click.echo(line)


evaluation_cli = AppGroup("evaluation", help="The evaluations of the démarches.")


@evaluation_cli.command("freeze")
@click.option("--as-of", "as_of", help="ISO datetime with offset (default: now).")
def evaluation_freeze(as_of):
    """Freeze the evaluation of the closed démarches that have none (closed before the
    evaluations were kept; the closing freezes the others). Safe to run twice."""
    moment = _as_of(as_of)
    found = evaluation.unfrozen_closed(db.session())
    for d in found:
        evaluation.freeze(db.session(), d, as_of=moment)
        click.echo(f"« {d.title} » frozen")
    db.session.commit()
    click.echo(f"{len(found)} evaluations frozen.")


@evaluation_cli.command("report")
@click.argument("year", type=int)
@click.option("--as-of", "as_of", help="ISO datetime with offset (default: now).")
def evaluation_report(year, as_of):
    """Make and keep the yearly report's PDF and spreadsheet of YEAR (again, even if they
    are up to date), and say where they are served."""
    from workflows import report

    from .outgoing.report import make_documents

    moment = _as_of(as_of)
    if not report.valid_year(year, moment):
        raise click.ClickException(f"no report for {year}: from {report.FIRST_YEAR} to this year")
    click.echo(make_documents(db.session(), year, as_of=moment, force=True))
    kept = report.kept(db.session(), year)
    assert kept is not None and kept.data is not None
    figures = kept.data["figures"]
    click.echo(
        f"{figures['demarches']} démarches, {figures['participants']} participants, "
        f"{figures['contributions']} contributions; kept in report_documents (year {year})"
    )
    click.echo(f"served at /bilan/{year}, /bilan/{year}.pdf and /bilan/{year}.xlsx")
    click.echo(f"API: /api/v1/reports/{year} (.pdf, .xlsx)")


def init_app(app: Flask) -> None:
    for group in (
        users,
        demo,
        demarches,
        dev,
        contributions,
        charter_cli,
        synthesis_cli,
        methods_cli,
        evaluation_cli,
    ):
        app.cli.add_command(group)
