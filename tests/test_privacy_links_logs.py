"""No personal data in logs: a full flow (register, open the manage link over a real HTTP server,
the feed, cancel, an email the mail server refuses) logs no address, name or token at any level,
werkzeug's request lines show personal paths with the token redacted, and so do gunicorn's access
lines and tracebacks."""
from __future__ import annotations

import logging
import threading
import urllib.request

import pytest
from werkzeug.serving import make_server

from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageStatus, OutboxMessage
from booking.redaction import REDACTED
from booking.registrations import services as registrations
from booking.registrations.models import Registration

from tests.factories import csrf_token, make_association, make_seminar
from tests.test_public_registration import valid_form

FIRST, LAST, ADDRESS, PHONE = "Leyla", "Yılmaz", "leyla@example.net", "+49 69 123456"


@pytest.fixture
def http_server(app):
    """The app behind werkzeug's real development server (which writes the request lines)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url) as response:
        return response.status, response.read().decode()


def test_a_full_flow_logs_no_address_name_or_token(app, client, smtp_server, http_server, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="werkzeug")
    with app.app_context():
        seminar = make_seminar(sessions=2, title="Vereinsrecht", capacity=1)
        verein = make_association("Kulturverein Offenbach")
        db.session.commit()
        slug, verein_id = seminar.slug, verein.id

    # register (a place), then a second person who waits and whose mailbox refuses mail
    response = client.post(f"/seminars/{slug}/register", data=valid_form(client, slug, verein_id))
    assert response.status_code == 302
    response = client.post(f"/seminars/{slug}/register", data=valid_form(
        client, slug, verein_id, first_name="Berna", last_name="Şahin", email="berna@example.net"))
    assert response.status_code == 302
    with app.app_context():
        leyla = db.session.scalars(db.select(Registration).where(Registration.email == ADDRESS)).one()
        berna = db.session.scalars(db.select(Registration).where(Registration.email == "berna@example.net")).one()
        tokens = [registrations.manage_token(leyla), registrations.manage_token(berna)]
        assert dispatch_pending().sent >= 2
        db.session.commit()
    token = tokens[0]

    # open the manage link, its cancel page and the personal feed over real HTTP
    assert fetch(f"{http_server}/registrations/{token}")[0] == 200
    assert fetch(f"{http_server}/registrations/{token}/cancel")[0] == 200
    assert fetch(f"{http_server}/registrations/{token}.ics")[0] == 200

    # cancel: Berna gets the place, and the mail server refuses her emails for good
    response = client.post(f"/registrations/{token}/cancel",
                           data={"csrf_token": csrf_token(client, f"/registrations/{token}/cancel")})
    assert response.status_code == 302
    smtp_server.handler.rcpt_reply = "550 5.1.1 <berna@example.net>: Berna Şahin is unknown here"
    with app.app_context():
        result = dispatch_pending()
        db.session.commit()
        assert result.failed >= 1
        assert db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.status == MessageStatus.FAILED)).first()

    # what this process logged, but for the test's SMTP server (in production, another machine)
    logged = "\n".join(caplog.handler.format(record) for record in caplog.records if record.name != "mail.log")
    # the flow did log: the request lines and the domain events, by id
    assert f'"GET /registrations/{REDACTED} HTTP/1.1" 200' in logged
    assert f'"GET /registrations/{REDACTED}/cancel HTTP/1.1" 200' in logged
    assert f'"GET /registrations/{REDACTED}.ics HTTP/1.1" 200' in logged
    assert "cancelled" in logged and "failed" in logged
    for secret in (*tokens, ADDRESS, "berna@example.net", FIRST, LAST, "Berna", "Şahin", PHONE,
                   "Kinderbetreuung"):
        assert secret not in logged, secret


def test_gunicorn_access_lines_are_redacted(app, caplog):
    caplog.set_level(logging.INFO, logger="gunicorn.access")
    # gunicorn's access log: the format with a dict of atoms, as gunicorn.glogging.Logger.access does
    atoms = {"h": "192.0.2.1", "r": "GET /associations/contact/Pid.Mac_mac-1/calendar.ics?lang=de HTTP/1.1",
             "s": "200", "U": "/associations/contact/Pid.Mac_mac-1/calendar.ics",
             "f": "https://seminare.example.org/admin/invitation/Pid.6a1b.Mac"}
    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s "%(f)s" %(U)s', atoms)
    line = caplog.records[-1].getMessage()
    assert "Pid.Mac" not in line and "Mac_mac-1" not in line
    assert line == (f'192.0.2.1 "GET /associations/contact/{REDACTED}/calendar.ics?lang=de HTTP/1.1" 200 '
                    f'"https://seminare.example.org/admin/invitation/{REDACTED}" '
                    f"/associations/contact/{REDACTED}/calendar.ics")


def test_tracebacks_and_messages_of_any_logger_are_redacted(app, caplog):
    caplog.set_level(logging.DEBUG)
    link = "https://seminare.example.org/registrations/AbCdEf.SeCrEtMaC"
    try:
        raise ValueError(f"cannot render {link} for leyla@example.net")
    except ValueError:
        logging.getLogger("some.library").exception("failed for %s", "leyla@example.net")
    logging.getLogger("booking.anything").debug("link %s", link)
    assert "SeCrEtMaC" not in caplog.text and "leyla@example.net" not in caplog.text
    assert "ValueError: cannot render" in caplog.text  # the traceback is kept, its secrets are not
    assert f"/registrations/{REDACTED}" in caplog.text
