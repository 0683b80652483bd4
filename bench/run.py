"""`make bench`: the booking app against a bare Flask "hello", served the same way (issue #19, section 1).

    .venv/bin/python bench/run.py            # SQLite file in a temp folder, about 5 minutes
    .venv/bin/python bench/run.py --quick    # a short smoke run (about a minute)
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/booking_bench .venv/bin/python bench/run.py

Steps: seed a database of city size (bench/seed.py); serve the app and bench/hello.py with the same
gunicorn settings (2 sync workers, production configuration, rate limits off) on loopback ports;
load them in turn, hello and page interleaved, with wrk (the Python client when wrk is missing;
registration POSTs through bench/register.lua, with the form's cookie and CSRF token); medians. Then
the rush (500 people and 50 groups of 5 for one seminar with 30 places; on PostgreSQL again with
16 workers), one reminder pass with its query plan, the mail worker (4 processes) delivering to a
loopback SMTP sink, and the peak memory of a web worker and of a mail worker.

It prints one table (Markdown) with each target of the issue and PASS or MISS beside the figure.
Speed is never an error; wrong results are: a FAIL line (more than 30 places given, a waiting list
out of order, an email delivered twice, an error answer) makes the exit status 1.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(BENCH_DIR))

import client  # noqa: E402
from seed import seed  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SECRET_KEY = secrets.token_urlsafe(32)

# The targets of issue #19, section 2 (ratios to hello in the same run, unless said otherwise).
TARGET_CATALOGUE = 0.70
TARGET_SEMINAR = 0.60
TARGET_FEED_304 = 0.85
TARGET_MANAGE = 0.40
TARGET_POST = 0.10
TARGET_RUSH_PER_SECOND = 200  # on PostgreSQL
TARGET_P99_SECONDS = 0.250  # at 32 clients
TARGET_REMINDER_SECONDS = 0.050
TARGET_WORKER_RSS_MB = 120
TARGET_MAIL_PER_SECOND = 200

failures: list[str] = []
SECTIONS = ("pages", "manage", "posts", "rush", "reminders", "worker", "purge")  # --only ("manage": that page alone)


def fail(message: str) -> None:
    failures.append(message)
    print(f"FAIL: {message}", flush=True)


def note(message: str) -> None:
    print(message, flush=True)


# --- servers -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def app_environment(url: str, folder: Path, **extra: str) -> dict[str, str]:
    """Production configuration as the README's production section sets it, but on loopback and
    with the rate limits off (RATELIMIT_ENABLED=false: every request comes from 127.0.0.1)."""
    environment = dict(os.environ)
    environment.update(
        BOOKING_CONFIG="production", SECRET_KEY=SECRET_KEY, DATABASE_URL=url,
        BOOKING_BASE_URL="http://127.0.0.1:8000", RATELIMIT_ENABLED="false", BOOKING_MAIL_LOG="",
        MAIL_SERVER="", PYTHONDONTWRITEBYTECODE="1",
    )
    environment.pop("FLASK_DEBUG", None)
    environment.update(extra)
    return environment


def serve(name: str, target: str, workers: int, environment: dict, folder: Path, chdir: Path) -> Server:
    port = free_port()
    log_path = folder / f"{name}-{workers}w.log"
    command = [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--worker-class", "sync",
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--chdir", str(chdir), target]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, cwd=chdir, env=environment, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} did not start; see {log_path}:\n{log_path.read_text()[-3000:]}")
        try:
            if client.request(port, "GET", "/").status < 500 and len(server.worker_pids()) >= workers:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise SystemExit(f"{name} did not answer within 60 s; see {log_path}")


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- load ----------------------------------------------------------------------------------------

@dataclass
class Run:
    per_second: float
    p99: float | None = None
    bad: int = 0
    requests: int = 0
    p50: float | None = None


def wrk_seconds(match) -> float:
    return float(match.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[match.group(2)]


def wrk_run(port: int, path: str, headers: dict, seconds: float, connections: int, *,
            script: Path | None = None, script_args: list[str] = ()) -> Run:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(f"http://127.0.0.1:{port}{path}")
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    bad = int(match.group(1)) if (match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)) else 0
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        # a sync worker closes each connection; wrk may count that as a read error: not the app's
        bad += int(match.group(1)) + int(match.group(4))
    requests = int(match.group(1)) if (match := re.search(r"(\d+) requests in", output)) else 0
    p50 = wrk_seconds(match) if (match := re.search(r"50%\s+([\d.]+)(us|ms|s)\b", output)) else None
    p99 = wrk_seconds(match) if (match := re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)) else None
    return Run(per_second, p99, bad, requests, p50)


def python_run(port: int, path: str, headers: dict, seconds: float, connections: int, expect: int) -> Run:
    result = client.load(connections, seconds,
                         lambda i, n: client.request(port, "GET", path, headers=headers).status == expect)
    return Run(result.per_second, result.p99, result.bad)


@dataclass
class Row:
    label: str
    per_second: float
    hello: float
    target: float | None
    generator: str
    extra: str = ""

    @property
    def ratio(self) -> float:
        return self.per_second / self.hello if self.hello else 0.0


@dataclass
class Figures:
    database: str
    rows: list[Row] = field(default_factory=list)
    lines: list[tuple[str, str, str, str]] = field(default_factory=list)  # what, figure, target, verdict

    def add(self, what: str, figure: str, target: str = "", verdict: str = "") -> None:
        self.lines.append((what, figure, target, verdict))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


@dataclass
class Page:
    label: str
    path: str
    headers: dict
    target: float | None
    expect: int
    contains: str | None = None


def check_page(port: int, page: Page) -> None:
    """Before loading a page, make sure it answers what a visitor should see."""
    response = client.request(port, "GET", page.path, headers=page.headers)
    if response.status != page.expect:
        fail(f"{page.label}: answered {response.status}, expected {page.expect}")
    elif page.contains and page.contains not in response.text:
        fail(f"{page.label}: the answer lacks {page.contains!r}")


def measure_pages(app: Server, hello: Server, pages: list[Page], args, figures: Figures, use_wrk: bool) -> None:
    for page in pages:
        check_page(app.port, page)
        hello_runs, page_runs = [], []
        for _ in range(args.rounds):
            if use_wrk:
                hello_runs.append(wrk_run(hello.port, "/", {}, args.seconds, args.connections))
                page_runs.append(wrk_run(app.port, page.path, page.headers, args.seconds, args.connections))
            else:
                hello_runs.append(python_run(hello.port, "/", {}, args.seconds, args.connections, 200))
                page_runs.append(python_run(app.port, page.path, page.headers, args.seconds, args.connections,
                                            page.expect))
        bad = sum(run.bad for run in page_runs)
        if bad:
            fail(f"{page.label}: {bad} answers other than {page.expect} (or connection errors) under load")
        row = Row(page.label, statistics.median(r.per_second for r in page_runs),
                  statistics.median(r.per_second for r in hello_runs), page.target, "wrk" if use_wrk else "python")
        figures.rows.append(row)
        note(f"  {row.label}: {row.per_second:.0f} req/s, hello {row.hello:.0f} req/s, ratio {row.ratio:.3f}"
             + (f" (target {row.target:.2f}: {verdict(row.ratio >= row.target)})" if row.target else ""))


POST_CLIENTS = 32
REGISTER_SCRIPT = BENCH_DIR / "register.lua"
FLOOR_SCRIPT = BENCH_DIR / "floor.lua"
FLOOR_FORM_SCRIPT = BENCH_DIR / "floor_form.lua"


def measure_posts(app: Server, hello: Server, floor: Server, url: str, slug: str, args, figures: Figures,
                  use_wrk: bool, association_names: list[str]) -> None:
    """Registration POSTs with fresh addresses at 32 connections, against hello in the same run.

    As a browser does, the seminar page is fetched once (its session cookie and CSRF token), then the
    filled-in form is posted again and again with a new name and address each time; the redirect is
    not followed. With wrk (bench/register.lua) when installed, the same load generator as hello's;
    else 32 threads of the Python client. Every answer must be a redirect, and afterwards the
    database must hold one registration per request answered. With wrk, bench/floor.py too: the
    floor of any POST that locks the seminar and INSERTs one row in this database, no form, no ORM."""
    path = f"/seminars/{slug}/register"
    hello_runs, posts, p50s, p99s, latencies, floors, form_floors = [], [], [], [], [], [], []
    bad = 0
    for round_index in range(args.rounds):
        prefix = f"post{round_index}-"
        if use_wrk:
            hello_runs.append(wrk_run(hello.port, "/", {}, args.seconds, args.connections).per_second)
            browser = client.Browser(app.port)
            fields = client.form_fields(browser.get(f"/seminars/{slug}").text, path)
            form = [(name, value) for name, value in client.single_form(fields, 0, prefix, association_names[0])
                    if name not in ("last_name", "email", "new_association")]
            cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
            run = wrk_run(app.port, path, {}, args.seconds, POST_CLIENTS, script=REGISTER_SCRIPT,
                          script_args=[path, cookie, client.urlencode(form), prefix, "|".join(association_names)])
            answered, round_bad = run.requests, run.bad
            posts.append(run.per_second)
            p50s.append(run.p50)
            p99s.append(run.p99)
            floor_run = wrk_run(floor.port, "/", {}, args.seconds, POST_CLIENTS, script=FLOOR_SCRIPT)
            if floor_run.bad:
                fail(f"floor POST: {floor_run.bad} answers that were no redirect")
            floors.append(floor_run.per_second)
            form_floors.append(form_floor(floor, args))
        else:
            hello_runs.append(python_run(hello.port, "/", {}, args.seconds, POST_CLIENTS, 200).per_second)
            result = python_posts(app.port, slug, args.seconds, prefix, association_names)
            answered, round_bad = result.requests, result.bad
            posts.append(result.per_second)
            latencies += result.latencies
        bad += round_bad
        stored = registrations_with_prefix(url, prefix)
        # wrk stops counting at the deadline: a request under way then may still be stored
        if not answered <= stored <= answered + POST_CLIENTS:
            fail(f"registration POST: {stored} registrations stored for {answered} requests answered")
    if bad:
        fail(f"registration POST: {bad} answers that were no redirect to the registration")
    row = Row("registration POST (fresh address)", statistics.median(posts), statistics.median(hello_runs),
              TARGET_POST, "wrk" if use_wrk else "python")
    figures.rows.append(row)
    if floors:
        figures.rows.append(Row("floor: bare Flask POST, the lock and one INSERT (bench/floor.py)",
                                statistics.median(floors), statistics.median(hello_runs), None, "wrk"))
        note(f"  floor (bench/floor.py): {statistics.median(floors):.0f} req/s")
        figures.rows.append(Row("floor with a form: session, CSRF, 4 fields, the lock and one INSERT (floor.py /form)",
                                statistics.median(form_floors), statistics.median(hello_runs), None, "wrk"))
        note(f"  floor with a form (bench/floor.py /form): {statistics.median(form_floors):.0f} req/s")
    if use_wrk:
        p50, p99 = statistics.median(p50s), statistics.median(p99s)
    else:
        p50, p99 = statistics.median(latencies), client.percentile(latencies, 0.99)
    figures.add(f"registration POST latency at {POST_CLIENTS} clients",
                f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms",
                f"p99 < {TARGET_P99_SECONDS * 1000:.0f} ms", verdict(p99 < TARGET_P99_SECONDS))
    note(f"  {row.label}: {row.per_second:.0f} req/s, hello {row.hello:.0f} req/s, ratio {row.ratio:.3f} "
         f"({row.generator}); p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")


def form_floor(floor: Server, args) -> float:
    """bench/floor.py's /form loaded as register.lua loads the app: its session cookie and CSRF token
    fetched once, the same filled-in form posted again and again at 32 connections."""
    answer = client.request(floor.port, "GET", "/form")
    cookie = "; ".join(f"{name}={value}" for name, value in answer.cookies.items())
    body = client.urlencode([("csrf_token", answer.text), ("first_name", "Ayşe"), ("last_name", "Yılmaz"),
                             ("email", "ayse@example.org"), ("consent", "y")])
    run = wrk_run(floor.port, "/form", {}, args.seconds, POST_CLIENTS, script=FLOOR_FORM_SCRIPT,
                  script_args=[cookie, body])
    if run.bad:
        fail(f"floor POST with a form: {run.bad} answers that were no redirect")
    return run.per_second


def python_posts(port: int, slug: str, seconds: float, prefix: str, association_names: list[str]):
    """The Python client's registration POSTs (without wrk): 32 threads, each a browser of its own."""
    path = f"/seminars/{slug}/register"
    browsers, forms = [], []
    for _ in range(POST_CLIENTS):
        browser = client.Browser(port)
        browsers.append(browser)
        forms.append(client.form_fields(browser.get(f"/seminars/{slug}").text, path))

    def one_post(index: int, n: int) -> bool:
        form = client.single_form(forms[index], n, f"{prefix}{index}-",
                                  association_names[(index + n) % len(association_names)])
        return browsers[index].post(path, form, keep_cookies=False).status in (302, 303)

    return client.load(POST_CLIENTS, seconds, one_post)


