"""axe-core finds no WCAG 2.2 AA problem on any page, in every interface language, on a phone and a desktop.

Every HTML page a GET route answers is visited (a test walks the URL map: a new GET route fails it
until it is added to PAGES or, if it answers no HTML page, to NOT_HTML with the reason), and so are
the states a page is seen in: forms with their errors shown, the page after a registration, the
error pages. axe-core (the copy axe-playwright-python ships) runs in Debian's Chromium against the
real app over HTTP, with the strict Content-Security-Policy on.

What is checked where:
- every page, in every language (de, tr, ar, en), at 360 px and at 1280 px: every WCAG rule axe has
  but the two colour rules, the page's `lang`, and that nothing scrolls sideways. Names, labels,
  titles, `lang` attributes and the size of targets come with each language's text; tables and
  lists are laid out differently on a phone (tables as blocks); so all of these run everywhere.
- the colour rules (COLOUR_RULES: text contrast, links told apart from the text around them), on
  every page at both widths, in German and Arabic (COLOUR_LANGUAGES). They compare colours, and
  the colours come from one stylesheet, the same for every language: what a language can change
  is which background lies behind which text, by laying the page out differently. German has the
  longest words and lines of the three languages written left to right in Latin script (Turkish
  and English use the same fonts and the same layout with shorter text); Arabic is the one laid
  out right to left, in a script and fonts of its own. The colour rules are about 60 % of axe's
  time on a page (measured rule by rule); in Turkish and English they cost about a tenth of the
  browser's time in this module (most of it goes to loading pages) for nothing the other two show.
`test_axe_reports_what_it_finds` proves both sets of rules find what they must.

Speed (the whole suite has a few minutes on two cores): one browser and one seeded database serve
the module; the browser is Debian's Chromium in its headless shell (package chromium-headless-shell,
the same version and the same Blink that lays out and runs the page, the shell Playwright itself runs
headless): the full browser's own process spent half a core on drawing frames nobody sees, and this
walk took 79 s instead of 48 s with it (the flows in the other browser tests keep the full browser);
the four languages walk at the same time, each in a browser context of its own, and check every page
at 360 px and again at 1280 px after resizing the window (one load, two checks).
The walk runs once, in a module fixture; a test per (language, width) reports what it found, so a
failure lists every problem of that language and width at once.
"""
from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from werkzeug.exceptions import HTTPException

from booking.accounts.links import LinkPurpose, make_link_token
from booking.accounts.services import create_user
from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.database import utcnow
from booking.extensions import db
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import OutboxMessage
from booking.registrations import services as registrations
from booking.seminars import editing

from tests.browser import CHROMIUM_ARGS, TIMEOUT_MS, app_for_module, module_live_server  # noqa: F401
from tests.factories import make_applicant, make_association, make_registration, make_seminar, make_topic, now

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
LANGUAGES = ["de", "tr", "ar", "en"]
WIDTHS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}
STAFF_EMAIL, STAFF_PASSWORD = "koordination@stadt.example", "ein langes Passwort"

axe = Axe()
CHROMIUM = "/usr/bin/chromium-headless-shell"  # Debian's Chromium, its headless shell (see above)


@pytest.fixture(scope="module")
def module_app(tmp_path_factory):
    # Rate limits on, so that the 429 page can be reached: one lost-link request per address and hour.
    lenient = "1000 per minute"
    limits = {name: lenient for name in (
        "BOOKING_LIMIT_REGISTER_IP", "BOOKING_LIMIT_REGISTER_EMAIL", "BOOKING_LIMIT_GROUP_IP",
        "BOOKING_LIMIT_GROUP_EMAIL", "BOOKING_LIMIT_LOST_LINK_IP", "BOOKING_LIMIT_LOGIN_IP",
        "BOOKING_LIMIT_LOGIN_EMAIL", "BOOKING_LIMIT_PASSWORD_RESET_IP", "BOOKING_LIMIT_PASSWORD_RESET_EMAIL")}
    with app_for_module(tmp_path_factory.mktemp("a11y"), RATELIMIT_ENABLED=True, SEND_FILE_MAX_AGE_DEFAULT=3600,
                        BOOKING_LIMIT_LOST_LINK_EMAIL="1 per hour", **limits) as app:
        yield app


