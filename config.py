"""Configuration classes, read from the environment.

`BOOKING_CONFIG` picks one of `development`, `testing` or `production` (the default).
Every setting is listed with its default in README.md.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(url: str | None) -> str:
    """Normalise a database URL: plain `postgresql://` URLs use psycopg 3."""
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'booking.sqlite'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SECRET_KEY_FALLBACKS = _env_list("SECRET_KEY_FALLBACKS")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))

    BOOKING_TIMEZONE = os.environ.get("BOOKING_TIMEZONE", "Europe/Berlin")
    BOOKING_OFFICE_NAME = os.environ.get("BOOKING_OFFICE_NAME", "Integration Office")
    # Printed on every sign-in sheet, e.g. "Gefördert durch das Land Hessen" (empty: no such line).
    BOOKING_FUNDER_LINE = os.environ.get("BOOKING_FUNDER_LINE", "")
    # Under the signature rule of certificates, e.g. "Dr. Jana Beispiel, Leiterin des Integrationsbüros"
    # (empty: the office's name).
    BOOKING_CERTIFICATE_SIGNATURE = os.environ.get("BOOKING_CERTIFICATE_SIGNATURE", "")
    BOOKING_MAIL_SENDER = os.environ.get("BOOKING_MAIL_SENDER", "seminars@example.org")
    # The office's privacy notice texts (<lang>.md); empty: instance/privacy/, else the shipped ones.
    BOOKING_PRIVACY_NOTICE_DIR = os.environ.get("BOOKING_PRIVACY_NOTICE_DIR", "")
    # The Hessian school holidays the workspace warns about (README: "Scheduling help"); empty:
    # instance/school_holidays_he.csv if the office put one there, else the file shipped in booking/seminars/data/.
    BOOKING_SCHOOL_HOLIDAYS_FILE = os.environ.get("BOOKING_SCHOOL_HOLIDAYS_FILE", "")
    BOOKING_GROUP_MAX = int(os.environ.get("BOOKING_GROUP_MAX", "10"))
    BOOKING_REMINDER_OFFSETS = os.environ.get("BOOKING_REMINDER_OFFSETS", "48h,3h")
    # A place that frees up less than this many hours before a seminar's first session is offered
    # to the waiting list (accept within BOOKING_OFFER_HOURS, never past the start), not given silently.
    BOOKING_OFFER_CUTOFF_HOURS = float(os.environ.get("BOOKING_OFFER_CUTOFF_HOURS", "72"))
    BOOKING_OFFER_HOURS = float(os.environ.get("BOOKING_OFFER_HOURS", "24"))
    BOOKING_BASE_URL = os.environ.get("BOOKING_BASE_URL", "http://127.0.0.1:5000")
    # How many proxies in front (e.g. 1 for a TLS proxy before gunicorn) whose X-Forwarded-For/-Proto count.
    BOOKING_PROXY_HOPS = int(os.environ.get("BOOKING_PROXY_HOPS", "0"))
    BOOKING_MAIL_MAX_ATTEMPTS = int(os.environ.get("BOOKING_MAIL_MAX_ATTEMPTS", "12"))
    # Retention (booking.privacy): personal data of registrations goes this many days after the
    # seminar's last session, of cancelled ones after the cancellation, needs after the seminar;
    # the email log (what was sent, to whom, the server's answers) after BOOKING_EMAIL_LOG_RETENTION_DAYS.
    BOOKING_RETENTION_DAYS = int(os.environ.get("BOOKING_RETENTION_DAYS", "180"))
    BOOKING_CANCELLED_RETENTION_DAYS = int(os.environ.get("BOOKING_CANCELLED_RETENTION_DAYS", "30"))
    BOOKING_NEEDS_RETENTION_DAYS = int(os.environ.get("BOOKING_NEEDS_RETENTION_DAYS", "14"))
    BOOKING_EMAIL_LOG_RETENTION_DAYS = int(os.environ.get("BOOKING_EMAIL_LOG_RETENTION_DAYS", "30"))
    # "Completed" (booking.attendance): present at this share of a seminar's scheduled sessions
    # (1.0: every one; 0.75: three of four, rounded up).
    # Checked when the app is created (above 0, at most 1): a wrong value stops the start with a clear message.
    BOOKING_COMPLETION_SHARE = os.environ.get("BOOKING_COMPLETION_SHARE", "1.0")
    BOOKING_WORKER_INTERVAL = float(os.environ.get("BOOKING_WORKER_INTERVAL", "10"))
    # Without MAIL_SERVER, emails are kept in this mbox file instead of being sent (empty: only logged).
    # It holds whole emails with their personal links: written with mode 0600, and off in production.
    BOOKING_MAIL_LOG = os.environ.get("BOOKING_MAIL_LOG", str(INSTANCE_DIR / "sent-mail.mbox"))
    # Strict-Transport-Security max-age on https (0: none); production sends a year.
    BOOKING_HSTS_SECONDS = int(os.environ.get("BOOKING_HSTS_SECONDS", "0"))

    # Public pages that skip the database (booking/caching, README "Pages that skip the database"):
    # Redis (redis://host:6379/0) where every app server finds the data version; empty: each reads
    # it from the database, one query per page.
    BOOKING_CACHE_URL = os.environ.get("BOOKING_CACHE_URL", "")
    # Rendered public pages each worker keeps (per data version, language and filter; 0: none), and
    # for at most how many seconds (what only time changes, a deadline passing, shows after that).
    BOOKING_PAGE_CACHE_SIZE = int(os.environ.get("BOOKING_PAGE_CACHE_SIZE", "128"))
    BOOKING_PAGE_CACHE_SECONDS = float(os.environ.get("BOOKING_PAGE_CACHE_SECONDS", "60"))

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "30"))
    MAIL_DEBUG = _env_bool("MAIL_DEBUG", False)  # Flask-Mail would follow DEBUG and print every SMTP line
    MAIL_SUPPRESS_SEND = False  # delivery is the dispatcher's; tests use a real SMTP server
    MAIL_DEFAULT_SENDER = BOOKING_MAIL_SENDER

    # The interface's languages, in the order the switcher shows them; each needs a catalogue in
    # booking/translations (README: "Languages"). The default serves visitors whose browser asks
    # for none of them, and emails to people whose language is no longer offered.
    BOOKING_LANGUAGES = os.environ.get("BOOKING_LANGUAGES", "de,tr,ar,en")
    BABEL_DEFAULT_LOCALE = os.environ.get("BOOKING_DEFAULT_LOCALE", "de")
    BABEL_DEFAULT_TIMEZONE = BOOKING_TIMEZONE

    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    SERVER_NAME = os.environ.get("SERVER_NAME") or None
    WTF_CSRF_TIME_LIMIT = None  # a form left open on a phone for hours must still submit
    # Requests are small forms: a group of BOOKING_GROUP_MAX people with the longest texts in every
    # field fits many times over; anything bigger is refused (413) before it is parsed.
    MAX_CONTENT_LENGTH = int(os.environ.get("BOOKING_MAX_REQUEST_BYTES", str(256 * 1024)))
    MAX_FORM_MEMORY_SIZE = 64 * 1024  # one field; the longest (needs, 2,000 characters) takes at most 24 KiB
    MAX_FORM_PARTS = 40 + 6 * (BOOKING_GROUP_MAX + 1)  # the group form's fields, with room to spare
    SESSION_COOKIE_SAMESITE = "Lax"
    # A workspace session ends after this many minutes without a request.
    BOOKING_ADMIN_IDLE_MINUTES = int(os.environ.get("BOOKING_ADMIN_IDLE_MINUTES", "120"))
    # `flask booking seed-demo` (and so `make run`) also makes a demo coordinator and trainer with
    # known passwords: only in the development configuration, never from the environment.
    BOOKING_DEMO_ACCOUNTS = False
    SESSION_COOKIE_HTTPONLY = True
    # Error messages and SQL logs never quote a statement's values (names, addresses, links with
    # their token): tracebacks and logs name ids only.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"hide_parameters": True}

    # Rate limits (booking/ratelimits.py; why these values: README, "Rate limits").
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "booking")
    RATELIMIT_STRATEGY = "moving-window"  # no double burst at a window's edge
    RATELIMIT_FAIL_ON_FIRST_BREACH = False  # find every limit reached, so "try again at" is right
    RATELIMIT_SWALLOW_ERRORS = True  # Redis down: registrations go on, counted in memory meanwhile
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    BOOKING_LIMIT_REGISTER_IP = os.environ.get("BOOKING_LIMIT_REGISTER_IP", "10 per minute; 60 per hour")
    # How staff passwords are hashed (werkzeug's method string); scrypt at werkzeug's full strength.
    BOOKING_PASSWORD_HASH_METHOD = os.environ.get("BOOKING_PASSWORD_HASH_METHOD", "scrypt")
    BOOKING_LIMIT_REGISTER_EMAIL = os.environ.get("BOOKING_LIMIT_REGISTER_EMAIL", "10 per hour; 30 per day")
    BOOKING_LIMIT_GROUP_IP = os.environ.get("BOOKING_LIMIT_GROUP_IP", "5 per minute; 20 per hour")
    BOOKING_LIMIT_GROUP_EMAIL = os.environ.get("BOOKING_LIMIT_GROUP_EMAIL", "10 per hour; 30 per day")
    BOOKING_LIMIT_LOST_LINK_IP = os.environ.get("BOOKING_LIMIT_LOST_LINK_IP", "10 per minute; 30 per hour")
    BOOKING_LIMIT_LOST_LINK_EMAIL = os.environ.get("BOOKING_LIMIT_LOST_LINK_EMAIL", "3 per hour; 10 per day")
    BOOKING_LIMIT_LOGIN_IP = os.environ.get("BOOKING_LIMIT_LOGIN_IP", "10 per minute; 100 per hour")
    BOOKING_LIMIT_LOGIN_EMAIL = os.environ.get("BOOKING_LIMIT_LOGIN_EMAIL", "5 per minute; 20 per hour")
    BOOKING_LIMIT_PASSWORD_RESET_IP = os.environ.get("BOOKING_LIMIT_PASSWORD_RESET_IP", "5 per minute; 20 per hour")
    BOOKING_LIMIT_PASSWORD_RESET_EMAIL = os.environ.get("BOOKING_LIMIT_PASSWORD_RESET_EMAIL", "3 per hour; 10 per day")


class DevelopmentConfig(Config):
    DEBUG = True
    SECRET_KEY = Config.SECRET_KEY or "dev-only-secret-change-me"
    BOOKING_DEMO_ACCOUNTS = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SECRET_KEY_FALLBACKS: list[str] = []
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://")
    MAIL_SERVER = ""
    BOOKING_MAIL_LOG = ""
    # The same scrypt with 32 times less work (a few ms instead of 130 ms per hash): the suite logs in
    # hundreds of times. tests/test_admin_access.py checks production keeps the full strength.
    BOOKING_PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    RATELIMIT_ENABLED = False  # the suite posts many forms from 127.0.0.1; tests/test_security_ratelimits.py turns them on


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    # no copy of every email (with its personal links) on disk, unless asked for
    BOOKING_MAIL_LOG = os.environ.get("BOOKING_MAIL_LOG", "")
    BOOKING_HSTS_SECONDS = int(os.environ.get("BOOKING_HSTS_SECONDS", "31536000"))


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env():
    name = os.environ.get("BOOKING_CONFIG", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"BOOKING_CONFIG={name!r} is unknown; use one of {', '.join(CONFIGS)}"
        ) from None
