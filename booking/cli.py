"""The `flask booking ...` command group."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup



class BookingGroup(AppGroup):
    """The group's commands answer a database they cannot use with one line, not a traceback."""

    def invoke(self, ctx):
        from sqlalchemy.exc import OperationalError, ProgrammingError

        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as error:
            text = str(getattr(error, "orig", error)).lower()
            if "no such table" in text or "does not exist" in text and "relation" in text:
                raise click.ClickException(
                    "The database has no tables yet: run `flask --app wsgi db upgrade` first "
                    "(with the same settings).") from None
            if isinstance(error, OperationalError) and ("connect" in text or "unable to open" in text):
                raise click.ClickException(
                    "Cannot open the database: check DATABASE_URL and that the database server runs.") from None
            raise


booking_cli = BookingGroup("booking", help="Run booking's jobs: demo data, mail worker and more.")


@booking_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True,
              help="Load no seminars when the database already has some (what `make run` uses).")
def seed_demo_command(if_empty: bool) -> None:
    """Load demo data to try booking out: the three topics, about eight seminars at
    Offenbach venues over the next three months, ten associations and their registrations.

    Dates are relative to today. One seminar is full with a waiting list, one limits places
    per association, one is a draft the public does not see. Registrations go through the
    normal rules. Meant for a local trial, not for a production database.

    In the development configuration (BOOKING_CONFIG=development, as `make run` uses) it also
    makes a demo coordinator and a demo trainer, and prints their logins (every time, so that
    `make run` shows them at the start). Never in production.
    """
    from .database import begin_write
    from .demo import DemoDataPresent, load_demo_data, seminar_count
    from .extensions import db
    from .textsafety import printable

    begin_write()
    existing = seminar_count()
    if if_empty and existing:
        click.echo(f"The database already has {existing} seminar(s); demo data not loaded.")
    else:
        click.echo("Loading demo data ...")
        try:
            summary = load_demo_data(progress=lambda line: click.echo(f"  {printable(line)}"))
        except DemoDataPresent as error:
            db.session.rollback()
            raise click.ClickException(f"Demo data not loaded: {error}.") from None
        db.session.commit()
        click.echo(f"Done: {summary.seminars} seminars, {summary.associations} associations, "
                   f"{summary.confirmed + summary.waitlisted} registrations.")
    if current_app.config.get("BOOKING_DEMO_ACCOUNTS"):
        _demo_accounts()


def _demo_accounts() -> None:
    """Make the demo coordinator and trainer (development only) and print how to log in."""
    from .demo import ensure_demo_accounts
    from .extensions import db

    accounts = ensure_demo_accounts()
    db.session.commit()
    login_url = current_app.config["BOOKING_BASE_URL"].rstrip("/") + "/admin/login"
    click.echo(f"Demo logins for the workspace at {login_url} (development only):")
    for account, made in accounts:
        note = "" if made else " (unless changed since)"
        click.echo(f"  {account.role.value:<12} {account.email:<28} password: {account.password}{note}")
