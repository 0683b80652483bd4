"""Whatever arrives in a URL or a form, the answer is a page with a 4xx (or the page itself), never a 500."""
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from booking.addresses import address_key
from booking.associations.models import Association, AssociationContact
from booking.extensions import db
from booking.mail.models import OutboxMessage
from booking.registrations.models import Registration
from booking.registrations.services import manage_token
from booking.seminars.models import Seminar

from tests.factories import csrf_token, make_registration, make_seminar

NASTY = ["", ".", "..", "a.b.c", "x" * 400, "ÄÖÜ-ß", "مريم", "%00", "'; DROP TABLE seminars;--", "<script>",
         "1", "-1", "0x10", "\u202e", "a" * 16 + "." + "b" * 43, "\x00", "a\x00b", "\x1b[2J", "\r\nX: y",
         "²", "١٢", "9" * 30, "2147483648", "ß" * 200, "0000-01", "9999-12", "١٢٣٤-٠١", "\ufdfa" * 30]

# Characters that once broke something: NUL (PostgreSQL refuses it), other controls, line breaks,
# bidi overrides, text that grows when casefolded or normalised, digits of other scripts, 4-byte letters.
SPECIAL = ["\x00", "\x07", "\x1b", "\r", "\n", "\t", "\x85", "\u2028", "\u202e", "\u2066", "\u200d", "\ufeff",
           "ß", "İ", "ﬃ", "\ufdfa", "\u0958", "²", "١", "𝟙", "𐐷", "😀", "@", ".", "'", "-", " "]
# All of Unicode (hypothesis leaves out only lone surrogates, which HTTP cannot carry), with those mixed in often.
ANY_CHAR = st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(SPECIAL))


def any_text(min_size=0, max_size=300):
    return st.text(alphabet=ANY_CHAR, min_size=min_size, max_size=max_size)

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
    any_text(),
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


NAME_CHARS = st.one_of(st.characters(categories=["L", "M"]), st.sampled_from(SPECIAL))
PLAUSIBLE = st.fixed_dictionaries({
    # mostly plausible, so that many examples get through validation and reach the rules
    "first_name": st.one_of(st.text(NAME_CHARS, min_size=1, max_size=110), any_text(1, 110)),
    "last_name": st.sampled_from(["Yılmaz", "Haddad", ""]),
    "email": st.emails(), "new_association": any_text(1, 210), "consent": st.just("y"),
    "preferred_language": st.just("de"),
})
ODD = st.fixed_dictionaries({}, optional={
    "first_name": any_text(max_size=120), "last_name": any_text(max_size=120),
    "email": st.one_of(st.emails(), any_text(max_size=60), st.builds("{}@{}".format, any_text(1, 20), st.sampled_from(
        ["example.org", "München.de", "straße.de", "gmial.com", "x"]))),
    "phone": any_text(max_size=50),
    "association_id": st.one_of(any_text(max_size=12), st.integers(-5, 2**40).map(str)),
    "new_association": any_text(max_size=220), "preferred_language": st.sampled_from(["de", "en", "tr", "ar", "xx", ""]),
    "needs": any_text(max_size=2100), "consent": st.sampled_from(["y", "", "on"]),
})


def counts():
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(model))
                 for model in (Registration, OutboxMessage, Association, AssociationContact))


def assert_stored_rows_are_clean():
    """Whatever was stored is whole: names without control characters, keys that match their address."""
    for registration in db.session.scalars(db.select(Registration)):
        for text in (registration.first_name, registration.last_name, registration.phone or ""):
            assert text == text.strip() and all(ch.isprintable() or ch in "\u200c\u200d" for ch in text), repr(text)
        assert registration.first_name and registration.last_name
        assert len(registration.first_name) <= 100 and len(registration.last_name) <= 100
        if registration.email:
            assert registration.email.isascii() and registration.email_key == address_key(registration.email)
        assert "\x00" not in (registration.needs or "")
    for association in db.session.scalars(db.select(Association)):
        assert len(association.name) <= 200 and len(association.name_key) <= 200
        assert "\x00" not in association.name and "\n" not in association.name


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.tuples(PLAUSIBLE, st.one_of(st.just({}), ODD)).map(lambda pair: pair[0] | pair[1]))
def test_any_registration_with_a_valid_token_is_either_stored_whole_or_refused_with_4xx(client, app_ctx, fields):
    if db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 0 and \
            not db.session.scalar(db.select(db.func.count()).select_from(Seminar)):
        make_seminar(slug="vereinsrecht", capacity=3)
        db.session.commit()
    before = counts()
    token = csrf_token(client, "/seminars/vereinsrecht")
    response = client.post("/seminars/vereinsrecht/register", data=fields | {"csrf_token": token})
    db.session.expire_all()
    after = counts()
    assert response.status_code in (302, 409, 422), response.status_code
    if response.status_code == 302:
        # a 302 to the manage page stored one registration; an address registered already is answered
        # neutrally (a 302 back to the seminar page, its link sent by email) and stores none
        stored = 1 if "/registrations/" in response.headers["Location"] else 0
        assert after[0] == before[0] + stored
    else:
        assert after == before, "a refused registration stored something"
    assert_stored_rows_are_clean()
    event(f"status {response.status_code}")


