"""No working personal link at rest: the email log keeps sent emails with their tokens redacted
(the email sent keeps them), and calendar objects link the seminar's public page, not the manage link."""
from __future__ import annotations

from datetime import timedelta

import pytest

from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, OutboxMessage
from booking.redaction import REDACTED, redact, redact_calendar
from booking.registrations import services as registrations

from tests.factories import make_applicant, make_association, make_registration, make_seminar, now
from tests.test_admin_access import PASSWORD, log_in

SEMINAR_PAGE = "http://127.0.0.1:5000/seminars/{slug}"


def stored_texts(message: OutboxMessage) -> str:
    return "\n".join(part or "" for part in (message.subject, message.body_text, message.body_html, message.calendar))


def wire_text(email) -> str:
    parts = [email["Subject"]]
    for part in email.walk():
        if not part.is_multipart():
            parts.append(part.get_content() if part.get_content_type() != "text/calendar"
                         else part.get_payload(decode=True).decode())
    return "\n".join(parts)


@pytest.mark.parametrize("text, expected", [
    ("https://x.example/registrations/AbC_d-1.MAC_mac-43", f"https://x.example/registrations/{REDACTED}"),
    ("see /registrations/AbC.MAC/cancel.", f"see /registrations/{REDACTED}/cancel."),
    ('href="http://h/registrations/AbC.MAC.ics"', f'href="http://h/registrations/{REDACTED}.ics"'),
    ("/associations/contact/Pid.Mac/calendar.ics", f"/associations/contact/{REDACTED}/calendar.ics"),
    ("GET /associations/contact/Pid.Mac?lang=de", f"GET /associations/contact/{REDACTED}?lang=de"),
    ("/admin/password/reset/Pid.6a1b2c.Mac", f"/admin/password/reset/{REDACTED}"),
    ("/admin/invitation/Pid.6a1b2c.Mac x", f"/admin/invitation/{REDACTED} x"),
    ("next=%2Fregistrations%2FPid.Mac", f"next=%2Fregistrations%2F{REDACTED}"),
    # the workspace's own paths are no personal links and stay readable
    ("/admin/registrations/12/cancel", "/admin/registrations/12/cancel"),
    ("/admin/seminars/3/registrations/new", "/admin/seminars/3/registrations/new"),
    ("/admin/seminars/3/registrations.csv", "/admin/seminars/3/registrations.csv"),
])
def test_redact_replaces_the_token_of_every_personal_link(text, expected):
    assert redact(text) == expected


def test_redact_calendar_finds_a_link_split_by_a_line_fold():
    folded = "DESCRIPTION:Hallo\r\n  https://example.org/registrat\r\n ions/AbCdEf.MacMacMac\r\nEND:VEVENT\r\n"
    assert "MacMacMac" not in redact_calendar(folded)
    assert REDACTED in redact_calendar(folded)
    assert redact_calendar("SUMMARY:x\r\n y\r\n") == "SUMMARY:x\r\n y\r\n"  # nothing to redact: unchanged


