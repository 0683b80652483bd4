"""Issue 15, "Done when", walked as a new user would: through the real pages, forms and emails.

`make run` (here: the development configuration's `flask booking seed-demo --if-empty`) prints the
demo coordinator's login; the coordinator logs in, creates a two-session seminar with one place on
the editor page (adding the second session row without JavaScript), publishes it and finds it in the
public catalogue. Two people register on the public page; the second lands on the waiting list. The
mail worker (booking.mail.dispatcher.dispatch_pending) delivers to the real SMTP test server. The
coordinator moves a session (after the "1 participant will be told" step) and the participant's
calendar update arrives; cancels the confirmed participant with a note, while the mail server
refuses that participant's address: the waitlisted person gets the place and their emails, the
refused emails show as failed on the overview and in the email log, and once the mailbox takes mail
again the coordinator sends them again from the log and they arrive, the note included.

Every form is read from the page it is on (its action, hidden fields, defaults and buttons), so a
renamed field or a lost button fails here as it would fail the office. At each step the test checks
what the user sees and what the database holds. SQLite, and PostgreSQL with TEST_DATABASE_URL.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from werkzeug.datastructures import MultiDict

from booking import create_app
from booking.accounts.models import Role
from booking.accounts.services import create_user
from booking.extensions import db
from booking.mail import services as mail_services
from booking.mail.dispatcher import dispatch_pending
from booking.mail.models import MessageKind, MessageStatus, OutboxMessage
from booking.registrations.models import Registration, RegistrationStatus
from booking.seminars.models import Seminar, SeminarStatus, Session
from config import DevelopmentConfig

from tests.conftest import RecordingHandler, _database_url
from tests.factories import make_registration, make_seminar

BERLIN = ZoneInfo("Europe/Berlin")
TITLE = "Fördermittel beantragen: Schritt für Schritt"
FIRST = {"first_name": "Hülya", "last_name": "Arslan", "email": "huelya.arslan@example.net"}
SECOND = {"first_name": "Tarek", "last_name": "Mansour", "email": "tarek.mansour@example.net"}
NOTE = "Leider müssen wir Ihren Platz einer Person aus der Warteliste geben. Herzliche Grüße, Ihr Team."


# --- reading pages as a browser does -------------------------------------------------------------

@dataclass
class Button:
    name: str | None
    value: str
    label: str


@dataclass
class PageForm:
    """One <form> of a page: what a browser would send from it before anyone types."""

    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # select name: (value, label)
    buttons: list[Button] = field(default_factory=list)

    def names(self) -> set[str]:
        return {name for name, _ in self.fields} | set(self.options) | {b.name for b in self.buttons if b.name}

    def option(self, name: str, label: str) -> str:
        """The value of the option whose label is `label` (as a user picks it by what it says)."""
        matches = [value for value, text in self.options[name] if text == label]
        assert matches, f"no option {label!r} in {name}: {self.options[name]}"
        return matches[0]


class FormReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self.form: PageForm | None = None
        self.select: tuple[str, bool, list, list] | None = None  # name, multiple, options, selected
        self.option: list | None = None  # value (or None), selected, label text
        self.textarea: list | None = None  # name, text
        self.button: list | None = None  # name, value, label

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.form = PageForm(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self.form)
        elif self.form is None or "disabled" in a:
            return
        elif tag == "input":
            kind, name = a.get("type", "text").lower(), a.get("name")
            if kind in ("submit", "image"):
                self.form.buttons.append(Button(name, a.get("value", ""), a.get("value", "")))
            elif name and kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.form.fields.append((name, a.get("value", "on")))
                self.form.options.setdefault(name, []).append((a.get("value", "on"), a.get("id", "")))
            elif name and kind not in ("button", "reset", "file"):
                self.form.fields.append((name, a.get("value", "")))
        elif tag == "button":
            self.button = [a.get("name"), a.get("value", ""), "", a.get("type", "submit").lower()]
        elif tag == "select" and a.get("name"):
            self.select = (a["name"], "multiple" in a, [], [])
        elif tag == "option" and self.select is not None:
            self.option = [a.get("value"), "selected" in a, ""]
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]

    def handle_data(self, data):
        if self.option is not None:
            self.option[2] += data
        if self.textarea is not None:
            self.textarea[1] += data
        if self.button is not None:
            self.button[2] += data

    def handle_endtag(self, tag):
        if tag == "option" and self.option is not None:
            value, selected, label = self.option
            label = " ".join(label.split())
            value = label if value is None else value
            self.select[2].append((value, label))
            if selected:
                self.select[3].append(value)
            self.option = None
        elif tag == "select" and self.select is not None:
            name, multiple, options, selected = self.select
            self.form.options[name] = options
            chosen = selected if multiple else (selected[-1:] or [options[0][0]] if options else [])
            self.form.fields.extend((name, value) for value in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            self.form.fields.append((name, text[1:] if text.startswith("\n") else text))
            self.textarea = None
        elif tag == "button" and self.button is not None:
            name, value, label, kind = self.button
            if kind == "submit":
                self.form.buttons.append(Button(name, value, " ".join(label.split())))
            self.button = None
        elif tag == "form":
            self.form = None


def text_of(response) -> str:
    """The page as a reader sees its words: markup removed, entities decoded, spaces collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def form_on(response, *, button: str, action: str | None = None) -> PageForm:
    """The form on the page that has the button labelled `button` (and posts to `action`)."""
    reader = FormReader()
    reader.feed(response.get_data(as_text=True))
    found = [f for f in reader.forms if any(b.label == button for b in f.buttons)
             and (action is None or f.action.endswith(action))]
    labels = [[b.label for b in f.buttons] for f in reader.forms]
    assert len(found) == 1, f"{len(found)} forms with the button {button!r} on {response.request.path}: {labels}"
    return found[0]


