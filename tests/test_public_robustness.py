"""Whatever arrives in a URL or a form, the answer is a page with a 4xx (or the page itself), never a 500."""
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from booking.extensions import db
from booking.registrations.models import Registration
from booking.registrations.services import manage_token
from booking.seminars.models import Seminar

from tests.factories import csrf_token, make_registration, make_seminar

NASTY = ["", ".", "..", "a.b.c", "x" * 400, "ÄÖÜ-ß", "مريم", "%00", "'; DROP TABLE seminars;--", "<script>",
         "1", "-1", "0x10", "\u202e", "a" * 16 + "." + "b" * 43]

PATHS = [
    "/seminars/{}", "/seminars/{}.ics", "/seminars/{}/register", "/seminars/{}/group",
    "/registrations/{}", "/registrations/{}.ics", "/registrations/{}/cancel",
    "/associations/contact/{}", "/associations/contact/{}/calendar.ics",
    "/?topic={}", "/?language={}", "/?month={}", "/calendar.ics?topic={}", "/?lang={}",
]


@pytest.mark.parametrize("path", PATHS)
def test_odd_values_in_urls_never_give_a_server_error(client, app_ctx, path):
    make_seminar(slug="vereinsrecht")
    db.session.commit()
    for value in NASTY:
        response = client.get(path.format(quote(value, safe="")))
        assert response.status_code < 500, (path, value, response.status_code)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(
    st.sampled_from(["first_name", "last_name", "email", "phone", "association_id", "new_association",
                     "preferred_language", "needs", "consent", "csrf_token", "participants-0-first_name",
                     "participants-0-email", "participants-7-last_name", "add_row", "remove_row", "submit"]),
    st.text(max_size=300),
))
def test_any_form_post_gives_4xx_or_a_redirect_and_stores_nothing_broken(client, app_ctx, fields):
    if not db.session.scalar(db.select(db.func.count()).select_from(Registration)):
        registration = make_registration(make_seminar(slug="vereinsrecht"))
        db.session.commit()
        assert registration.id
    for path in ("/seminars/vereinsrecht/register", "/seminars/vereinsrecht/group", "/lost-link"):
        response = client.post(path, data=fields)
        assert response.status_code < 500, (path, fields, response.status_code)
    # without a valid CSRF token nothing new can have been stored
    assert db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 1


def test_every_page_carries_a_strict_content_security_policy_and_keeps_tokens_in_house(client, app_ctx):
    registration = make_registration(make_seminar(slug="vereinsrecht"))
    db.session.commit()
    for path in ("/", "/seminars/vereinsrecht", f"/registrations/{manage_token(registration)}", "/nope"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"


PLAUSIBLE = st.fixed_dictionaries({
    # mostly plausible, so that many examples get through validation and reach the rules
    "first_name": st.text(min_size=1, max_size=110), "last_name": st.sampled_from(["Yılmaz", "Haddad", ""]),
    "email": st.emails(), "new_association": st.text(min_size=1, max_size=210), "consent": st.just("y"),
    "preferred_language": st.just("de"),
})
ODD = st.fixed_dictionaries({}, optional={
    "first_name": st.text(max_size=120), "last_name": st.text(max_size=120),
    "email": st.one_of(st.emails(), st.text(max_size=60)), "phone": st.text(max_size=50),
    "association_id": st.one_of(st.text(max_size=8), st.integers(-5, 99).map(str)),
    "new_association": st.text(max_size=220), "preferred_language": st.sampled_from(["de", "en", "tr", "ar", "xx", ""]),
    "needs": st.text(max_size=300), "consent": st.sampled_from(["y", "", "on"]),
})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.tuples(PLAUSIBLE, st.one_of(st.just({}), ODD)).map(lambda pair: pair[0] | pair[1]))
def test_any_registration_with_a_valid_token_is_either_stored_whole_or_refused_with_4xx(client, app_ctx, fields):
    if db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 0 and \
            not db.session.scalar(db.select(db.func.count()).select_from(Seminar)):
        make_seminar(slug="vereinsrecht", capacity=3)
        db.session.commit()
    before = db.session.scalar(db.select(db.func.count()).select_from(Registration))
    token = csrf_token(client, "/seminars/vereinsrecht")
    response = client.post("/seminars/vereinsrecht/register", data=fields | {"csrf_token": token})
    after = db.session.scalar(db.select(db.func.count()).select_from(Registration))
    assert response.status_code in (302, 409, 422), response.status_code
    # a 302 to the manage page stored one registration; an address registered already is answered
    # neutrally (a 302 back to the seminar page, its link sent by email) and stores none
    stored = 1 if response.status_code == 302 and "/registrations/" in response.headers["Location"] else 0
    assert after == before + stored
    event(f"status {response.status_code}")
