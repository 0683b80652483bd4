"""The participant flow in a real browser: find a seminar, register, wait, cancel, on desktop and phone.

Chromium (Debian's, driven by Playwright) talks to the real app over HTTP, with CSRF on and a
strict Content-Security-Policy; the tests check what the person sees and what the database holds.
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from booking.associations.models import Association, AssociationContact
from booking.associations.services import contact_token
from booking.extensions import db
from booking.registrations import services
from booking.registrations.models import Registration, RegistrationStatus

from tests.browser import (  # noqa: F401  (fixtures are used by name)
    CONTENT_SECURITY_POLICY,
    PHONE,
    browser,
    horizontal_overflow,
    live_server,
    open_page,
    page,
    phone_page,
)
from tests.factories import make_association, make_registration, make_seminar

SCREENSHOT = "/tmp/booking-seminar.png"


def seeded(app, build):
    with app.app_context():
        result = build()
        db.session.commit()
        return result


def registrations_of(app) -> list[Registration]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(Registration).order_by(Registration.id)))
        for row in rows:
            _ = row.association  # loaded while the session is open
        return rows


def by_email(app, email: str) -> Registration:
    [registration] = [r for r in registrations_of(app) if r.email == email]
    return registration


def association_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(Association.name).order_by(Association.id)))


def fill_registration(page, *, first_name="Leyla", last_name="Yılmaz", email="leyla@example.net",
                      phone="+49 69 123456", language="Türkçe", association=None, new_association=None,
                      needs="Kinderbetreuung für zwei Kinder", consent=True):
    page.get_by_label("First name").fill(first_name)
    page.get_by_label("Last name").fill(last_name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Phone (optional)").fill(phone)
    page.get_by_label("Preferred language for messages").select_option(label=language)
    if association:
        page.get_by_label("Choose from the list").select_option(label=association)
    if new_association:
        page.get_by_label("Or type its name, if it is not in the list").fill(new_association)
    page.get_by_label("Anything we should arrange for you?").fill(needs)
    if consent:
        page.get_by_label("I agree that my details are stored").check()


def submit_registration(page, *, tap=False, button="Register"):
    """Press "Register" (for a full seminar "Join the waiting list"), wait for the page that follows,
    and return the response to the form's POST."""
    button = page.get_by_role("button", name=button, exact=True)
    with page.expect_event("load"), page.expect_response(
            lambda r: r.request.method == "POST" and r.url.endswith("/register")) as posted:
        button.tap() if tap else button.click()
    return posted.value


# --- 1. register from the catalogue, then cancel through the personal link --------------------