def submit(client, response, *, button: str, values: dict | None = None, action: str | None = None):
    """Fill in the form with `values` (a list for several checked boxes, None to clear) and press
    the button labelled `button`, as a browser would; redirects are followed."""
    form = form_on(response, button=button, action=action)
    data = MultiDict(form.fields)
    for name, value in (values or {}).items():
        assert name in form.names(), f"the form has no field {name!r}: {sorted(form.names())}"
        data.poplist(name)
        for one in (value if isinstance(value, list) else [] if value is None else [value]):
            data.add(name, one)
    pressed = next(b for b in form.buttons if b.label == button)
    if pressed.name:
        data.add(pressed.name, pressed.value)
    page_url = response.request.url
    url = urljoin(page_url, form.action or page_url)
    if form.method == "post":
        return client.post(url, data=data, follow_redirects=True)
    return client.get(urlsplit(url).path, query_string=data, follow_redirects=True)


def table_rows(response) -> list[tuple[str, list[str]]]:
    """The rows of the email log: (message id, the text of each cell)."""
    rows = re.findall(r'<tr id="message-(\d+)">(.*?)</tr>', response.get_data(as_text=True), flags=re.S)
    return [(row_id, [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
                      for cell in re.findall(r"<td\b.*?</td>", row, flags=re.S)]) for row_id, row in rows]


def follow(client, response, link_text: str):
    """Open the link whose text is `link_text`."""
    links = re.findall(r'<a\b[^>]*href="([^"]+)"[^>]*>(.*?)</a>', response.get_data(as_text=True), flags=re.S)
    hrefs = [href for href, inner in links
             if " ".join(html.unescape(re.sub(r"<[^>]+>", "", inner)).split()) == link_text]
    assert hrefs, f"no link {link_text!r} on {response.request.path}"
    return client.get(urljoin(response.request.url, html.unescape(hrefs[0])), follow_redirects=True)


# --- mail ----------------------------------------------------------------------------------------

class MailboxHandler(RecordingHandler):
    """The SMTP server; it refuses, for good, the addresses in `refused` (a full mailbox, say)."""

    def __init__(self):
        super().__init__()
        self.refused: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return f"550 5.2.2 <{address}>: Recipient mailbox full"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def worker_pass(app) -> None:
    """What the mail worker beside `make run` does: send everything that is due."""
    with app.app_context():
        while dispatch_pending().handled:
            pass
        db.session.remove()


def calendar_of(message):
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return icalendar.Calendar.from_ical(part.get_content())
    return None


def event_of(message):
    calendar = calendar_of(message)
    assert calendar is not None, f"no calendar part in {message['Subject']!r}"
    event, = calendar.walk("VEVENT")
    return calendar, event


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def to(messages, address: str) -> list:
    return [m for m in messages if address in m["To"]]


