"""Retention (issue 17): after the periods no personal data remains in any table, while the
counts per seminar and status stay; the worker purges once a day, `flask booking purge` on demand."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import JSON, String, Text

from booking import audit
from booking.associations import services as associations
from booking.associations.models import Association, AssociationContact, AssociationStatus, LinkRequest
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending, run_worker
from booking.mail.models import DeliveryAttempt, OutboxMessage
from booking.privacy import services as privacy
from booking.registrations import services as registrations
from booking.registrations.links import request_links
from booking.registrations.models import Registration, RegistrationStatus

from tests.factories import make_applicant, make_association, make_registration, make_seminar, now

PERSONAL = {
    "names": ["Zeynep", "Karakaya", "Mehmet", "Öztürk", "Samira", "Haddad", "Abebe", "Tesfaye", "Nour", "Khalil",
              "Fatma", "Demirci"],
    "addresses": ["zeynep.karakaya@example.net", "mehmet.ozturk@example.net", "samira.haddad@verein.example",
                  "nour.khalil@example.net", "fatma.demirci@example.net"],
    "phones": ["5551234", "5559876"],
    "needs": ["Kinderbetreuung", "Tigrinya"],
    "typed association names": ["Nachbarschaftsgarten"],
}


def seed(weeks_ahead: int = 1):
    """Registrations of every kind, their emails delivered to the real SMTP server."""
    start = now().replace(microsecond=0) + timedelta(weeks=weeks_ahead)
    seminar = make_seminar(sessions=[(start, start + timedelta(hours=2)),
                                     (start + timedelta(weeks=1), start + timedelta(weeks=1, hours=2))], capacity=1)
    association = make_association("Kulturverein Offenbach")
    zeynep = make_registration(seminar, association, first_name="Zeynep", last_name="Karakaya",
                               email="zeynep.karakaya@example.net", phone="+49 69 5551234",
                               needs="Kinderbetreuung für zwei Kinder")
    mehmet = make_registration(seminar, association, first_name="Mehmet", last_name="Öztürk",
                               email="mehmet.ozturk@example.net", needs="Dolmetschen Tigrinya")
    associations.register_group(
        seminar, ContactDetails("Samira", "Haddad", "samira.haddad@verein.example", phone="+49 69 5559876"),
        [make_applicant(first_name="Abebe", last_name="Tesfaye", email=None),
         make_applicant(first_name="Nour", last_name="Khalil", email="nour.khalil@example.net")], association)
    fatma = make_registration(seminar, first_name="Fatma", last_name="Demirci", email="fatma.demirci@example.net")
    # a name typed on the public form that ends up unused
    db.session.add(Association(name="Initiative Nachbarschaftsgarten", name_key="initiative nachbarschaftsgarten",
                               status=AssociationStatus.PENDING))
    db.session.commit()
    request_links("zeynep.karakaya@example.net")
    db.session.commit()
    dispatch_pending()
    fatma, zeynep = db.session.get(Registration, fatma.id), db.session.get(Registration, zeynep.id)
    registrations.cancel_registration(fatma)
    registrations.cancel_registration(zeynep)  # Mehmet gets the place
    db.session.commit()
    dispatch_pending()
    assert db.session.get(Registration, mehmet.id).status == RegistrationStatus.CONFIRMED
    return db.session.get(type(seminar), seminar.id)


def counts_per_seminar_and_status():
    return sorted((tuple(map(str, row)) for row in db.session.execute(
        db.select(Registration.seminar_id, Registration.status, Registration.association_id,
                  db.func.count(Registration.id))
        .group_by(Registration.seminar_id, Registration.status, Registration.association_id)).all()))


def personal_data_left() -> list[str]:
    """Every text and JSON value of every table that still holds one of the seeded strings."""
    found = []
    needles = [needle.casefold() for values in PERSONAL.values() for needle in values]
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        if not columns:
            continue
        for row in db.session.execute(db.select(*columns)).all():
            for column, value in zip(columns, row):
                text = str(value).casefold() if value is not None else ""
                found += [f"{table.name}.{column.name}: {n}" for n in needles if n in text]
    return found


def test_after_the_periods_no_personal_data_remains_and_the_counts_do(app_ctx, smtp_server):
    seminar = seed()
    assert len(smtp_server.messages) >= 8
    assert personal_data_left()  # the scan finds what is there
    counts = counts_per_seminar_and_status()
    last_end = max(session.ends_at for session in seminar.sessions)

    privacy.purge(last_end + timedelta(days=181))
    db.session.commit()

    assert personal_data_left() == []
    assert counts_per_seminar_and_status() == counts
    assert db.session.scalar(db.select(db.func.count(AssociationContact.id))) == 0
    assert db.session.scalar(db.select(db.func.count(LinkRequest.id))) == 0
    assert db.session.scalar(db.select(db.func.count(DeliveryAttempt.id))) == 0
    assert db.session.scalar(db.select(Association.id).where(Association.name.contains("Nachbarschaft"))) is None
    # the accepted association the registrations count under stays, and the email log keeps what kind went when
    assert db.session.scalar(db.select(Association.id).where(Association.name == "Kulturverein Offenbach"))
    assert all(m.sent_at is not None and m.recipient == "" and m.body_text is None
               for m in db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == "confirmation")))


def test_each_period_removes_only_what_is_due(app_ctx, smtp_server):
    seminar = seed(weeks_ahead=10)
    last_end = max(session.ends_at for session in seminar.sessions)
    mehmet = db.session.scalar(db.select(Registration).where(Registration.first_name == "Mehmet"))
    fatma = db.session.scalar(db.select(Registration).where(Registration.first_name == "Fatma"))

    # within every period: nothing goes
    counts = privacy.purge(fatma.cancelled_at + timedelta(days=29))
    assert (counts.cancelled_registrations, counts.needs, counts.registrations_after_seminar) == (0, 0, 0)
    db.session.commit()
    assert fatma.last_name == "Demirci" and mehmet.needs == "Dolmetschen Tigrinya"

    # 31 days after the cancellations: the cancelled registrations lose their personal data, not the others
    counts = privacy.purge(fatma.cancelled_at + timedelta(days=31))
    db.session.commit()
    assert counts.cancelled_registrations == 2
    assert (fatma.first_name, fatma.email, fatma.anonymised_at is not None) == ("", None, True)
    assert fatma.status == RegistrationStatus.CANCELLED and fatma.cancelled_at is not None
    assert mehmet.email == "mehmet.ozturk@example.net"

    # 15 days after the seminar: needs go, names stay
    counts = privacy.purge(last_end + timedelta(days=15))
    db.session.commit()
    assert counts.needs == 1 and counts.registrations_after_seminar == 0
    assert mehmet.needs is None and mehmet.last_name == "Öztürk"

    # 181 days after the seminar: the rest
    counts = privacy.purge(last_end + timedelta(days=181))
    db.session.commit()
    assert counts.registrations_after_seminar == 3
    assert mehmet.anonymised_at is not None and mehmet.status == RegistrationStatus.CONFIRMED


def test_a_contact_stays_while_a_registration_they_made_keeps_its_data(app_ctx):
    seminar = make_seminar(sessions=1)
    [member] = associations.register_group(
        seminar, ContactDetails("Samira", "Haddad", "samira.haddad@verein.example"),
        [make_applicant(email=None)], None)
    db.session.commit()
    dispatch_pending()  # an email still to go out to the contact would keep them
    later = max(s.ends_at for s in seminar.sessions) + timedelta(days=100)
    assert privacy.purge(later).association_contacts == 0
    db.session.commit()
    assert db.session.scalar(db.select(AssociationContact.id)) is not None
    assert privacy.purge(later + timedelta(days=100)).association_contacts == 1
    db.session.commit()
    assert member.registered_by_contact_id is None


def test_the_worker_purges_once_a_day_remembered_across_restarts(app_ctx):
    seminar = make_seminar(sessions=1)
    make_registration(seminar, first_name="Zeynep")
    db.session.commit()
    later = max(s.ends_at for s in seminar.sessions) + timedelta(days=181)

    assert privacy.purge_if_due(later).registrations_after_seminar == 1
    db.session.commit()
    db.session.remove()  # a restart: only the database remembers
    assert privacy.purge_if_due(later + timedelta(hours=23)) is None
    assert privacy.purge_if_due(later + timedelta(hours=25)) is not None
    db.session.commit()

    # the worker's own pass, by the real clock: the last purge is recorded later than that, so none is due
    lines = []
    run_worker(once=True, echo=lines.append)
    assert not any("retention" in line for line in lines)
    entries = db.session.scalars(db.select(audit.AuditEntry).where(audit.AuditEntry.action == privacy.PURGE_ACTION))
    assert len(list(entries)) == 2


def test_the_worker_pass_purges_when_due(app_ctx):
    lines = []
    run_worker(once=True, echo=lines.append)
    run_worker(once=True, echo=lines.append)
    assert sum("retention purge" in line for line in lines) == 1
    entry = db.session.scalar(db.select(audit.AuditEntry).where(audit.AuditEntry.action == privacy.PURGE_ACTION))
    assert entry.actor_kind == "worker"


def test_purge_command_dry_run_counts_and_changes_nothing(app):
    with app.app_context():
        seminar = make_seminar(sessions=1)
        registration = make_registration(seminar, first_name="Zeynep", email="zeynep.karakaya@example.net")
        for session in seminar.sessions:  # the seminar took place 200 days ago
            session.starts_at, session.ends_at = _past(200), _past(200) + timedelta(hours=2)
        registration_id = registration.id
        db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["booking", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1  registrations anonymised" in result.output and "nothing was changed" in result.output
    with app.app_context():
        assert db.session.get(Registration, registration_id).email == "zeynep.karakaya@example.net"
    result = runner.invoke(args=["booking", "purge", "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get(Registration, registration_id).email is None
    assert runner.invoke(args=["booking", "purge"]).exit_code != 0  # neither flag: nothing happens


def test_the_privacy_notice_states_the_periods_from_the_settings(app, client):
    app.config.update(BOOKING_RETENTION_DAYS=90, BOOKING_CANCELLED_RETENTION_DAYS=21,
                      BOOKING_NEEDS_RETENTION_DAYS=7, BOOKING_EMAIL_LOG_RETENTION_DAYS=45)
    page = " ".join(client.get("/privacy?lang=en").get_data(as_text=True).split())
    assert "deleted <strong>90 days</strong> after the seminar's last session" in page
    assert "deleted <strong>7 days</strong> after the seminar's last session" in page
    assert "<strong>21 days</strong> after you cancelled" in page
    assert "deleted after <strong>45 days</strong>" in page
    assert "twelve months" not in page


def _past(days: int):
    from booking.database import utcnow

    return (utcnow() - timedelta(days=days)).replace(microsecond=0)


def test_purging_takes_the_same_few_statements_per_batch_whatever_its_size(app_ctx):
    """The purge works on sets of rows: a batch of 12 registrations (with their emails and audit
    entries) costs the statements a batch of 4 does, and nothing is done row by row."""
    from sqlalchemy import event

    seminar = make_seminar(sessions=2, capacity=40)
    people = [make_registration(seminar, first_name=f"Nour{index}", email=f"nour{index}@example.net",
                                needs="Kinderbetreuung") for index in range(12)]
    db.session.commit()
    for index, registration in enumerate(people):
        registrations.cancel_registration(registration, by_office=True, note=f"Zeynep Karakaya asked, {index}")
    db.session.execute(db.update(OutboxMessage).values(status="sent", subject="Ihre Anmeldung", body_text="Hallo Nour"))
    db.session.add_all(DeliveryAttempt(message_id=message_id, outcome="sent", detail="accepted")
                       for message_id in db.session.scalars(db.select(OutboxMessage.id)))
    db.session.commit()
    moment = max(registration.cancelled_at for registration in people) + timedelta(days=31)
    statements = []

    def count(connection, cursor, statement, *args):
        if statement not in ("BEGIN", "BEGIN IMMEDIATE"):  # SQLite's own, when a transaction starts
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)

    def per_batch(batch_size: int) -> tuple[list[int], int, int]:
        """Statements run up to the end of each batch (the first with what comes before it), after
        the last one, and the registrations anonymised; rolled back."""
        del statements[:]
        marks = []
        counts = privacy.purge(moment, batch_size=batch_size, after_batch=lambda: marks.append(len(statements)))
        assert personal_rows() == 0
        db.session.rollback()
        return [b - a for a, b in zip([0] + marks, marks)], len(statements) - marks[-1], counts.cancelled_registrations

    def personal_rows() -> int:
        return (db.session.scalar(db.select(db.func.count(Registration.id)).where(Registration.email.is_not(None)))
                + db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(OutboxMessage.recipient != ""))
                + db.session.scalar(db.select(db.func.count(DeliveryAttempt.id))))

    by_four, rest_four, anonymised_four = per_batch(4)
    by_twelve, rest_twelve, anonymised_twelve = per_batch(12)
    event.remove(db.engine, "before_cursor_execute", count)

    assert anonymised_four == anonymised_twelve == 12
    assert len(by_four) == 3 and len(by_twelve) == 1
    # each batch the same handful of statements, whether it holds 4 registrations or 12
    assert by_four[1] == by_four[2] <= 10
    assert by_twelve[0] == by_four[0]
    assert rest_twelve == rest_four
    assert personal_rows() > 0  # rolled back: the scan above could fail
