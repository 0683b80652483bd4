"""The email log in the workspace: every outbox message, filters, one message as sent, and
sending a failed one again (the same rule as `flask booking outbox --retry`)."""
from __future__ import annotations

import html
import re

import pytest

from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.audit import AuditEntry
from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, MessageStatus, OutboxMessage

from tests.factories import csrf_token, make_applicant, make_association, make_registration, make_seminar
from tests.test_admin_access import log_in, staff  # noqa: F401  (the fixture)


def flashes(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)]


def messages(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)))


def listed_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="message-(\d+)">', page)]


@pytest.fixture
def failed(app, smtp_server):
    """Two seminars; Ayşe's emails for the first were refused by the mail server for good."""
    with app.app_context():
        smtp_server.handler.rcpt_reply = "550 5.1.1 No such user here"
        vereinsrecht = make_seminar(title="Vereinsrecht", sessions=1)
        make_registration(vereinsrecht, first_name="Ayşe", email="ayse@example.net")
        db.session.commit()
        dispatch_pending()
        db.session.commit()
        smtp_server.handler.rcpt_reply = None
        kasse = make_seminar(title="Kassenführung", sessions=1)
        associations.register_group(kasse, ContactDetails("Aylin", "Kaya", "vorstand@verein.example"),
                                    [make_applicant(email=None, first_name="Gül")], make_association("Kulturverein"))
        db.session.commit()
        return {"vereinsrecht": vereinsrecht.id, "kasse": kasse.id,
                "failed": [m.id for m in db.session.scalars(db.select(OutboxMessage).where(
                    OutboxMessage.status == MessageStatus.FAILED).order_by(OutboxMessage.id))]}


def test_the_log_lists_every_message_with_state_kind_recipient_attempts_and_error(app, client, staff, failed):  # noqa: F811
    log_in(client, staff["coordinator"])

    page = client.get("/admin/emails").get_data(as_text=True)

    assert listed_ids(page) == [m.id for m in reversed(messages(app))]  # newest first
    row = re.search(rf'<tr id="message-{failed["failed"][0]}">(.*?)</tr>', page, re.S).group(1)
    assert "Failed" in row and "Confirmation" in row and "ayse@example.net" in row and "Vereinsrecht" in row
    assert '<td data-label="Attempts">1</td>' in row
    assert "550 5.1.1 No such user here" in row
    group_row = re.search(r'<tr id="message-\d+">((?:(?!</tr>).)*Group registered(?:(?!</tr>).)*)</tr>', page, re.S)
    assert "vorstand@verein.example" in group_row.group(1) and "Kassenführung" in group_row.group(1)


def test_the_dashboard_links_failed_emails_to_the_filtered_log(client, staff, failed):  # noqa: F811
    log_in(client, staff["coordinator"])
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/emails?state=failed">2 emails could not be delivered.</a>' in dashboard
    assert 'href="/admin/emails"' in dashboard


def test_filters_by_state_and_seminar(app, client, staff, failed):  # noqa: F811
    log_in(client, staff["coordinator"])
    by_id = {m.id: m for m in messages(app)}

    failed_only = listed_ids(client.get("/admin/emails?state=failed").get_data(as_text=True))
    kasse = listed_ids(client.get(f"/admin/emails?seminar={failed['kasse']}").get_data(as_text=True))
    both = listed_ids(client.get(f"/admin/emails?state=failed&seminar={failed['kasse']}").get_data(as_text=True))

    assert sorted(failed_only) == failed["failed"]
    assert {by_id[i].kind for i in kasse} == {MessageKind.GROUP_REGISTERED}  # the contact's message counts
    assert not set(kasse) & set(failed_only)
    assert both == []


@pytest.mark.parametrize("query, field, message", [
    ("state=lost", "state", "There is no such state; messages in every state are shown."),
    ("seminar=999999", "seminar", "There is no such seminar; messages of every seminar are shown."),
    ("seminar=%27%20OR%201%3D1", "seminar", "There is no such seminar; messages of every seminar are shown."),
])
def test_an_unknown_filter_is_ignored_and_said_beside_it(app, client, staff, failed, query, field, message):  # noqa: F811
    log_in(client, staff["coordinator"])
    response = client.get(f"/admin/emails?{query}&page=abc")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in page
    assert len(listed_ids(page)) == len(messages(app))


def test_the_log_is_paginated(app, client, staff):  # noqa: F811
    with app.app_context():
        seminar = make_seminar(sessions=1, capacity=100)
        for n in range(60):  # a confirmation and an invitation each: 120 messages
            make_registration(seminar, email=f"person{n}@example.net")
        db.session.commit()
    log_in(client, staff["coordinator"])
    all_ids = [m.id for m in reversed(messages(app))]

    first = client.get("/admin/emails").get_data(as_text=True)
    third = client.get("/admin/emails?page=3").get_data(as_text=True)
    beyond = client.get("/admin/emails?page=99").get_data(as_text=True)

    assert len(all_ids) == 120
    assert listed_ids(first) == all_ids[:50] and "page 1 of 3" in first
    assert 'href="/admin/emails?page=2"' in first
    assert listed_ids(third) == all_ids[100:] and 'href="/admin/emails?page=2"' in third
    assert listed_ids(beyond) == all_ids[100:]