# --- the app as `make run` starts it -------------------------------------------------------------

@pytest.fixture
def mail_server(smtp_server):
    smtp_server.stop()
    smtp_server.handler = MailboxHandler()
    smtp_server.start()
    return smtp_server


@pytest.fixture
def office_app(tmp_path, mail_server):
    """The development configuration `make run` uses (demo accounts, rate limits on), with the
    test database and the SMTP test server as its mail server."""

    class Development(DevelopmentConfig):
        TESTING = True
        SQLALCHEMY_DATABASE_URI = _database_url(tmp_path)
        MAIL_SERVER = "127.0.0.1"
        MAIL_PORT = mail_server.port
        BOOKING_MAIL_LOG = ""

    app = create_app(Development)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def local(day: date, at: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(at), tzinfo=BERLIN)


def seminar_in_db(app) -> tuple[Seminar, list[Session]]:
    with app.app_context():
        seminar = db.session.scalar(db.select(Seminar).where(Seminar.title == TITLE))
        sessions = sorted(seminar.sessions, key=lambda s: s.starts_at)
        db.session.expunge_all()
        return seminar, sessions


def registrations_in_db(app) -> dict[str, Registration]:
    with app.app_context():
        rows = db.session.scalars(db.select(Registration).join(Seminar).where(Seminar.title == TITLE))
        found = {r.email: r for r in rows}
        db.session.expunge_all()
        return found


def outbox_for(app, address: str) -> list[tuple[MessageKind, MessageStatus, str | None]]:
    with app.app_context():
        rows = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.recipient == address)
                                  .order_by(OutboxMessage.id))
        return [(m.kind, m.status, m.last_error) for m in rows]


# --- the walk --------------------------------------------------------------------------------------

