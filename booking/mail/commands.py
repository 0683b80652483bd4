"""`flask booking worker` and `flask booking outbox`: delivering email and looking at what went out."""
from __future__ import annotations

import click
from flask import current_app

from ..cli import booking_cli
from ..extensions import db
from ..redaction import redact, redact_calendar
from ..textsafety import printable, printable_lines
from .dispatcher import run_worker
from .models import MessageStatus, OutboxMessage
from .services import RetryRefused, retry_message


@booking_cli.command("worker")
@click.option("--once", is_flag=True, help="Do one pass and exit (for cron), instead of running continuously.")
@click.option("--interval", type=float, default=None,
              help="Seconds between passes when running continuously (default: BOOKING_WORKER_INTERVAL).")
def worker_command(once, interval):
    """Send the emails waiting in the outbox, schedule reminders, and end late-place offers past their deadline.

    Runs until stopped (Ctrl+C). Several workers may run at once on PostgreSQL; none sends a
    message twice. Without MAIL_SERVER, emails are logged instead of sent.
    """
    interval = interval if interval is not None else current_app.config["BOOKING_WORKER_INTERVAL"]
    server = current_app.config.get("MAIL_SERVER") or (
        f"none, emails are written to {current_app.config['BOOKING_MAIL_LOG']}"
        if current_app.config.get("BOOKING_MAIL_LOG") else "none, emails are only logged")
    click.echo(f"mail worker started (mail server: {server})")
    try:
        # its lines can carry a mail server's answer: nothing in it may steer the terminal
        run_worker(once=once, interval=interval, echo=lambda line: click.echo(printable_lines(line)))
    except KeyboardInterrupt:
        click.echo("mail worker stopped")


@booking_cli.command("outbox")
@click.option("--status", type=click.Choice([s.value for s in MessageStatus]), default=None,
              help="Only messages in this state.")
@click.option("--limit", type=int, default=50, show_default=True, help="How many of the newest messages.")
@click.option("--show", "show_id", type=int, default=None, help="Print one message in full, with its attempts.")
@click.option("--retry", "retry_id", type=int, default=None, help="Send a failed message again.")
def outbox_command(status, limit, show_id, retry_id):
    """The email log: every message, its state, attempts and last error."""
    if retry_id is not None:
        message = db.session.get(OutboxMessage, retry_id)
        if message is None:
            raise click.ClickException(f"no message {retry_id}")
        try:
            retry_message(message)
        except RetryRefused as refused:
            db.session.rollback()
            raise click.ClickException(f"message {retry_id}: {refused.message} (it is {message.status})")
        db.session.commit()
        click.echo(f"message {retry_id} will be sent again by the worker")
        return
    if show_id is not None:
        message = db.session.get(OutboxMessage, show_id)
        if message is None:
            raise click.ClickException(f"no message {show_id}")
        click.echo(f"#{message.id} {message.kind} to {printable(message.recipient)}: {message.status}")
        click.echo(f"subject: {printable(redact(message.subject)) or '(not rendered yet)'}")
        for attempt in message.attempt_log:
            click.echo(f"  {attempt.attempted_at:%Y-%m-%d %H:%M:%S} {attempt.outcome}: {printable(attempt.detail)}")
        if message.skip_reason:
            click.echo(f"skipped: {printable(message.skip_reason)}")
        # rows stored before links were redacted on storing are redacted here too
        if message.body_text:
            click.echo("")
            click.echo(printable_lines(redact(message.body_text)))
        if message.calendar:
            click.echo(printable_lines(redact_calendar(message.calendar)))
        return
    query = db.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    rows = list(db.session.scalars(query))
    if not rows:
        click.echo("no messages")
    for message in rows:
        line = (f"#{message.id:<5} {message.created_at:%Y-%m-%d %H:%M} {message.status:<8} "
                f"{message.kind:<23} {printable(message.recipient):<32} attempts={message.attempts}")
        if message.last_error:
            line += f"  last error: {printable(message.last_error)}"
        if message.skip_reason:
            line += f"  ({printable(message.skip_reason)})"
        click.echo(line)