def test_sent_emails_keep_their_links_and_the_email_log_does_not(app_ctx, smtp_server, client):
    seminar = make_seminar(sessions=2, title="Vereinsrecht")
    registration = make_registration(seminar, first_name="Ayşe", last_name="Çelik", email="ayse@example.net")
    db.session.commit()
    token = registrations.manage_token(registration)
    assert dispatch_pending().sent == 3
    db.session.commit()

    # what went out carries the manage link in the text and HTML; the calendar links the public page
    confirmation, *invitations = smtp_server.messages
    assert f"/registrations/{token}" in wire_text(confirmation)
    for invitation in invitations:
        text = invitation.get_body(("plain",)).get_content()
        assert f"/registrations/{token}" in text
        calendar = [p for p in invitation.walk() if p.get_content_type() == "text/calendar"][0]
        ics = calendar.get_payload(decode=True).decode().replace("\r\n ", "")
        assert f"URL:{SEMINAR_PAGE.format(slug=seminar.slug)}\r\n" in ics
        assert token not in ics and "/registrations/" not in ics

    # what is kept has the token redacted, with the rest of the email intact
    rows = list(db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)))
    assert len(rows) == 3
    for row in rows:
        assert token not in stored_texts(row)
    assert f"/registrations/{REDACTED}" in rows[0].body_text
    assert f"/registrations/{REDACTED}" in rows[0].body_html
    assert "Ayşe Çelik" in rows[0].body_text
    assert rows[1].calendar and "BEGIN:VEVENT" in rows[1].calendar

    # the workspace's email log shows the redacted copy
    create_user("coord@office.example", role=Role.COORDINATOR, display_name="Koordination", password=PASSWORD)
    db.session.commit()
    log_in(client, "coord@office.example")
    for row in rows:
        page = client.get(f"/admin/emails/{row.id}").get_data(as_text=True)
        assert token not in page
        assert token not in client.get(f"/admin/emails/{row.id}/html").get_data(as_text=True)
    assert REDACTED in client.get(f"/admin/emails/{rows[0].id}").get_data(as_text=True)

    # and so does `flask booking outbox --show`
    runner = app_ctx.test_cli_runner()
    shown = runner.invoke(args=["booking", "outbox", "--show", str(rows[0].id)])
    assert shown.exit_code == 0, shown.output
    assert token not in shown.output and f"/registrations/{REDACTED}" in shown.output


def test_outbox_show_redacts_a_row_stored_before_links_were_redacted(app_ctx):
    seminar = make_seminar()
    registration = make_registration(seminar)
    db.session.commit()
    token = registrations.manage_token(registration)
    row = db.session.scalars(db.select(OutboxMessage)).first()
    row.subject = "Your place"
    row.body_text = f"Your link: http://127.0.0.1:5000/registrations/{token}"
    db.session.commit()
    shown = app_ctx.test_cli_runner().invoke(args=["booking", "outbox", "--show", str(row.id)])
    assert token not in shown.output and f"/registrations/{REDACTED}" in shown.output


def test_contact_emails_are_kept_without_the_contact_link_and_the_feed_links_public_pages(app_ctx, smtp_server,
                                                                                         client):
    start = now().replace(microsecond=0) + timedelta(days=7)
    seminar = make_seminar(sessions=[(start, start + timedelta(hours=2))], title="Vereinsrecht")
    contact_details = ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                                     preferred_language="en")
    ali, berna = associations.register_group(
        seminar, contact_details,
        [make_applicant(first_name="Ali", last_name="Demir", email=None),
         make_applicant(first_name="Berna", last_name="Şahin", email="berna@example.net")],
        make_association("Kulturverein"))
    db.session.commit()
    dispatch_pending()
    db.session.commit()
    contact_token = associations.contact_token(ali.registered_by)
    tokens = [contact_token, registrations.manage_token(ali), registrations.manage_token(berna)]

    to_contact = [m for m in smtp_server.messages if m["To"] == "vorstand@verein.example"]
    assert any(f"/associations/contact/{contact_token}" in wire_text(m) for m in to_contact)
    for row in db.session.scalars(db.select(OutboxMessage)):
        assert not any(token in stored_texts(row) for token in tokens), row.kind
    kept = db.session.scalars(db.select(OutboxMessage)
                              .where(OutboxMessage.kind == MessageKind.GROUP_REGISTERED)).one()
    assert f"/associations/contact/{REDACTED}" in kept.body_text

    response = client.get(f"/associations/contact/{contact_token}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_data(as_text=True).replace("\r\n ", "")
    assert f"URL:{SEMINAR_PAGE.format(slug=seminar.slug)}\r\n" in body
    assert not any(token in body for token in tokens) and "/associations/contact/" not in body


def test_staff_links_are_kept_redacted(app_ctx, smtp_server):
    from booking.accounts.services import request_password_reset

    create_user("coord@office.example", role=Role.COORDINATOR, display_name="Koordination", password=PASSWORD)
    db.session.commit()
    request_password_reset("coord@office.example")
    db.session.commit()
    dispatch_pending()
    db.session.commit()
    [sent] = smtp_server.messages
    assert "/admin/password/reset/" in wire_text(sent)
    token = wire_text(sent).split("/admin/password/reset/", 1)[1].split()[0]
    row = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.PASSWORD_RESET)).one()
    assert token not in stored_texts(row) and row.body_text