def test_the_office_runs_a_seminar_from_the_browser_as_the_issue_is_done_when(office_app, mail_server):
    app, mails = office_app, mail_server.messages

    # `make run`: the demo data and the demo logins, printed at the start
    started = app.test_cli_runner().invoke(args=["booking", "seed-demo", "--if-empty"])
    assert started.exit_code == 0, started.output
    login = re.search(r"coordinator\s+(\S+@\S+)\s+password: (\S+)", started.output)
    assert login, started.output
    worker_pass(app)  # the worker beside the server sends the demo data's emails
    demo_mails = len(mails)

    # --- log in with the printed demo account
    office = app.test_client()
    page = office.get("/admin/", follow_redirects=True)
    assert page.request.path == "/admin/login"
    page = submit(office, page, button="Log in", values={"email": login[1], "password": login[2]})
    assert page.request.path == "/admin/"
    assert "Demo-Koordination" in text_of(page)

    # --- create a two-session seminar with one place on the editor page
    page = follow(office, follow(office, page, "Seminars"), "New seminar")
    assert page.request.path == "/admin/seminars/new"
    form = form_on(page, button="Save")
    today = datetime.now(BERLIN).date()
    first_day, second_day = today + timedelta(days=14), today + timedelta(days=21)
    moved_day = second_day + timedelta(days=1)
    details = {
        "title": TITLE, "topic_id": form.option("topic_id", "Vereinsrecht"),
        "summary": "Wie Vereine Zuschüsse der Stadt und von Stiftungen beantragen.",
        "description": "Zwei Abende mit Beispielen aus Offenbacher Vereinen.",
        "languages": ["de", "tr"], "trainer": "Derya Şahin", "venue_name": "Haus der Vereine",
        "venue_address": "Bieberer Straße 1, 63065 Offenbach am Main", "capacity": "1",
        "sessions-0-day": first_day.isoformat(), "sessions-0-starts": "18:00", "sessions-0-ends": "20:30",
    }
    page = submit(office, page, button="Add another session", values=details)  # no JavaScript needed
    assert "Session 2" in text_of(page) and page.request.path == "/admin/seminars/new"
    page = submit(office, page, button="Save", values={
        "sessions-1-day": second_day.isoformat(), "sessions-1-starts": "18:00", "sessions-1-ends": "20:30"})
    assert page.history and page.history[0].status_code == 302
    shown = text_of(page)
    assert "The seminar is saved as a draft." in shown and f"{TITLE} Draft" in shown
    seminar, sessions = seminar_in_db(app)
    assert (seminar.status, seminar.capacity, seminar.languages) == (SeminarStatus.DRAFT, 1, "de tr")
    assert [(s.starts_at, s.ends_at) for s in sessions] == [
        (local(first_day, "18:00"), local(first_day, "20:30")),
        (local(second_day, "18:00"), local(second_day, "20:30"))]
    assert TITLE not in text_of(app.test_client().get("/"))  # a draft is the office's alone

    # --- publish it and find it in the public catalogue
    page = submit(office, page, button="Publish")
    assert "The seminar is published: it is in the catalogue and open for registration." in text_of(page)
    assert f"{TITLE} Published" in text_of(page)
    assert seminar_in_db(app)[0].status == SeminarStatus.PUBLISHED

    catalogue = app.test_client().get("/")
    assert TITLE in text_of(catalogue)

    # --- two people register on the public page; the second waits
    outcomes = []
    for person, association in ((FIRST, "Türkischer Elternverein Offenbach e.V."),
                                (SECOND, "Deutsch-Arabischer Kulturverein Offenbach e.V.")):
        visitor = app.test_client()
        seminar_page = follow(visitor, visitor.get("/"), TITLE)
        assert seminar_page.request.path == f"/seminars/{seminar.slug}"
        assert "Haus der Vereine" in text_of(seminar_page)
        # once the place is taken, the button says where the second person goes
        button = "Register" if not outcomes else "Join the waiting list"
        form = form_on(seminar_page, button=button)
        done = submit(visitor, seminar_page, button=button, values=person | {
            "association_id": form.option("association_id", association), "preferred_language": "en",
            "consent": "y"})
        assert done.history and done.request.path.startswith("/registrations/"), text_of(done)[:2000]
        outcomes.append(text_of(done))
    assert "You have a place." in outcomes[0]
    assert "You are number 1 on the waiting list." in outcomes[1]
    people = registrations_in_db(app)
    assert {a: r.status for a, r in people.items()} == {
        FIRST["email"]: RegistrationStatus.CONFIRMED, SECOND["email"]: RegistrationStatus.WAITLISTED}

    workspace = text_of(office.get(f"/admin/seminars/{seminar.id}"))
    assert "Places taken 100 % 1 of 1 Waiting list 1 person" in workspace

    # --- the worker delivers: a confirmation and one invitation per session; the waiting-list email
    worker_pass(app)
    arrived = mails[demo_mails:]
    first_mails, second_mails = to(arrived, FIRST["email"]), to(arrived, SECOND["email"])
    assert len(arrived) == len(first_mails) + len(second_mails) == 4
    confirmation, *invitations = first_mails
    assert calendar_of(confirmation) is None and confirmation["Subject"] == f"Your place: {TITLE}"
    assert "Hello Hülya Arslan," in body_of(confirmation)
    uids = {}
    for invitation, session in zip(invitations, sessions, strict=True):
        calendar, event = event_of(invitation)
        assert str(calendar["METHOD"]) == "REQUEST"
        assert event.decoded("DTSTART") == session.starts_at
        uids[session.id] = (str(event["UID"]), int(event["SEQUENCE"]))
    assert len({uid for uid, _ in uids.values()}) == 2
    waiting, = second_mails
    assert calendar_of(waiting) is None and waiting["Subject"] == f"Waiting list: {TITLE}"
    assert [(k, s) for k, s, _ in outbox_for(app, FIRST["email"])] == [
        (MessageKind.CONFIRMATION, MessageStatus.SENT), (MessageKind.INVITATION, MessageStatus.SENT),
        (MessageKind.INVITATION, MessageStatus.SENT)]

    # --- move the second session: the page says who will be told before anything is saved
    page = follow(office, office.get(f"/admin/seminars/{seminar.id}"), "Edit seminar and sessions")
    moved = {"sessions-1-day": moved_day.isoformat(), "sessions-1-starts": "19:00", "sessions-1-ends": "21:30"}
    page = submit(office, page, button="Save", values=moved)
    shown = text_of(page)
    assert "1 participant will be told" in shown and "Nothing is saved yet." in shown
    assert "everyone with a place gets a calendar update" in shown
    assert seminar_in_db(app)[1][1].starts_at == local(second_day, "18:00")  # nothing saved yet
    assert len(outbox_for(app, FIRST["email"])) == 3

    page = submit(office, page, button="Save and tell the participants")
    shown = text_of(page)
    assert "The seminar is saved." in shown and "1 participant is sent the changes." in shown
    seminar, sessions = seminar_in_db(app)
    assert (sessions[1].starts_at, sessions[1].ends_at) == (local(moved_day, "19:00"), local(moved_day, "21:30"))
    assert sessions[1].revision > 0 and sessions[0].revision == 0
    assert "Session moved or its place changed (1 participant told)" in shown  # the seminar's history

    before = len(mails)
    worker_pass(app)
    update, = mails[before:]
    assert FIRST["email"] in update["To"]  # the waiting list has no calendar entry to update
    assert update["Subject"] == f"Changed: {TITLE}, {moved_day:%a, %b %-d, %Y}, 19:00\u2009–\u200921:30"
    calendar, event = event_of(update)
    old_uid, old_sequence = uids[sessions[1].id]
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == old_uid and int(event["SEQUENCE"]) > old_sequence
    assert event.decoded("DTSTART") == local(moved_day, "19:00")
    assert event.decoded("DTEND") == local(moved_day, "21:30")
    last_sequence = int(event["SEQUENCE"])

    # --- cancel the confirmed participant, with a note; the mail server refuses her address meanwhile
    page = follow(office, office.get(f"/admin/seminars/{seminar.id}"), "Participants and waiting list")
    listed = text_of(page)
    assert "Arslan, Hülya" in listed and "Mansour, Tarek" in listed
    page = follow(office, page, "Arslan, Hülya")
    assert "Has a place." in text_of(page)
    page = follow(office, page, "Cancel registration")
    assert "Cancel the registration of Hülya Arslan?" in text_of(page)
    page = submit(office, page, button="Cancel this registration", values={"note": NOTE})
    shown = text_of(page)
    assert "The registration of Hülya Arslan is cancelled; they are told by email." in shown
    assert "1 person from the waiting list got the place." in shown and "Cancelled on" in shown
    people = registrations_in_db(app)
    assert {a: r.status for a, r in people.items()} == {
        FIRST["email"]: RegistrationStatus.CANCELLED, SECOND["email"]: RegistrationStatus.CONFIRMED}
    assert "Places taken 100 % 1 of 1 Waiting list 0 people" in text_of(office.get(f"/admin/seminars/{seminar.id}"))

    mail_server.handler.refused = {FIRST["email"]}
    before = len(mails)
    worker_pass(app)
    arrived = mails[before:]
    assert not to(arrived, FIRST["email"])
    promotion, *promoted_invitations = to(arrived, SECOND["email"])
    assert len(arrived) == 3
    assert calendar_of(promotion) is None and promotion["Subject"] == f"You now have a place: {TITLE}"
    assert "Hello Tarek Mansour," in body_of(promotion) and f"{moved_day:%b %-d, %Y}, 19:00\u2009–\u200921:30" in body_of(promotion)
    personal_link = re.search(r"Your personal link \(keep this email\):\n(\S+)", body_of(promotion))[1]
    assert "You have a place." in text_of(app.test_client().get(urlsplit(personal_link).path))
    for invitation, session in zip(promoted_invitations, sessions, strict=True):
        calendar, event = event_of(invitation)
        assert str(calendar["METHOD"]) == "REQUEST" and event.decoded("DTSTART") == session.starts_at
    assert [(k, s) for k, s, _ in outbox_for(app, SECOND["email"])] == [
        (MessageKind.WAITLISTED, MessageStatus.SENT), (MessageKind.PROMOTION, MessageStatus.SENT),
        (MessageKind.INVITATION, MessageStatus.SENT), (MessageKind.INVITATION, MessageStatus.SENT)]
    refused = [(k, s, e) for k, s, e in outbox_for(app, FIRST["email"]) if s != MessageStatus.SENT]
    assert [(k, s) for k, s, _ in refused] == [(MessageKind.REGISTRATION_CANCELLED, MessageStatus.FAILED),
                                               (MessageKind.SESSION_CANCEL, MessageStatus.FAILED),
                                               (MessageKind.SESSION_CANCEL, MessageStatus.FAILED)]
    assert all("550" in error and "mailbox full" in error for _, _, error in refused)

    # --- the overview says so; the email log shows why; the mailbox is emptied; send them again
    overview = office.get("/admin/")
    assert "3 emails could not be delivered." in text_of(overview)
    log = follow(office, overview, "3 emails could not be delivered.")
    assert "3 messages" in text_of(log)
    rows = table_rows(log)
    cells = [row for _, row in rows]
    # Written, State, Kind, Recipient, Seminar, Attempts, Last error
    assert sorted(row[1:6] for row in cells) == [
        ["Failed", "Registration cancelled", FIRST["email"], TITLE, "1"],
        ["Failed", "Session cancelled (calendar)", FIRST["email"], TITLE, "1"],
        ["Failed", "Session cancelled (calendar)", FIRST["email"], TITLE, "1"]]
    assert all("550" in row[6] and "mailbox full" in row[6] for row in cells), [row[6] for row in cells]

    mail_server.handler.refused = set()  # the participant has emptied her mailbox
    for message_id, _ in rows:
        message_page = office.get(f"/admin/emails/{message_id}")
        assert "Failed" in text_of(message_page) and "550" in text_of(message_page)
        done = submit(office, message_page, button="Send again")
        assert "The message will be sent again in a moment." in text_of(done)
        assert "Waiting to be sent" in text_of(done)
    assert [s for _, s, _ in outbox_for(app, FIRST["email"])][-3:] == [MessageStatus.PENDING] * 3

    before = len(mails)
    worker_pass(app)
    arrived = mails[before:]
    assert len(arrived) == len(to(arrived, FIRST["email"])) == 3
    cancellation, *calendar_cancels = arrived
    assert calendar_of(cancellation) is None
    assert cancellation["Subject"] == f"Your registration is cancelled: {TITLE}"
    assert f"A note from the office:\n{NOTE}" in body_of(cancellation)
    personal_link = re.search(r"Your personal link \(keep this email\):\n(\S+)", body_of(cancellation))[1]
    assert "This registration is cancelled." in text_of(app.test_client().get(urlsplit(personal_link).path))
    cancelled_uids = set()
    for message in calendar_cancels:
        calendar, event = event_of(message)
        assert str(calendar["METHOD"]) == "CANCEL"
        cancelled_uids.add(str(event["UID"]))
        if str(event["UID"]) == old_uid:
            assert int(event["SEQUENCE"]) > last_sequence
    assert cancelled_uids == {uid for uid, _ in uids.values()}
    assert {s for _, s, _ in outbox_for(app, FIRST["email"])} == {MessageStatus.SENT}

    overview = text_of(office.get("/admin/"))
    assert "could not be delivered" not in overview
    shown = text_of(office.get("/admin/emails?state=failed"))
    assert "No message matches these filters." in shown