def test_register_from_the_catalogue_and_cancel_through_the_personal_link(app, live_server, page, browser):
    def build():
        make_association("Deutsch-Türkischer Kulturverein")
        seminar = make_seminar(title="Vereinsrecht für Vorstände", slug="vereinsrecht", capacity=2)
        make_registration(seminar, first_name="Ahmet", email="ahmet@example.net")

    seeded(app, build)

    page.goto(live_server("/"))
    card = page.locator(".card", has_text="Vereinsrecht für Vorstände")
    expect(card).to_contain_text("1 place left")
    card.get_by_role("link", name="Vereinsrecht für Vorstände").click()
    expect(page).to_have_url(live_server("/seminars/vereinsrecht"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vereinsrecht für Vorstände")
    assert page.locator("input[name=csrf_token]").get_attribute("value"), "the form carries no CSRF token"

    fill_registration(page, association="Deutsch-Türkischer Kulturverein")
    response = submit_registration(page)

    assert response.status == 302  # Post/Redirect/Get
    expect(page).to_have_url(re.compile(re.escape(live_server("/registrations/")) + r"[^/]+$"))
    expect(page.locator(".flash-success")).to_contain_text("Thank you! Your registration for “Vereinsrecht für Vorstände” is saved.")
    expect(page.locator(".status-line")).to_have_text("You have a place.")
    personal_link = page.locator(".personal-link a")
    expect(personal_link).to_have_text(page.url)
    assert personal_link.get_attribute("href") == page.url

    leyla = by_email(app, "leyla@example.net")
    assert leyla.status == RegistrationStatus.CONFIRMED
    assert (leyla.first_name, leyla.last_name, leyla.phone) == ("Leyla", "Yılmaz", "+49 69 123456")
    assert (leyla.preferred_language, leyla.needs) == ("tr", "Kinderbetreuung für zwei Kinder")
    assert leyla.association.name == "Deutsch-Türkischer Kulturverein"
    assert leyla.consent_at is not None
    assert [r.status for r in registrations_of(app)] == [RegistrationStatus.CONFIRMED] * 2

    # meanwhile Sara registers for the now full seminar and waits
    def sara_registers():
        from booking.seminars.models import Seminar

        seminar = db.session.scalar(db.select(Seminar).where(Seminar.slug == "vereinsrecht"))
        sara = make_registration(seminar, first_name="Sara", email="sara@example.net")
        return sara.status, services.manage_token(sara)

    sara_status, sara_token = seeded(app, sara_registers)
    assert sara_status == RegistrationStatus.WAITLISTED

    # days later, Leyla opens her personal link from another browser (no cookies, only the link)
    later_context, later = open_page(browser)
    try:
        later.goto(personal_link.get_attribute("href"))
        # without a language of this visit, the page speaks the one she chose for her messages
        expect(later.locator("html")).to_have_attribute("lang", "tr")
        expect(later.locator(".status-line")).to_have_text("Yeriniz var.")
        later.get_by_role("link", name="English").click()
        expect(later.locator(".status-line")).to_have_text("You have a place.")
        later.get_by_role("link", name="Cancel my registration").click()
        expect(later.get_by_role("heading", level=1)).to_have_text("Cancel your registration?")
        expect(later.get_by_text("Your place will go to the next person on the waiting list.")).to_be_visible()
        with later.expect_event("load"), later.expect_response(lambda r: r.request.method == "POST") as posted:
            later.get_by_role("button", name="Yes, cancel my registration").click()
        assert posted.value.status == 302
        expect(later.locator(".flash-success")).to_have_text("Your registration has been cancelled.")
        expect(later.locator(".status-line")).to_have_text("This registration is cancelled.")
        expect(later.get_by_role("link", name="Cancel my registration")).to_have_count(0)

        # Sara's own link now says she has the place
        later.goto(live_server(f"/registrations/{sara_token}"))
        expect(later.locator(".status-line")).to_have_text("You have a place.")
    finally:
        later_context.close()

    assert by_email(app, "leyla@example.net").status == RegistrationStatus.CANCELLED
    assert by_email(app, "leyla@example.net").cancelled_at is not None
    assert by_email(app, "sara@example.net").status == RegistrationStatus.CONFIRMED
    assert by_email(app, "ahmet@example.net").status == RegistrationStatus.CONFIRMED


# --- 2. a full seminar: the waiting list ------------------------------------------------------

def test_registering_for_a_full_seminar_puts_the_person_on_the_waiting_list(app, live_server, page):
    def build():
        association = make_association("Deutsch-Türkischer Kulturverein")
        seminar = make_seminar(title="Öffentlichkeitsarbeit", slug="presse", capacity=1)
        make_registration(seminar, first_name="Ahmet", email="ahmet@example.net")
        return association.id

    association_id = seeded(app, build)

    page.goto(live_server("/"))
    expect(page.locator(".card", has_text="Öffentlichkeitsarbeit")).to_contain_text("Fully booked – waiting list")
    page.get_by_role("link", name="Öffentlichkeitsarbeit").click()
    expect(page.locator(".register .notice")).to_contain_text("All places are taken.")

    # the association typed with other case and spaces is the one already known
    fill_registration(page, email="leyla@example.net", new_association="  deutsch-TÜRKISCHER   kulturverein ")
    expect(page.get_by_role("button", name="Register", exact=True)).to_have_count(0)
    response = submit_registration(page, button="Join the waiting list")

    assert response.status == 302
    expect(page.locator(".flash-success")).to_contain_text("Your registration for “Öffentlichkeitsarbeit” is saved.")
    expect(page.locator(".status-line")).to_have_text("You are number 1 on the waiting list.")
    expect(page.locator(".personal-link a")).to_have_text(page.url)

    leyla = by_email(app, "leyla@example.net")
    assert leyla.status == RegistrationStatus.WAITLISTED
    assert leyla.association_id == association_id
    assert association_names(app) == ["Deutsch-Türkischer Kulturverein"]
    assert by_email(app, "ahmet@example.net").status == RegistrationStatus.CONFIRMED


# --- 3. bad input ------------------------------------------------------------------------------

def test_bad_input_shows_messages_beside_the_fields_keeps_what_was_typed_and_stores_nothing(
        app, live_server, page):
    seeded(app, lambda: make_seminar(title="Kassenführung", slug="kasse", capacity=5))

    page.goto(live_server("/seminars/kasse"))
    fill_registration(page, email="leyla.example.net", new_association="Frauenverein Lotus", consent=False)
    response = submit_registration(page)

    assert response.status == 422
    expect(page.get_by_role("alert")).to_contain_text("Please check your entries")
    email_field = page.locator(".field", has=page.locator("#email"))
    expect(email_field).to_have_class(re.compile(r"\bfield-invalid\b"))
    expect(email_field.locator(".field-error")).to_have_text(
        "Please enter a valid email address, for example name@example.org.")
    expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Email address")).to_have_attribute("aria-describedby", re.compile(r"\bemail-error\b"))
    consent_field = page.locator(".field", has=page.locator("#consent"))
    expect(consent_field.locator(".field-error")).to_have_text(
        "Please agree to the privacy notice, otherwise we cannot register you.")
    expect(page.locator(".field-error")).to_have_count(2)

    expect(page.get_by_label("First name")).to_have_value("Leyla")
    expect(page.get_by_label("Last name")).to_have_value("Yılmaz")
    expect(page.get_by_label("Email address")).to_have_value("leyla.example.net")
    expect(page.get_by_label("Phone (optional)")).to_have_value("+49 69 123456")
    expect(page.get_by_label("Preferred language for messages")).to_have_value("tr")
    expect(page.get_by_label("Or type its name, if it is not in the list")).to_have_value("Frauenverein Lotus")
    expect(page.get_by_label("Anything we should arrange for you?")).to_have_value("Kinderbetreuung für zwei Kinder")
    expect(page.get_by_label("I agree that my details are stored")).not_to_be_checked()

    assert registrations_of(app) == []
    assert association_names(app) == []

    # correcting the two fields on the same page is enough (the re-rendered form still carries its token)
    page.get_by_label("Email address").fill("leyla@example.net")
    page.get_by_label("I agree that my details are stored").check()
    assert submit_registration(page).status == 302
    expect(page.locator(".status-line")).to_have_text("You have a place.")
    assert [(r.email, r.association.name) for r in registrations_of(app)] == [
        ("leyla@example.net", "Frauenverein Lotus")]


# --- 4. a phone ---------------------------------------------------------------------------------

def test_the_flow_works_on_a_phone_without_sideways_scrolling(app, live_server, phone_page):
    page = phone_page
    seeded(app, lambda: make_seminar(
        title="Mitgliederversammlungen richtig protokollieren",  # long German words must wrap
        slug="gemeinnuetzigkeit", capacity=12, max_per_association=2, sessions=3,
        venue_name="Stadtteilbüro Nordend im Bürgerhaus",
        venue_address="Bieberer Straße 1, 63065 Offenbach am Main",
    ))

    page.goto(live_server("/"))
    # a mobile browser widens the layout viewport (and zooms out) when content is too wide
    assert page.evaluate("window.innerWidth") == PHONE["width"], "the catalogue is wider than a phone"
    assert horizontal_overflow(page) <= 0, "the catalogue scrolls sideways on a phone"
    page.get_by_role("link", name="Mitgliederversammlungen richtig protokollieren").tap()
    expect(page).to_have_url(live_server("/seminars/gemeinnuetzigkeit"))
    page.wait_for_load_state()  # the stylesheet too, before measuring
    page.screenshot(path=SCREENSHOT, full_page=True)
    assert page.evaluate("window.innerWidth") == PHONE["width"], "the seminar page is wider than a phone"
    assert horizontal_overflow(page) <= 0, "the seminar page scrolls sideways on a phone"

    for control in (page.get_by_label("First name"), page.get_by_label("Email address"),
                    page.get_by_label("Choose from the list"), page.get_by_role("button", name="Register")):
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{control} sticks out: {box}"
        assert box["height"] >= 44, f"{control} is too small to tap: {box}"

    fill_registration(page, new_association="Afghanischer Kulturverein Offenbach")
    assert submit_registration(page, tap=True).status == 302
    expect(page.locator(".status-line")).to_have_text("You have a place.")
    assert page.evaluate("window.innerWidth") == PHONE["width"], "the manage page is wider than a phone"
    assert horizontal_overflow(page) <= 0, "the page with the personal link scrolls sideways on a phone"
    assert [r.status for r in registrations_of(app)] == [RegistrationStatus.CONFIRMED]


# --- 5. strict Content-Security-Policy ----------------------------------------------------------

def test_pages_need_no_inline_script_or_style_and_the_stylesheet_applies(app, live_server, page):
    def build():
        seminar = make_seminar(title="Vereinsrecht", slug="vereinsrecht", capacity=1)
        make_registration(seminar, first_name="Ahmet", email="ahmet@example.net")

    seeded(app, build)

    # the listener does catch violations: a page with inline style and script, under the same policy
    page.route(live_server("/csp-canary"), lambda route: route.fulfill(
        status=200, content_type="text/html",
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        body='<p style="color: red">inline</p><script>document.title = "ran"</script>'))
    page.goto(live_server("/csp-canary"))
    assert len(page.console_log.csp_violations) == 2, page.console_log.messages
    page.console_log.messages.clear()

    visited = []

    def visit(url):
        response = page.goto(url)
        visited.append((response.status, response.headers.get("content-security-policy")))

    visit(live_server("/"))
    expect(page.locator(".card")).to_have_count(1)
    visit(live_server("/seminars/vereinsrecht"))
    visit(live_server("/privacy"))
    visit(live_server("/seminars/no-such-seminar"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")

    page.goto(live_server("/seminars/vereinsrecht"))
    fill_registration(page, email="not-an-email", consent=False)  # the page with errors
    assert submit_registration(page, button="Join the waiting list").status == 422
    page.get_by_label("Email address").fill("leyla@example.net")
    page.get_by_label("I agree that my details are stored").check()
    page.get_by_label("Or type its name, if it is not in the list").fill("Frauenverein Lotus")
    assert submit_registration(page, button="Join the waiting list").status == 302  # the manage page, with a flash
    page.get_by_role("link", name="Cancel my registration").click()
    expect(page.get_by_role("button", name="Yes, cancel my registration")).to_be_visible()

    assert [status for status, _ in visited] == [200, 200, 200, 404]
    assert {policy for _, policy in visited} == {CONTENT_SECURITY_POLICY}
    assert page.console_log.csp_violations == []
    # Chromium logs every 4xx document as "Failed to load resource"; those were expected above
    assert [m for m in page.console_log.messages
            if m.startswith("error") and "Failed to load resource" not in m] == []

    # the stylesheet is applied: values no browser has by default (once it has loaded: on a busy
    # machine the button can be visible before the stylesheet arrived)
    page.wait_for_load_state("load")
    styles = page.evaluate("""() => ({
        bodyMargin: getComputedStyle(document.body).marginTop,
        headerBackground: getComputedStyle(document.querySelector('.site-header')).backgroundColor,
        dangerBackground: getComputedStyle(document.querySelector('.button-danger')).backgroundColor,
        dangerText: getComputedStyle(document.querySelector('.button-danger')).color,
    })""")
    assert styles == {"bodyMargin": "0px", "headerBackground": "rgb(11, 79, 138)",
                      "dangerBackground": "rgb(176, 32, 26)", "dangerText": "rgb(255, 255, 255)"}


# --- 6. an association's contact registers members, then manages them through their link --------

def test_a_contact_registers_three_members_on_a_phone_and_cancels_one_through_the_link(app, live_server, phone_page):
    page = phone_page
    seeded(app, lambda: make_seminar(title="Gemeinnützigkeit", slug="gemeinnuetzigkeit", capacity=12,
                                     max_per_association=2, sessions=2))
    page.goto(live_server("/seminars/gemeinnuetzigkeit"))
    page.get_by_role("link", name=re.compile("Register members")).first.tap()
    page.get_by_label("Your first name").fill("Fatma")
    page.get_by_label("Your last name").fill("Öztürk")
    page.get_by_label("Your email address").fill("fatma@example.net")
    page.get_by_label("Or type its name").fill("Frauenverein Lauterborn")
    people = [("Samir", "Haddad", "samir@example.net"), ("Amina", "Yusuf", ""), ("Kerem", "Aydın", "kerem@example.net")]
    for index, (first, last, email) in enumerate(people):
        if index:
            page.get_by_role("button", name=re.compile("Add another person")).tap()  # a round trip, no JavaScript
        page.get_by_label("First name", exact=True).nth(index).fill(first)
        page.get_by_label("Last name", exact=True).nth(index).fill(last)
        if email:
            page.get_by_label("Email address (optional)").nth(index).fill(email)
    # what was typed survived the round trips
    expect(page.get_by_label("First name", exact=True).first).to_have_value("Samir")
    page.get_by_label(re.compile("agree that their details are stored")).check()
    page.get_by_role("button", name=re.compile("^Register")).last.tap()

    expect(page.get_by_text("3 people registered: 2 with a place and 1 on the waiting list.")).to_be_visible()
    assert horizontal_overflow(page) <= 0, "the group result scrolls sideways on a phone"
    statuses = {r.first_name: r.status for r in registrations_of(app)}
    assert statuses == {"Samir": RegistrationStatus.CONFIRMED, "Amina": RegistrationStatus.CONFIRMED,
                        "Kerem": RegistrationStatus.WAITLISTED}
    assert by_email(app, "kerem@example.net").waitlist_reason == "association_limit"

    with app.app_context():
        contact = db.session.scalar(db.select(AssociationContact))
        link = live_server(f"/associations/contact/{contact_token(contact)}")
    page.goto(link)
    assert horizontal_overflow(page) <= 0, "the contact's page scrolls sideways on a phone"
    page.get_by_role("link", name="Cancel Samir Haddad").tap()
    page.get_by_role("button", name=re.compile("cancel", re.I)).first.tap()
    expect(page.get_by_text("The registration of Samir Haddad has been cancelled.")).to_be_visible()
    statuses = {r.first_name: r.status for r in registrations_of(app)}
    assert statuses == {"Samir": RegistrationStatus.CANCELLED, "Amina": RegistrationStatus.CONFIRMED,
                        "Kerem": RegistrationStatus.CONFIRMED}


def test_after_a_failed_submit_on_a_phone_the_problems_are_on_screen(app, live_server, phone_page):
    page = phone_page
    seeded(app, lambda: make_seminar(slug="vereinsrecht", sessions=3))
    page.goto(live_server("/seminars/vereinsrecht"))
    page.get_by_label("First name").fill("Leyla")
    page.get_by_role("button", name="Register").tap()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