def registrations_with_prefix(url: str, prefix: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM registrations WHERE email LIKE :pattern"),
                                     {"pattern": f"{prefix}%"})
    finally:
        engine.dispose()


# --- the rush ----------------------------------------------------------------------------------

def rush(app: Server, url: str, slug: str, workers: int, args, figures: Figures, association_names: list[str]) -> None:
    """`args.rush_people` people and `args.rush_groups` contacts with groups of 5 post at the same
    moment for a seminar with 30 places; then the database must hold exactly 30 confirmed, the
    rest waitlisted behind them in the order their requests took the seminar's lock (their ids)."""
    people, groups, group_size = args.rush_people, args.rush_groups, 5
    prefix = f"rush{workers}w-"

    # Each client opens its connection before the barrier, once every form has been fetched (a sync
    # worker that accepts a connection waits for its request: no page could be fetched after that;
    # the kernel queues the others), so that at the barrier each has only to send its bytes: the
    # client must not be what limits the rush. Only when the listen queue is too short for them all
    # do they connect after the barrier.
    connect_first = listen_queue() >= people + groups + 64

    def prepare_single(n: int):
        browser = client.Browser(app.port, language=["de", "tr", "ar", "en"][n % 4])
        page = browser.get(f"/seminars/{slug}")
        return browser.prepare_post(f"/seminars/{slug}/register", client.single_form(
            client.form_fields(page.text, f"/seminars/{slug}/register"), n, prefix,
            association_names[n % len(association_names)]))

    def prepare_group(n: int):
        browser = client.Browser(app.port, language="ar")
        page = browser.get(f"/seminars/{slug}/group")
        fields = client.form_fields(page.text, f"/seminars/{slug}/group")
        return browser.prepare_post(f"/seminars/{slug}/group", client.group_form(
            fields, n, prefix, association_names[n % len(association_names)], group_size))

    with ThreadPoolExecutor(8) as pool:
        prepared = list(pool.map(prepare_single, range(people))) + list(pool.map(prepare_group, range(groups)))
    if connect_first:
        for request in prepared:
            request.connection.connect()
    barrier = threading.Barrier(len(prepared) + 1)
    outcomes: list[tuple[int, float, float] | None] = [None] * len(prepared)

    def post(index: int) -> None:
        barrier.wait()
        try:
            response = prepared[index].send()
            outcomes[index] = (response.status, response.seconds, time.perf_counter())
        except OSError as error:
            outcomes[index] = (0, float("nan"), time.perf_counter())
            print(f"  rush request failed: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(prepared))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, client_cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    client_cpu = time.process_time() - client_cpu
    finished = max(outcome[2] for outcome in outcomes)
    statuses = [outcome[0] for outcome in outcomes]
    refused = [status for status in statuses if status not in (302, 303)]
    if refused:
        fail(f"rush at {workers} workers: {len(refused)} requests not answered with a redirect "
             f"(statuses {sorted(set(refused))})")
    latencies = [outcome[1] for outcome in outcomes if outcome[0] in (302, 303)] or [float("nan")]
    expected = people + groups * group_size
    rows = registration_rows(url, slug)
    confirmed = [row for row in rows if row[1] == "confirmed"]
    waitlisted = [row for row in rows if row[1] == "waitlisted"]
    if len(rows) != expected:
        fail(f"rush at {workers} workers: {len(rows)} registrations stored, expected {expected}")
    if len(confirmed) != 30:
        fail(f"rush at {workers} workers: {len(confirmed)} confirmed for 30 places")
    statuses_in_id_order = [row[1] for row in rows]
    if statuses_in_id_order != ["confirmed"] * len(confirmed) + ["waitlisted"] * len(waitlisted):
        fail(f"rush at {workers} workers: the waiting list is not behind the confirmed in the order of arrival (ids)")
    # a group is decided in one go: its five people have consecutive ids
    by_contact: dict[int, list[int]] = {}
    for position, row in enumerate(rows):
        if row[2] is not None:
            by_contact.setdefault(row[2], []).append(position)
    split = [contact for contact, positions in by_contact.items()
             if positions != list(range(positions[0], positions[0] + len(positions)))]
    if split or len(by_contact) != groups:
        fail(f"rush at {workers} workers: {len(by_contact)} groups stored (expected {groups}), {len(split)} split up")
    elapsed = finished - started
    rate = len(rows) / elapsed if elapsed else 0.0
    on_postgresql = url.startswith("postgresql")
    figures.add(f"rush, {workers} workers: {people} people + {groups} groups of {group_size}, 30 places",
                f"{rate:.0f} registrations/s ({len(rows)} in {elapsed:.1f} s), p50 "
                f"{statistics.median(latencies) * 1000:.0f} ms, p99 {client.percentile(latencies, 0.99) * 1000:.0f} ms; "
                f"client CPU {client_cpu:.1f} s",
                f">= {TARGET_RUSH_PER_SECOND}/s" + ("" if on_postgresql else " (PostgreSQL)"),
                verdict(rate >= TARGET_RUSH_PER_SECOND))
    figures.add(f"rush, {workers} workers: places given", f"{len(confirmed)} confirmed, {len(waitlisted)} waitlisted "
                "in order of arrival" if len(confirmed) == 30 else f"{len(confirmed)} confirmed",
                "exactly 30", "PASS" if len(confirmed) == 30 and not split else "FAIL")
    note(f"  rush at {workers} workers: {rate:.0f} registrations/s, {len(confirmed)} confirmed, "
         f"{len(waitlisted)} waitlisted; the client's CPU {client_cpu:.2f} s in {elapsed:.2f} s"
         + ("" if connect_first else " (connections opened after the barrier: listen queue too short)"))


def listen_queue() -> int:
    """How many connections the kernel queues for a listening socket (gunicorn asks for 2048)."""
    try:
        return min(int(Path("/proc/sys/net/core/somaxconn").read_text()), 2048)
    except (OSError, ValueError):
        return 0


def registration_rows(url: str, slug: str) -> list[tuple[int, str, int | None]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(
                "SELECT r.id, r.status, r.registered_by_contact_id FROM registrations r "
                "JOIN seminars s ON s.id = r.seminar_id WHERE s.slug = :slug ORDER BY r.id"), {"slug": slug})]
    finally:
        engine.dispose()