@pytest.fixture(scope="module")
def objects(module_app):
    """Something on every page: seminars open, full, closed and with a cancelled session, in two months;
    people with a place, waiting and cancelled; a group and its contact; a name to review; staff;
    the emails as written."""
    with module_app.app_context():
        law = make_topic(name="Vereinsrecht", slug="vereinsrecht")
        money = make_topic(name="Finanzen und Förderung", slug="finanzen")
        start = now().replace(hour=16, minute=0, second=0, microsecond=0) + timedelta(days=10)
        open_seminar = make_seminar(
            slug="vereinsrecht", title="Vereinsrecht für Vorstände", topic=law, capacity=500, languages="de tr",
            online_url="https://meet.example.org/vereinsrecht", max_per_association=200,
            registration_deadline=start - timedelta(days=1))
        full = make_seminar(slug="kasse", title="Kassenführung im Verein", topic=money, capacity=1,
                            languages="ar de", sessions=[(start + timedelta(days=40), start + timedelta(days=40, hours=3))])
        make_seminar(slug="geschlossen", title="Fördermittel beantragen", topic=money,
                              registration_deadline=now() - timedelta(hours=1))
        make_association("Deutsch-Türkischer Kulturverein", status="accepted")
        association = make_association("Arabischer Elternverein", status="accepted")
        confirmed = make_registration(open_seminar, first_name="Leyla", email="leyla@example.net",
                                      needs="Kinderbetreuung")
        make_registration(full, first_name="Ahmet", email="ahmet@example.net")
        waiting = make_registration(full, first_name="Sara", email="sara@example.net")
        cancelled = make_registration(open_seminar, first_name="Murat", email="murat@example.net")
        registrations.cancel_registration(cancelled)
        members = associations.register_group(
            open_seminar, ContactDetails("Aylin", "Kaya", "vorstand@verein.example", phone="+49 69 1234"),
            [make_applicant(first_name="Gül", email="gul@example.net"),
             make_applicant(first_name="Ali", email=None)], association)
        session = open_seminar.sessions[1]
        editing.cancel_session(session, reason="Raum nicht verfügbar")
        draft = make_seminar(slug="entwurf", title="Digitale Mitgliederverwaltung", topic=law, status="draft")
        held_at = now().replace(microsecond=0) - timedelta(days=30)  # for the funder's report's charts
        make_seminar(slug="gehalten", title="Vereinsrecht im Rückblick", topic=law,
                     sessions=[(held_at, held_at + timedelta(hours=2))])
        associations.find_or_create_association("Kulturverin")
        create_user(STAFF_EMAIL, role="coordinator", display_name="Koordination",
                                  password=STAFF_PASSWORD)
        trainer = create_user("trainerin@stadt.example", role="trainer", display_name="Ayşe Demir",
                              password=STAFF_PASSWORD)
        invited = create_user("eingeladen@stadt.example", role="trainer", display_name="Eingeladen")
        db.session.commit()
        dispatch_pending()  # the emails as written and "sent" (no mail server: kept in the log)
        db.session.commit()
        expires = utcnow() + timedelta(hours=2)
        with_html = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.body_html.is_not(None))
                                      .order_by(OutboxMessage.id).limit(1))
        return {
            "slug": open_seminar.slug, "seminar_id": open_seminar.id, "session_id": open_seminar.sessions[0].id,
            "draft_id": draft.id, "registration_id": confirmed.id, "waiting_id": waiting.id,
            "manage_token": registrations.manage_token(confirmed),
            "coming_token": registrations.coming_token(confirmed),
            "release_token": registrations.release_token(confirmed),
            "contact_token": associations.contact_token(members[0].registered_by),
            "member_public_id": members[0].public_id,
            "pending_id": associations.find_or_create_association("Kulturverin").id,
            "message_id": with_html.id, "trainer_id": trainer.id,
            "report_period": f"from={(held_at - timedelta(days=30)).date()}&to={held_at.date()}",
            "reset_token": make_link_token(LinkPurpose.PASSWORD_RESET, trainer,
                                           token_version=trainer.token_version, expires_at=expires),
            "invitation_token": make_link_token(LinkPurpose.INVITATION, invited,
                                                token_version=invited.token_version, expires_at=expires),
        }


# --- what is visited --------------------------------------------------------------------------------

