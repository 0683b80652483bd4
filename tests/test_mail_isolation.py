"""One message's failure never stops the mail worker, and nothing is delivered twice.

Against the real SMTP server fixture, on SQLite and (TEST_DATABASE_URL) PostgreSQL.
"""
from __future__ import annotations

import logging
import os
from datetime import timedelta

import psycopg
import pytest

from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.database import utcnow
from booking.extensions import db
from booking.associations.services import contact_token
from booking.mail.dispatcher import CLAIM_FOR, dispatch_pending
from booking.mail.models import MessageKind, MessageStatus, OutboxMessage
from booking.registrations import services as registrations
from booking.registrations.models import Registration
from booking.seminars import scheduling
from booking.seminars.models import Seminar

from tests.conftest import RecordingHandler
from tests.factories import make_applicant, make_association, make_registration, make_seminar

LONG_TITLE = ("Vereinsrecht, Satzung, Gemeinnützigkeit und Fördermittel für ehrenamtliche Vorstände "
              "von Migrantenorganisationen: ein Abendkurs mit Übungen, Beispielen und Zeit für Fragen aus der Praxis")


def outbox(kind=None) -> list[OutboxMessage]:
    query = db.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def long_name(start: str) -> str:
    """A name as long as its column allows."""
    return (start + " " + "Abcdefghij" * 30)[:Registration.__table__.c.first_name.type.length]


def test_a_subject_longer_than_any_varchar_is_stored_and_sent_once(app_ctx, smtp_server):
    """A member without an address is promoted: 'For <name>: You now have a place: <title>' goes to the
    contact who registered them, and with the longest name and title it is far beyond 300 characters."""
    title = (LONG_TITLE * 2)[:Seminar.__table__.c.title.type.length]  # the longest title a seminar can have
    seminar = make_seminar(sessions=2, title=title, capacity=1)
    holder = make_registration(seminar, email="first@example.net")
    first, last = long_name("Ali"), long_name("Demir")
    contact = ContactDetails(first_name=long_name("Aylin"), last_name=long_name("Kaya"),
                             email="vorstand@verein.example", preferred_language="en")
    member, = associations.register_group(
        seminar, contact, [make_applicant(first_name=first, last_name=last, email=None, preferred_language="en")],
        make_association("Kulturverein"))
    registrations.cancel_registration(holder)  # the member moves up: the contact hears of it
    other = make_registration(make_seminar(sessions=1), email="someone.else@example.net")
    db.session.commit()

    result = dispatch_pending()

    db.session.expire_all()
    # (the first holder's own emails were made pointless by the cancellation before they went out)
    messages = [m for m in outbox() if m.status != MessageStatus.SKIPPED]
    assert {m.status for m in messages} == {MessageStatus.SENT}
    assert result.sent == len(messages)
    promotion, = [m for m in messages if m.kind == MessageKind.PROMOTION and m.registration_id == member.id]
    assert len(promotion.subject) > 300
    assert promotion.subject == f"{first} {last} now has a place: {title}"
    assert any(m.registration_id == other.id for m in messages)
    received = {m["Message-ID"]: m for m in smtp_server.messages}
    assert len(received) == len(smtp_server.messages) == len(messages)  # each exactly once
    assert received[promotion.message_id]["Subject"] == promotion.subject


def test_a_message_that_cannot_be_stored_fails_alone_and_the_batch_goes_on(app_ctx, smtp_server):
    """A reason given on the command line in a non-UTF-8 terminal arrives as lone surrogates: the
    email it renders to can be neither stored nor encoded. Before, the worker crashed on it and the
    rest of its batch stayed claimed (`sending`)."""
    cancelled_seminar = make_seminar(sessions=1, title="Pressearbeit")
    affected = make_registration(cancelled_seminar, email="affected@example.net")
    db.session.commit()
    assert dispatch_pending().sent == 2
    scheduling.cancel_seminar(cancelled_seminar, reason="Krankheit \udcfc")  # what click makes of b"\xfc"
    others = [make_registration(make_seminar(sessions=2), email=f"other{n}@example.net") for n in range(2)]
    db.session.commit()
    before = len(smtp_server.messages)

    result = dispatch_pending()

    db.session.expire_all()
    broken = [m for m in outbox() if m.registration_id == affected.id and m.kind != MessageKind.CONFIRMATION
              and m.kind != MessageKind.INVITATION]
    assert {m.kind for m in broken} == {MessageKind.SEMINAR_CANCELLED, MessageKind.SESSION_CANCEL}
    for message in broken:
        assert message.status == MessageStatus.FAILED
        assert "UnicodeEncodeError" in message.last_error and len(message.last_error) <= 300
        assert message.claimed_until is None and message.attempt_log[-1].outcome == "failed"
    assert result.failed == len(broken)
    # everything else in the batch went out, exactly once
    arrived = smtp_server.messages[before:]
    assert sorted(m["To"] for m in arrived) == ["other0@example.net"] * 3 + ["other1@example.net"] * 3
    assert not any(m["To"] == "affected@example.net" for m in arrived)
    assert {m.status for m in outbox() if m.registration_id != affected.id} == {MessageStatus.SENT}
    assert not [m for m in outbox() if m.status == MessageStatus.SENDING]
    assert all(m.registration.status == "confirmed" for m in outbox() if m.registration_id in {o.id for o in others})

    # nothing is taken up again, not even after a claim would have run out
    assert dispatch_pending(utcnow() + CLAIM_FOR + timedelta(minutes=1)).handled == 0
    assert len(smtp_server.messages) == before + 6