# --- in-process: a manage link, the reminder pass -------------------------------------------------

def in_process_app(url: str):
    os.environ.setdefault("BOOKING_CONFIG", "testing")
    from booking import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "BOOKING_MAIL_LOG": ""})


def manage_path(url: str, slug: str) -> str:
    """The personal link of a confirmed registration for a seminar to come, made with the servers' key."""
    from booking.extensions import db
    from booking.registrations.models import Registration, RegistrationStatus
    from booking.registrations.services import manage_token
    from booking.seminars.models import Seminar

    app = in_process_app(url)
    with app.app_context():
        registration = db.session.scalar(
            db.select(Registration).join(Seminar).where(Seminar.slug == slug, Registration.email.is_not(None),
                                                        Registration.status == RegistrationStatus.CONFIRMED)
            .order_by(Registration.id).limit(1))
        path = f"/registrations/{manage_token(registration)}"
        db.session.remove()
        db.engine.dispose()
    return path


def reminder_pass(url: str, passes: int, figures: Figures) -> None:
    """Time `schedule_reminders` over the seeded database (rolled back each time), and show the plan
    of its query: the statement it runs, captured, explained by the database itself."""
    from sqlalchemy import event

    from booking.extensions import db
    from booking.mail.reminders import schedule_reminders

    app = in_process_app(url)
    statements: list[tuple[str, object]] = []
    with app.app_context():
        engine = db.engine

        def capture(conn, cursor, statement, parameters, context, executemany):
            if "JOIN sessions" in statement and "FROM registrations" in statement and not statements:
                statements.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", capture)
        timings, recorded = [], 0
        for _ in range(passes):
            started = time.perf_counter()
            recorded = schedule_reminders()
            db.session.flush()
            timings.append(time.perf_counter() - started)
            db.session.rollback()
        event.remove(engine, "before_cursor_execute", capture)
        idle = []
        later = datetime(2099, 1, 5, tzinfo=timezone.utc)  # nothing is due then
        for _ in range(passes):
            started = time.perf_counter()
            schedule_reminders(later)
            idle.append(time.perf_counter() - started)
            db.session.rollback()
        plan = []
        if statements:
            statement, parameters = statements[0]
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            with engine.connect() as connection:
                plan = [" | ".join(str(value) for value in row)
                        for row in connection.exec_driver_sql(prefix + statement, parameters)]
        db.session.remove()
        engine.dispose()
    median = statistics.median(timings)
    figures.add(f"reminder pass ({recorded} reminders due, 20,000 registrations)", f"{median * 1000:.1f} ms "
                f"(nothing due: {statistics.median(idle) * 1000:.1f} ms)",
                f"< {TARGET_REMINDER_SECONDS * 1000:.0f} ms", verdict(median < TARGET_REMINDER_SECONDS))
    text = "\n".join(plan)
    note("  reminder query plan:\n    " + "\n    ".join(plan))
    # registrations (20,000 rows, growing) must be reached through an index; sessions (200 rows)
    # may be read whole when the planner finds that cheaper, as PostgreSQL does at this size
    scans = [line.strip() for line in plan
             if re.search(r"Seq Scan on registrations\b|SCAN registrations\b(?! USING)", line)]
    indexed = bool(re.search(r"Index|INDEX", text)) and not scans
    sessions = "index" if re.search(r"(Index|INDEX)\S* (Scan )?(using|USING)? ?\S*ix_sessions|sessions USING (COVERING )?INDEX",
                                    text) else "read whole (200 rows)"
    figures.add("reminder query: registrations served by an index",
                ("yes" if indexed else "no: " + "; ".join(scans)) + f"; sessions: {sessions}",
                "index", verdict(indexed))


