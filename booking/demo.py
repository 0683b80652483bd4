"""Demo data for a local trial: topics, seminars in Offenbach, associations and registrations.

Dates are relative to the day the data is loaded, so the catalogue always looks current.
Registrations go through the registration service, so capacity, the per-association maximum
and the waiting list come out exactly as they would for real sign-ups. Nothing here commits:
the `flask booking seed-demo` command commits once at the end.

In the development configuration only (BOOKING_DEMO_ACCOUNTS), there is also a demo coordinator
and a demo trainer with known passwords, so that `make run` lets one log in to the workspace.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func

from .accounts.models import Role
from .accounts.services import create_user, user_by_email
from .associations.models import AssociationStatus, LegalForm
from .attendance import services as attendance
from .attendance.models import AttendanceStatus
from .associations.services import find_or_create_association
from .database import begin_write, utcnow
from .extensions import db
from .registrations.models import Registration, RegistrationStatus
from .registrations.services import Applicant, register
from .seminars.models import Seminar, SeminarStatus, Session, Topic

TOPICS = [
    ("organisation", "Organisation"),
    ("vereinsrecht", "Vereinsrecht"),
    ("oeffentlichkeitsarbeit", "Öffentlichkeitsarbeit"),
]

HAUS_DER_VEREINE = ("Haus der Vereine", "Bieberer Straße 1, 63065 Offenbach am Main")
STADTBIBLIOTHEK = ("Stadtbibliothek Offenbach", "Herrnstraße 84, 63065 Offenbach am Main")
BUESING_PALAIS = ("Büsing Palais", "Herrnstraße 80, 63065 Offenbach am Main")
VHS = ("Volkshochschule Offenbach", "Berliner Straße 77, 63065 Offenbach am Main")

# (name, district, legal form, contact email)
ASSOCIATIONS = [
    ("Türkischer Elternverein Offenbach e.V.", "Nordend", LegalForm.REGISTERED,
     "vorstand@tuerkischer-elternverein-of.example.org"),
    ("Deutsch-Arabischer Kulturverein Offenbach e.V.", "Mathildenviertel", LegalForm.REGISTERED,
     "info@dakv-offenbach.example.org"),
    ("Eritreische Gemeinde Offenbach", "Senefelderquartier", LegalForm.UNREGISTERED,
     "kontakt@eritreische-gemeinde-of.example.org"),
    ("Polnischer Kulturkreis Offenbach e.V.", "Westend", LegalForm.REGISTERED,
     "kontakt@polnischer-kulturkreis.example.org"),
    ("Afghanischer Frauenverein Offenbach e.V.", "Lauterborn", LegalForm.REGISTERED,
     "vorstand@afghanischer-frauenverein.example.org"),
    ("Ghana Union Offenbach", "Innenstadt", LegalForm.UNREGISTERED,
     "ghana.union.offenbach@example.org"),
    ("Syrische Nachbarschaftsinitiative Bieber", "Bieber", LegalForm.INITIATIVE, None),
    ("Griechische Gemeinde Offenbach e.V.", "Bürgel", LegalForm.REGISTERED,
     "info@griechische-gemeinde-of.example.org"),
    ("Kurdisches Jugendnetzwerk Offenbach", "Tempelsee", LegalForm.INITIATIVE, None),
    ("Marokkanischer Elternverein Offenbach e.V.", "Innenstadt", LegalForm.REGISTERED,
     "elternverein.marokko@example.org"),
]

# (first name, last name, preferred language, association index into ASSOCIATIONS)
PEOPLE = [
    ("Ayşe", "Yılmaz", "tr", 0), ("Mehmet", "Kaya", "tr", 0), ("Elif", "Demir", "de", 0),
    ("Hatice", "Öztürk", "tr", 0),
    ("Fatima", "Al-Hassan", "ar", 1), ("Omar", "Haddad", "ar", 1), ("Rania", "Khalil", "de", 1),
    ("Senait", "Tesfay", "en", 2), ("Yonas", "Ghebremariam", "de", 2), ("Helen", "Kidane", "en", 2),
    ("Katarzyna", "Nowak", "de", 3), ("Piotr", "Wiśniewski", "de", 3), ("Agnieszka", "Kowalska", "de", 3),
    ("Mariam", "Rahimi", "de", 4), ("Farida", "Ahmadi", "en", 4), ("Zahra", "Hosseini", "de", 4),
    ("Kwame", "Mensah", "en", 5), ("Akosua", "Boateng", "en", 5), ("Kofi", "Asante", "de", 5),
    ("Lina", "Darwish", "ar", 6), ("Ahmad", "Al-Khatib", "ar", 6), ("Nour", "Sabbagh", "de", 6),
    ("Eleni", "Papadopoulou", "de", 7), ("Giorgos", "Nikolaidis", "de", 7),
    ("Rojda", "Aydın", "tr", 8), ("Baran", "Çelik", "de", 8), ("Dilan", "Doğan", "tr", 8),
    ("Samira", "El Amrani", "ar", 9), ("Youssef", "Benali", "de", 9), ("Khadija", "Ouali", "de", 9),
]

NEEDS = {
    0: "Kinderbetreuung für zwei Kinder (3 und 5 Jahre) wäre eine große Hilfe.",
    7: "Ich verstehe Deutsch gut, eine Übersetzung ins Tigrinya für Fachbegriffe wäre hilfreich.",
    13: "Barrierefreier Zugang (Rollstuhl).",
    19: "Ich komme mit meinem Baby (4 Monate).",
}

EVENING = (time(18, 0), time(20, 30))
SATURDAY = (time(10, 0), time(15, 0))
TUESDAY, WEDNESDAY, THURSDAY, SATURDAY_WEEKDAY = 1, 2, 3, 5


@dataclass
class DemoSeminar:
    slug: str
    title: str
    topic: str
    summary: str
    description: str
    languages: str
    trainer: str
    venue: tuple[str, str]
    capacity: int
    # The first session is on `weekday` (None: any day Monday to Friday) nearest to
    # `today + first_day`: on or after it, or on or before it when first_day is negative.
    # Then one session a week.
    first_day: int
    weekday: int | None
    sessions: int
    hours: tuple[time, time] = EVENING
    max_per_association: int | None = None
    status: SeminarStatus = SeminarStatus.PUBLISHED
    deadline_days_before: int | None = None
    # indexes into PEOPLE, registered in this order
    registrants: list[int] = field(default_factory=list)
    # a session (by position) that meets somewhere else than the seminar's venue
    moved_session: tuple[int, tuple[str, str]] | None = None
    # a seminar that is over: its registrations came in this many days before its first session,
    # and `attendance` holds one pattern per registrant, a letter per session (P present, A absent,
    # E excused), ticked as the trainer would have on the day
    registered_days_before: int | None = None
    attendance: list[str] = field(default_factory=list)


FULL_SLUG = "satzung-vorstand-mitgliederversammlung"
ASSOCIATION_LIMIT_SLUG = "gemeinnuetzigkeit-und-vereinsfinanzen"
DRAFT_SLUG = "veranstaltungen-planen-und-bewerben"
STARTED_SLUG = "ehrenamtliche-gewinnen-und-halten"
PAST_SLUG = "kassenfuehrung-im-verein"

SEMINARS = [
    DemoSeminar(
        slug="vereinsgruendung-schritt-fuer-schritt",
        title="Vereinsgründung Schritt für Schritt",
        topic="vereinsrecht",
        summary="Von der Gründungsversammlung bis zum Eintrag ins Vereinsregister.",
        description=(
            "Sie möchten aus Ihrer Gruppe einen eingetragenen Verein machen? An drei Abenden gehen wir "
            "gemeinsam den Weg zur Eintragung: Wir besprechen, was in die Satzung gehört, wie die "
            "Gründungsversammlung abläuft und protokolliert wird, welche Unterlagen das Amtsgericht "
            "Offenbach verlangt und was Notar und Registergericht kosten.\n\n"
            "Bringen Sie gern Ihren Satzungsentwurf mit. Die Referentin erklärt Fachbegriffe auch auf Türkisch."
        ),
        languages="de tr",
        trainer="Derya Şahin, Rechtsanwältin",
        venue=HAUS_DER_VEREINE,
        capacity=20,
        first_day=8,
        weekday=TUESDAY,
        sessions=3,
        deadline_days_before=2,
        registrants=[0, 1, 24, 19, 16, 10],
    ),
    DemoSeminar(
        slug=FULL_SLUG,
        title="Satzung, Vorstand, Mitgliederversammlung: Vereinsrecht für die Praxis",
        topic="vereinsrecht",
        summary="Was der Vorstand darf und muss, und wie eine Mitgliederversammlung rechtssicher gelingt.",
        description=(
            "Wer haftet im Verein? Wie wird richtig zur Mitgliederversammlung eingeladen, und was passiert, "
            "wenn Beschlüsse angefochten werden? An zwei Abenden klären wir die häufigsten Fragen aus dem "
            "Vereinsalltag anhand von Beispielen aus Offenbacher Vereinen.\n\n"
            "Das Seminar wird auf Deutsch gehalten, ein Dolmetscher übersetzt ins Arabische."
        ),
        languages="de ar",
        trainer="Dr. Karim Mansour",
        venue=BUESING_PALAIS,
        capacity=12,
        first_day=13,
        weekday=WEDNESDAY,
        sessions=2,
        # 15 people from different associations for 12 places: the last three wait
        registrants=[4, 5, 0, 7, 10, 13, 16, 22, 24, 27, 8, 11, 20, 14, 28],
    ),
    DemoSeminar(
        slug=ASSOCIATION_LIMIT_SLUG,
        title="Gemeinnützigkeit und Vereinsfinanzen",
        topic="vereinsrecht",
        summary="Spenden, Mitgliedsbeiträge, Kassenprüfung: Finanzen im gemeinnützigen Verein.",
        description=(
            "Ein gemeinnütziger Verein hat steuerliche Vorteile, aber auch Pflichten. Wir erklären, wie "
            "man die Gemeinnützigkeit beim Finanzamt beantragt, Zuwendungsbestätigungen ausstellt, eine "
            "einfache Buchführung aufbaut und die Kassenprüfung vorbereitet.\n\n"
            "Damit möglichst viele Vereine teilnehmen können, gibt es höchstens zwei Plätze pro Verein."
        ),
        languages="de en",
        trainer="Monika Brandt, Steuerberaterin",
        venue=VHS,
        capacity=16,
        max_per_association=2,
        first_day=20,
        weekday=THURSDAY,
        sessions=3,
        deadline_days_before=3,
        # three people each from the Turkish and the Ghanaian association: their third one waits
        registrants=[0, 1, 2, 16, 17, 18, 4, 10, 23],
    ),
    DemoSeminar(
        slug="foerdermittel-beantragen",
        title="Fördermittel beantragen: von der Idee zum Antrag",
        topic="organisation",
        summary="Förderprogramme finden, Projekte planen und einen überzeugenden Antrag schreiben.",
        description=(
            "Stadt, Land, Bund und Stiftungen fördern die Arbeit von Migrantenorganisationen. An zwei "
            "Samstagen lernen Sie, passende Programme zu finden, ein Projekt mit Zielen, Zeitplan und "
            "Kostenplan zu beschreiben und den Verwendungsnachweis nicht zu fürchten.\n\n"
            "Mittagessen und Getränke werden gestellt."
        ),
        languages="de",
        trainer="Thomas Weber und Amina Yusuf",
        venue=STADTBIBLIOTHEK,
        capacity=24,
        first_day=27,
        weekday=SATURDAY_WEEKDAY,
        sessions=2,
        hours=SATURDAY,
        deadline_days_before=5,
        registrants=[13, 14, 8, 25, 11, 21, 29, 3],
    ),
    DemoSeminar(
        slug=STARTED_SLUG,
        title="Ehrenamtliche gewinnen und halten",
        topic="organisation",
        summary="Wie Vereine neue Engagierte finden, einbinden und ihnen danken.",
        description=(
            "Viele Vereine werden von wenigen Schultern getragen. In dieser Reihe geht es darum, Aufgaben "
            "zu verteilen, junge Menschen und Frauen für die Vorstandsarbeit zu gewinnen und eine Kultur "
            "der Anerkennung zu schaffen.\n\n"
            "Der erste Abend hat bereits stattgefunden; ein Einstieg zum zweiten Abend ist möglich."
        ),
        languages="de tr",
        trainer="Serkan Arslan",
        venue=HAUS_DER_VEREINE,
        capacity=18,
        # the first evening was a few days ago, the next two are still to come
        first_day=-4,
        weekday=None,
        sessions=3,
        registrants=[3, 26, 9, 12, 15],
    ),
    DemoSeminar(
        slug="pressearbeit-fuer-vereine",
        title="Pressearbeit für Vereine",
        topic="oeffentlichkeitsarbeit",
        summary="Pressemitteilungen schreiben und gute Kontakte zur lokalen Presse pflegen.",
        description=(
            "Ihr Verein organisiert ein Fest, eine Ausstellung oder ein Beratungsangebot, und niemand "
            "berichtet darüber? Wir üben, eine Pressemitteilung zu schreiben, Fotos rechtssicher zu "
            "verwenden und Redaktionen in Offenbach und Frankfurt anzusprechen.\n\n"
            "Am zweiten Abend treffen wir uns in der Stadtbibliothek, wo ein Lokaljournalist zu Gast ist."
        ),
        languages="de en",
        trainer="Julia Hartmann",
        venue=BUESING_PALAIS,
        capacity=15,
        first_day=41,
        weekday=WEDNESDAY,
        sessions=2,
        deadline_days_before=2,
        moved_session=(1, STADTBIBLIOTHEK),
        registrants=[6, 9, 17, 22],
    ),
    DemoSeminar(
        slug="social-media-fuer-migrantenorganisationen",
        title="Social Media für Migrantenorganisationen",
        topic="oeffentlichkeitsarbeit",
        summary="Instagram, Facebook und WhatsApp-Kanäle sinnvoll für die Vereinsarbeit nutzen.",
        description=(
            "Ein praktischer Workshop: Wir richten Vereinskonten ein, planen Beiträge für einen Monat, "
            "besprechen Datenschutz und Bildrechte und schauen, welche Kanäle Ihre Mitglieder wirklich "
            "erreichen. Bitte bringen Sie ein Smartphone oder einen Laptop mit.\n\n"
            "Die Trainerin spricht Deutsch und Arabisch."
        ),
        languages="de ar",
        trainer="Hiba Nasser",
        venue=VHS,
        capacity=30,
        first_day=55,
        weekday=SATURDAY_WEEKDAY,
        sessions=1,
        hours=SATURDAY,
        registrants=[19, 20, 21, 27, 5, 24, 16],
    ),
    DemoSeminar(
        slug="konflikte-im-vorstand",
        title="Konflikte im Vorstand gut lösen",
        topic="organisation",
        summary="Streit im Verein: erkennen, ansprechen, gemeinsam Lösungen finden.",
        description=(
            "Unterschiedliche Erwartungen, Generationen und Erfahrungen treffen im Vorstand aufeinander. "
            "An vier Abenden üben wir Gesprächstechniken, Moderation von Sitzungen und Wege, "
            "festgefahrene Konflikte mit Unterstützung von außen zu lösen."
        ),
        languages="de",
        trainer="Agnieszka Lewandowska, Mediatorin",
        venue=HAUS_DER_VEREINE,
        capacity=14,
        first_day=62,
        weekday=THURSDAY,
        sessions=4,
        registrants=[2, 10, 23, 28],
    ),
    DemoSeminar(
        slug=PAST_SLUG,
        title="Kassenführung im Verein",
        topic="organisation",
        summary="Kasse, Belege und Kassenprüfung: ordentlich und für alle nachvollziehbar.",
        description=(
            "Drei Abende für Kassenwartinnen und Kassenwarte: Einnahmen und Ausgaben richtig buchen, "
            "Belege aufbewahren, den Kassenbericht für die Mitgliederversammlung schreiben und die "
            "Kassenprüfung vorbereiten."
        ),
        languages="de ar",
        trainer="Nadia Benali",
        venue=STADTBIBLIOTHEK,
        capacity=16,
        # over: three evenings five to three weeks ago, attendance ticked (lists, certificates, reports)
        first_day=-40,
        weekday=TUESDAY,
        sessions=3,
        registered_days_before=14,
        registrants=[4, 3, 7, 10, 13, 16, 22, 27],
        attendance=["PPP", "AAA", "PAP", "PPP", "PEP", "PPE", "PPP", "EPP"],
    ),
    DemoSeminar(
        slug=DRAFT_SLUG,
        title="Veranstaltungen planen und bewerben",
        topic="oeffentlichkeitsarbeit",
        summary="Vom Kulturabend bis zum Straßenfest: planen, genehmigen lassen, bekannt machen.",
        description=(
            "Noch in Vorbereitung: Genehmigungen beim Ordnungsamt, Versicherung, Hygieneregeln beim "
            "Essensverkauf und Werbung für die Veranstaltung."
        ),
        languages="de",
        trainer="",
        venue=BUESING_PALAIS,
        capacity=20,
        status=SeminarStatus.DRAFT,
        first_day=80,
        weekday=WEDNESDAY,
        sessions=2,
    ),
]


@dataclass
class DemoSummary:
    topics: int = 0
    seminars: int = 0
    associations: int = 0
    confirmed: int = 0
    waitlisted: int = 0


class DemoDataPresent(Exception):
    """The demo data is loaded already; loading it twice would clash."""


def seminar_count() -> int:
    return db.session.scalar(db.select(func.count(Seminar.id))) or 0


def _first_day(today: date, offset: int, weekday: int | None) -> date:
    day = today + timedelta(days=offset)
    step = timedelta(days=-1 if offset < 0 else 1)
    def fits(candidate: date) -> bool:
        return candidate.weekday() == weekday if weekday is not None else candidate.weekday() < 5

    while not fits(day):
        day += step
    return day


def _in_christmas_break(day: date) -> bool:
    # Nobody plans a seminar evening between Christmas and Epiphany; that week is skipped.
    return (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 6)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)


def _email(first_name: str, last_name: str) -> str:
    ascii_name = f"{first_name}.{last_name}".lower()
    for letter, plain in {"ş": "s", "ı": "i", "ö": "oe", "ü": "ue", "ä": "ae", "ç": "c", "ğ": "g",
                          "ś": "s", " ": "-"}.items():
        ascii_name = ascii_name.replace(letter, plain)
    return f"{ascii_name}@example.net"


def _topics() -> dict[str, Topic]:
    topics = {}
    for slug, name in TOPICS:
        topic = db.session.scalar(db.select(Topic).where(Topic.slug == slug))
        if topic is None:
            topic = Topic(slug=slug, name=name)
            db.session.add(topic)
        topics[slug] = topic
    db.session.flush()
    return topics


def _build_seminar(spec: DemoSeminar, topic: Topic, today: date, zone: ZoneInfo, created_at: datetime) -> Seminar:
    seminar = Seminar(
        slug=spec.slug, title=spec.title, topic=topic, summary=spec.summary, description=spec.description,
        languages=spec.languages, trainer=spec.trainer, venue_name=spec.venue[0], venue_address=spec.venue[1],
        capacity=spec.capacity, max_per_association=spec.max_per_association, status=spec.status,
        created_at=created_at,
    )
    days = []
    day = _first_day(today, spec.first_day, spec.weekday)
    while len(days) < spec.sessions:
        if not _in_christmas_break(day):
            days.append(day)
        day += timedelta(weeks=1)
    for number, day in enumerate(days):
        session = Session(starts_at=_local(day, spec.hours[0], zone), ends_at=_local(day, spec.hours[1], zone))
        if spec.moved_session and spec.moved_session[0] == number:
            session.venue_name, session.venue_address = spec.moved_session[1]
        seminar.sessions.append(session)
    if spec.deadline_days_before is not None:
        seminar.registration_deadline = _local(
            days[0] - timedelta(days=spec.deadline_days_before), time(23, 59), zone)
    db.session.add(seminar)
    db.session.flush()
    return seminar


def _tick_attendance(seminar: Seminar, registered: list[Registration], patterns: list[str]) -> None:
    """Tick the attendance lists of a seminar that is over, as its trainer did on each day."""
    letters = {"P": AttendanceStatus.PRESENT, "A": AttendanceStatus.ABSENT, "E": AttendanceStatus.EXCUSED}
    for registration, pattern in zip(registered, patterns):
        for session, letter in zip(seminar.scheduled_sessions, pattern):
            attendance.record(session, registration, letters[letter], now=session.ends_at)


def load_demo_data(progress: Callable[[str], None] = lambda line: None) -> DemoSummary:
    """Add the demo topics, seminars, associations and registrations; flushes, does not commit.

    Raises DemoDataPresent when a demo seminar exists already.
    """
    begin_write()
    taken = db.session.scalar(db.select(Seminar.slug).where(Seminar.slug.in_([s.slug for s in SEMINARS])))
    if taken is not None:
        raise DemoDataPresent(f"the demo seminar {taken!r} exists already")

    zone = ZoneInfo(current_app.config["BOOKING_TIMEZONE"])
    now = utcnow()
    today = now.astimezone(zone).date()
    summary = DemoSummary()

    topics = _topics()
    summary.topics = len(topics)
    progress(f"Topics: {', '.join(topic.name for topic in topics.values())}")

    associations = [
        find_or_create_association(name, district=district, legal_form=legal_form, contact_email=email,
                                   status=AssociationStatus.ACCEPTED)
        for name, district, legal_form, email in ASSOCIATIONS
    ]
    summary.associations = len(associations)
    progress(f"Associations: {len(associations)}")

    # Registrations look as if they came in over the last two weeks, in the order they are made
    # (the waiting list follows registration order).
    registered_at = now - timedelta(days=14)
    for spec in SEMINARS:
        seminar = _build_seminar(spec, topics[spec.topic], today, zone, created_at=registered_at)
        summary.seminars += 1
        # a seminar that is over had its registrations before its first session
        clock = (seminar.first_start - timedelta(days=spec.registered_days_before)
                 if spec.registered_days_before is not None else None)
        registered = []
        for person in spec.registrants:
            first_name, last_name, language, association_index = PEOPLE[person]
            if clock is not None:
                clock += timedelta(hours=5, minutes=41)
            else:
                registered_at += timedelta(hours=3, minutes=17)
            registration = register(
                seminar,
                Applicant(first_name=first_name, last_name=last_name, email=_email(first_name, last_name),
                          preferred_language=language, needs=NEEDS.get(person)),
                associations[association_index],
                now=clock if clock is not None else min(registered_at, now),
            )
            registered.append(registration)
            if registration.status == RegistrationStatus.CONFIRMED:
                summary.confirmed += 1
            else:
                summary.waitlisted += 1
        _tick_attendance(seminar, registered, spec.attendance)
        confirmed = db.session.scalar(
            db.select(func.count(Registration.id)).where(
                Registration.seminar_id == seminar.id, Registration.status == RegistrationStatus.CONFIRMED)
        )
        state = "draft, not public" if spec.status == SeminarStatus.DRAFT else f"{confirmed}/{spec.capacity} places taken"
        progress(f"Seminar: {spec.title} ({spec.sessions} session{'s' if spec.sessions != 1 else ''}, {state})")
    progress(f"Registrations: {summary.confirmed} confirmed, {summary.waitlisted} on a waiting list")
    return summary


# --- workspace accounts (development only) -----------------------------------------------------

@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    password: str


DEMO_ACCOUNTS = [
    DemoAccount("koordination@example.org", "Demo-Koordination", Role.COORDINATOR, "demo-koordination"),
    DemoAccount("derya.sahin@example.org", "Derya Şahin", Role.TRAINER, "demo-trainerin"),
]
# The demo trainer teaches this seminar (the trainer named on its page too).
TRAINER_SEMINAR_SLUG = "vereinsgruendung-schritt-fuer-schritt"


class DemoAccountsRefused(Exception):
    """Demo accounts have known passwords: they are made in the development configuration only."""


def ensure_demo_accounts() -> list[tuple[DemoAccount, bool]]:
    """The demo coordinator and trainer, made if missing (True: made now); the trainer is assigned
    to the demo seminar they teach. An existing account is left as it is (its password too).
    Flushes, does not commit. Raises DemoAccountsRefused outside the development configuration."""
    if not current_app.config.get("BOOKING_DEMO_ACCOUNTS"):
        raise DemoAccountsRefused("demo accounts are made in the development configuration only")
    begin_write()
    result = []
    for account in DEMO_ACCOUNTS:
        user = user_by_email(account.email)
        made = user is None
        if made:
            user = create_user(account.email, role=account.role, display_name=account.name,
                               password=account.password)
        result.append((account, made))
        if account.role == Role.TRAINER:
            seminar = db.session.scalar(db.select(Seminar).where(Seminar.slug == TRAINER_SEMINAR_SLUG))
            if seminar is not None and seminar.trainer_user_id is None:
                seminar.trainer_user_id = user.id
    db.session.flush()
    return result
