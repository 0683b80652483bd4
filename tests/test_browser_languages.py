"""A reader of only Turkish or only Arabic finds a seminar, registers, reads the confirmation and
the calendar invitation, and cancels, without meeting a word of another language.

In a real browser (Debian's Chromium): Arabic on a 360 px phone, Turkish on a desktop. Every page's
visible text and its accessible names (aria-label, title, alt, placeholder, button values), every
email's subject and bodies, and the calendar entries' SUMMARY, DESCRIPTION and LOCATION are read
for words of another interface language. What the office typed (the seminar's title, the venue)
and what people typed (names) is data, not interface, and is left out of the check; so are the
language switcher's names, each of which is written in its own language on purpose.
"""
from __future__ import annotations

import html as html_module
import re
from functools import cache

import pytest
from babel.messages.pofile import read_po
from icalendar import Calendar
from playwright.sync_api import expect

from booking.extensions import db
from booking.languages import TRANSLATIONS_DIR
from booking.mail.dispatcher import dispatch_pending
from booking.registrations.models import Registration, RegistrationStatus

from tests.browser import browser, horizontal_overflow, live_server, open_page  # noqa: F401
from tests.factories import make_association, make_seminar, make_topic

PHONE_360 = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
             "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
LATIN_WORD = re.compile(r"[A-Za-zÀ-ɏ]+")