# --- the mail worker -----------------------------------------------------------------------------

class Sink:
    """A loopback SMTP server that accepts everything and counts Message-IDs."""

    def __init__(self):
        self.message_ids: list[bytes] = []
        self.times: list[float] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        match = re.search(rb"^Message-ID:\s*(\S+)", envelope.content, re.MULTILINE | re.IGNORECASE)
        with self.lock:
            self.message_ids.append(match.group(1) if match else b"")
            self.times.append(time.perf_counter())
        return "250 OK"


def outbox_counts(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(text("SELECT status, count(*) FROM outbox_messages GROUP BY status")).all())
    finally:
        engine.dispose()


def mail_worker(url: str, folder: Path, processes: int, figures: Figures, timeout: float) -> None:
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    before = outbox_counts(url)
    due = before.get("pending", 0) + before.get("sending", 0)
    environment = app_environment(url, folder, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port))
    workers = []
    try:
        for index in range(processes):
            with open(folder / f"worker-{index}.log", "ab") as log:
                workers.append(subprocess.Popen(
                    [str(VENV_BIN / "flask"), "--app", "wsgi", "booking", "worker", "--interval", "1"],
                    cwd=PROJECT_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(1)
            counts = outbox_counts(url)
            if counts.get("pending", 0) + counts.get("sending", 0) == 0 and len(sink.times) > 0:
                time.sleep(2)  # a pass may still be writing its last outcome
                break
            if any(worker.poll() is not None for worker in workers):
                fail("a mail worker ended by itself; see its log in " + str(folder))
                break
        else:
            fail(f"the mail worker did not empty the outbox within {timeout:.0f} s")
        rss = [peak_rss_mb(worker.pid) or 0.0 for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()  # measured already: no need to wait for a pass to end
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        controller.stop()
    after = outbox_counts(url)
    delivered = len(sink.message_ids)
    unique = len(set(sink.message_ids))
    if delivered != unique:
        fail(f"mail worker: {delivered - unique} messages delivered twice")
    if after.get("failed", 0) > before.get("failed", 0):
        fail(f"mail worker: {after.get('failed', 0) - before.get('failed', 0)} messages failed")
    sent = after.get("sent", 0) - before.get("sent", 0)
    if sent != delivered:
        fail(f"mail worker: {sent} marked sent, {delivered} arrived at the SMTP server")
    seconds = (sink.times[-1] - sink.times[0]) if len(sink.times) > 1 else float("nan")
    rate = delivered / seconds if seconds == seconds and seconds > 0 else 0.0
    figures.add(f"mail worker, {processes} processes, loopback SMTP",
                f"{rate:.0f} messages/s ({delivered} of {due} due before the pass, "
                f"{after.get('skipped', 0) - before.get('skipped', 0)} skipped; {delivered - unique} twice)",
                f">= {TARGET_MAIL_PER_SECOND}/s" + ("" if url.startswith("postgresql") else " (PostgreSQL)"),
                verdict(rate >= TARGET_MAIL_PER_SECOND))
    figures.add("peak RSS of a mail worker (VmHWM)", f"{max(rss):.0f} MB", f"< {TARGET_WORKER_RSS_MB} MB",
                verdict(max(rss) < TARGET_WORKER_RSS_MB))
    note(f"  mail worker: {rate:.0f} messages/s, {delivered} delivered, {unique} distinct Message-IDs")


# --- the retention purge of a database that never had one ------------------------------------------

def first_purge(url: str, figures: Figures) -> None:
    """Seed the database again as if no purge had ever run, and time the worker's first one as the
    worker runs it (committed batch by batch): the whole pass, and the longest transaction, for
    which it holds SQLite's write lock (no registration can be stored meanwhile)."""
    from booking import audit
    from booking.database import begin_write, commit_between_batches
    from booking.extensions import db
    from booking.privacy.services import purge_if_due

    seed(url, purged=False, echo=lambda line: note("  " + line))
    app = in_process_app(url)
    with app.app_context():
        marks = [time.perf_counter()]

        def after_batch():
            commit_between_batches()
            marks.append(time.perf_counter())

        started = marks[0]
        begin_write()
        with audit.acting_as(audit.Actor("worker")):
            counts = purge_if_due(after_batch=after_batch)
        db.session.commit()
        marks.append(time.perf_counter())
        db.session.remove()
        db.engine.dispose()
    seconds = marks[-1] - started
    longest = max(b - a for a, b in zip(marks, marks[1:]))
    if counts is None:
        fail("first purge: the seeded database had a purge recorded already")
        return
    figures.add(f"first retention purge, never-purged database ({counts.total:,} rows)",
                f"{seconds:.1f} s in {len(marks) - 1} transactions, the longest {longest * 1000:.0f} ms")
    note(f"  first purge: {seconds:.1f} s, {len(marks) - 1} transactions, longest {longest * 1000:.0f} ms; "
         + ", ".join(f"{key} {value}" for key, value in counts.as_dict().items()))


# --- the table -------------------------------------------------------------------------------------

def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), load average {os.getloadavg()[0]:.2f}"


def print_table(figures: Figures) -> None:
    print()
    print(f"## booking vs hello, {figures.database}")
    print()
    print("| page | req/s | hello req/s | ratio | target | |")
    print("|---|---:|---:|---:|---:|---|")
    for row in figures.rows:
        target = f"{row.target:.2f}" if row.target is not None else "-"
        mark = verdict(row.ratio >= row.target) if row.target is not None else ""
        print(f"| {row.label} | {row.per_second:.0f} | {row.hello:.0f} | {row.ratio:.3f} | {target} | {mark} |")
    print()
    print("| measure | figure | target | |")
    print("|---|---|---|---|")
    for what, figure, target, mark in figures.lines:
        print(f"| {what} | {figure} | {target} | {mark} |")
    print()
    for row in figures.rows:
        if row.extra:
            print(f"- {row.label}: {row.extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run: 1 round of 2 s, a smaller rush")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL database to drop and fill (default: BENCH_DATABASE_URL; "
                             "else a SQLite file in a temp folder)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per page (medians)")
    parser.add_argument("--seconds", type=float, default=5, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections for GET pages")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, for the app and hello alike")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, SQLite file)")
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", ""),
                        help="the app's BOOKING_CACHE_URL (default: BENCH_CACHE_URL, else none: the data version "
                             "is read from the database); 'file': a file in the temp folder, as one machine would "
                             "share it (file:///...); or redis://...")
    parser.add_argument("--only", action="append", metavar="SECTIONS",
                        help="sections to run, comma-separated or the flag again, of " + ",".join(SECTIONS)
                             + " (default: all; manage: that page alone; purge seeds the database again, "
                             "unpurged, after the others)")
    args = parser.parse_args()
    only = {section.strip() for value in (args.only or [",".join(SECTIONS)])
            for section in value.split(",") if section.strip()}
    if only - set(SECTIONS):
        parser.error(f"--only: unknown section(s) {', '.join(sorted(only - set(SECTIONS)))}")
    args.rush_people, args.rush_groups = 500, 50
    if args.quick:
        args.rounds, args.seconds = 1, 2
        args.rush_people, args.rush_groups = 100, 10

    from config import database_url

    folder = Path(tempfile.mkdtemp(prefix="booking-bench-"))
    url = database_url(args.database_url) if args.database_url else f"sqlite:///{folder}/bench.sqlite"
    on_postgresql = url.startswith("postgresql")
    use_wrk = shutil.which("wrk") is not None
    if args.cache_url == "file":
        args.cache_url = f"file://{folder / 'data-version'}"
    version_from = (f"the data version from {'a file' if args.cache_url.startswith('file:') else 'Redis'} "
                    f"(BOOKING_CACHE_URL={args.cache_url})" if args.cache_url else
                    "the data version from the database (no BOOKING_CACHE_URL)")
    figures = Figures(("PostgreSQL" if on_postgresql else "SQLite") + ", " + version_from)
    note(f"machine: {machine()}")
    note(f"database: {url.split('@')[-1]}; load generator: {'wrk' if use_wrk else 'Python client (wrk not installed)'}"
         f" for GETs and POSTs; gunicorn {args.workers} sync workers for app and hello; "
         f"BOOKING_CONFIG=production, rate limits off (RATELIMIT_ENABLED=false); {version_from}")
    seeded = seed(url, echo=lambda line: note("  " + line))

    if only & {"pages", "manage", "posts", "rush"}:
        serve_and_load(url, folder, seeded, args, only, figures, use_wrk, on_postgresql)
    if "reminders" in only:
        note("reminder pass:")
        reminder_pass(url, 3 if args.quick else 7, figures)
    if "worker" in only:
        note("mail worker:")
        mail_worker(url, folder, 4, figures, timeout=300)
    if "purge" in only:
        note("first retention purge:")
        first_purge(url, figures)

    print_table(figures)
    note(f"\nmachine: {machine()}")
    if failures:
        print(f"\n{len(failures)} FAIL line(s): " + "; ".join(failures))
    if not args.keep and not failures:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        note(f"logs kept in {folder}")
    return 1 if failures else 0


