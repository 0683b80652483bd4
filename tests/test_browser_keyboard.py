"""Keyboard, zoom, focus, touch targets and right-to-left, in a real browser.

- Registering (alone and as a group), following the personal link and cancelling work with the
  keyboard alone (Tab, Shift+Tab, Enter, Space and typing; no click), with and without JavaScript:
  in Arabic on a 360 px phone and in Turkish on a desktop.
- At 200 % zoom (a 1280 px window is 640 CSS px wide; WCAG's reflow asks for 320 CSS px) no
  public page scrolls sideways.
- Every control on the main pages shows that it has the focus (its outline or shadow changes).
- Buttons, form controls and links in navigation and lists are at least 44x44 CSS px on a phone.
- In Arabic the page is mirrored: dir="rtl", headings and labels start on the right.

One browser and one seeded database serve the module; each test registers people of its own.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from booking.accounts.services import create_user
from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.registrations import services as registrations
from booking.registrations.models import Registration, RegistrationStatus

from tests.browser import (  # noqa: F401  (fixtures are used by name)
    app_for_module,
    browser,
    horizontal_overflow,
    module_live_server,
    open_page,
)
from tests.factories import make_applicant, make_association, make_registration, make_seminar, make_topic, now

PHONE = {"width": 360, "height": 740}
STAFF_EMAIL, STAFF_PASSWORD = "koordination@stadt.example", "ein langes Passwort"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def module_app(tmp_path_factory):
    with app_for_module(tmp_path_factory.mktemp("keyboard"), SEND_FILE_MAX_AGE_DEFAULT=3600) as app:
        yield app


@pytest.fixture(scope="module")
def objects(module_app):
    with module_app.app_context():
        start = now().replace(hour=16, minute=0, second=0, microsecond=0) + timedelta(days=9)
        make_seminar(slug="vereinsrecht", title="Vereinsrecht für Vorstände", capacity=100, languages="de ar",
                     topic=make_topic(name="Vereinsrecht", slug="vereinsrecht"))
        make_seminar(slug="foerdermittel", title="Fördermittel beantragen", capacity=100, languages="tr de",
                     topic=make_topic(name="Finanzen", slug="finanzen"),
                     sessions=[(start + timedelta(days=30), start + timedelta(days=30, hours=2))])
        association = make_association("Deutsch-Türkischer Kulturverein", status="accepted")
        seminar = make_seminar(slug="kasse", title="Kassenführung", capacity=100)
        leyla = make_registration(seminar, first_name="Leyla", email="leyla@example.net")
        members = associations.register_group(
            seminar, ContactDetails("Aylin", "Kaya", "vorstand@verein.example"),
            [make_applicant(first_name="Gül", email="gul@example.net")], association)
        create_user(STAFF_EMAIL, role="coordinator", display_name="Koordination", password=STAFF_PASSWORD)
        db.session.commit()
        return {"manage_token": registrations.manage_token(leyla), "registration_id": leyla.id,
                "contact_token": associations.contact_token(members[0].registered_by)}


def registration_of(app, email: str) -> Registration | None:
    with app.app_context():
        return db.session.scalar(db.select(Registration).where(Registration.email == email))


# --- the keyboard alone -----------------------------------------------------------------------------

def focused_matches(page, selector: str) -> bool:
    return page.evaluate("selector => document.activeElement?.matches(selector) ?? false", selector)


def tab_to(page, selector: str, *, backwards: bool = False, limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until the control matching `selector` has the focus."""
    for _ in range(limit):
        if focused_matches(page, selector):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{selector} is never reached with {'Shift+Tab' if backwards else 'Tab'}")


def type_into(page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)