def test_every_email_in_the_log_says_what_kind_it_is(office_app, mail_server):
    """The email log named only the kinds it was written with: a message to the participants, a
    staff invitation and a password link showed an empty "Kind" in the log and on their page."""
    assert set(mail_services.KIND_LABELS) == set(MessageKind)
    app = office_app
    with app.app_context():
        create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination",
                    password="ein langes Passwort")
        seminar = make_seminar(sessions=1, title=TITLE)
        make_registration(seminar, email=FIRST["email"])
        db.session.commit()
        seminar_id = seminar.id
    office = app.test_client()
    page = submit(office, office.get("/admin/login"), button="Log in",
                  values={"email": "koordination@stadt.example", "password": "ein langes Passwort"})

    page = follow(office, follow(office, page, "Users"), "Invite someone")
    submit(office, page, button="Send invitation",
           values={"display_name": "Derya Şahin", "email": "derya@stadt.example"})
    page = office.get(f"/admin/seminars/{seminar_id}/registrations")
    page = submit(office, follow(office, page, "Write to the participants"), button="Continue",
                  values={"subject": "Raumänderung", "body": "Wir treffen uns im großen Saal."})
    page = submit(office, page, button="Send to 1 person")
    assert "Your message goes out to 1 person." in text_of(page)

    rows = table_rows(office.get("/admin/emails"))
    kinds = sorted(cells[2] for _, cells in rows)  # Written, State, Kind, ...
    assert kinds == ["Calendar invitation", "Confirmation", "Invitation to the workspace", "Message from the office"]
    for message_id, _ in rows:
        shown = text_of(office.get(f"/admin/emails/{message_id}"))
        assert re.search(r"Kind (Calendar invitation|Confirmation|Invitation to the workspace|"
                         r"Message from the office) Recipient", shown), shown
