"""Rendering an email about many people runs as many queries as one about few: the waiting-list
positions of a group (and of a "your links" email) are read in one query, not once per person."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from booking.associations import services as associations
from booking.associations.models import LinkRequest
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail import outbox
from booking.mail.models import MessageKind, OutboxMessage
from booking.mail.render import base_url_context, render_message

from tests.factories import make_applicant, make_association, make_registration, make_seminar, now


@contextmanager
def counted_statements():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def group_of(size: int) -> int:
    """A contact registers `size` members without an address for a seminar with one place:
    the first gets it, the others wait. Returns the group email's outbox id."""
    start = now().replace(microsecond=0) + timedelta(days=7)
    seminar = make_seminar(sessions=[(start, start + timedelta(hours=2))], capacity=1, title=f"Group of {size}")
    contact = ContactDetails(first_name="Aylin", last_name="Kaya", email=f"vorstand{size}@verein.example",
                             preferred_language="en")
    associations.register_group(
        seminar, contact, [make_applicant(first_name="Member", last_name=f"N{i}", email=None) for i in range(size)],
        make_association(f"Verein {size}"))
    db.session.commit()
    return db.session.scalar(db.select(OutboxMessage.id).where(
        OutboxMessage.kind == MessageKind.GROUP_REGISTERED, OutboxMessage.recipient == contact.email))


def links_for(size: int) -> int:
    """One address waits in `size` seminars of one place each and asks for its links again."""
    email = f"links{size}@example.net"
    start = now().replace(microsecond=0) + timedelta(days=7)
    waiting = []
    for i in range(size):
        seminar = make_seminar(sessions=[(start, start + timedelta(hours=2))], capacity=1, title=f"Links {size}/{i}")
        make_registration(seminar)  # takes the place
        waiting.append(make_registration(seminar, first_name="Leyla", last_name="Waits", email=email))
    request = LinkRequest(email_key=email)
    db.session.add(request)
    db.session.flush()
    message = outbox.links(request, None, waiting)
    db.session.commit()
    return message.id


def render_counted(app, message_id: int) -> tuple[int, str]:
    """(statements, text) of rendering the message from a fresh session, as the worker does."""
    db.session.remove()
    with base_url_context():
        message = db.session.get(OutboxMessage, message_id)
        with counted_statements() as statements:
            text = render_message(message).text
    db.session.remove()
    return len([s for s in statements if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", s)]), text


def test_a_group_email_of_ten_runs_the_queries_of_a_group_of_two(app, app_ctx):
    small, large = group_of(2), group_of(10)
    small_count, small_text = render_counted(app, small)
    large_count, large_text = render_counted(app, large)
    # what the contact reads: every member, the waiting ones with their number
    assert "- Member N0: place" in large_text
    assert "- Member N9: waiting list, number 9" in large_text
    assert "- Member N1: waiting list, number 1" in small_text
    assert large_count == small_count, (small_count, large_count)


def test_a_links_email_of_ten_registrations_runs_the_queries_of_one_of_two(app, app_ctx):
    small, large = links_for(2), links_for(10)
    small_count, small_text = render_counted(app, small)
    large_count, large_text = render_counted(app, large)
    assert "Links 10/9" in large_text and "Links 2/1" in small_text
    assert large_text.count("number 1") >= 10, large_text
    assert large_count == small_count, (small_count, large_count)