def press_and_wait(page, key: str = "Enter") -> None:
    """Press a key on the focused link or button and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press(key)


# (language, viewport, JavaScript): Arabic on a phone with JavaScript, Turkish on a desktop without.
SETUPS = [pytest.param("ar", PHONE, True, id="ar-phone"), pytest.param("tr", DESKTOP, False, id="tr-desktop-no-js")]


def keyboard_page(browser, viewport, javascript):
    return open_page(browser, viewport=viewport, java_script_enabled=javascript)


@pytest.mark.parametrize(("language", "viewport", "javascript"), SETUPS)
def test_find_register_open_the_personal_link_and_cancel_by_keyboard_alone(
        module_app, module_live_server, browser, objects, language, viewport, javascript):
    email = f"keyboard-{language}@example.net"
    context, page = keyboard_page(browser, viewport, javascript)
    try:
        page.goto(module_live_server(f"/?lang={language}"))
        # the catalogue, filtered by topic: open the folded filters (Enter on their summary), type
        # into the select, then "Show seminars"
        tab_to(page, "details.filters-fold > summary")
        page.keyboard.press("Enter")
        tab_to(page, "#topic")
        page.keyboard.type("Finanzen")
        tab_to(page, ".filters button[type=submit]")
        press_and_wait(page)
        assert "topic=finanzen" in page.url
        expect(page.locator(".card")).to_have_count(1)
        tab_to(page, ".card h3 a")
        press_and_wait(page)
        assert page.url.endswith("/seminars/foerdermittel")

        # the form: Tab from field to field, Space ticks the consent, Enter sends
        type_into(page, "#first_name", "Leyla")
        type_into(page, "#last_name", "Yılmaz")
        type_into(page, "#email", email)
        type_into(page, "#new_association", "Deutsch-Türkischer Kulturverein")
        tab_to(page, "#consent")
        page.keyboard.press("Space")
        expect(page.locator("#consent")).to_be_checked()
        # back up with Shift+Tab to check the address once more, then on to the button
        tab_to(page, "#email", backwards=True)
        tab_to(page, "main form [type=submit].button-primary")
        press_and_wait(page)

        # the confirmation, and the personal link on it
        expect(page.locator(".status-confirmed")).to_be_visible()
        assert registration_of(module_app, email).status == RegistrationStatus.CONFIRMED
        personal_link = page.locator(".personal-link a").get_attribute("href")
        tab_to(page, ".personal-link a")
        press_and_wait(page)
        assert page.url == personal_link

        # cancel: the link to the cancel page, then its button, pressed with Space
        tab_to(page, "a[href$='/cancel']")
        press_and_wait(page)
        tab_to(page, "main form [type=submit]")
        press_and_wait(page, "Space")
        expect(page.locator(".status-cancelled")).to_be_visible()
        assert registration_of(module_app, email).status == RegistrationStatus.CANCELLED
        assert page.console_log.csp_violations == []
    finally:
        context.close()


@pytest.mark.parametrize(("language", "viewport", "javascript"), SETUPS)
def test_register_a_group_by_keyboard_alone(module_app, module_live_server, browser, objects,
                                            language, viewport, javascript):
    contact = f"group-{language}@example.net"
    context, page = keyboard_page(browser, viewport, javascript)
    try:
        page.goto(module_live_server(f"/seminars/vereinsrecht?lang={language}"))
        tab_to(page, "a[href$='/group']")
        press_and_wait(page)
        type_into(page, "#contact_first_name", "Aylin")
        type_into(page, "#contact_last_name", "Kaya")
        type_into(page, "#contact_email", contact)
        type_into(page, "#participants-0-first_name", "Gül")
        type_into(page, "#participants-0-last_name", "Aydın")
        type_into(page, "#participants-0-email", f"member-{language}@example.net")
        # a second person: "Add another person" brings a row more
        tab_to(page, "[name=add_row]")
        press_and_wait(page)
        type_into(page, "#participants-1-first_name", "Ali")
        type_into(page, "#participants-1-last_name", "Demir")
        type_into(page, "#participants-1-email", f"member2-{language}@example.net")
        type_into(page, "#new_association", "Deutsch-Türkischer Kulturverein")
        tab_to(page, "#consent")
        page.keyboard.press("Space")
        tab_to(page, "main form [type=submit].button-primary")
        press_and_wait(page)

        assert page.url.endswith("/associations/registered")
        expect(page.locator(".people tbody tr")).to_have_count(2)
        for email in (f"member-{language}@example.net", f"member2-{language}@example.net"):
            assert registration_of(module_app, email).status == RegistrationStatus.CONFIRMED
    finally:
        context.close()


@pytest.mark.parametrize(("language", "viewport", "javascript"), SETUPS)
def test_a_contact_cancels_a_member_by_keyboard_alone(module_app, module_live_server, browser, objects,
                                                      language, viewport, javascript):
    with module_app.app_context():
        from booking.associations.models import AssociationContact
        from booking.seminars.models import Seminar

        seminar = db.session.scalar(db.select(Seminar).where(Seminar.slug == "kasse"))
        contact = db.session.scalar(db.select(AssociationContact))
        member = associations.register_group(seminar, contact, [make_applicant(
            first_name="Murat", email=f"murat-{language}@example.net")], None)[0]
        db.session.commit()
        public_id = member.public_id
    context, page = keyboard_page(browser, viewport, javascript)
    try:
        page.goto(module_live_server(f"/associations/contact/{objects['contact_token']}?lang={language}"))
        tab_to(page, f"a[href$='/registrations/{public_id}/cancel']")
        press_and_wait(page)
        tab_to(page, "main form [type=submit]")
        press_and_wait(page)
        assert registration_of(module_app, f"murat-{language}@example.net").status == RegistrationStatus.CANCELLED
    finally:
        context.close()


# --- zoom, focus, touch targets -----------------------------------------------------------------

def public_pages(objects) -> list[str]:
    token, contact = objects["manage_token"], objects["contact_token"]
    return ["/", "/?topic=finanzen", "/seminars/vereinsrecht", "/seminars/vereinsrecht/group",
            f"/registrations/{token}", f"/registrations/{token}/cancel", f"/registrations/{token}/delete",
            "/lost-link", "/privacy", f"/associations/contact/{contact}", "/admin/login", "/no-such-page"]


@pytest.mark.parametrize("language", ["de", "ar"])
def test_no_public_page_scrolls_sideways_at_200_percent_zoom(module_live_server, browser, objects, language):
    """200 % of a 1280 px window leaves 640 CSS px; WCAG 1.4.10 asks for content that reflows at 320."""
    too_wide = []
    for width in (640, 320):
        context, page = open_page(browser, viewport={"width": width, "height": 512}, device_scale_factor=2)
        try:
            for path in public_pages(objects):
                page.goto(module_live_server(f"{path}{'&' if '?' in path else '?'}lang={language}"))
                if (overflow := horizontal_overflow(page)) > 0:
                    too_wide.append(f"{path} at {width} px: {overflow} px too wide")
        finally:
            context.close()
    assert not too_wide, "\n".join(too_wide)


FOCUS_STYLE = """el => { const s = getComputedStyle(el);
    return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor, s.textDecorationLine].join('|'); }"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_control_shows_its_focus(module_live_server, browser, objects, viewport):
    """Tab through the main pages: each element that takes the focus looks different with it."""
    token = objects["manage_token"]
    unseen = []
    context, page = open_page(browser, viewport=viewport)
    try:
        for path in ["/", "/seminars/vereinsrecht", "/seminars/vereinsrecht/group", f"/registrations/{token}",
                     f"/registrations/{token}/cancel", "/lost-link"]:
            page.goto(module_live_server(path))
            page.evaluate("document.activeElement?.blur()")
            visited = set()
            for _ in range(150):
                page.keyboard.press("Tab")
                element = page.evaluate_handle("document.activeElement")
                key = element.evaluate("el => el === document.body ? null : el.outerHTML.slice(0, 120)")
                if key is None or key in visited:
                    break
                visited.add(key)
                focused = element.evaluate(FOCUS_STYLE)
                # the same element without the focus (the page's own state otherwise unchanged)
                element.evaluate("el => el.blur()")
                unfocused = element.evaluate(FOCUS_STYLE)
                element.evaluate("el => el.focus({focusVisible: true})")
                if focused == unfocused:
                    unseen.append(f"{path}: {key}")
            assert len(visited) > 3, f"Tab reaches almost nothing on {path}"
    finally:
        context.close()
    assert not unseen, "controls that do not show their focus:\n" + "\n".join(unseen)


