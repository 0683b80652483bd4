"""Absolute links on pages and feeds come from BOOKING_BASE_URL, never from the request's Host header;
behind a TLS proxy, BOOKING_PROXY_HOPS makes the client's address and scheme the ones the proxy saw."""
from __future__ import annotations

import re

import pytest
from flask import request

from booking import create_app
from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.registrations.services import manage_token

from tests.factories import make_applicant, make_association, make_registration, make_seminar, make_topic

BASE = "https://seminare.example.org"
FORGED = {
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Server": "evil.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Prefix": "/evil",
    "X-Original-Host": "evil.example",
    "Forwarded": "host=evil.example;proto=https",
}


def unfolded(body: str) -> str:
    """Calendar lines are folded at 75 octets; a host name may be split across a fold."""
    return body.replace("\r\n ", "").replace("\r\n\t", "")


@pytest.fixture
def site(app):
    app.config["BOOKING_BASE_URL"] = BASE
    with app.app_context():
        seminar = make_seminar(slug="vereinsrecht", topic=make_topic(slug="recht"))
        registration = make_registration(seminar, first_name="Leyla")
        associations.register_group(
            seminar, ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                                    phone=None, preferred_language="de"),
            [make_applicant(first_name="Emre")], make_association("Kulturverein"))
        db.session.commit()
        contact = db.session.scalar(db.select(associations.AssociationContact))
        return {"manage": manage_token(registration), "contact": associations.contact_token(contact)}


def pages(site) -> list[str]:
    manage, contact = site["manage"], site["contact"]
    return [
        "/", "/?topic=recht&lang=de", "/seminars/vereinsrecht", "/seminars/vereinsrecht/group",
        "/seminars/vereinsrecht/register", "/registrations/" + manage, f"/registrations/{manage}/cancel",
        f"/associations/contact/{contact}", f"/associations/contact/{contact}/seminars/vereinsrecht/group",
        "/lost-link", "/associations/lost-link", "/privacy", "/nope", "//evil.example", "/seminars//vereinsrecht",
        "/static//css/booking.css",
        "/calendar.ics", "/calendar.ics?topic=recht", "/seminars/vereinsrecht.ics", f"/registrations/{manage}.ics",
        f"/associations/contact/{contact}/calendar.ics",
    ]


def assert_nothing_points_at_the_forged_host(response, path):
    body = unfolded(response.get_data(as_text=True)).lower()
    assert "evil.example" not in body, path
    assert "/evil" not in body, path
    for name, value in response.headers.items():
        assert "evil" not in value.lower(), (path, name, value)


def test_no_link_on_any_page_or_feed_follows_a_forged_host(client, site):
    for path in pages(site):
        response = client.get(path, base_url="http://evil.example", headers=FORGED)
        assert response.status_code < 500, path
        assert_nothing_points_at_the_forged_host(response, path)
    for path in ("/seminars/vereinsrecht/register", "/seminars/vereinsrecht/group", "/lost-link"):
        response = client.post(path, data={"first_name": "x"}, base_url="http://evil.example", headers=FORGED)
        assert 400 <= response.status_code < 500, path
        assert_nothing_points_at_the_forged_host(response, path)


def test_personal_links_and_feed_urls_are_on_the_base_url(client, site):
    manage, contact = site["manage"], site["contact"]
    forged = {"base_url": "http://evil.example", "headers": FORGED}

    page = client.get(f"/registrations/{manage}", **forged).get_data(as_text=True)
    assert f'href="{BASE}/registrations/{manage}"' in page

    page = client.get(f"/associations/contact/{contact}", **forged).get_data(as_text=True)
    assert f'href="{BASE}/associations/contact/{contact}"' in page
    assert f'href="{BASE}/associations/contact/{contact}/calendar.ics"' in page

    feeds = {
        "/calendar.ics": f"URL:{BASE}/seminars/vereinsrecht",
        "/seminars/vereinsrecht.ics": f"URL:{BASE}/seminars/vereinsrecht",
        # personal feeds link the seminar's public page: shared calendars are read by others
        f"/registrations/{manage}.ics": f"URL:{BASE}/seminars/vereinsrecht",
        f"/associations/contact/{contact}/calendar.ics": f"URL:{BASE}/seminars/vereinsrecht",
    }
    for path, line in feeds.items():
        body = unfolded(client.get(path, **forged).get_data(as_text=True))
        urls = re.findall(r"^URL[^:]*:(.*)$", body, re.MULTILINE)
        assert urls and all(url.startswith(BASE + "/") for url in urls), (path, urls)
        assert line in body.splitlines(), path


def test_base_url_with_a_path_prefix_is_kept(client, site):
    client.application.config["BOOKING_BASE_URL"] = "https://stadt.example.org/seminare/"
    page = client.get(f"/registrations/{site['manage']}", base_url="http://evil.example").get_data(as_text=True)
    assert f'href="https://stadt.example.org/seminare/registrations/{site["manage"]}"' in page


# --- BOOKING_PROXY_HOPS -------------------------------------------------------------------------------

def app_seeing_the_client(hops: int):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "BOOKING_PROXY_HOPS": hops})

    @app.get("/test-client-address")
    def client_address():
        return f"{request.remote_addr} {request.scheme} {request.host}"

    return app


PROXIED = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7", "X-Forwarded-Proto": "https",
           "X-Forwarded-Host": "evil.example"}


def test_behind_one_proxy_the_client_address_and_scheme_are_the_ones_the_proxy_saw():
    client = app_seeing_the_client(1).test_client()
    seen = client.get("/test-client-address", headers=PROXIED,
                      environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_data(as_text=True)
    # only the last hop is trusted: the first X-Forwarded-For entry was written by the client itself
    assert seen == "203.0.113.7 https localhost"


def test_without_proxy_hops_forwarded_headers_are_ignored():
    client = app_seeing_the_client(0).test_client()
    seen = client.get("/test-client-address", headers=PROXIED,
                      environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_data(as_text=True)
    assert seen == "10.0.0.2 http localhost"
