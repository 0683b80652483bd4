"""`flask booking registrations SLUG`: who is registered, and who registered them, as the workspace's
list shows it. Members registered together by a contact are shown as one group. With --csv, the
same file the workspace downloads (booking.registrations.exports)."""
from __future__ import annotations

import sys

import click
from flask_babel import force_locale

from ..cli import booking_cli
from ..extensions import db
from ..languages import SOURCE_LANGUAGE, interface_languages, is_interface_language
from ..registrations.models import Registration
from ..registrations.exports import write_csv
from ..registrations.listing import seminar_registrations
from ..registrations.services import waitlist_position
from ..seminars.models import Seminar
from ..textsafety import printable


def group_label(registration: Registration) -> str:
    """Registrations one contact made in one submission share this label ('' for a self-registration)."""
    if registration.registered_by is None:
        return ""
    return f"{registration.registered_by.public_id}/{registration.created_at:%Y%m%dT%H%M%S.%f}"


def registration_row(registration: Registration) -> dict:
    contact = registration.registered_by
    return {
        "id": registration.public_id,
        "name": registration.full_name,
        "email": registration.email or "",
        "status": registration.status.value,
        "waitlist_position": waitlist_position(registration) or "",
        "association": registration.association.name if registration.association else "",
        "registered_by": f"{contact.full_name} <{contact.email}>" if contact else "self",
        "group": group_label(registration),
    }


@booking_cli.command("registrations")
@click.argument("slug")
@click.option("--language", default=None, metavar="CODE",
              help="Language of the CSV's headings and values (de, tr, ar, en); English if not given, "
                   "as the rest of the command line.")
@click.option("--csv", "as_csv", is_flag=True,
              help="Write CSV for a spreadsheet instead of a table: the file the workspace downloads "
                   "(opens in German Excel: UTF-8 with BOM, ';' between cells, dates as dd.mm.yyyy hh:mm).")
def registrations_command(slug, as_csv, language):
    """List a seminar's registrations in registration order, with who registered each one
    ("self", or the association contact) and the group it was registered in.

    Example: flask booking registrations vereinsrecht --csv > vereinsrecht.csv"""
    seminar = db.session.scalar(db.select(Seminar).where(Seminar.slug == slug))
    if seminar is None:
        raise click.ClickException(f"no seminar {slug!r}")
    if as_csv:
        if language is not None and not is_interface_language(language):
            raise click.ClickException(f"no language {language!r}: one of {', '.join(interface_languages())}")
        with force_locale(language or SOURCE_LANGUAGE):
            write_csv(sys.stdout, seminar_registrations(seminar))
        return
    rows = [registration_row(r) for r in db.session.scalars(
        db.select(Registration).where(Registration.seminar_id == seminar.id).order_by(Registration.id))]
    if not rows:
        click.echo("no registrations")
    for row in rows:
        row = {column: printable(value) for column, value in row.items()}
        position = f" #{row['waitlist_position']}" if row["waitlist_position"] else ""
        group = f"  group {row['group']}" if row["group"] else ""
        click.echo(f"{row['name']:<30} {row['status']}{position:<5} {row['email'] or '(via contact)':<32} "
                   f"{row['association']:<30} by {row['registered_by']}{group}")
