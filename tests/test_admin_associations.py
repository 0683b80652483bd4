"""Associations in the workspace: names typed by the public wait for review, the office accepts,
renames or merges them, and the directory shows each association with its people and seminars."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale

from booking.associations import services as associations
from booking.associations.models import Association, AssociationContact, AssociationStatus
from booking.associations.services import ContactDetails
from booking.audit import AuditEntry
from booking.extensions import db
from booking.registrations.models import Registration, RegistrationStatus
from booking.seminars.models import Seminar

from tests.factories import csrf_token, make_applicant, make_association, make_registration, make_seminar, now
from tests.test_admin_access import log_in, staff  # noqa: F401  (the fixture)


def seeded(app, build):
    with app.app_context():
        result = build()
        db.session.commit()
        return result


def field_error(page: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1).strip()) if match else None


def flashes(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)]


def rows(app, model, *order):
    with app.app_context():
        return list(db.session.scalars(db.select(model).order_by(*(order or (model.id,)))))


def register_publicly(client, slug, **overrides):
    data = {"csrf_token": csrf_token(client, f"/seminars/{slug}"), "first_name": "Leyla", "last_name": "Yılmaz",
            "email": "leyla@example.net", "preferred_language": "de", "association_id": "", "new_association": "",
            "consent": "y"} | overrides
    return client.post(f"/seminars/{slug}/register", data=data)


def post_admin(client, path, page, **data):
    return client.post(path, data=data | {"csrf_token": csrf_token(client, page)})


@pytest.fixture
def slug(app):
    return seeded(app, lambda: make_seminar(slug="vereinsrecht", capacity=10).slug)


# --- the public forms offer accepted associations only --------------------------------------------

def test_a_typed_name_waits_for_review_and_is_never_offered_publicly(app, client, slug):
    seeded(app, lambda: make_association("Türkischer Elternverein"))

    assert register_publicly(client, slug, new_association="Frauenverein Lotus").status_code == 302
    assert register_publicly(client, slug, new_association="  frauenverein   LOTUS ",
                             email="other@example.net").status_code == 302

    typed = [a for a in rows(app, Association) if a.name == "Frauenverein Lotus"]
    assert len(typed) == 1 and typed[0].status == AssociationStatus.PENDING  # the same name found it again
    assert {r.association_id for r in rows(app, Registration)} == {typed[0].id}
    for page in (client.get(f"/seminars/{slug}"), client.get(f"/seminars/{slug}/group")):
        text = page.get_data(as_text=True)
        assert "Türkischer Elternverein" in text  # in the select and the datalist
        assert "Lotus" not in text


def test_a_pending_association_cannot_be_chosen_by_its_id(app, client, slug):
    pending_id = seeded(app, lambda: associations.find_or_create_association("Testverein XYZ").id)

    response = register_publicly(client, slug, association_id=str(pending_id))

    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "association_id") == "Please choose your association from the list."
    assert rows(app, Registration) == []


def test_a_contact_whose_association_waits_gets_its_name_typed_in_for_them(app, client, slug):
    def build():
        registered = associations.register_group(
            make_seminar(slug="kasse"), ContactDetails("Aylin", "Kaya", "vorstand@lotus.example"),
            [make_applicant()], associations.find_or_create_association("Frauenverein Lotus"))
        return associations.contact_token(registered[0].registered_by)
    token = seeded(app, build)

    page = client.get(f"/associations/contact/{token}/seminars/{slug}/group").get_data(as_text=True)

    assert re.search(r'<input[^>]*id="new_association"[^>]*value="Frauenverein Lotus"', page)


def test_existing_and_demo_associations_are_in_the_public_list(app):
    from tests.test_cli_demo import seed

    assert seed(app).exit_code == 0
    demo = rows(app, Association)
    assert len(demo) == 10 and all(a.status == AssociationStatus.ACCEPTED for a in demo)


def test_three_hundred_associations_stay_usable_on_a_phone(app, client, slug):
    """No select of 300 options: one text field whose datalist suggests the accepted names, and a
    typed name (any case, any spaces) is matched against them."""
    def build():
        made = [make_association(f"Kulturverein Nummer {n:03d} e.V.") for n in range(300)]
        associations.find_or_create_association("Noch nicht geprüft")  # pending: never suggested
        return made[123].id
    chosen_id = seeded(app, build)

    page = client.get(f"/seminars/{slug}").get_data(as_text=True)

    assert '<select id="association_id"' not in page
    field = re.search(r'<input[^>]*id="new_association"[^>]*>', page).group(0)
    assert 'list="association-names"' in field
    assert '<label for="new_association">Name of your association</label>' in page
    datalist = re.search(r'<datalist id="association-names">(.*?)</datalist>', page, re.S).group(1)
    assert datalist.count("<option") == 300 and "Noch nicht" not in datalist
    assert len(page) < 80_000  # a phone downloads one option per name, nothing more

    response = register_publicly(client, slug, new_association="  kulturverein nummer 123   E.V.")

    assert response.status_code == 302
    assert rows(app, Registration)[0].association_id == chosen_id
    assert len(rows(app, Association)) == 301  # nothing new


def test_with_three_hundred_an_empty_association_is_asked_for_by_name(app, client, slug):
    seeded(app, lambda: [make_association(f"Verein {n:03d}") for n in range(300)])

    response = register_publicly(client, slug)

    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "association_id") == "Please type the name of your association."


# --- the directory ------------------------------------------------------------------------------

@pytest.fixture
def directory(app, staff):  # noqa: F811
    """An accepted association with a contact, members in a held and an upcoming seminar; a pending one."""
    def build():
        kept = make_association("Deutsch-Türkischer Kulturverein", district="Nordend")
        past = make_seminar(title="Kassenführung", slug="kasse", capacity=5)
        upcoming = make_seminar(title="Öffentlichkeitsarbeit", slug="oeffentlichkeit", capacity=1)
        associations.register_group(past, ContactDetails("Aylin", "Kaya", "vorstand@dtk.example"),
                                    [make_applicant(first_name="Gül"), make_applicant(first_name="Ali")], kept)
        make_registration(upcoming, kept, email="first@example.net")
        make_registration(upcoming, kept, email="waits@example.net")  # waiting list: not counted
        held = now() - timedelta(days=30)
        for i, session in enumerate(sorted(past.sessions, key=lambda s: s.starts_at)):
            session.starts_at = held + timedelta(days=7 * i)
            session.ends_at = session.starts_at + timedelta(hours=2)
        pending = associations.find_or_create_association("Kulturverin Deutsch Türkisch")
        make_registration(upcoming, pending, email="typo@example.net")
        db.session.flush()
        last_held = max(s.starts_at for s in past.sessions)
        return {"kept": kept.id, "pending": pending.id, "last_held": last_held}
    return seeded(app, build)


def test_the_directory_shows_people_seminars_and_last_participation_pending_first(app, client, staff, directory):  # noqa: F811
    log_in(client, staff["coordinator"])

    page = client.get("/admin/associations").get_data(as_text=True)

    assert 'href="/admin/associations"' in page  # the workspace links to it
    assert "1 name waits for review." in page
    assert page.index("Kulturverin Deutsch Türkisch") < page.index("Deutsch-Türkischer Kulturverein")
    kept_row = re.search(rf'<tr id="association-{directory["kept"]}">(.*?)</tr>', page, re.S).group(1)
    assert "Aylin Kaya" in kept_row and "vorstand@dtk.example" in kept_row and "Nordend" in kept_row
    assert "Kassenführung: 2 (completed)" in kept_row
    assert "Öffentlichkeitsarbeit: 1" in kept_row
    with app.app_context(), force_locale("en"):
        expected = app.jinja_env.filters["date_long"](directory["last_held"])
    assert expected in kept_row
    pending_row = re.search(rf'<tr id="association-{directory["pending"]}">(.*?)</tr>', page, re.S).group(1)
    assert "Waiting for review" in pending_row


@pytest.mark.parametrize("method, path", [
    ("GET", "/admin/associations"), ("GET", "/admin/associations/{kept}"),
    ("POST", "/admin/associations/{pending}/accept"), ("POST", "/admin/associations/{kept}/rename"),
    ("POST", "/admin/associations/{pending}/merge"),
])
def test_a_trainer_may_neither_see_nor_change_associations(app, client, staff, directory, method, path):  # noqa: F811
    log_in(client, staff["trainer"])
    assert 'href="/admin/associations"' not in client.get("/admin/").get_data(as_text=True)
    data = {"csrf_token": csrf_token(client, "/admin/"), "name": "X", "into": str(directory["kept"]), "confirm": "y"}

    response = client.open(path.format(**directory), method=method, data=data if method == "POST" else None)

    assert response.status_code == 403
    assert [(a.name, a.status) for a in rows(app, Association)] == [
        ("Deutsch-Türkischer Kulturverein", AssociationStatus.ACCEPTED),
        ("Kulturverin Deutsch Türkisch", AssociationStatus.PENDING)]


def test_unknown_or_malformed_association_ids_are_not_found(client, staff, directory):  # noqa: F811
    log_in(client, staff["coordinator"])
    for value in ("999999", "abc", "99999999999999999999", "-1"):
        assert client.get(f"/admin/associations/{value}").status_code == 404


# --- accept, rename, merge ------------------------------------------------------------------------

def test_accepting_a_name_puts_it_in_the_public_list_once(app, client, staff, directory):  # noqa: F811
    log_in(client, staff["coordinator"])
    page = f"/admin/associations/{directory['pending']}"
    assert "This name waits for review" in client.get(page).get_data(as_text=True)

    first = post_admin(client, f"{page}/accept", page)
    second = post_admin(client, f"{page}/accept", "/admin/associations")  # a second click

    assert first.status_code == second.status_code == 302
    assert "was in the public list already" in " ".join(flashes(client.get("/admin/associations").get_data(as_text=True)))
    assert rows(app, Association)[1].status == AssociationStatus.ACCEPTED
    entries = [e for e in rows(app, AuditEntry) if e.action == "association.accepted"]
    assert len(entries) == 1 and entries[0].detail["association_id"] == directory["pending"]
    assert "Kulturverin Deutsch Türkisch" in client.get("/seminars/oeffentlichkeit").get_data(as_text=True)


def test_renaming_corrects_the_name_and_district(app, client, staff, directory):  # noqa: F811
    log_in(client, staff["coordinator"])
    page = f"/admin/associations/{directory['pending']}"

    response = post_admin(client, f"{page}/rename", page, name="  Frauenverein   Lotus ", district="Bieber")

    assert response.status_code == 302
    renamed = rows(app, Association)[1]
    assert (renamed.name, renamed.name_key, renamed.district) == ("Frauenverein Lotus", "frauenverein lotus", "Bieber")
    shown = client.get(page).get_data(as_text=True)
    assert "renamed from “Kulturverin Deutsch Türkisch” to “Frauenverein Lotus”" in shown


@pytest.mark.parametrize("name, message", [
    ("deutsch-türkischer   KULTURVEREIN", "“Deutsch-Türkischer Kulturverein” is in the directory already. "
                                          "To make them one association, merge this one into it."),
    ("", "Please enter the name."),
    ("x" * 201, "Please use at most 200 characters."),
    ("https://spam.example", None),
])
def test_a_rename_that_cannot_be_stored_is_refused_beside_the_field(app, client, staff, directory, name, message):  # noqa: F811
    log_in(client, staff["coordinator"])
    page = f"/admin/associations/{directory['pending']}"

    response = post_admin(client, f"{page}/rename", page, name=name)

    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), "name")
    assert error.startswith(message) if message else error
    assert rows(app, Association)[1].name == "Kulturverin Deutsch Türkisch"


def test_merging_moves_registrations_and_contacts_records_it_and_removes_the_row(app, client, staff, directory):  # noqa: F811
    def contact_for_pending():
        pending = db.session.get(Association, directory["pending"])
        associations.register_group(db.session.scalar(db.select(Seminar).where(Seminar.slug == "oeffentlichkeit")),
                                    ContactDetails("Deniz", "Acar", "deniz@dtk.example"),
                                    [make_applicant(first_name="Can")], pending)
    seeded(app, contact_for_pending)
    log_in(client, staff["coordinator"])
    page = f"/admin/associations/{directory['pending']}"

    response = post_admin(client, f"{page}/merge", page, into=str(directory["kept"]), confirm="y")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/associations/{directory['kept']}"
    assert [a.id for a in rows(app, Association)] == [directory["kept"]]
    assert {r.association_id for r in rows(app, Registration)} == {directory["kept"]}
    assert {c.association_id for c in rows(app, AssociationContact)} == {directory["kept"]}
    entry = [e for e in rows(app, AuditEntry) if e.action == "association.merged"][0]
    assert entry.detail == {"association_id": directory["kept"], "name": "Deutsch-Türkischer Kulturverein",
                            "merged_id": directory["pending"], "merged_name": "Kulturverin Deutsch Türkisch",
                            "registrations": 2, "contacts": 1}
    assert entry.actor_label == "Koordination"
    kept_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "“Kulturverin Deutsch Türkisch” has been merged into “Deutsch-Türkischer Kulturverein”. " \
           "2 registrations moved, 1 contact person moved." in flashes(kept_page)
    assert "“Kulturverin Deutsch Türkisch” merged into this association (2 registrations moved)" in kept_page
    assert "Deniz Acar" in kept_page
    # the same form sent again: the merged association is gone, nothing else changes
    assert post_admin(client, f"{page}/merge", "/admin/associations",
                      into=str(directory["kept"]), confirm="y").status_code == 404
    assert len([e for e in rows(app, AuditEntry) if e.action == "association.merged"]) == 1


@pytest.mark.parametrize("data, field, message", [
    ({"into": "KEPT"}, "confirm", "Please confirm the merge."),
    ({"into": "", "confirm": "y"}, "into", "Please choose the association to keep."),
    ({"into": "SELF", "confirm": "y"}, "into", "Please choose the association to keep."),
    ({"into": "999999", "confirm": "y"}, "into", "Please choose the association to keep."),
    ({"into": "1 OR 1=1", "confirm": "y"}, "into", "Please choose the association to keep."),
])
def test_a_merge_without_a_target_or_confirmation_changes_nothing(app, client, staff, directory, data, field, message):  # noqa: F811
    log_in(client, staff["coordinator"])
    page = f"/admin/associations/{directory['pending']}"
    data = {key: value.replace("KEPT", str(directory["kept"])).replace("SELF", str(directory["pending"]))
            for key, value in data.items()}

    response = post_admin(client, f"{page}/merge", page, **data)

    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == message
    assert len(rows(app, Association)) == 2
    assert not [e for e in rows(app, AuditEntry) if e.action == "association.merged"]


def test_the_merge_service_refuses_to_merge_an_association_into_itself(app_ctx):
    association = make_association("Verein")
    with pytest.raises(associations.AssociationChangeRefused):
        associations.merge_associations(association, association)


def test_a_registration_status_stays_as_it_was_after_a_merge(app, client, staff, directory):  # noqa: F811
    before = {r.id: r.status for r in rows(app, Registration)}
    log_in(client, staff["coordinator"])
    page = f"/admin/associations/{directory['pending']}"
    post_admin(client, f"{page}/merge", page, into=str(directory["kept"]), confirm="y")
    assert {r.id: r.status for r in rows(app, Registration)} == before
    assert RegistrationStatus.WAITLISTED in before.values()
