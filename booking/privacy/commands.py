"""`flask booking purge`: apply the retention periods now (the mail worker also does it daily)."""
from __future__ import annotations

import click
from flask import current_app

from ..cli import booking_cli
from ..database import begin_write, commit_between_batches, utcnow
from ..extensions import db
from .services import purge, record_purge

LABELS = {
    "registrations_after_seminar": "registrations anonymised (seminar over for BOOKING_RETENTION_DAYS)",
    "cancelled_registrations": "cancelled registrations anonymised (BOOKING_CANCELLED_RETENTION_DAYS)",
    "needs": "needs removed (BOOKING_NEEDS_RETENTION_DAYS after the seminar)",
    "email_log_entries": "email log entries cleared (recipient, subject, text)",
    "delivery_attempts": "delivery attempts deleted",
    "link_requests": "lost-link requests deleted",
    "association_contacts": "association contacts deleted (no registration with personal data left)",
    "association_names": "unused association names typed by the public deleted",
}


@booking_cli.command("purge")
@click.option("--dry-run", "dry_run", is_flag=True, help="Count what would go, change nothing.")
@click.option("--yes", is_flag=True, help="Really remove the personal data that is due.")
def purge_command(dry_run: bool, yes: bool) -> None:
    """Remove the personal data whose retention period is over, and print how much.

    Registrations keep their seminar, status, association and dates (for the reports); names,
    addresses, phone numbers and needs go, and with them the email log's copies. The periods are
    the settings BOOKING_RETENTION_DAYS, BOOKING_CANCELLED_RETENTION_DAYS,
    BOOKING_NEEDS_RETENTION_DAYS and BOOKING_EMAIL_LOG_RETENTION_DAYS. The mail worker does the
    same once a day. Give --dry-run to see the counts first, --yes to purge.
    """
    if dry_run == yes:
        raise click.UsageError("Give either --dry-run (count only) or --yes (purge).")
    config = current_app.config
    click.echo(f"Retention: {config['BOOKING_RETENTION_DAYS']} days after the seminar, "
               f"{config['BOOKING_CANCELLED_RETENTION_DAYS']} after a cancellation, needs "
               f"{config['BOOKING_NEEDS_RETENTION_DAYS']}, email log {config['BOOKING_EMAIL_LOG_RETENTION_DAYS']}.")
    begin_write()
    # a dry run is one transaction, rolled back; a purge commits batch by batch (the write lock
    # is held for one batch at a time, registrations can be stored meanwhile)
    counts = purge(after_batch=None if dry_run else commit_between_batches)
    for key, value in counts.as_dict().items():
        click.echo(f"  {value:>6}  {LABELS[key]}")
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was changed.")
        return
    record_purge(counts, utcnow())
    db.session.commit()
    click.echo(f"Done: {counts.total} removed.")
