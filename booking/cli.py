"""The `flask booking ...` command group."""
from __future__ import annotations

import click
from flask.cli import AppGroup

booking_cli = AppGroup("booking", help="Run booking's jobs: demo data, mail worker and more.")


@booking_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True,
              help="Do nothing when the database already has seminars (what `make run` uses).")
def seed_demo_command(if_empty: bool) -> None:
    """Load demo data to try booking out: the three topics, about eight seminars at
    Offenbach venues over the next three months, ten associations and their registrations.

    Dates are relative to today. One seminar is full with a waiting list, one limits places
    per association, one is a draft the public does not see. Registrations go through the
    normal rules. Meant for a local trial, not for a production database.
    """
    from .database import begin_write
    from .demo import DemoDataPresent, load_demo_data, seminar_count
    from .extensions import db
    from .textsafety import printable

    begin_write()
    existing = seminar_count()
    if if_empty and existing:
        click.echo(f"The database already has {existing} seminar(s); demo data not loaded.")
        return
    click.echo("Loading demo data ...")
    try:
        summary = load_demo_data(progress=lambda line: click.echo(f"  {printable(line)}"))
    except DemoDataPresent as error:
        db.session.rollback()
        raise click.ClickException(f"Demo data not loaded: {error}.") from None
    db.session.commit()
    click.echo(f"Done: {summary.seminars} seminars, {summary.associations} associations, "
               f"{summary.confirmed + summary.waitlisted} registrations.")