class TerminatingHandler(RecordingHandler):
    """Accepts every message; while the one to `target` arrives, PostgreSQL drops the worker's connection."""

    def __init__(self, target: str):
        super().__init__()
        self.target = target
        self.done = False

    async def handle_DATA(self, server, session, envelope):
        if self.target in envelope.rcpt_tos and not self.done:
            self.done = True
            if os.environ.get("TEST_DATABASE_URL"):
                with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return await super().handle_DATA(server, session, envelope)


# SQLite: a trigger refuses to store "sent" for that address, as a full disk or a lost connection
# would; the worker's record of the outcome (which names the failure in last_error) gets through.
SQLITE_STORING_FAILS = """
CREATE TRIGGER storing_fails BEFORE UPDATE OF status ON outbox_messages
WHEN NEW.status = 'sent' AND NEW.recipient = 'second@example.net' AND NEW.last_error IS NULL
BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END
"""


def test_a_message_accepted_before_storing_failed_is_recorded_sent_and_never_sent_again(app_ctx, smtp_server):
    postgresql = db.engine.dialect.name == "postgresql"
    if not postgresql:
        db.session.execute(db.text(SQLITE_STORING_FAILS))
        db.session.commit()
    smtp_server.stop()
    smtp_server.handler = TerminatingHandler("second@example.net")
    smtp_server.start()
    make_registration(make_seminar(sessions=1), email="first@example.net")
    second = make_registration(make_seminar(sessions=1), email="second@example.net")
    make_registration(make_seminar(sessions=1), email="third@example.net")
    db.session.commit()

    result = dispatch_pending()

    assert smtp_server.handler.done
    db.session.expire_all()
    assert {m.status for m in outbox()} == {MessageStatus.SENT}
    assert result.sent == 6
    hit = outbox(MessageKind.CONFIRMATION)[1]
    assert hit.registration_id == second.id
    # PostgreSQL: the connection was dropped while the worker sent (no transaction is open then),
    # so storing the outcomes finds it closed
    assert hit.last_error == ("sent, but storing the outcome failed: " + (
        "OperationalError: consuming input failed: server closed the connection unexpectedly" if postgresql
        else "IntegrityError: disk I/O error"))
    assert hit.attempt_log[-1].outcome == "sent"
    later = utcnow() + CLAIM_FOR + timedelta(minutes=1)
    assert dispatch_pending(later).handled == 0
    assert sorted(m["To"] for m in smtp_server.messages) == (
        ["first@example.net"] * 2 + ["second@example.net"] * 2 + ["third@example.net"] * 2)


class RefusingHandler(RecordingHandler):
    """Refuses one address for good, quoting it, as real servers do."""

    def __init__(self, refused: str):
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def test_the_worker_logs_ids_never_names_addresses_or_tokens(app_ctx, smtp_server, caplog):
    smtp_server.stop()
    smtp_server.handler = RefusingHandler("zeynep.sonderbar@example.net")
    smtp_server.start()
    unrenderable_seminar = make_seminar(sessions=1)
    unrenderable = make_registration(unrenderable_seminar, first_name="Hüseyin", last_name="Quastlmayr",
                                     email="quastlmayr@example.net")
    db.session.commit()
    dispatch_pending()
    scheduling.cancel_seminar(unrenderable_seminar, reason="Krankheit \udcfc")
    refused = make_registration(make_seminar(sessions=1), first_name="Zeynep", last_name="Örnekçi-Sonderbar",
                                email="zeynep.sonderbar@example.net")
    member, = associations.register_group(
        make_seminar(sessions=1),
        ContactDetails(first_name="Aylin", last_name="Wunderlich", email="wunderlich@verein.example",
                       preferred_language="en"),
        [make_applicant(first_name="Mehmet", last_name="Zauberberg", email=None)], None)
    db.session.commit()
    secrets = ["Zeynep", "Sonderbar", "zeynep.sonderbar@example.net", "Hüseyin", "Quastlmayr",
               "quastlmayr@example.net", "Aylin", "Wunderlich", "wunderlich@verein.example", "Mehmet", "Zauberberg",
               registrations.manage_token(refused), registrations.manage_token(unrenderable),
               registrations.manage_token(member), contact_token(member.registered_by)]

    # everything the application logs, and the SQL it runs (statements and their parameters)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    result = dispatch_pending(utcnow() + timedelta(minutes=1))
    late = make_registration(make_seminar(sessions=1), first_name="Zeynep", last_name="Sonderbar",
                             email="zeynep.sonderbar@example.net")
    db.session.commit()
    secrets.append(registrations.manage_token(late))
    app_ctx.config["MAIL_SERVER"] = ""  # no mail server: the emails are only logged
    logged_only = dispatch_pending()

    # failed: the refused address's confirmation and invitation, the unrenderable cancellation and its CANCEL;
    # sent: the contact's one overview of the group (which names the member)
    assert (result.failed, result.sent, logged_only.sent) == (4, 1, 2)
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]  # mail.log: the test SMTP server
    assert any(r.name == "sqlalchemy.engine.Engine" for r in ours)
    assert any(r.name == "booking.mail.dispatcher" and r.levelno >= logging.ERROR and "Traceback" in r.getMessage()
               for r in ours)
    assert any("no MAIL_SERVER" in r.getMessage() for r in ours)
    text = "\n".join(r.getMessage() + "\n" + (caplog.handler.format(r) if r.exc_info else "") for r in ours)
    leaked = [secret for secret in secrets if secret.casefold() in text.casefold()]
    assert leaked == []


def test_every_configuration_keeps_sql_values_out_of_errors_and_logs(app_ctx):
    from config import CONFIGS

    assert all(config.SQLALCHEMY_ENGINE_OPTIONS.get("hide_parameters") is True for config in CONFIGS.values())
    assert db.engine.hide_parameters