def test_one_message_is_shown_as_sent_with_text_html_and_calendar(app, client, staff, smtp_server):  # noqa: F811
    with app.app_context():
        make_registration(make_seminar(title="Vereinsrecht", sessions=1), first_name="Ayşe", email="ayse@example.net")
        db.session.commit()
        dispatch_pending()
        db.session.commit()
    confirmation, invitation = messages(app)
    log_in(client, staff["coordinator"])

    page = client.get(f"/admin/emails/{invitation.id}").get_data(as_text=True)
    assert html.escape(invitation.subject, quote=False) in page
    assert html.escape(invitation.body_text.splitlines()[0], quote=False) in page
    assert "BEGIN:VCALENDAR" in page and "METHOD:REQUEST" in page
    frame = re.search(r'<iframe[^>]*>', page).group(0)
    assert "sandbox" in frame and f'src="/admin/emails/{invitation.id}/html"' in frame

    part = client.get(f"/admin/emails/{invitation.id}/html")
    assert part.get_data(as_text=True) == invitation.body_html
    policy = part.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert part.headers["X-Frame-Options"] == "SAMEORIGIN" and part.headers["Cache-Control"] == "no-store"
    assert "BEGIN:VCALENDAR" not in client.get(f"/admin/emails/{confirmation.id}").get_data(as_text=True)


def test_a_message_not_written_yet_says_so(app, client, staff):  # noqa: F811
    with app.app_context():
        make_registration(make_seminar(sessions=1))
        db.session.commit()
    log_in(client, staff["coordinator"])
    page = client.get(f"/admin/emails/{messages(app)[0].id}").get_data(as_text=True)
    assert "Not written yet" in page
    assert client.get(f"/admin/emails/{messages(app)[0].id}/html").status_code == 404
    for value in ("999999", "abc", "99999999999999999999"):
        assert client.get(f"/admin/emails/{value}").status_code == 404


def test_a_failed_message_is_sent_again_and_arrives(app, client, staff, failed, smtp_server):  # noqa: F811
    log_in(client, staff["coordinator"])
    message_id = failed["failed"][0]
    page = f"/admin/emails/{message_id}"
    assert "Send again" in client.get(page).get_data(as_text=True)

    response = client.post(f"{page}/retry", data={"csrf_token": csrf_token(client, page)})
    again = client.post(f"{page}/retry", data={"csrf_token": csrf_token(client, page)})  # a second click

    assert response.status_code == again.status_code == 302
    assert "Only a failed message can be sent again." in flashes(client.get(page).get_data(as_text=True))
    retried = [m for m in messages(app) if m.id == message_id][0]
    assert (retried.status, retried.attempts) == (MessageStatus.PENDING, 0)
    entries = [e for e in messages_audit(app) if e.action == "email.retried"]
    assert len(entries) == 1 and entries[0].detail["message_id"] == message_id
    assert entries[0].seminar_id == failed["vereinsrecht"] and entries[0].actor_label == "Koordination"
    with app.app_context():
        dispatch_pending()
        db.session.commit()
    assert [m["To"] for m in smtp_server.messages if m["Subject"].startswith("Your place")] == ["ayse@example.net"]
    assert [m for m in messages(app) if m.id == message_id][0].status == MessageStatus.SENT


def messages_audit(app) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)))


def test_a_message_that_did_not_fail_is_not_sent_again(app, client, staff, failed):  # noqa: F811
    log_in(client, staff["coordinator"])
    sent = [m for m in messages(app) if m.status != MessageStatus.FAILED][0]
    page = f"/admin/emails/{sent.id}"
    assert "Send again" not in client.get(page).get_data(as_text=True)

    response = client.post(f"{page}/retry", data={"csrf_token": csrf_token(client, page)})

    assert response.status_code == 302
    assert "Only a failed message can be sent again." in flashes(client.get(page).get_data(as_text=True))
    after = [m for m in messages(app) if m.id == sent.id][0]
    assert (after.status, after.attempts) == (sent.status, sent.attempts)


def test_the_command_line_follows_the_same_rule(app, failed):
    runner = app.test_cli_runner()
    message_id = failed["failed"][0]

    refused = runner.invoke(args=["booking", "outbox", "--retry", str(failed["failed"][-1] + 1)])
    retried = runner.invoke(args=["booking", "outbox", "--retry", str(message_id)])
    again = runner.invoke(args=["booking", "outbox", "--retry", str(message_id)])

    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert retried.exit_code == 0 and f"message {message_id} will be sent again" in retried.output
    assert again.exit_code == 1 and "Only a failed message can be sent again" in again.output
    assert again.exception is None or isinstance(again.exception, SystemExit)
    assert len([e for e in messages_audit(app) if e.action == "email.retried"]) == 1


@pytest.mark.parametrize("method, path", [("GET", "/admin/emails"), ("GET", "/admin/emails/{id}"),
                                          ("GET", "/admin/emails/{id}/html"), ("POST", "/admin/emails/{id}/retry")])
def test_a_trainer_may_not_open_the_email_log(app, client, staff, failed, method, path):  # noqa: F811
    log_in(client, staff["trainer"])
    assert 'href="/admin/emails"' not in client.get("/admin/").get_data(as_text=True)
    data = {"csrf_token": csrf_token(client, "/admin/")} if method == "POST" else None

    response = client.open(path.format(id=failed["failed"][0]), method=method, data=data)

    assert response.status_code == 403
    assert all(m.status == MessageStatus.FAILED for m in messages(app) if m.id in failed["failed"])
