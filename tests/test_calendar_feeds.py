"""Subscription feeds: content, conditional requests, 404s; links to web calendars."""
import html as html_module
import re
from urllib.parse import parse_qs, urlparse

from ical.calendar_stream import IcsCalendarStream

from booking.extensions import db
from booking.registrations import services
from booking.seminars import scheduling
from booking.seminars.models import SeminarStatus

from tests.factories import make_registration, make_seminar, make_topic


def test_seminar_feed_lists_sessions_and_answers_304_until_something_changes(app_ctx, client):
    seminar = make_seminar(sessions=3, title="Öffentlichkeitsarbeit, aber richtig")
    db.session.commit()
    response = client.get(f"/seminars/{seminar.slug}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    calendar = IcsCalendarStream.calendar_from_ics(response.get_data(as_text=True))
    assert [e.summary for e in calendar.events] == ["Öffentlichkeitsarbeit, aber richtig"] * 3
    etag = response.headers["ETag"]

    again = client.get(f"/seminars/{seminar.slug}.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304

    scheduling.cancel_session(seminar.sessions[0])
    db.session.commit()
    changed = client.get(f"/seminars/{seminar.slug}.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "STATUS:CANCELLED" in changed.get_data(as_text=True)


def test_catalogue_feed_filters_by_topic_and_hides_drafts(app_ctx, client):
    law = make_topic(slug="vereinsrecht", name="Vereinsrecht")
    make_seminar(topic=law, title="Satzung schreiben")
    make_seminar(title="Pressearbeit")
    make_seminar(title="Geheimer Entwurf", status=SeminarStatus.DRAFT)
    db.session.commit()
    everything = client.get("/calendar.ics").get_data(as_text=True)
    assert "Satzung schreiben" in everything and "Pressearbeit" in everything
    assert "Geheimer Entwurf" not in everything
    only_law = client.get("/calendar.ics?topic=vereinsrecht").get_data(as_text=True)
    assert "Satzung schreiben" in only_law and "Pressearbeit" not in only_law
    assert client.get("/calendar.ics?topic=nope").status_code == 404


def test_registration_feed_needs_the_right_token(app_ctx, client):
    seminar = make_seminar(sessions=2)
    registration = make_registration(seminar)
    db.session.commit()
    token = services.manage_token(registration)
    response = client.get(f"/registrations/{token}.ics")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("BEGIN:VEVENT") == 2
    assert response.headers["Cache-Control"] == "private, no-store"
    # its events link the seminar's public page: the feed is shared with whoever reads the calendar
    body = response.get_data(as_text=True).replace("\r\n ", "")
    assert f"URL:http://127.0.0.1:5000/seminars/{seminar.slug}\r\n" in body
    assert token not in body and "/registrations/" not in body
    assert client.get(f"/registrations/{token[:-2]}xx.ics").status_code == 404
    assert client.get("/seminars/no-such-seminar.ics").status_code == 404
    draft = make_seminar(status=SeminarStatus.DRAFT)
    db.session.commit()
    assert client.get(f"/seminars/{draft.slug}.ics").status_code == 404


def test_manage_page_offers_ics_google_and_outlook_links(app_ctx, client):
    seminar = make_seminar(sessions=2, title="Satzung & Vorstand")
    registration = make_registration(seminar)
    db.session.commit()
    token = services.manage_token(registration)
    page = client.get(f"/registrations/{token}").get_data(as_text=True)
    assert f"/registrations/{token}.ics" in page
    assert page.count("https://calendar.google.com/calendar/render?") == 2
    assert page.count("https://outlook.live.com/calendar/0/deeplink/compose?") == 2
    google = html_module.unescape(re.search(r'href="(https://calendar\.google\.com[^"]+)"', page).group(1))
    query = parse_qs(urlparse(google).query)
    first = seminar.sessions[0]
    assert query["text"] == ["Satzung & Vorstand"]
    assert query["dates"] == [first.starts_at.strftime("%Y%m%dT%H%M%SZ") + "/" + first.ends_at.strftime("%Y%m%dT%H%M%SZ")]
    # the entry says what it is and leads back to the registration
    assert query["details"] == [f"{seminar.summary}\n\nYour registration: http://127.0.0.1:5000/registrations/{token}"
                                if seminar.summary else f"Your registration: http://127.0.0.1:5000/registrations/{token}"]
    outlook = html_module.unescape(re.search(r'href="(https://outlook\.live\.com[^"]+)"', page).group(1))
    assert parse_qs(urlparse(outlook).query)["body"] == query["details"]


def test_catalogue_and_seminar_pages_link_their_feeds(app_ctx, client):
    law = make_topic(slug="vereinsrecht", name="Vereinsrecht")
    seminar = make_seminar(topic=law)
    db.session.commit()
    assert 'href="/calendar.ics"' in client.get("/").get_data(as_text=True)
    assert 'href="/calendar.ics?topic=vereinsrecht"' in client.get("/?topic=vereinsrecht").get_data(as_text=True)
    assert f'href="/seminars/{seminar.slug}.ics"' in client.get(f"/seminars/{seminar.slug}").get_data(as_text=True)


def test_public_feeds_keep_the_online_link_for_participants(app_ctx, client):
    seminar = make_seminar(slug="online", venue_name="", venue_address="", online_url="https://meet.example.org/v")
    registration = make_registration(seminar)
    db.session.commit()
    for path in ("/seminars/online.ics", "/calendar.ics"):
        body = client.get(path).get_data(as_text=True)
        assert "LOCATION:Online" in body and "meet.example.org" not in body
    own = client.get(f"/registrations/{services.manage_token(registration)}.ics").get_data(as_text=True)
    assert "LOCATION:https://meet.example.org/v" in own