@dataclass
class Send:
    """What a person does on a page before it is checked: fill in its form ("{person}" in a value
    becomes the walker's name, so that each walker registers other people) and send it."""

    fill: dict[str, str] = field(default_factory=dict)
    check: tuple[str, ...] = ()
    script: tuple[str, str] | None = None  # (selector, script run on that element before sending)
    button: str = "main form [type=submit].button-primary"
    times: int = 1

    async def __call__(self, page, person: str) -> None:
        for _ in range(self.times):
            for selector, value in self.fill.items():
                await page.fill(selector, value.format(person=person))
            for selector in self.check:
                await page.check(selector)
            if self.script:
                await page.locator(self.script[0]).first.evaluate(self.script[1])
            async with page.expect_navigation():
                await page.locator(self.button).first.click()


@dataclass
class Visit:
    """A page (or one state of it): the address, then optionally what a person does there first."""

    name: str
    endpoint: str | None  # the route that answers (after `act`, the POST route if there is one)
    path: Callable[[dict], str]
    act: Send | None = None
    status: int = 200


SEND_EMPTY = Send()
REGISTER = Send(fill={"#first_name": "Leyla", "#last_name": "Yılmaz", "#email": "{person}@example.net",
                      "#new_association": "Deutsch-Türkischer Kulturverein"}, check=("#consent",))
REGISTER_GROUP = Send(
    fill={"#contact_first_name": "Aylin", "#contact_last_name": "Kaya", "#contact_email": "{person}-contact@example.net",
          "#new_association": "Arabischer Elternverein", "#participants-0-first_name": "Gül",
          "#participants-0-last_name": "Aydın", "#participants-0-email": "{person}-member@example.net"},
    check=("#consent",))
# the second request for one address within the hour meets the rate limit (429)
ASK_FOR_LINKS_TWICE = Send(fill={"#email": "{person}-twice@example.net"}, times=2)
SEND_TOO_MUCH = Send(script=("#email", "field => field.value = 'x'.repeat(300 * 1024)"))  # too large (413)
SEND_STALE_FORM = Send(script=("input[name=csrf_token]", "field => field.value = 'stale'"),  # 400
                       button="main form [type=submit]")
LOG_IN = Send(fill={"#email": STAFF_EMAIL, "#password": STAFF_PASSWORD})
PREPARE_MESSAGE = Send(fill={"#subject": "Raumänderung", "#body": "Wir treffen uns in Raum 3."},
                       check=("#audience input[value=confirmed]",))