# Links inside running text are exempt: WCAG 2.5.8 (target size, minimum) excepts targets "in a
# sentence or its size is otherwise constrained by the line-height of non-target text". Everything
# a person taps on its own is measured: buttons, form controls (a checkbox or radio button together
# with its label, which takes the tap too), button-like links, and links in navigation and lists.
TARGETS = """() => {
  const seen = [];
  const box = el => el.getBoundingClientRect();
  const visible = el => { const r = box(el); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('.trap, .visually-hidden'); };
  const selector = ['button', 'input:not([type=hidden])', 'select', 'textarea', 'a.button', 'nav a', 'li > a',
    'td > a', 'dd > a', '.site-header a', '.site-footer a', '.breadcrumb a', '.card h3 a'].join(', ');
  for (const el of document.querySelectorAll(selector)) {
    if (!visible(el)) continue;
    let r = box(el);
    if (el.type === 'checkbox' || el.type === 'radio') {
      const label = el.labels && el.labels[0];
      if (label) { const l = box(label);
        r = {width: Math.max(r.right, l.right) - Math.min(r.left, l.left),
             height: Math.max(r.bottom, l.bottom) - Math.min(r.top, l.top)}; }
    }
    if (r.width < 43.5 || r.height < 43.5)
      seen.push(`${el.outerHTML.slice(0, 100)}: ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return seen;
}"""


