"""The classes of input that once gave a 500 or stored what should not be: each refused with a
message beside the field (or a 4xx page), nothing stored, on SQLite and on PostgreSQL alike."""
import re

import pytest

from booking.addresses import address_key
from booking.associations.models import Association, AssociationContact
from booking.extensions import db
from booking.mail.models import OutboxMessage
from booking.registrations.models import Registration
from booking.seminars.models import Seminar

from tests.factories import csrf_token, make_association, make_registration, make_seminar

SEMINAR = "/seminars/vereinsrecht"
REGISTER = SEMINAR + "/register"
GROUP = SEMINAR + "/group"


@pytest.fixture
def seminar(app):
    with app.app_context():
        make_seminar(slug="vereinsrecht", title="Vereinsrecht", capacity=5)
        db.session.commit()


def count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def registration_data(client, **overrides):
    data = {"csrf_token": csrf_token(client, SEMINAR), "first_name": "Leyla", "last_name": "Yılmaz",
            "email": "leyla@example.org", "phone": "", "association_id": "", "new_association": "Kulturverein",
            "preferred_language": "tr", "needs": "", "consent": "y"}
    return data | overrides


def field_error(page: str, field: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page, re.S)
    return match.group(1).strip() if match else None


def post_registration(client, **overrides):
    response = client.post(REGISTER, data=registration_data(client, **overrides))
    return response, response.get_data(as_text=True)


# --- ids and numbers --------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["²", "١", "٣", "𝟙", "99999999999", "2147483648", "-1", "0", "1e3"])
def test_an_association_id_that_is_no_plain_id_is_refused_beside_the_field(app, client, seminar, value):
    with app.app_context():
        make_association("Kulturverein")
        db.session.commit()
    response, page = post_registration(client, association_id=value, new_association="")
    assert response.status_code == 422
    assert field_error(page, "association_id") == "Please choose your association from the list."
    with app.app_context():
        assert count(Registration) == 0


@pytest.mark.parametrize("index", ["²", "١", "9" * 5000, "00", "-1"])
def test_odd_row_numbers_in_the_group_form_never_give_a_server_error(app, client, seminar, index):
    data = {"csrf_token": csrf_token(client, GROUP), "contact_first_name": "Aylin", "contact_last_name": "Kaya",
            "contact_email": "vorstand@verein.example", "new_association": "Kulturverein", "consent": "y",
            f"participants-{index}-first_name": "Deniz", f"participants-{index}-last_name": "Aksoy",
            f"participants-{index}-preferred_language": "tr"}
    response = client.post(GROUP, data=data)
    assert response.status_code in (302, 422), response.status_code


# --- NUL bytes and control characters ---------------------------------------------------------

@pytest.mark.parametrize("path", ["/seminars/a\x00b", "/seminars/vereinsrecht\x00", "/registrations/x\x00.y",
                                  "/registrations/\x00/cancel", "/associations/contact/\x1b/calendar.ics",
                                  "/seminars/%00", "/registrations/%00.%00"])
def test_control_characters_in_a_path_are_not_found(client, seminar, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["/?topic=a%00b", "/calendar.ics?topic=%00", "/?lang=%00", "/?x%00=1"])
def test_a_nul_byte_in_a_query_is_refused_with_a_friendly_page(client, seminar, query):
    response = client.get(query)
    assert response.status_code == 400
    assert "This request could not be handled" in response.get_data(as_text=True)


@pytest.mark.parametrize("raw", ["topic=\x80", "\xff=1", "month=\xc3\x28", "lang=de&x=\xe2\x82"])
def test_raw_bytes_that_are_no_utf8_in_a_query_are_read_as_a_browser_would(client, seminar, raw):
    # the WSGI server hands over the raw bytes as latin-1 characters
    response = client.get("/", environ_overrides={"QUERY_STRING": raw})
    assert response.status_code == 200
    assert "Vereinsrecht" in response.get_data(as_text=True)


def test_raw_utf8_in_a_query_is_understood(client, seminar):
    response = client.get("/", environ_overrides={"QUERY_STRING": "lang=en&topic=" + "ü".encode().decode("latin-1")})
    assert response.status_code == 200
    assert "There is no such topic" in response.get_data(as_text=True)


def test_control_characters_in_form_fields_are_removed_before_anything_is_stored(app, client, seminar):
    response, _ = post_registration(
        client, first_name="Ley\x00la", last_name="Yıl\u202emaz\x07", phone="069\x00 123",
        new_association="Kultur\x00verein\r\nOffenbach", needs="Kinder\x00betreuung\r\nfür 2\x1b[31m Kinder")
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        assert (registration.first_name, registration.last_name) == ("Leyla", "Yılmaz")
        assert registration.needs == "Kinderbetreuung\nfür 2[31m Kinder"
        assert registration.association.name == "Kulturverein Offenbach"


# --- text that grows when normalised ----------------------------------------------------------

