"""A registration rush and a mail backlog, measured: prints figures, asserts nothing about speed.

    .venv/bin/python bench/registration_rush.py                  # SQLite file in a temp folder
    .venv/bin/python bench/registration_rush.py --database-url postgresql://postgres@127.0.0.1:5432/booking_bench

What it does: N threads (each its own connection) register M people each for one seminar with
`capacity` places, through the real registration service (per-seminar lock, outbox rows);
then renders the catalogue page with that data K times; then delivers the whole outbox once
(no MAIL_SERVER: messages go to the log) and reports messages per second.
The database must be empty (the script creates and drops its tables).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BOOKING_CONFIG", "testing")

from booking import create_app  # noqa: E402
from booking.database import begin_write  # noqa: E402
from booking.extensions import db  # noqa: E402
from booking.mail.dispatcher import dispatch_pending  # noqa: E402
from booking.registrations import services  # noqa: E402
from booking.registrations.models import Registration, RegistrationStatus  # noqa: E402
from booking.seminars.models import Seminar  # noqa: E402
from config import database_url  # noqa: E402
from tests.factories import make_applicant, make_seminar  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--per-thread", type=int, default=10)
    parser.add_argument("--capacity", type=int, default=30)
    parser.add_argument("--seminars", type=int, default=40, help="seminars in the catalogue")
    parser.add_argument("--renders", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = database_url(args.database_url) if args.database_url else f"sqlite:///{folder}/bench.sqlite"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "BOOKING_MAIL_LOG": ""})
        with app.app_context():
            db.drop_all()
            db.create_all()
            seminar_id = make_seminar(capacity=args.capacity, sessions=3).id
            for _ in range(args.seminars - 1):
                make_seminar(sessions=3)
            db.session.commit()
        print(f"database: {url.split('@')[-1]}")

        latencies: list[float] = []
        lock = threading.Lock()

        def rush(thread_index: int) -> None:
            with app.app_context():
                for i in range(args.per_thread):
                    applicant = make_applicant(email=f"rush{thread_index}-{i}@example.net")
                    started = time.perf_counter()
                    begin_write()
                    services.register(db.session.get(Seminar, seminar_id), applicant, None)
                    db.session.commit()
                    with lock:
                        latencies.append(time.perf_counter() - started)
                db.session.remove()

        threads = [threading.Thread(target=rush, args=(t,)) for t in range(args.threads)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        total = args.threads * args.per_thread
        latencies.sort()
        print(f"registrations: {total} by {args.threads} threads in {elapsed:.2f} s "
              f"= {total / elapsed:.0f}/s; latency median {statistics.median(latencies) * 1000:.1f} ms, "
              f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.1f} ms")

        with app.app_context():
            confirmed = db.session.scalar(db.select(db.func.count(Registration.id))
                                          .where(Registration.status == RegistrationStatus.CONFIRMED))
            print(f"confirmed: {confirmed} (capacity {args.capacity}); waitlisted: {total - confirmed}")

        client = app.test_client()
        client.get("/")
        timings = []
        for _ in range(args.renders):
            started = time.perf_counter()
            assert client.get("/").status_code == 200
            timings.append(time.perf_counter() - started)
        print(f"catalogue page with {args.seminars} seminars: median {statistics.median(timings) * 1000:.1f} ms "
              f"over {args.renders} renders")

        with app.app_context():
            started = time.perf_counter()
            sent = 0
            while True:
                result = dispatch_pending(limit=200)
                sent += result.sent + result.skipped
                if not result.handled:
                    break
            elapsed = time.perf_counter() - started
            print(f"outbox: {sent} messages rendered and delivered to the log in {elapsed:.2f} s "
                  f"= {sent / elapsed:.0f}/s")
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
