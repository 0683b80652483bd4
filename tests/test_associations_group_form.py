"""The group form on the web: rows added and removed without JavaScript, and every kind of bad input."""
import re

import pytest

from booking.associations.models import Association, AssociationContact
from booking.extensions import db
from booking.registrations.models import Registration, RegistrationStatus
from booking.seminars.models import Seminar, SeminarStatus

from tests.factories import csrf_token, make_association, make_registration, make_seminar

URL = "/seminars/vereinsrecht/group"


@pytest.fixture
def verein_id(app):
    """A seminar with 4 places and at most 2 per association; one place is taken by someone else."""
    with app.app_context():
        seminar = make_seminar(capacity=4, max_per_association=2, slug="vereinsrecht", title="Vereinsrecht")
        verein = make_association("Kulturverein")
        make_registration(seminar, email="taken@example.net")
        db.session.commit()
        return verein.id


def form_data(client, verein_id, people, **overrides):
    data = {"csrf_token": csrf_token(client, URL), "contact_first_name": "Aylin", "contact_last_name": "Kaya",
            "contact_email": "vorstand@verein.example", "contact_phone": "", "association_id": str(verein_id),
            "new_association": "", "consent": "y", "submit": "Register these people"}
    for i, (first, last, email) in enumerate(people):
        data |= {f"participants-{i}-first_name": first, f"participants-{i}-last_name": last,
                 f"participants-{i}-email": email, f"participants-{i}-preferred_language": "tr"}
    return data | overrides


def stored(app):
    with app.app_context():
        return (db.session.scalar(db.select(db.func.count(Registration.id))),
                db.session.scalar(db.select(db.func.count(AssociationContact.id))))


def row_error(page, index, field):
    match = re.search(rf'<p class="field-error" id="participants-{index}-{field}-error">(.*?)</p>', page, re.S)
    return match.group(1).strip() if match else None


def person_rows(page):
    return len(re.findall(r'<fieldset class="person"', page))


def test_seminar_page_links_to_the_group_form(client, verein_id):
    page = client.get("/seminars/vereinsrecht").get_data(as_text=True)
    assert f'href="{URL}"' in page and "Register members of our association" in page
    form = client.get(URL).get_data(as_text=True)
    assert person_rows(form) == 1
    assert 'name="add_row"' in form


def test_group_registration_shows_each_person_with_place_or_waiting_list_and_reason(app, client, verein_id):
    data = form_data(client, verein_id, [("Ali", "Demir", ""), ("Berna", "Şahin", "berna@example.net"),
                                         ("Cem", "Öztürk", "")])
    response = client.post(URL, data=data)

    assert response.status_code == 302
    assert response.headers["Location"] == "/associations/registered"
    page = client.get("/associations/registered").get_data(as_text=True)
    rows = re.findall(r'<tr class="status-(\w+)">\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>', page, re.S)
    assert [(status, name) for status, name, _ in rows] == [
        ("confirmed", "Ali Demir"), ("confirmed", "Berna Şahin"), ("waitlisted", "Cem Öztürk")]
    assert "waiting list, number 1" in rows[2][2]
    assert "maximum number of places this seminar gives to one association" in rows[2][2]
    assert "vorstand@verein.example" in page
    # the contact's link goes out by email only
    assert "/associations/contact/" not in page
    with app.app_context():
        cem = db.session.scalar(db.select(Registration).where(Registration.first_name == "Cem"))
        assert cem.status == RegistrationStatus.WAITLISTED and cem.email is None
        assert cem.registered_by.full_name == "Aylin Kaya"


def test_a_group_is_registered_without_a_savepoint_per_person(app, client, verein_id):
    from tests.test_performance_page_cache import counted_statements

    data = form_data(client, verein_id, [("Ali", "Demir", "ali@example.net"), ("Berna", "Şahin", "berna@example.net"),
                                         ("Cem", "Kaya", "cem@example.net")])
    with counted_statements(app) as statements:
        assert client.post(URL, data=data).status_code == 302
    # (a new contact is created in a savepoint of its own, before the seminar's lock: two browsers
    # typing the same contact at once end up with one)
    first_registration = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO registrations"))
    assert not [s for s in statements[first_registration:] if "SAVEPOINT" in s]
    assert sum(s.startswith("INSERT INTO registrations") for s in statements) == 3
    assert statements[-1].startswith("UPDATE data_version"), "nothing is read again after the decision"
    assert stored(app) == (1 + 3, 1)
    page = client.get("/associations/registered").get_data(as_text=True)
    assert len(re.findall(r'<tr class="status-(confirmed|waitlisted)">', page)) == 3


def test_result_page_is_only_for_the_browser_that_registered(client, app, verein_id):
    assert app.test_client().get("/associations/registered").status_code == 404