PAGES = [
    # participants
    Visit("catalogue", "public.catalogue", lambda o: "/"),
    Visit("catalogue, filtered", "public.catalogue", lambda o: "/?topic=finanzen&language=ar"),
    Visit("seminar page", "public.seminar", lambda o: f"/seminars/{o['slug']}"),
    Visit("registration form with errors", "public.register", lambda o: f"/seminars/{o['slug']}", SEND_EMPTY, 422),
    Visit("registration result", "public.manage", lambda o: f"/seminars/{o['slug']}", REGISTER),
    Visit("cancel page", "public.cancel", lambda o: f"/registrations/{o['manage_token']}/cancel"),
    Visit("delete page", "public.delete_data", lambda o: f"/registrations/{o['manage_token']}/delete"),
    Visit("reminder: coming page", "public.confirm_coming", lambda o: f"/registrations/{o['coming_token']}/coming"),
    Visit("reminder: release page", "public.release_place",
          lambda o: f"/registrations/{o['release_token']}/release"),
    Visit("lost link with errors", "public.lost_link", lambda o: "/lost-link", SEND_EMPTY, 422),
    Visit("privacy notice", "public.privacy", lambda o: "/privacy"),
    Visit("poster in two languages", "public.poster",
          lambda o: f"/seminars/{o['slug']}/poster?language=de&second_language=ar"),
    # associations
    Visit("group form with errors", "associations.group", lambda o: f"/seminars/{o['slug']}/group",
          SEND_EMPTY, 422),
    Visit("group result", "associations.group_registered", lambda o: f"/seminars/{o['slug']}/group",
          REGISTER_GROUP),
    Visit("contact page", "associations.contact", lambda o: f"/associations/contact/{o['contact_token']}"),
    Visit("contact's group form", "associations.contact_group",
          lambda o: f"/associations/contact/{o['contact_token']}/seminars/{o['slug']}/group"),
    Visit("contact's cancel page", "associations.contact_cancel",
          lambda o: f"/associations/contact/{o['contact_token']}/registrations/{o['member_public_id']}/cancel"),
    # error pages
    Visit("404", None, lambda o: "/no-such-page", status=404),
    Visit("400, form expired", "public.cancel", lambda o: f"/registrations/{o['manage_token']}/cancel",
          SEND_STALE_FORM, 400),
    Visit("413", "public.lost_link", lambda o: "/lost-link", SEND_TOO_MUCH, 413),
    Visit("429", "public.lost_link", lambda o: "/lost-link", ASK_FOR_LINKS_TWICE, 429),
    # staff, before logging in
    Visit("login with errors", "accounts.login", lambda o: "/admin/login", SEND_EMPTY, 422),
    Visit("forgot password with errors", "accounts.forgot_password", lambda o: "/admin/password/forgot",
          SEND_EMPTY, 422),
    Visit("link does not work", "accounts.reset_password", lambda o: "/admin/password/reset/no.such.link",
          status=404),
    Visit("accept an invitation", "accounts.accept_invitation",
          lambda o: f"/admin/invitation/{o['invitation_token']}"),
    # after logging in, the dashboard (in the page's language: the login starts a fresh session)
    Visit("dashboard", "admin.dashboard", lambda o: "/admin/login?next=/admin/%3Flang%3D{language}", LOG_IN),
    # the workspace
    Visit("seminar list", "admin.seminars", lambda o: "/admin/seminars"),
    Visit("seminar", "admin.seminar", lambda o: f"/admin/seminars/{o['seminar_id']}"),
    Visit("preview", "admin.seminar_preview", lambda o: f"/admin/seminars/{o['draft_id']}/preview"),
    Visit("new seminar with errors", "admin.seminar_new", lambda o: "/admin/seminars/new", SEND_EMPTY, 422),
    Visit("seminar editor", "admin.seminar_edit", lambda o: f"/admin/seminars/{o['seminar_id']}/edit"),
    Visit("cancel seminar", "admin.seminar_cancel", lambda o: f"/admin/seminars/{o['seminar_id']}/cancel"),
    Visit("cancel session", "admin.session_cancel",
          lambda o: f"/admin/seminars/{o['seminar_id']}/sessions/{o['session_id']}/cancel"),
    Visit("sign-in sheet", "admin.sign_in_sheet",
          lambda o: f"/admin/seminars/{o['seminar_id']}/sessions/{o['session_id']}/sign-in-sheet"),
    Visit("duplicate seminar", "admin.seminar_duplicate", lambda o: f"/admin/seminars/{o['seminar_id']}/duplicate"),
    Visit("delete draft", "admin.seminar_delete", lambda o: f"/admin/seminars/{o['draft_id']}/delete"),
    Visit("attendance list", "admin.session_attendance",
          lambda o: f"/admin/seminars/{o['seminar_id']}/sessions/{o['session_id']}/attendance"),
    Visit("topics", "admin.topics", lambda o: "/admin/topics"),
    Visit("registrations", "admin.seminar_registrations_page",
          lambda o: f"/admin/seminars/{o['seminar_id']}/registrations"),
    Visit("registration", "admin.registration_page", lambda o: f"/admin/registrations/{o['waiting_id']}"),
    Visit("cancel registration", "admin.cancel_registration",
          lambda o: f"/admin/registrations/{o['registration_id']}/cancel"),
    Visit("register by hand with errors", "admin.register_by_hand",
          lambda o: f"/admin/seminars/{o['seminar_id']}/registrations/new", SEND_EMPTY, 422),
    Visit("message participants", "admin.message_participants", lambda o: f"/admin/seminars/{o['seminar_id']}/message"),
    Visit("message, confirm", "admin.message_participants", lambda o: f"/admin/seminars/{o['seminar_id']}/message",
          PREPARE_MESSAGE),
    Visit("associations", "admin.associations", lambda o: "/admin/associations"),
    Visit("association to review", "admin.association", lambda o: f"/admin/associations/{o['pending_id']}"),
    Visit("email log", "admin.emails", lambda o: "/admin/emails"),
    Visit("email", "admin.email", lambda o: f"/admin/emails/{o['message_id']}"),
    Visit("funder's report", "admin.report", lambda o: f"/admin/report?{o['report_period']}"),
    Visit("funder's report with errors", "admin.report", lambda o: "/admin/report?from=2020-13-01&to=", status=400),
    Visit("users", "admin.users", lambda o: "/admin/users"),
    Visit("user", "admin.user", lambda o: f"/admin/users/{o['trainer_id']}"),
    Visit("invite a user", "admin.invite_user", lambda o: "/admin/users/invite"),
    Visit("change password with errors", "accounts.change_password", lambda o: "/admin/password", SEND_EMPTY, 422),
]