PLAUSIBLE_ROW = st.fixed_dictionaries({
    "first_name": st.sampled_from(["Deniz", "مريم", "Nguyễn"]), "last_name": st.sampled_from(["Aksoy", "Haddad"]),
    "email": st.one_of(st.just(""), st.emails()), "preferred_language": st.sampled_from(["tr", "ar"])})
ODD_ROW = st.fixed_dictionaries({}, optional={
    "first_name": st.one_of(st.text(NAME_CHARS, min_size=1, max_size=110), any_text(max_size=110)),
    "last_name": st.one_of(st.sampled_from(["Yılmaz", "Haddad"]), any_text(max_size=110)),
    "email": st.one_of(st.just(""), st.emails(), any_text(max_size=40)),
    "preferred_language": st.sampled_from(["de", "tr", "ar", "xx", "\x00"]),
})
ROW = st.one_of(PLAUSIBLE_ROW, ODD_ROW)
ROW_INDEX = st.one_of(st.integers(0, 12).map(str), st.integers(0, 12).map(str),
                      st.sampled_from(["²", "١", "9" * 40, "-1", "", "x", "\x00"]))

PLAUSIBLE_CONTACT = st.fixed_dictionaries({
    "contact_first_name": st.just("Aylin"), "contact_last_name": st.just("Kaya"), "contact_email": st.emails(),
    "new_association": st.sampled_from(["Kulturverein", "Verein 1990 e.V."]), "consent": st.just("y")})
ODD_CONTACT = st.fixed_dictionaries({
    "contact_first_name": st.one_of(st.just("Aylin"), any_text(max_size=110)),
    "contact_last_name": st.just("Kaya"),
    "contact_email": st.one_of(st.emails(), any_text(max_size=60)),
    "new_association": st.one_of(st.just("Kulturverein"), any_text(1, 220)),
    "consent": st.just("y")}, optional={"association_id": any_text(max_size=12), "contact_phone": any_text(max_size=45)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contact=st.one_of(PLAUSIBLE_CONTACT, ODD_CONTACT),
       rows=st.dictionaries(ROW_INDEX, ROW, max_size=5),
       action=st.sampled_from(["submit", "submit", "add_row", "remove_row"]))
def test_any_group_registration_with_a_valid_token_is_stored_whole_or_refused(client, app_ctx, contact, rows, action):
    if not db.session.scalar(db.select(db.func.count()).select_from(Seminar)):
        make_seminar(slug="vereinsrecht", capacity=4, max_per_association=2)
        db.session.commit()
    before = counts()
    data = contact | {"csrf_token": csrf_token(client, "/seminars/vereinsrecht/group"), action: "0"}
    for index, row in rows.items():
        data |= {f"participants-{index}-{name}": value for name, value in row.items()}
    response = client.post("/seminars/vereinsrecht/group", data=data)
    db.session.expire_all()
    after = counts()
    assert response.status_code in (200, 302, 409, 422), response.status_code
    if response.status_code != 302:
        assert after == before, "a refused group stored something"
    assert_stored_rows_are_clean()
    event(f"{action}: status {response.status_code}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=st.one_of(st.emails(), any_text(max_size=300)))
def test_any_lost_link_request_is_answered_without_a_server_error(client, app_ctx, email):
    token = csrf_token(client, "/lost-link")
    response = client.post("/lost-link", data={"csrf_token": token, "email": email})
    assert response.status_code in (302, 422), response.status_code
