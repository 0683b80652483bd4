"""`flask booking move-session`, `cancel-session`, `cancel-seminar`: announced changes, until the
coordinator workspace offers them. Each records the calendar updates participants receive."""
from __future__ import annotations

from datetime import datetime

import click

from ..cli import booking_cli
from ..extensions import db
from ..formatting import local_zone, to_local
from ..textsafety import printable
from .models import Seminar, Session
from .scheduling import ScheduleChangeRefused, cancel_seminar, cancel_session, change_session


def _local_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.strptime(value, "%Y-%m-%d %H:%M")
    except ValueError:
        raise click.BadParameter(f"{value!r}: use 'YYYY-MM-DD HH:MM' in local time") from None
    return parsed.replace(tzinfo=local_zone())


@booking_cli.command("sessions")
@click.argument("slug", required=False)
def sessions_command(slug):
    """List seminars and their sessions with the IDs the other commands take (one seminar with SLUG)."""
    query = db.select(Seminar).order_by(Seminar.id)
    if slug:
        query = query.where(Seminar.slug == slug)
    seminars = list(db.session.scalars(query))
    if slug and not seminars:
        raise click.ClickException(f"no seminar {slug!r}")
    for seminar in seminars:
        click.echo(f"{printable(seminar.slug)} [{seminar.status}] {printable(seminar.title)}")
        for session in seminar.sessions:
            start, end = to_local(session.starts_at), to_local(session.ends_at)
            place = session.place_name or ("online" if seminar.online_url else "")
            click.echo(f"  session {session.id:<5} {start:%Y-%m-%d %H:%M}-{end:%H:%M}  {session.status:<9} "
                       f"revision {session.revision}  {printable(place)}")


@booking_cli.command("move-session")
@click.argument("session_id", type=int)
@click.option("--start", help="New start, local time: 'YYYY-MM-DD HH:MM'.")
@click.option("--end", help="New end, local time: 'YYYY-MM-DD HH:MM'.")
@click.option("--venue-name", default=None, help="New place name ('' for the seminar's venue).")
@click.option("--venue-address", default=None, help="New place address ('' for the seminar's venue).")
def move_session_command(session_id, start, end, venue_name, venue_address):
    """Move a session or change its place; every participant's calendar is updated."""
    session = db.session.get(Session, session_id)
    if session is None:
        raise click.ClickException(f"no session {session_id}")
    try:
        count = change_session(session, starts_at=_local_datetime(start), ends_at=_local_datetime(end),
                               venue_name=venue_name, venue_address=venue_address)
    except ScheduleChangeRefused as refused:
        raise click.ClickException(str(refused.message)) from None
    db.session.commit()
    click.echo(f"session {session_id} changed; updates queued for {count} participants")


@booking_cli.command("cancel-session")
@click.argument("session_id", type=int)
@click.option("--reason", default="", help="Told to participants.")
def cancel_session_command(session_id, reason):
    """Cancel one session; it disappears from every participant's calendar."""
    session = db.session.get(Session, session_id)
    if session is None:
        raise click.ClickException(f"no session {session_id}")
    try:
        count = cancel_session(session, reason=reason)
    except ScheduleChangeRefused as refused:
        raise click.ClickException(str(refused.message)) from None
    db.session.commit()
    click.echo(f"session {session_id} cancelled; {count} participants told")


@booking_cli.command("cancel-seminar")
@click.argument("slug")
@click.option("--reason", required=True, help="Told to participants.")
def cancel_seminar_command(slug, reason):
    """Cancel a whole seminar: everyone registered is told why, calendars drop its sessions."""
    seminar = db.session.scalar(db.select(Seminar).where(Seminar.slug == slug))
    if seminar is None:
        raise click.ClickException(f"no seminar {slug!r}")
    try:
        count = cancel_seminar(seminar, reason=reason)
    except ScheduleChangeRefused as refused:
        raise click.ClickException(str(refused.message)) from None
    db.session.commit()
    click.echo(f"seminar {printable(slug)} cancelled; {count} participants told")
