""""Lost your link?": every personal link of an address again, never saying whether it is known."""
import re
from datetime import timedelta

from booking.associations import services as associations
from booking.associations.models import LinkRequest
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, OutboxMessage
from booking.registrations import links
from booking.registrations import services as registrations

from tests.factories import csrf_token, make_applicant, make_association, make_registration, make_seminar, now

CONTACT = ContactDetails(first_name="Aylin", last_name="Kaya", email="aylin@verein.example",
                         phone=None, preferred_language="en")


def registration_in_a_seminar_now_over(email):
    """Registered while it was ahead; by now its only session lies ten days back."""
    seminar = make_seminar(sessions=1, title="Vorbei")
    registration = make_registration(seminar, email=email)
    session = seminar.sessions[0]
    session.starts_at, session.ends_at = now() - timedelta(days=10), now() - timedelta(days=10, hours=-2)
    db.session.flush()
    return registration


def links_messages():
    return list(db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.LINKS).order_by(OutboxMessage.id)))


def ask(client, email):
    """Post the form as a browser would; return what the person sees."""
    response = client.post("/lost-link", data={"csrf_token": csrf_token(client, "/lost-link"), "email": email})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return response.status_code, response.headers["Location"], re.search(r'<p class="flash[^>]*>(.*?)</p>', page).group(1)


def test_the_answer_is_the_same_for_known_and_unknown_addresses_and_one_email_an_hour(app, client):
    with app.app_context():
        seminar = make_seminar()
        make_registration(seminar, email="leyla@example.net")
        associations.register_group(seminar, CONTACT, [make_applicant()], make_association())
        db.session.commit()

    participant = ask(client, "Leyla@Example.net ")
    contact = ask(client, "aylin@verein.example")
    unknown = ask(client, "nobody@example.net")
    again = ask(client, "leyla@example.net")

    assert participant == contact == unknown == again
    assert participant[0] == 302 and "If we know this address" in participant[2]
    with app.app_context():
        assert [m.recipient for m in links_messages()] == ["leyla@example.net", "aylin@verein.example"]
        assert db.session.scalar(db.select(db.func.count(LinkRequest.id))) == 2


def test_links_go_out_again_after_an_hour(app_ctx):
    make_registration(make_seminar(), email="leyla@example.net")
    start = now()
    for minutes in (0, 59, 61):
        links.request_links("leyla@example.net", now=start + timedelta(minutes=minutes))
    assert len(links_messages()) == 2


def test_one_email_holds_every_current_link_of_the_address(app_ctx, smtp_server, client):
    full = make_seminar(capacity=1, title="Kassenführung")
    make_registration(full)
    open_seminar = make_seminar(title="Pressearbeit")
    place = make_registration(open_seminar, email="aylin@verein.example")
    waiting = make_registration(full, email="aylin@verein.example")
    cancelled = make_registration(make_seminar(title="Abgesagt"), email="aylin@verein.example")
    registrations.cancel_registration(cancelled)
    over = registration_in_a_seminar_now_over("aylin@verein.example")
    group = associations.register_group(open_seminar, CONTACT, [make_applicant(email=None)], make_association())
    db.session.commit()
    dispatch_pending()
    before = len(smtp_server.messages)

    links.request_links("AYLIN@verein.example")
    db.session.commit()
    assert dispatch_pending().sent == 1

    [email] = smtp_server.messages[before:]
    assert email["To"] == "aylin@verein.example" and email["Subject"] == "Your personal links"
    text = email.get_body(("plain",)).get_content()
    assert f"/registrations/{registrations.manage_token(place)}" in text
    assert f"/registrations/{registrations.manage_token(waiting)}" in text
    assert "You are number 1 on the waiting list." in text
    assert registrations.manage_token(cancelled) not in text and "Abgesagt" not in text
    assert registrations.manage_token(over) not in text and "Vorbei" not in text
    assert f"/associations/contact/{associations.contact_token(group[0].registered_by)}" in text
    # the links in the email open the pages
    assert client.get(f"/registrations/{registrations.manage_token(waiting)}").status_code == 200


def test_a_registration_cancelled_before_its_links_went_out_is_named_cancelled(app_ctx, smtp_server):
    waiting_for = make_seminar(capacity=1, title="Kassenführung")
    make_registration(waiting_for)
    waiting = make_registration(waiting_for, email="aylin@verein.example")
    db.session.commit()
    dispatch_pending()
    before = len(smtp_server.messages)
    links.request_links("aylin@verein.example")
    registrations.cancel_registration(waiting)  # cancelled before the worker renders the links email
    db.session.commit()

    result = dispatch_pending()

    assert result.failed == 0
    links_email = [m for m in smtp_server.messages[before:] if m["Subject"] == "Your personal links"]
    assert len(links_email) == 1
    assert "This registration is cancelled." in links_email[0].get_body(("plain",)).get_content()


def test_nothing_is_sent_for_an_address_whose_seminars_are_over(app_ctx):
    registration_in_a_seminar_now_over("old@example.net")
    links.request_links("old@example.net")
    assert links_messages() == []


def test_an_invalid_address_keeps_what_was_typed_and_answers_422(client):
    response = client.post("/lost-link", data={"csrf_token": csrf_token(client, "/lost-link"), "email": "not-an-address"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="not-an-address"' in page and "Please enter a valid email address" in page


def test_the_page_is_easy_to_find(app_ctx, client):
    assert 'href="/lost-link"' in client.get("/").get_data(as_text=True)
    wrong = client.get("/registrations/abc.def")
    assert wrong.status_code == 404 and 'href="/lost-link"' in wrong.get_data(as_text=True)
    moved = client.get("/associations/lost-link")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/lost-link")