def serve_and_load(url: str, folder: Path, seeded, args, only: set[str], figures: Figures, use_wrk: bool,
                   on_postgresql: bool) -> None:
    """Pages, registration POSTs and the rush, against gunicorn (the sections of `only` among them)."""
    environment = app_environment(url, folder, BOOKING_CACHE_URL=args.cache_url)
    app = serve("booking", "wsgi:app", args.workers, environment, folder, PROJECT_DIR)
    hello = serve("hello", "hello:app", args.workers, environment, folder, BENCH_DIR)
    servers = [app, hello]
    try:
        feed = client.request(app.port, "GET", "/calendar.ics")
        etag = feed.headers.get("etag", "")
        if feed.status != 200 or not etag:
            fail(f"/calendar.ics answered {feed.status} without an ETag")
        pages = [
            Page("catalogue / (German)", "/", {"Accept-Language": "de"}, TARGET_CATALOGUE, 200, '<html lang="de"'),
            Page("catalogue / (Arabic)", "/", {"Accept-Language": "ar"}, TARGET_CATALOGUE, 200, 'dir="rtl"'),
            Page("catalogue /?topic=finanzen (filter)", "/?topic=finanzen", {"Accept-Language": "de"},
                 TARGET_CATALOGUE, 200, "Finanzen"),
            Page("seminar page", f"/seminars/{seeded.open_slug}", {"Accept-Language": "de"}, TARGET_SEMINAR, 200,
                 'action="/seminars/' + seeded.open_slug + '/register"'),
            Page("/calendar.ics", "/calendar.ics", {}, None, 200, "BEGIN:VCALENDAR"),
            Page("/calendar.ics 304 (If-None-Match)", "/calendar.ics", {"If-None-Match": etag}, TARGET_FEED_304, 304),
            Page("manage page (personal link)", manage_path(url, seeded.open_slug), {"Accept-Language": "de"},
                 TARGET_MANAGE, 200, "<h1"),
        ]
        pages = [page for page in pages if "pages" in only or ("manage" in only and page.label.startswith("manage"))]
        if pages:
            note("pages (interleaved with hello):")
            measure_pages(app, hello, pages, args, figures, use_wrk)
        association_names = accepted_association_names(url)
        if "posts" in only:
            note("registration POSTs:")
            floor = None
            if use_wrk:
                floor_environment = dict(environment, FLOOR_SEMINAR_ID=str(floor_table(url, seeded.open_slug)))
                floor = serve("floor", "floor:app", args.workers, floor_environment, folder, BENCH_DIR)
                servers.append(floor)
            measure_posts(app, hello, floor, url, seeded.open_slug, args, figures, use_wrk, association_names)
        if "rush" in only:
            note("the rush:")
            rush(app, url, seeded.rush_slugs[0], args.workers, args, figures, association_names)
        web_rss = max((peak_rss_mb(pid) or 0.0) for pid in app.worker_pids())
        figures.add(f"peak RSS of a web worker (VmHWM, after {', '.join(sorted(only & {'pages', 'manage', 'posts', 'rush'}))})",
                    f"{web_rss:.0f} MB", f"< {TARGET_WORKER_RSS_MB} MB", verdict(web_rss < TARGET_WORKER_RSS_MB))
        if on_postgresql and "rush" in only:
            app.stop()
            servers.remove(app)
            app16 = serve("booking", "wsgi:app", 16, environment, folder, PROJECT_DIR)
            servers.append(app16)
            rush(app16, url, seeded.rush_slugs[1], 16, args, figures, association_names)
    finally:
        for server in servers:
            server.stop()


def floor_table(url: str, slug: str) -> int:
    """bench/floor.py's table (made anew) and the id of the seminar whose row it locks."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS bench_floor"))
            connection.execute(text("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY "
                                    + ("" if url.startswith("sqlite") else "GENERATED ALWAYS AS IDENTITY ")
                                    + ", seminar_id INTEGER NOT NULL, name VARCHAR(200) NOT NULL)"))
            return connection.scalar(text("SELECT id FROM seminars WHERE slug = :slug"), {"slug": slug})
    finally:
        engine.dispose()


def accepted_association_names(url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(text("SELECT name FROM associations WHERE status = 'accepted' ORDER BY id")))
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