# GET routes that answer no HTML page of their own, each with the reason it is not visited.
NOT_HTML = {
    "static": "stylesheets",
    "calendar.catalogue_feed": "an iCalendar file (.ics)",
    "calendar.seminar_feed": "an iCalendar file (.ics)",
    "calendar.registration_feed": "an iCalendar file (.ics)",
    "associations.contact_feed": "an iCalendar file (.ics)",
    "admin.seminar_registrations_csv": "a spreadsheet (.csv)",
    "admin.seminar_registrations_xlsx": "a spreadsheet (.xlsx)",
    "public.download_data": "a JSON file of the person's data",
    "public.register_page": "only redirects to the seminar page's form (#register), visited above",
    "associations.lost_link": "only redirects (301) to /lost-link, visited above",
    "admin.email_html": "an email's HTML part as it was sent, not a page of the site: served with a CSP sandbox "
                        "that lets no script run, so axe cannot run in it (it is framed on the email's page)",
    "public.favicon": "the site's icon (SVG)",
    "admin.sign_in_sheet_pdf": "a PDF (the sign-in sheet's page is visited above)",
    "admin.certificate_pdf": "a PDF (a participant's certificate of attendance)",
    "admin.certificates_zip": "a ZIP file of certificates (PDFs)",
    "public.certificate": "a PDF (the participant's certificate of attendance)",
    "public.short_link": "only redirects (302) to the seminar page, visited above",
    "admin.report_xlsx": "a spreadsheet (.xlsx) of the funder's report (its page is visited above)",
    "admin.report_pdf": "a PDF of the funder's report (its page is visited above)",
}


def get_routes(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())}


def test_every_get_route_is_visited_or_excused(module_app):
    visited = {visit.endpoint for visit in PAGES if visit.endpoint}
    routes = get_routes(module_app)
    missing = routes - visited - set(NOT_HTML)
    assert not missing, (f"GET routes this test does not visit: {sorted(missing)}. Add a Visit to PAGES "
                         "(or, for a route that answers no HTML page, an entry with the reason to NOT_HTML).")
    every_route = {rule.endpoint for rule in module_app.url_map.iter_rules()}
    assert not (visited | set(NOT_HTML)) - every_route, "PAGES or NOT_HTML name routes that no longer exist"
    assert not visited & set(NOT_HTML), "a route is both visited and excused"


# --- the check ------------------------------------------------------------------------------------

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
# the colour rules and the languages they run in (the module's docstring says why these two)
COLOUR_RULES = ("color-contrast", "link-in-text-block")
COLOUR_LANGUAGES = ("de", "ar")
AXE_OPTIONS_WITHOUT_COLOUR = AXE_OPTIONS | {"rules": {rule: {"enabled": False} for rule in COLOUR_RULES}}


def axe_options(language: str) -> dict:
    return AXE_OPTIONS if language in COLOUR_LANGUAGES else AXE_OPTIONS_WITHOUT_COLOUR
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
FINDINGS = """options => axe.run(document, options).then(results => results.violations.map(v => (
    {id: v.id, impact: v.impact, help: v.help,
     nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""}))})))"""


