"""Several processes against one database: two gunicorn workers with their own page caches, and
two mail worker processes (README "Production: several app servers and mail workers").

Each worker keeps its own copy of a public page; a change made through one worker, or by another
process entirely, shows on the next request to either, because both read the data version from
the database (file SQLite here, or the PostgreSQL test database with TEST_DATABASE_URL), or from
the file of BOOKING_CACHE_URL=file:///... that every process of the machine writes after a commit. The
access log names the process that answered, so the test knows both workers were asked.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener

import pytest

from booking.caching import version as data_version
from booking.extensions import db
from booking.mail.models import MessageStatus, OutboxMessage
from booking.seminars import scheduling
from booking.seminars.models import Session

from tests.factories import make_seminar

PROJECT_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(app, **extra) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BOOKING_", "PYTEST"))}
    return env | {
        "BOOKING_CONFIG": "production", "SECRET_KEY": app.secret_key,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SESSION_COOKIE_SECURE": "false",
        "RATELIMIT_ENABLED": "false", "BOOKING_MAIL_LOG": "", "MAIL_SERVER": "",
        "BOOKING_CACHE_URL": app.config.get("BOOKING_CACHE_URL") or "",
    } | extra


class Gunicorn:
    """gunicorn with `workers` sync workers on a free loopback port; its access log names the answering pid."""

    def __init__(self, app, tmp_path: Path, workers: int = 2):
        self.port = free_port()
        self.access_log = tmp_path / "access.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
             "--access-logfile", str(self.access_log), "--access-logformat", "%(p)s %(s)s %(U)s", "wsgi:app"],
            cwd=PROJECT_DIR, env=environment(app), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):  # until it listens (at most about 30 s)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                assert self.process.poll() is None, "gunicorn did not start"
                time.sleep(0.1)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answering_pids(self, from_line: int, path_ending: str = "") -> set[str]:
        """The pids that answered since line `from_line` of the access log (requests whose path ends so)."""
        lines = self.access_log.read_text().splitlines()[from_line:] if self.access_log.exists() else []
        return {line.split()[0] for line in lines if line.strip() and line.split()[2].endswith(path_ending)}

    def log_length(self) -> int:
        return len(self.access_log.read_text().splitlines()) if self.access_log.exists() else 0

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def gunicorn(app, tmp_path):
    server = Gunicorn(app, tmp_path)
    yield server
    server.stop()


@pytest.fixture(params=["database", "file"])
def sharing(request, app, tmp_path):
    """gunicorn whose workers read the data version from the database, or from the file of
    BOOKING_CACHE_URL that this process (another process of the machine) writes too."""
    if request.param == "file":
        app.config["BOOKING_CACHE_URL"] = f"file://{tmp_path / 'data-version'}"
    server = Gunicorn(app, tmp_path)
    yield server
    server.stop()
    data_version._file_mirrors.clear()


def visitor(language: str = "en"):
    """A browser of its own (cookies kept), asking for `language` as the test client does."""
    opener = build_opener(HTTPCookieProcessor(CookieJar()))
    opener.addheaders = [("Accept-Language", language)]
    return opener


def fetch(opener, url: str, data: dict | None = None) -> str:
    with opener.open(url, data=urlencode(data, doseq=True).encode() if data else None, timeout=30) as response:
        return response.read().decode()


def every_worker_answers(server: Gunicorn, path: str, workers: int = 2) -> list[str]:
    """Pages from concurrent requests until each worker has answered at least twice (bounded)."""
    start, pages = server.log_length(), []
    with ThreadPoolExecutor(max_workers=6) as pool:
        for _ in range(40):
            pages += pool.map(lambda _: fetch(visitor(), server.url(path)), range(6))
            lines = server.access_log.read_text().splitlines()[start:]
            counts = {}
            for line in lines:
                counts[line.split()[0]] = counts.get(line.split()[0], 0) + 1
            if len(counts) >= workers and min(counts.values()) >= 2:
                return pages
    raise AssertionError(f"not every worker answered: {server.answering_pids(start)}")


def places(page: str) -> set[str]:
    return set(re.findall(r'<span class="availability[^"]*">\s*(.*?)\s*</span>', page))


def register(server: Gunicorn, slug: str, email: str) -> None:
    person = visitor()
    form = fetch(person, server.url(f"/seminars/{slug}"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    page = fetch(person, server.url(f"/seminars/{slug}/register"), {
        "csrf_token": token, "first_name": "Leyla", "last_name": "Yılmaz", "email": email,
        "association_id": "", "new_association": "Kulturverein", "preferred_language": "en", "consent": "y"})
    assert "Thank you! Your registration" in page


def test_a_change_through_one_worker_or_another_process_shows_on_the_next_request_to_both(app, sharing):
    gunicorn = sharing
    with app.app_context():
        seminar_id = make_seminar(capacity=3, slug="vereinsrecht", title="Vereinsrecht").id
        db.session.commit()
    path = "/seminars/vereinsrecht"
    assert {frozenset(places(page)) for page in every_worker_answers(gunicorn, path)} == {frozenset({"3 places left"})}
    assert all("3 places left" in places(page) for page in every_worker_answers(gunicorn, "/"))

    register(gunicorn, "vereinsrecht", "leyla@example.net")  # through whichever worker takes it
    assert {frozenset(places(page)) for page in every_worker_answers(gunicorn, path)} == {frozenset({"2 places left"})}
    assert all("2 places left" in places(page) for page in every_worker_answers(gunicorn, "/"))

    with app.app_context():  # another process (this one: a command, the mail worker) changes a session
        session = db.session.scalar(db.select(Session).where(Session.seminar_id == seminar_id))
        scheduling.cancel_session(session, reason="Raum nicht verfügbar")
        db.session.commit()
    assert all("badge-cancelled" in page for page in every_worker_answers(gunicorn, path))

    # the language a visitor chose stays theirs, whichever worker answers and whatever is kept
    german = visitor("en")
    pages = [fetch(german, gunicorn.url("/?lang=de"))] + [fetch(german, gunicorn.url("/")) for _ in range(6)]
    assert all('<html lang="de"' in page for page in pages)
    assert all('<html lang="en"' in page for page in every_worker_answers(gunicorn, "/"))


def test_two_app_processes_and_two_mail_workers_share_one_database_and_send_each_email_once(
        app, gunicorn, smtp_server, tmp_path):
    with app.app_context():
        make_seminar(capacity=4, slug="vereinsrecht", sessions=2)
        db.session.commit()
    mail_env = environment(app, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_server.port))
    workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "booking", "worker", "--interval", "0.2"],
                                cwd=PROJECT_DIR, env=mail_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(2)]
    try:
        # six at once, and six more while only one app process has taken part (the kernel hands each
        # connection to whichever process accepts first: one fast process can take all six)
        with ThreadPoolExecutor(max_workers=6) as pool:
            for round_ in range(10):
                list(pool.map(lambda n: register(gunicorn, "vereinsrecht", f"person{round_}-{n}@example.net"),
                              range(6)))
                if len(gunicorn.answering_pids(0, "/register")) == 2:
                    break
        assert len(gunicorn.answering_pids(0, "/register")) == 2  # both app processes took registrations
        with app.app_context():
            total = db.session.scalar(db.select(db.func.count(OutboxMessage.id)))
        assert total >= 6 + 4 * 2  # a confirmation or waiting-list email each, invitations for the places
        for _ in range(600):  # until the workers have delivered everything (at most about 60 s)
            with app.app_context():
                pending = db.session.scalar(db.select(db.func.count(OutboxMessage.id))
                                            .where(OutboxMessage.status != MessageStatus.SENT))
            if not pending:
                break
            time.sleep(0.1)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
    assert pending == 0
    ids = [message["Message-ID"] for message in smtp_server.messages]
    assert len(ids) == total and len(set(ids)) == total