def test_an_association_name_whose_key_would_outgrow_its_column_is_refused(app, client, seminar):
    response, page = post_registration(client, new_association="ß" * 150)  # the key is "ss" * 150
    assert response.status_code == 422
    assert field_error(page, "new_association") == "This name is too long for our list. Please shorten it."
    with app.app_context():
        assert count(Registration) == count(Association) == 0


def test_names_are_checked_after_normalising(app, client, seminar):
    # U+0958 (DEVANAGARI LETTER QA) becomes two code points in NFC: 60 of them make 120
    response, page = post_registration(client, first_name="\u0958" * 60)
    assert response.status_code == 422
    assert field_error(page, "first_name") == "Please use at most 100 characters."


# --- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("first, last", [
    ("Ayşe", "Yılmaz-Öztürk"), ("مريم", "الحداد"), ("Nguyễn Thị", "Minh Khai"), ("Seán", "O'Brien"),
    ("J. R. R.", "Tolkien"), ("अनुष्का", "शर्मा"), ("نرگس\u200cسادات", "محمدی"), ("Jean-Luc", "d’Arc"),
    ("Abd.", "St. John"), ("Ὀδυσσεύς", "Λαέρτιος"),
])
def test_names_of_every_script_are_accepted(app, client, seminar, first, last):
    response, page = post_registration(client, first_name=first, last_name=last)
    assert response.status_code == 302, page
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        assert (registration.first_name, registration.last_name) == (first, last)


@pytest.mark.parametrize("name, message", [
    ("Leyla\nhttps://evil.example", "Please use letters only"),
    ("Visit www.evil.example", "Please do not enter a web address here."),
    ("Leyla evil.example", "Please do not enter a web address here."),
    ("Leyla 123", "Please use letters only"),
    ("Leyla <b>", "Please use letters only"),
    ("---", "Please use letters only"),
])
def test_names_with_line_breaks_links_or_signs_are_refused(app, client, seminar, name, message):
    response, page = post_registration(client, first_name=name)
    assert response.status_code == 422
    assert field_error(page, "first_name").startswith(message)
    with app.app_context():
        assert count(Registration) == 0


def test_group_names_are_checked_like_single_ones(app, client, seminar):
    data = {"csrf_token": csrf_token(client, GROUP), "contact_first_name": "Aylin http://x.example",
            "contact_last_name": "Kaya", "contact_email": "vorstand@verein.example",
            "new_association": "Kulturverein", "consent": "y",
            "participants-0-first_name": "Deniz\r\nCall 0800", "participants-0-last_name": "Aksoy",
            "participants-0-preferred_language": "tr"}
    response = client.post(GROUP, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(page, "contact_first_name").startswith("Please use letters only")
    assert field_error(page, "participants-0-first_name").startswith("Please use letters only")
    with app.app_context():
        assert count(Registration) == count(AssociationContact) == 0


# --- email addresses --------------------------------------------------------------------------

@pytest.mark.parametrize("address", ["ßtraße@example.org", "müller@example.org", "用户@例子.广告"])
def test_addresses_we_cannot_deliver_to_are_refused_with_a_clear_message(app, client, seminar, address):
    response, page = post_registration(client, email=address)
    assert response.status_code == 422
    assert field_error(page, "email").startswith("We can only send email to addresses with Latin letters")
    with app.app_context():
        assert count(Registration) == 0


def test_a_domain_in_another_script_is_stored_in_its_ascii_form(app, client, seminar):
    response, _ = post_registration(client, email="Leyla@München.de")
    assert response.status_code == 302
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        assert registration.email == "Leyla@xn--mnchen-3ya.de"
        assert registration.email_key == "leyla@xn--mnchen-3ya.de"


def test_different_deliverable_addresses_never_share_a_key():
    # casefolding would make these one key each: ß -> ss, and straße.de is not strasse.de
    assert address_key("a@xn--strae-oqa.de") != address_key("a@strasse.de")
    assert address_key("a@straße.de") == address_key("a@xn--strae-oqa.de")
    assert address_key("Ss@Example.org") == address_key("ss@example.org")


def test_the_same_address_in_other_case_is_the_same_person(app, client, seminar):
    with app.app_context():
        make_registration(db.session.scalars(db.select(Seminar)).one(), email="leyla@example.org")
        db.session.commit()
    response, page = post_registration(client, email="LEYLA@EXAMPLE.ORG")
    assert response.status_code < 500
    with app.app_context():
        assert count(Registration) == 1


# --- "did you mean ...?" ----------------------------------------------------------------------

@pytest.mark.parametrize("typed, suggested", [
    ("leyla@gmial.com", "leyla@gmail.com"), ("leyla@gmail.con", "leyla@gmail.com"),
    ("leyla@hotmial.com", "leyla@hotmail.com"), ("leyla@wbe.de", "leyla@web.de"),
    ("leyla@gmx.dee", "leyla@gmx.de"), ("leyla@t-onlin.de", "leyla@t-online.de"),
])
def test_a_mistyped_domain_is_questioned_once_before_anything_is_stored(app, client, seminar, typed, suggested):
    response, page = post_registration(client, email=typed)
    assert response.status_code == 422
    assert field_error(page, "email") == (f"Did you mean {suggested}? Please correct the address, "
                                          "or send the form again if it is right.")
    with app.app_context():
        assert count(Registration) == 0 and count(OutboxMessage) == 0
    # sent again as it is (the page carries what was questioned), it is taken as typed
    checked = re.search(r'name="checked_addresses" type="hidden" value="([^"]*)"', page).group(1)
    assert checked == typed
    response, _ = post_registration(client, email=typed, checked_addresses=checked)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Registration.email)) == typed