def in_language(path: str, language: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={language}"


def route_of(app, url: str, *, posted: bool) -> str | None:
    """The endpoint that answered `url` (after a form was sent, the POST route if there is one)."""
    adapter = app.url_map.bind("localhost")
    for method in ("POST", "GET") if posted else ("GET",):
        try:
            return adapter.match(urlsplit(url).path, method=method)[0]
        except HTTPException:
            continue
    return None


def describe(violation: dict) -> str:
    nodes = violation["nodes"]
    where = "; ".join(f"{node['target']}: {node['summary'].splitlines()[-1].strip()}" for node in nodes[:3])
    more = f" (+{len(nodes) - 3} more)" if len(nodes) > 3 else ""
    return f"{violation['id']} ({violation['impact']}): {violation['help']} – {where}{more}"


async def walk(browser, server, app, objects: dict, language: str) -> dict[str, list[str]]:
    """One person walks every page in one language, in a browser context of their own, and checks
    each page at both widths: the window is resized between the two checks (the page is laid out
    anew, media queries and all), which saves loading and filling in every page twice."""
    person = f"a11y-{language}"
    widths = list(WIDTHS)
    context = await browser.new_context(locale="en-GB", timezone_id="Europe/Berlin", viewport=WIDTHS[widths[0]])
    context.set_default_timeout(TIMEOUT_MS)
    await context.add_init_script(script=axe.axe_script)  # axe in every page, before anything else runs
    page = await context.new_page()
    problems: dict[str, list[str]] = {width: [] for width in widths}
    try:
        for visit in PAGES:
            await page.goto(server(in_language(visit.path(objects).format(language=language), language)))
            if visit.act is not None:
                await visit.act(page, person)
            status, lang = await page.evaluate(
                "[performance.getEntriesByType('navigation')[0].responseStatus, document.documentElement.lang]")
            endpoint = route_of(app, page.url, posted=visit.act is not None)
            if (status, endpoint) != (visit.status, visit.endpoint):
                summary = await page.locator(".error-summary").all_inner_texts()
                for width in widths:
                    problems[width].append(f"{visit.name}: not reached as planned: {status} from {endpoint} at "
                                           f"{page.url}, expected {visit.status} from {visit.endpoint} {summary}")
                continue
            widths.reverse()  # the width the last page ended at first: one resize per page
            for width in widths:
                await page.set_viewport_size(WIDTHS[width])
                found = problems[width]
                if lang != language:
                    found.append(f"{visit.name}: the page says lang={lang!r}")
                if (overflow := await page.evaluate(OVERFLOW)) > 0:
                    found.append(f"{visit.name}: the page scrolls sideways ({overflow} px too wide)")
                found += [f"{visit.name}: {describe(v)}" for v in await page.evaluate(FINDINGS, axe_options(language))]
    finally:
        await context.close()
    return problems


async def broken_on_purpose(browser, server) -> dict[str, list[str]]:
    """What axe says, with the options of each language, about the catalogue with an image without
    text, an empty link and pale grey text put in: proof that the checks run and report (a test that
    finds nothing must be able to find something), the colour rules where they are meant to."""
    context = await browser.new_context(viewport=WIDTHS["phone"])
    await context.add_init_script(script=axe.axe_script)
    page = await context.new_page()
    await page.goto(server("/"))
    await page.locator("main").evaluate(
        """main => main.insertAdjacentHTML("beforeend",
            '<img src="/static/none.png"><a href="/"></a><p class="lead">Pale grey</p>')""")
    await page.locator("main p.lead").last.evaluate("p => p.style.color = '#ccc'")
    found = {language: sorted(v["id"] for v in await page.evaluate(FINDINGS, axe_options(language)))
             for language in LANGUAGES}
    await context.close()
    return found


async def walk_everywhere(server, app, objects: dict) -> dict:
    """Every (language, width) at once: while one page is checked, others load (two cores kept busy)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            *walks, broken = await asyncio.gather(*(walk(chromium, server, app, objects, language)
                                                    for language in LANGUAGES), broken_on_purpose(chromium, server))
        finally:
            await chromium.close()
    found = {(language, width): problems for language, walked in zip(LANGUAGES, walks)
             for width, problems in walked.items()}
    return found | {"broken on purpose": broken}


@pytest.fixture(scope="module")
def findings(module_app, module_live_server, objects):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing (apt-get install -y chromium-headless-shell; make test installs it).", pytrace=False)
    started = time.monotonic()
    found = asyncio.run(walk_everywhere(module_live_server, module_app, objects))
    print(f"\naxe: {len(PAGES)} pages x {len(LANGUAGES)} languages x {len(WIDTHS)} widths "
          f"in {time.monotonic() - started:.1f} s")
    return found


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_has_an_accessibility_violation(findings, module_app, language, width):
    assert set(LANGUAGES) == set(module_app.config["BOOKING_INTERFACE_LANGUAGES"])
    problems = findings[(language, width)]
    assert not problems, f"{len(problems)} accessibility problems ({language}, {width}):\n" + "\n".join(problems)


def test_axe_reports_what_it_finds(findings):
    assert findings["broken on purpose"] == {
        "de": ["color-contrast", "image-alt", "link-name"], "tr": ["image-alt", "link-name"],
        "ar": ["color-contrast", "image-alt", "link-name"], "en": ["image-alt", "link-name"]}