@pytest.mark.parametrize("language", ["en", "ar"])
def test_touch_targets_are_at_least_44_px_on_a_phone(module_live_server, browser, objects, language):
    small = []
    context, page = open_page(browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        for path in public_pages(objects)[:-1]:
            page.goto(module_live_server(f"{path}{'&' if '?' in path else '?'}lang={language}"))
            small += [f"{path}: {target}" for target in page.evaluate(TARGETS)]
    finally:
        context.close()
    assert not small, "targets smaller than 44x44 CSS px:\n" + "\n".join(small)


# --- right to left ---------------------------------------------------------------------------------

def test_arabic_pages_are_mirrored_on_a_phone(module_live_server, browser, objects):
    context, page = open_page(browser, viewport=PHONE)
    try:
        page.goto(module_live_server("/seminars/vereinsrecht?lang=ar"))
        assert page.locator("html").get_attribute("dir") == "rtl"
        heading = page.locator("h1")
        assert heading.evaluate("el => getComputedStyle(el).textAlign") in ("start", "right")
        # the heading's text and the first label's text begin at the right edge of the content
        text_box = """el => { const range = document.createRange(); range.selectNodeContents(el);
            const text = range.getBoundingClientRect(), own = el.getBoundingClientRect();
            return {textRight: text.right, textLeft: text.left, right: own.right, left: own.left}; }"""
        for element in (heading, page.locator("label[for=first_name]")):
            box = element.evaluate(text_box)
            assert abs(box["textRight"] - box["right"]) < 2, box
            assert box["textLeft"] - box["left"] > 20, box
        # the fields' error marker sits on the right (the start of a line in Arabic)
        with page.expect_navigation():
            page.locator("main form [type=submit].button-primary").click()
        field = page.locator(".field-invalid").first
        assert field.evaluate("el => getComputedStyle(el).borderRightWidth") == "4px"
        assert field.evaluate("el => getComputedStyle(el).borderLeftWidth") == "0px"
        summary = page.locator(".error-summary ul")
        assert summary.evaluate("el => parseFloat(getComputedStyle(el).paddingRight)") > 0
        assert summary.evaluate("el => parseFloat(getComputedStyle(el).paddingLeft)") == 0
    finally:
        context.close()


def test_signs_that_point_a_direction_are_flipped_in_arabic(module_live_server, browser, objects):
    """The "›" between breadcrumb links points the way the page reads: to the left in Arabic."""
    context, page = open_page(browser, viewport=PHONE)
    try:
        # (the login starts a fresh session, so the page after it asks for its language again)
        page.goto(module_live_server(f"/admin/login?next=/admin/registrations/{objects['registration_id']}%3Flang%3Dar"))
        page.fill("#email", STAFF_EMAIL)
        page.fill("#password", STAFF_PASSWORD)
        with page.expect_navigation():
            page.locator("main form [type=submit]").click()
        sign = page.locator(".breadcrumb .direction-sign")
        assert sign.evaluate("el => getComputedStyle(el).transform") == "matrix(-1, 0, 0, 1, 0, 0)"
        page.goto(module_live_server(f"/admin/registrations/{objects['registration_id']}?lang=en"))
        assert sign.evaluate("el => getComputedStyle(el).transform") == "none"
    finally:
        context.close()