@pytest.mark.parametrize("address", ["leyla@gmail.com", "leyla@web.de", "leyla@gmx.at", "leyla@mail.com",
                                     "leyla@uni-frankfurt.de", "leyla@yahoo.fr"])
def test_real_domains_are_not_questioned(app, client, seminar, address):
    response, _ = post_registration(client, email=address)
    assert response.status_code == 302


def test_the_group_form_questions_mistyped_addresses_of_the_contact_and_the_members(app, client, seminar):
    data = {"csrf_token": csrf_token(client, GROUP), "contact_first_name": "Aylin", "contact_last_name": "Kaya",
            "contact_email": "aylin@gmial.com", "new_association": "Kulturverein", "consent": "y",
            "participants-0-first_name": "Deniz", "participants-0-last_name": "Aksoy",
            "participants-0-email": "deniz@hotmial.com", "participants-0-preferred_language": "tr"}
    response = client.post(GROUP, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(page, "contact_email").startswith("Did you mean aylin@gmail.com?")
    assert field_error(page, "participants-0-email").startswith("Did you mean deniz@hotmail.com?")
    with app.app_context():
        assert count(Registration) == count(AssociationContact) == 0
    checked = re.search(r'name="checked_addresses" type="hidden" value="([^"]*)"', page).group(1)
    response = client.post(GROUP, data=data | {"checked_addresses": checked})
    assert response.status_code == 302


# --- months -----------------------------------------------------------------------------------

@pytest.mark.parametrize("month", ["0000-01", "0001-01", "9999-12", "١٢٣٤-٠١", "2026-13", "2026-00", "-2026-01"])
def test_a_month_outside_the_calendar_is_no_filter_and_no_error(client, seminar, month):
    response = client.get("/", query_string={"month": month})
    assert response.status_code == 200
    assert "This is not a month; seminars of all months are shown." in response.get_data(as_text=True)
    assert "Vereinsrecht" in response.get_data(as_text=True)


# --- size -------------------------------------------------------------------------------------

def group_rows(n):
    data = {"contact_first_name": "Aylin", "contact_last_name": "Kaya", "contact_email": "vorstand@verein.example",
            "new_association": "Kulturverein", "consent": "y"}
    for i in range(n):
        data |= {f"participants-{i}-first_name": "Deniz", f"participants-{i}-last_name": f"Aksoy",
                 f"participants-{i}-preferred_language": "tr"}
    return data


def test_a_group_with_more_rows_than_allowed_is_refused_without_building_them(app, client, seminar):
    maximum = app.config["BOOKING_GROUP_MAX"]
    data = group_rows(maximum + 5) | {"csrf_token": csrf_token(client, GROUP)}
    response = client.post(GROUP, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"At most {maximum} people can be registered at once." in page
    # the page shows the allowed rows only, not what was sent
    assert len(re.findall(r'<fieldset class="person"', page)) == maximum
    with app.app_context():
        assert count(Registration) == 0


def test_a_post_with_thousands_of_rows_is_refused_before_it_is_parsed(app, client, seminar):
    data = group_rows(3000) | {"csrf_token": csrf_token(client, GROUP)}
    response = client.post(GROUP, data=data)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Registration) == 0


def test_a_request_body_beyond_the_limit_is_refused_with_a_friendly_page(app, client, seminar):
    response = client.post(REGISTER, data=registration_data(client, needs="x" * 400_000))
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Registration) == 0


def test_the_largest_real_group_form_fits_the_limits(app, client):
    """BOOKING_GROUP_MAX people with the longest name in every field, in 4-byte characters."""
    with app.app_context():
        make_seminar(slug="vereinsrecht", capacity=50)
        db.session.commit()
    maximum = app.config["BOOKING_GROUP_MAX"]
    data = {"csrf_token": csrf_token(client, GROUP), "contact_first_name": "𐐷" * 100,
            "contact_last_name": "𐐷" * 100, "contact_email": "vorstand@verein.example",
            "contact_phone": "+49 " + "1" * 30, "association_id": "", "new_association": "𐐷" * 100,
            "consent": "y", "submit": "1", "checked_addresses": ""}
    for i in range(maximum):
        data |= {f"participants-{i}-first_name": "𐐷" * 100, f"participants-{i}-last_name": "𐐷" * 100,
                 f"participants-{i}-email": f"member{i}@verein.example", f"participants-{i}-preferred_language": "tr"}
    response = client.post(GROUP, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        assert count(Registration) == maximum
