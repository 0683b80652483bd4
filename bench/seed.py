"""Seed a database of city size for the benchmark, fast: bulk inserts (SQLAlchemy Core), no ORM objects.

    .venv/bin/python bench/seed.py                        # a SQLite file in a temp folder (printed)
    .venv/bin/python bench/seed.py --database-url sqlite:////tmp/x.sqlite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/booking_bench .venv/bin/python bench/seed.py

What it makes (the sizes of issue #19): 60 seminars in 3 topics with 200 sessions (26 seminars
over, the rest to come, one seminar's session in the 48-hour reminder window), 150 associations
with a contact each, 20,000 registrations (confirmed, waitlisted and cancelled, some registered
by a contact), and 100,000 outbox rows (a confirmation and an invitation per session for each
registration, reminders for past sessions; nearly all sent, with a delivery attempt each, a
couple of thousand still pending for the worker benchmark).

The database's tables are dropped and created again (db.drop_all / db.create_all): give it a
database of its own, never real data. `seed()` is what bench/run.py calls.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEMINARS = 60
SESSIONS = 200
PAST = 26  # seminars whose sessions are over
RUSH_SEMINARS = (58, 59)  # 30 places each, empty: the rush at 2 and at 16 workers
ASSOCIATIONS = 150
REGISTRATIONS = 20_000
OUTBOX = 100_000
PENDING = 2_000  # outbox rows still to send (the worker benchmark delivers them)
BATCH = 5_000

FIRST_NAMES = ["Ayşe", "Mehmet", "Fatma", "Ahmad", "Layla", "Omar", "Anna", "Jonas", "Maria", "Elif",
               "Yusuf", "Amina", "Hassan", "Zeynep", "Olena", "Dmytro", "Sara", "Lukas", "Nour", "Karim"]
LAST_NAMES = ["Yılmaz", "Kaya", "Demir", "Haddad", "Nasser", "Al-Khatib", "Müller", "Schmidt", "Schneider",
              "Şahin", "Çelik", "Ibrahim", "Mansour", "Kovalenko", "Shevchenko", "Weber", "Fischer", "Aziz"]
TOPICS = [("vereinsrecht", "Vereinsrecht"), ("finanzen", "Finanzen und Förderung"),
          ("oeffentlichkeit", "Öffentlichkeitsarbeit")]
LANGUAGE_SETS = ["de", "de tr", "de ar", "ar de", "tr de", "de en", "de uk ru"]
DISTRICTS = ["Innenstadt", "Nordend", "Bieber", "Bürgel", "Lauterborn", "Tempelsee", "Rumpenheim"]


@dataclass
class Seeded:
    """What the benchmark needs to find again in the seeded database."""

    url: str
    open_slug: str  # a published seminar with sessions to come and places left
    rush_slugs: list[str]  # published, to come, 30 places, nobody registered yet
    seconds: float
    counts: dict


def default_url(folder: str) -> str:
    from config import database_url

    url = os.environ.get("BENCH_DATABASE_URL")
    return database_url(url) if url else f"sqlite:///{folder}/bench.sqlite"


def _chunks(rows: list[dict], size: int = BATCH):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def seed(url: str, *, registrations: int = REGISTRATIONS, outbox: int = OUTBOX, purged: bool = True,
         echo=print) -> Seeded:
    """Drop and create the tables of `url` and fill them; returns what run.py needs.

    `purged=False`: a database that never had a retention purge (no old cancellation anonymised,
    the whole email log kept, no purge recorded), for timing the worker's first one.
    """
    os.environ.setdefault("BOOKING_CONFIG", "testing")
    from sqlalchemy import insert

    from booking import create_app
    from booking.addresses import address_key
    from booking.associations.models import Association, AssociationContact, association_name_key
    from booking.extensions import db
    from booking.audit import AuditEntry
    from booking.mail.models import DeliveryAttempt, OutboxMessage
    from booking.privacy.services import PURGE_ACTION
    from booking.registrations.models import Registration
    from booking.seminars.models import Seminar, Session, Topic

    started = time.perf_counter()
    rng = random.Random(19)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "BOOKING_MAIL_LOG": ""})
    with app.app_context():
        db.drop_all()
        db.create_all()
        session = db.session

        def bulk(model, rows):
            for chunk in _chunks(rows):
                session.execute(insert(model.__table__), chunk)

        bulk(Topic, [{"id": i + 1, "slug": slug, "name": name} for i, (slug, name) in enumerate(TOPICS)])

        # --- associations and their contacts -------------------------------------------------
        associations, contacts = [], []
        for i in range(1, ASSOCIATIONS + 1):
            name = f"{rng.choice(['Deutsch-Türkischer', 'Arabischer', 'Ukrainischer', 'Afghanischer', 'Interkultureller'])} " \
                   f"{rng.choice(['Kulturverein', 'Elternverein', 'Frauenverein', 'Sportverein', 'Bildungsverein'])} {i}"
            associations.append({"id": i, "name": name, "name_key": association_name_key(name),
                                 "district": rng.choice(DISTRICTS), "legal_form": "registered",
                                 "contact_email": f"vorstand{i}@example.org",
                                 "status": "accepted" if i <= 140 else "pending",
                                 "created_at": now - timedelta(days=400 - i)})
            email = f"kontakt{i}@example.org"
            contacts.append({"id": i, "public_id": secrets.token_urlsafe(12), "token_version": 1,
                             "association_id": i, "first_name": rng.choice(FIRST_NAMES),
                             "last_name": rng.choice(LAST_NAMES), "email": email, "email_key": address_key(email),
                             "preferred_language": rng.choice(["de", "tr", "ar", "en"]),
                             "created_at": now - timedelta(days=300 - i)})
        bulk(Association, associations)
        bulk(AssociationContact, contacts)

        # --- seminars and sessions: a third over, the rest to come --------------------------------
        seminars, sessions = [], []
        sessions_of: dict[int, list[dict]] = {}
        session_id = 0
        per_seminar = [3] * SEMINARS
        for extra in range(SESSIONS - 3 * SEMINARS):  # 200 sessions over 60 seminars: some have 4
            per_seminar[extra * 3 % SEMINARS] += 1
        for i in range(1, SEMINARS + 1):
            past = i <= PAST
            first = (now - timedelta(days=200 - i * 4)) if past else (now + timedelta(days=(i - PAST) * 3, hours=5))
            if i == PAST + 1:
                first = now + timedelta(hours=42)  # due for the 48-hour reminder in this run
            first = first.replace(hour=17, minute=0, second=0) if i != PAST + 1 else first
            capacity = 30 if i in RUSH_SEMINARS else rng.choice([200, 250, 300, 400])
            seminars.append({
                "id": i, "slug": f"seminar-{i}", "title": f"{TOPICS[i % 3][1]}: Seminar {i}",
                "topic_id": i % 3 + 1, "summary": "Grundlagen für Vorstände und Aktive in Vereinen.",
                "description": "Ein Abend mit Beispielen aus der Praxis. " * 20, "languages": rng.choice(LANGUAGE_SETS),
                "interpreting_available": i % 4 == 0, "trainer": "Dr. Jana Beispiel",
                "venue_name": "Haus der Vereine", "venue_address": "Frankfurter Str. 1, 63065 Offenbach",
                "capacity": capacity, "max_per_association": 20 if i % 10 == 0 else None,
                "registration_deadline": None, "status": "published" if i != SEMINARS else "draft",
                "created_at": first - timedelta(days=60), "version": 1,
            })
            sessions_of[i] = []
            for n in range(per_seminar[i - 1]):
                session_id += 1
                starts = first + timedelta(days=7 * n)
                row = {"id": session_id, "seminar_id": i, "starts_at": starts, "ends_at": starts + timedelta(hours=3),
                       "status": "scheduled", "revision": 0}
                sessions.append(row)
                sessions_of[i].append(row)
        bulk(Seminar, seminars)
        bulk(Session, sessions)
        open_seminar = PAST + 5  # published, to come, room left (its capacity is raised below)

        # --- registrations: spread over seminars, confirmed up to capacity, then waitlisted ------
        weights = [rng.uniform(0.5, 1.5) for _ in range(SEMINARS)]
        weights[open_seminar - 1] = 0.3
        weights[SEMINARS - 1] = 0  # the draft takes no registrations
        for i in RUSH_SEMINARS:
            weights[i - 1] = 0
        registration_rows = []
        taken: dict[int, int] = {}
        for rid in range(1, registrations + 1):
            seminar = seminars[rng.choices(range(SEMINARS), weights)[0]]
            sid = seminar["id"]
            first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            by_contact = rid % 7 == 0
            association_id = rng.randint(1, ASSOCIATIONS) if by_contact or rid % 3 else None
            email = None if by_contact and rid % 2 else f"teilnehmer{rid}@example.org"
            created = seminar["created_at"] + timedelta(minutes=rid % 50_000)
            cancelled = rid % 11 == 0
            if cancelled:
                status = "cancelled"
            elif taken.get(sid, 0) < seminar["capacity"]:
                status = "confirmed"
                taken[sid] = taken.get(sid, 0) + 1
            else:
                status = "waitlisted"
            # as the worker's daily retention purge leaves it (booking.privacy): a cancellation
            # older than 30 days has no personal data left
            anonymised = purged and cancelled and created + timedelta(days=2) < now - timedelta(days=30)
            if anonymised:
                first_name = last_name = ""
                email = None
            past_needs = sid <= PAST
            registration_rows.append({
                "id": rid, "public_id": secrets.token_urlsafe(12), "token_version": 1, "seminar_id": sid,
                "association_id": association_id, "first_name": first_name, "last_name": last_name,
                "email": email, "email_key": address_key(email), "phone": None if rid % 4 else "+49 69 1234567",
                "preferred_language": rng.choice(["de", "de", "tr", "ar", "en"]),
                "needs": "Kinderbetreuung" if rid % 23 == 0 and not past_needs and not anonymised else None,
                "consent_at": created, "consent_version": "2026-1/de/3f2a9c1b0d4e",
                "status": status, "waitlist_reason": "full" if status == "waitlisted" else None,
                "registered_by_contact_id": association_id if by_contact and association_id else None,
                "created_at": created, "confirmed_at": created if status == "confirmed" else None,
                "cancelled_at": created + timedelta(days=2) if cancelled else None,
                "anonymised_at": now - timedelta(days=1) if anonymised else None,
            })
            if anonymised:
                registration_rows[-1]["phone"] = None
        seminars[open_seminar - 1]["capacity"] = taken.get(open_seminar, 0) + 10_000
        session.execute(db.update(Seminar).where(Seminar.id == open_seminar)
                        .values(capacity=seminars[open_seminar - 1]["capacity"]))
        bulk(Registration, registration_rows)

        # --- the outbox: confirmation + one invitation per session, then reminders; nearly all sent
        outbox_rows, attempts = [], []
        message_id = 0

        def add_message(kind, registration, session_row, extra="", pending=False):
            nonlocal message_id
            message_id += 1
            key = f"{kind}:{registration['id']}:{session_row['id'] if session_row else '-'}:0"
            key = f"{key}:{extra}" if extra else key
            sent_at = registration["created_at"] + timedelta(minutes=1)
            # the email log keeps what was sent for 30 days (BOOKING_EMAIL_LOG_RETENTION_DAYS)
            scrubbed = purged and not pending and sent_at < now - timedelta(days=30)
            outbox_rows.append({
                "id": message_id, "dedupe_key": key, "kind": kind, "registration_id": registration["id"],
                "session_id": session_row["id"] if session_row else None, "revision": 0,
                "recipient": "" if scrubbed else (
                    registration["email"] or f"kontakt{registration['registered_by_contact_id']}@example.org"),
                "facts": {"sequence": 0} if kind == "invitation" else {},
                "status": "pending" if pending else "sent", "attempts": 0 if pending else 1,
                "next_attempt_at": now - timedelta(minutes=1) if pending else sent_at,
                "created_at": registration["created_at"], "sent_at": None if pending else sent_at,
                "subject": None if pending or scrubbed else f"Ihre Anmeldung: Seminar {registration['seminar_id']}",
                "body_text": None if pending or scrubbed else "Guten Tag,\n\nvielen Dank für Ihre Anmeldung. " * 6,
                "message_id": None if pending else f"<booking.{message_id}.{secrets.token_hex(8)}@example.org>",
            })
            if not pending and not scrubbed:
                attempts.append({"message_id": message_id, "attempted_at": sent_at, "outcome": "sent",
                                 "detail": "accepted"})

        with_address = [r for r in registration_rows if r["email"] and r["status"] != "cancelled"]
        # the pending ones: confirmations of people who registered for a seminar still to come
        # (nothing makes them pointless, so the worker sends every one)
        upcoming = [r for r in with_address
                    if r["status"] == "confirmed" and r["seminar_id"] > PAST + 1]
        pending_ids = {r["id"] for r in upcoming[-PENDING:]}
        for registration in with_address:
            if len(outbox_rows) >= outbox:
                break
            kind = "confirmation" if registration["status"] == "confirmed" else "waitlisted"
            add_message(kind, registration, None, pending=registration["id"] in pending_ids)
            if registration["status"] == "confirmed":
                for session_row in sessions_of[registration["seminar_id"]]:
                    add_message("invitation", registration, session_row)
        # reminders of sessions that are over, until the outbox has its size
        for registration in with_address:
            if len(outbox_rows) >= outbox:
                break
            if registration["status"] != "confirmed" or registration["seminar_id"] > PAST:
                continue
            for session_row in sessions_of[registration["seminar_id"]]:
                for offset in ("2880m", "180m"):
                    if len(outbox_rows) < outbox:
                        add_message("reminder", registration, session_row, extra=offset)
        bulk(OutboxMessage, outbox_rows)
        bulk(DeliveryAttempt, attempts)
        # the daily purge ran an hour ago: the worker's first pass does not purge again
        # (a first purge over a database that never had one is another matter: see bench/README.md)
        if purged:
            bulk(AuditEntry, [{"at": now - timedelta(hours=1), "actor_kind": "worker", "actor_label": "worker",
                               "action": PURGE_ACTION, "detail": {}}])
        session.commit()

        counts = {
            "seminars": len(seminars), "sessions": len(sessions), "associations": len(associations),
            "registrations": len(registration_rows),
            "outbox": len(outbox_rows),
            "outbox pending": sum(1 for row in outbox_rows if row["status"] == "pending"),
        }
        if db.engine.dialect.name == "postgresql":
            # bulk inserts with explicit ids leave the sequences behind: the app's inserts would collide
            for table in ("topics", "associations", "association_contacts", "seminars", "sessions",
                          "registrations", "outbox_messages", "delivery_attempts"):
                session.execute(db.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT coalesce(max(id), 1) FROM {table}))"))
            session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")
        else:
            session.execute(db.text("ANALYZE"))
            session.commit()
        db.session.remove()
        db.engine.dispose()
    seconds = time.perf_counter() - started
    echo(f"seeded in {seconds:.1f} s: " + ", ".join(f"{value:,} {name}" for name, value in counts.items()))
    return Seeded(url=url, open_slug=f"seminar-{open_seminar}",
                  rush_slugs=[f"seminar-{i}" for i in RUSH_SEMINARS], seconds=seconds, counts=counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None,
                        help="default: BENCH_DATABASE_URL, else a SQLite file in a new temp folder (kept)")
    parser.add_argument("--unpurged", action="store_true",
                        help="as if no retention purge had ever run (old cancellations keep their names, the "
                             "email log keeps everything, no purge recorded): the worker's first pass purges")
    args = parser.parse_args()
    from config import database_url

    url = database_url(args.database_url) if args.database_url else default_url(tempfile.mkdtemp(prefix="bench-"))
    print(f"database: {url.split('@')[-1]}")
    seed(url, purged=not args.unpurged)


if __name__ == "__main__":
    main()