def catalogue_words(language: str, *, ids: bool = False) -> set[str]:
    with open(TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as file:
        catalogue = read_po(file)
    words = set()
    for message in catalogue:
        if not message.id:
            continue
        texts = message.id if ids else message.string
        for text in texts if isinstance(texts, tuple) else (texts,):
            text = re.sub(r"%\(\w+\)[sd]|<[^>]+>|&\w+;", " ", text or "")
            words |= {word.lower() for word in LATIN_WORD.findall(text)}
    return words


@cache
def foreign_vocabulary(language: str) -> frozenset[str]:
    """Words of the English source and of the German catalogue that the reader's own catalogue does
    not use itself (so "e.V.", "JSON" or "Google", kept by its translators, do not count)."""
    others = catalogue_words("de", ids=True)  # the English texts
    others |= catalogue_words("de")
    if language != "de":
        others -= catalogue_words(language)
    return frozenset(word for word in others if len(word) >= 3)


def foreign_words(text: str, language: str, data: list[str]) -> list[str]:
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    text = re.sub(r"https?://\S+|[\w.+-]+@[\w.-]+|\S+\.ics\b", " ", text)
    words = LATIN_WORD.findall(text)
    if language == "ar":
        # in Arabic every Latin word stands out: only those the Arabic catalogue uses itself pass
        allowed = catalogue_words("ar")
        return [word for word in words if word.lower() not in allowed]
    vocabulary = foreign_vocabulary(language)
    return [word for word in words if word.lower() in vocabulary]


def visible_text(page) -> str:
    return page.evaluate("""() => {
        const text = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            const node = walker.currentNode, element = node.parentElement;
            if (!element || element.closest('.site-languages, script, style, datalist, option:not(:checked)')) continue;
            const style = getComputedStyle(element);
            if (style.display === 'none' || style.visibility === 'hidden') continue;
            text.push(node.textContent);
        }
        const names = [...document.querySelectorAll('[aria-label], [title], [alt], [placeholder], input[type=submit]')]
            .filter(e => !e.closest('.site-languages'))
            .map(e => [e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('alt'),
                       e.getAttribute('placeholder'), e.type === 'submit' ? e.value : null].filter(Boolean).join(' '));
        return [document.title, ...text, ...names].join(' ');
    }""")


def check_page(page, language: str, data: list[str], where: str) -> None:
    assert page.locator("html").get_attribute("lang") == language, where
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr"), where
    words = foreign_words(visible_text(page), language, data)
    assert not words, f"{where}: words of another language on the {language} page: {sorted(set(words))}"
    assert horizontal_overflow(page) == 0, f"{where}: the page scrolls sideways"


def email_texts(message) -> list[tuple[str, str]]:
    """(what, text) of an email: its subject, its plain and HTML bodies (as text), and the calendar
    entries' SUMMARY, DESCRIPTION and LOCATION."""
    texts = [("subject", str(message["Subject"]))]
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/plain":
            texts.append(("text", part.get_content()))
        elif kind == "text/html":
            body = re.sub(r"<(style|head)[^>]*>.*?</\1>", " ", part.get_content(), flags=re.S)
            texts.append(("html", html_module.unescape(re.sub(r"<[^>]+>", " ", body))))
        elif kind == "text/calendar":
            for event in Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT"):
                for name in ("SUMMARY", "DESCRIPTION", "LOCATION"):
                    if event.get(name):
                        texts.append((f"calendar {name}", str(event.get(name))))
    return texts


def check_emails(messages, language: str, data: list[str]) -> None:
    assert messages
    for message in messages:
        for what, text in email_texts(message):
            words = foreign_words(text, language, data)
            assert not words, f"{message['Subject']!r}, {what}: words of another language: {sorted(set(words))}"


SEMINAR = {"title": "Vereinsrecht für Vorstände", "venue_name": "Haus der Vereine",
           "venue_address": "Bieberer Straße 1, 63065 Offenbach", "summary": "Satzung, Vorstand, Mitgliederversammlung.",
           "description": "Drei Abende zu den Grundlagen.", "trainer": "Ayşe Demir"}
PRODUCTS = ["WhatsApp", "Telegram"]  # names, the same in every language
TOPIC = "Vereinsrecht"
PEOPLE = {
    "ar": {"first_name": "ليلى", "last_name": "العلي", "email": "leila@example.net", "association": "جمعية الجسر"},
    "tr": {"first_name": "Ayşe", "last_name": "Yıldız", "email": "ayse@example.net", "association": "Köprü Derneği"},
}


@pytest.fixture
def seminar(app):
    with app.app_context():
        make_association("Deutsch-Türkischer Kulturverein")
        topic = make_topic(slug="vereinsrecht", name=TOPIC)
        seminar = make_seminar(languages="de ar tr", sessions=2, slug="vereinsrecht", topic=topic, **SEMINAR)
        db.session.commit()
        return {"slug": seminar.slug, "first": seminar.sessions[0].starts_at}


def flow(app, browser, live_server, smtp_server, language: str, context_options: dict):  # noqa: F811
    person = PEOPLE[language]
    data = [*SEMINAR.values(), TOPIC, *PRODUCTS, *person.values(), app.config["BOOKING_OFFICE_NAME"], "Deutsch-Türkischer Kulturverein"]
    context, page = open_page(browser, locale=language, **context_options)
    try:
        # the catalogue, in the browser's language
        page.goto(live_server("/"))
        check_page(page, language, data, "catalogue")
        # filter by the language of instruction (the filters are folded away until opened)
        page.locator("details.filters-fold > summary").click()
        page.locator("#language").select_option(language)
        page.locator("form.filters [type=submit]").click()
        expect(page.locator(".card")).to_have_count(1)
        check_page(page, language, data, "catalogue filtered")
        page.locator(".card h3 a").click()
        check_page(page, language, data, "seminar page")

        # register: the language for messages is preselected from the page's
        expect(page.locator("#preferred_language")).to_have_value(language)
        page.locator("#first_name").fill(person["first_name"])
        page.locator("#last_name").fill(person["last_name"])
        page.locator("#email").fill("not an address")
        page.locator("#new_association").fill(person["association"])
        page.locator("form[action$='/register'] [type=submit]").click()
        check_page(page, language, data, "form with errors")  # the messages beside the fields too
        page.locator("#email").fill(person["email"])
        page.locator("#consent").check()
        page.locator("form[action$='/register'] [type=submit]").click()
        expect(page.locator(".status-line")).to_be_visible()
        check_page(page, language, data, "confirmation page")

        with app.app_context():
            registration = db.session.scalar(db.select(Registration).where(Registration.email == person["email"]))
            assert (registration.status, registration.preferred_language) == (RegistrationStatus.CONFIRMED, language)
            dispatch_pending()
        received = [m for m in smtp_server.messages if m["To"] == person["email"]]
        # the confirmation and one invitation per session
        assert len(received) == 3
        assert sum(1 for m in received for p in m.walk() if p.get_content_type() == "text/calendar") == 2
        check_emails(received, language, data)

        # days later, from the email's link in another browser (no cookies): cancel
        links = re.findall(r"https?://\S+/registrations/[\w.-]+", received[0].get_body(("plain",)).get_content())
        [link] = {link for link in links if not link.endswith(".ics")}
    finally:
        context.close()

    context, page = open_page(browser, locale=language, **context_options)
    try:
        page.goto(link)
        check_page(page, language, data, "personal page")
        page.locator(f"a[href$='{link.rsplit('/', 1)[1]}/cancel']").click()
        check_page(page, language, data, "cancel page")
        page.locator("form [type=submit]").click()
        expect(page.locator(".status-line")).to_be_visible()
        check_page(page, language, data, "cancelled")
    finally:
        context.close()

    before = len(smtp_server.messages)
    with app.app_context():
        assert db.session.scalar(db.select(Registration.status).where(
            Registration.email == person["email"])) == RegistrationStatus.CANCELLED
        dispatch_pending()
    cancelled = [m for m in smtp_server.messages[before:] if m["To"] == person["email"]]
    assert cancelled, "the cancellation is confirmed by email and the calendar entries are withdrawn"
    check_emails(cancelled, language, data)


def test_an_arabic_reader_on_a_phone_meets_only_arabic(app, browser, live_server, smtp_server, seminar):  # noqa: F811
    flow(app, browser, live_server, smtp_server, "ar", PHONE_360)


def test_a_turkish_reader_on_a_desktop_meets_only_turkish(app, browser, live_server, smtp_server, seminar):  # noqa: F811
    flow(app, browser, live_server, smtp_server, "tr", DESKTOP)


def test_the_check_finds_words_of_another_language():
    """The checker itself: an untranslated English or German word is caught, data is not."""
    assert foreign_words("Sie haben einen Platz", "tr", []) != []
    assert foreign_words("Your registration", "tr", []) != []
    assert foreign_words("Kaydınız alındı. Vereinsrecht", "tr", ["Vereinsrecht"]) == []
    assert foreign_words("تم حفظ تسجيلك waiting", "ar", []) == ["waiting"]
    assert foreign_words("تم حفظ تسجيلك e.V.", "ar", []) == []
