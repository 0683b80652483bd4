"""The headers of what arrives at a real SMTP server: one Message-ID, ours; the subject as written."""
import re

import pytest

from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import OutboxMessage

from tests.factories import make_applicant, make_registration, make_seminar


def stored() -> list[OutboxMessage]:
    return list(db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_every_email_has_exactly_one_message_id_the_stored_one(app_ctx, smtp_server):
    make_registration(make_seminar(sessions=2), email="ayse@example.net")
    db.session.commit()
    dispatch_pending()

    messages = stored()
    assert len(smtp_server.messages) == len(messages) == 3
    for message, arrived in zip(messages, smtp_server.messages):
        assert arrived.get_all("Message-ID") == [message.message_id]
        raw_headers = smtp_server.handler.envelopes[smtp_server.messages.index(arrived)].content.split(b"\r\n\r\n")[0]
        assert raw_headers.lower().count(b"\r\nmessage-id:") == 1
        assert message.message_id.startswith(f"<booking.{message.id}.") and message.message_id.endswith("@example.org>")


def test_long_subjects_with_any_letters_arrive_exactly_as_written(app_ctx, smtp_server):
    """Flask-Mail's encoding of a long non-ASCII subject was refolded: spaces appeared inside words
    ("Vereinsrec ht") and vanished between them ("fürVorstände")."""
    titles = ["Vereinsrecht für Vorstände: Satzung, Gemeinnützigkeit und Fördermittel für Migrantenorganisationen",
              "Право объединений для правлений: устав, налоги и финансирование",
              "社团法人理事会的协会法：章程、公益性与资助",
              "=?utf-8?q?Gewonnen?= Öffentlichkeitsarbeit " + "Sehrlangeswortohneleerzeichen" * 4]
    for title in titles:
        associations.register_group(
            make_seminar(sessions=1, title=title),
            ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                           preferred_language="en"),
            [make_applicant(first_name="Ali Rıza", last_name="Demir-Öztürk", email=f"ali{len(title)}@example.net",
                            preferred_language="en")],
            None)
    db.session.commit()
    dispatch_pending()

    by_id = {m["Message-ID"]: m for m in smtp_server.messages}
    messages = stored()
    assert len(by_id) == len(messages)
    for message in messages:
        assert by_id[message.message_id]["Subject"] == message.subject
    subjects = {m.subject for m in messages}
    assert any(s.startswith(f"Invitation: {titles[0]}, ") for s in subjects)
    assert any(s.startswith("Your place: =?utf-8?q?Gewonnen?=") for s in subjects)
    for envelope in smtp_server.handler.envelopes:
        assert max(len(line) for line in envelope.content.split(b"\r\n\r\n")[0].split(b"\r\n")) <= 78


@pytest.mark.parametrize(("language", "title"), [
    ("tr", "Dernekler hukuku: tüzük, yönetim kurulu, genel kurul ve kamu yararı statüsü için başvuru adımları"),
    ("ar", "قانون الجمعيات: النظام الأساسي ومجلس الإدارة والجمعية العمومية وصفة النفع العام خطوة بخطوة"),
    ("de", "Mitgliederversammlung, Satzungsänderung und Gemeinnützigkeit: was Vorstände wissen müssen"),
])
def test_long_subjects_in_the_readers_language_arrive_whole(app_ctx, smtp_server, language, title):
    """The subject in Turkish, Arabic or German, with the date and times in that language, is read
    back by a mail program (Python's email parser, RFC 2047 decoding) exactly as written: no space
    inside a word or a time ("18:0 0"), none lost between words."""
    registration = make_registration(make_seminar(sessions=1, title=title), preferred_language=language,
                                     email=f"reader-{language}@example.net")
    db.session.commit()
    dispatch_pending()

    received = {m["Message-ID"]: m for m in smtp_server.messages}
    mine = [m for m in stored() if m.registration_id == registration.id]
    assert len(mine) == 2  # the confirmation and the invitation
    for message in mine:
        assert title in message.subject
        assert received[message.message_id]["Subject"] == message.subject
    invitation = next(m for m in mine if m.kind == "invitation")
    assert re.search(r"\d\d:\d\d", invitation.subject)  # the session's times, whole
    for envelope in smtp_server.handler.envelopes:
        assert max(len(line) for line in envelope.content.split(b"\r\n\r\n")[0].split(b"\r\n")) <= 78