def test_add_another_person_keeps_what_was_typed_and_stores_nothing(app, client, verein_id):
    data = form_data(client, verein_id, [("Ali", "Demir", "ali@example.net")], add_row="Add another person")
    del data["submit"]
    response = client.post(URL, data=data)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert person_rows(page) == 2
    assert 'value="Ali"' in page and 'value="ali@example.net"' in page and 'value="Aylin"' in page
    assert 'id="participants-1-first_name"' in page
    assert "Please check your entries" not in page
    assert stored(app) == (1, 0)


def test_remove_a_person(client, verein_id):
    data = form_data(client, verein_id, [("Ali", "Demir", ""), ("Berna", "Şahin", ""), ("Cem", "Öztürk", "")],
                     remove_row="1")
    del data["submit"]
    page = client.post(URL, data=data).get_data(as_text=True)

    assert person_rows(page) == 2
    assert 'value="Ali"' in page and 'value="Cem"' in page and 'value="Berna"' not in page


def test_add_beyond_the_maximum_is_refused_with_a_message(app, client, verein_id):
    app.config["BOOKING_GROUP_MAX"] = 2
    data = form_data(client, verein_id, [("Ali", "Demir", ""), ("Berna", "Şahin", "")], add_row="1")
    del data["submit"]
    response = client.post(URL, data=data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "At most 2 people can be registered at once" in page
    assert person_rows(page) == 2


def test_more_rows_than_the_maximum_is_refused_and_nothing_stored(app, client, verein_id):
    people = [(f"P{i}", "Demir", "") for i in range(11)]
    response = client.post(URL, data=form_data(client, verein_id, people))

    assert response.status_code == 422
    assert "At most 10 people can be registered at once" in response.get_data(as_text=True)
    assert stored(app) == (1, 0)


def test_tampered_row_indices_count_as_rows(app, client, verein_id):
    data = form_data(client, verein_id, [("Ali", "Demir", "")])
    for index in range(5, 500, 40):  # 13 more rows with odd indices
        data |= {f"participants-{index}-first_name": "X", f"participants-{index}-last_name": "Y"}
    response = client.post(URL, data=data)

    assert response.status_code == 422
    assert "At most 10 people" in response.get_data(as_text=True)
    assert stored(app) == (1, 0)


def test_empty_group_is_refused(app, client, verein_id):
    response = client.post(URL, data=form_data(client, verein_id, [("", "", ""), ("", "", "")]))

    assert response.status_code == 422
    assert "Please enter at least one person." in response.get_data(as_text=True)
    assert stored(app) == (1, 0)


def test_bad_rows_get_messages_beside_them_and_everything_typed_is_kept(app, client, verein_id):
    data = form_data(client, verein_id, [("Ali", "", "ali@example.net"), ("", "", ""), ("Cem", "Öztürk", "kein-at")],
                     contact_email="", association_id="", new_association="")
    del data["consent"]
    response = client.post(URL, data=data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert row_error(page, 0, "last_name") == "Please enter the last name."
    assert row_error(page, 1, "first_name") is None  # an empty row is ignored
    assert "valid email address" in row_error(page, 2, "email")
    assert 'id="contact_email-error"' in page and 'id="association_id-error"' in page
    assert 'id="consent-error"' in page
    assert 'value="ali@example.net"' in page and 'value="kein-at"' in page and 'value="Öztürk"' in page
    assert 'href="#person-1"' in page and 'href="#person-3"' in page
    assert stored(app) == (1, 0)


def test_an_address_twice_in_the_list_is_shown_beside_the_row_and_nothing_is_stored(app, client, verein_id):
    # (it says nothing about anyone's registration; an address registered already is answered
    # neutrally instead: tests/test_associations_group_enumeration.py)
    people = [("Ali", "Demir", "same@example.net"), ("Berna", "Şahin", "SAME@example.net")]
    response = client.post(URL, data=form_data(client, verein_id, people, association_id="",
                                               new_association="Ganz neuer Verein"))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "appears twice" in row_error(page, 1, "email")
    assert 'value="Ganz neuer Verein"' in page
    assert stored(app) == (1, 0)
    with app.app_context():
        assert db.session.scalar(db.select(Association).where(Association.name == "Ganz neuer Verein")) is None


def test_expired_csrf_token_keeps_the_form(app, client, verein_id):
    data = form_data(client, verein_id, [("Ali", "Demir", "")], csrf_token="stale")
    response = client.post(URL, data=data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "this form has expired" in page and 'value="Ali"' in page
    assert stored(app) == (1, 0)


def test_closed_seminar_refuses_the_group(app, client, verein_id):
    data = form_data(client, verein_id, [("Ali", "Demir", "")])
    with app.app_context():
        db.session.scalar(db.select(Seminar)).status = SeminarStatus.CANCELLED
        db.session.commit()
    assert client.post(URL, data=data).status_code in (404, 409)
    assert stored(app) == (1, 0)
