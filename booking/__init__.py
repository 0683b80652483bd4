"""booking: seminars of a city's integration office for migrant self-organisations."""
from __future__ import annotations

import logging
from pathlib import Path

import click
import flask_login

from flask import Flask, abort, current_app, g, has_request_context, render_template, request, session

from .database import init_database
from . import extensions, languages, ratelimits

PROJECT_DIR = Path(__file__).resolve().parent.parent


def create_app(config=None) -> Flask:
    """Build the application. `config` is a config class or a mapping that overrides it."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder=str(PROJECT_DIR / "booking" / "static"),
        instance_path=str(PROJECT_DIR / "instance"),
    )
    load_config(app, config)
    register_logging(app)
    Path(app.instance_path).mkdir(exist_ok=True)
    register_extensions(app)
    register_proxy(app)  # after the extensions: its middlewares wrap the page cache's fast lane
    register_url_converters(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    register_security_headers(app)
    return app


class SettingMissing(click.ClickException, RuntimeError):
    """A setting the app cannot start without. A RuntimeError for gunicorn; for `flask booking ...`
    a ClickException, which click prints as one line ("Error: ...") instead of a traceback."""


def load_config(app: Flask, config) -> None:
    from config import Config, config_from_env

    if isinstance(config, type) and issubclass(config, Config):
        app.config.from_object(config)
    else:
        try:
            app.config.from_object(config_from_env())
        except RuntimeError as unknown:  # BOOKING_CONFIG names no configuration
            raise SettingMissing(str(unknown)) from None
        if config:
            app.config.from_mapping(config)
    if not app.config.get("SECRET_KEY"):
        raise SettingMissing(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
            "or BOOKING_CONFIG=development for a local trial."
        )
    app.config["BOOKING_COMPLETION_SHARE"] = completion_share_setting(app.config.get("BOOKING_COMPLETION_SHARE", 1.0))
    app.config["BOOKING_CACHE_URL"] = cache_url_setting(app.config.get("BOOKING_CACHE_URL") or "")
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)


def completion_share_setting(value) -> float:
    """BOOKING_COMPLETION_SHARE as a number above 0 and at most 1, checked when the app is created
    (not first when an attendance page is shown): "completed" and certificates depend on it."""
    try:
        share = float(str(value).strip().replace(",", ".")) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        share = None
    if share is None or not 0 < share <= 1:  # NaN fails this too
        raise SettingMissing(
            f"BOOKING_COMPLETION_SHARE={value!r} is not a share of a seminar's sessions: use a number above 0 "
            "and at most 1, e.g. 1 (every session) or 0.75 (three of four).")
    return share


def cache_url_setting(value: str) -> str:
    """BOOKING_CACHE_URL: empty, Redis (redis://, rediss://, unix://) or a file of this machine
    (file:///absolute/path, in a folder that exists), checked when the app is created: a typo would
    otherwise show as a warning on every request."""
    value = value.strip()
    if not value or value.startswith(("redis://", "rediss://", "unix://")):
        return value
    if value.startswith("file://"):
        path = Path(value[len("file://"):])
        if path.is_absolute() and path.parent.is_dir() and not path.is_dir():
            return value
        raise SettingMissing(
            f"BOOKING_CACHE_URL={value!r}: a file:/// address must name a file (existing or not) in a folder "
            "that exists, with its absolute path, e.g. file:///run/booking/data-version.")
    raise SettingMissing(
        f"BOOKING_CACHE_URL={value!r} is neither Redis (redis://host:6379/0) nor a file of this machine "
        "(file:///run/booking/data-version); leave it empty to read the data version from the database.")


def register_logging(app: Flask) -> None:
    """No log record names a personal link's token or an address (booking/redaction.py): the app's
    own lines name ids only, and this catches what libraries write (werkzeug's request lines, the
    gunicorn access log, exception messages in tracebacks)."""
    from .redaction import install_log_redaction

    install_log_redaction()


def register_proxy(app: Flask) -> None:
    """Trust the X-Forwarded-For and -Proto headers of BOOKING_PROXY_HOPS proxies (a TLS proxy in front).

    Never X-Forwarded-Host, and no link is built from the Host header: absolute links come from
    BOOKING_BASE_URL (booking/external_links.py).
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    # werkzeug would answer "/a//b" (and "" for "/") with a redirect to an absolute URL built on the
    # request's Host; such paths get the not-found page (or the page) instead
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    hops = app.config["BOOKING_PROXY_HOPS"]
    app.wsgi_app = percent_encode_raw_query_bytes(app.wsgi_app)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def percent_encode_raw_query_bytes(wsgi_app):
    """A query string with raw bytes beyond ASCII (curl sends them; browsers encode them) is
    percent-encoded as a browser would, so bytes that are no UTF-8 read as U+FFFD instead of
    making werkzeug's request.args raise."""

    def middleware(environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():
            # WSGI gives the raw bytes as latin-1 characters, one per byte
            environ["QUERY_STRING"] = "".join(char if ord(char) < 128 else f"%{ord(char):02X}" for char in query)
        return wsgi_app(environ, start_response)

    return middleware


def select_locale():
    """Flask-Babel's locale selector: the rule is `languages.choose_language` (the fast lane uses it too)."""
    if not has_request_context():
        # the command line speaks English, as its --help and the README do; emails choose the
        # reader's language per message, files for the office take a --language
        return languages.SOURCE_LANGUAGE
    chosen, remember = languages.choose_language(
        request.args.get("lang"), session.get("lang"), g.get("page_language"), request.accept_languages,
        languages.interface_languages(), current_app.config["BABEL_DEFAULT_LOCALE"])
    if remember:
        session["lang"] = chosen
    g.language_asked = True  # (the page cache notes that this page depends on it)
    return chosen


def register_extensions(app: Flask) -> None:
    # (extensions are reached through their module: `booking.mail` is also a subpackage name)
    db = extensions.db
    db.init_app(app)
    extensions.migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), render_as_batch=True, compare_type=True)
    extensions.mail.init_app(app)
    extensions.csrf.init_app(app)
    # `current_user` in templates as Flask-Login's lazy proxy, not loaded before every page: a public
    # page then never touches the login state, and Flask-Login's session protection does not mark an
    # anonymous visitor's session (`_fresh`), which kept pages could not reproduce without Flask
    extensions.login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": flask_login.current_user})
    ratelimits.init_app(app)
    languages.init_app(app)
    extensions.babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(PROJECT_DIR / "booking" / "translations"))
    # models must be imported so that metadata and migrations see every table
    from . import models  # noqa: F401
    init_database(app)
    from . import caching

    caching.init_app(app)


def register_url_converters(app: Flask) -> None:
    """Path parts (slugs, tokens, ids) never carry control characters: such an address matches no
    route and is answered 404, so a NUL byte never reaches PostgreSQL, which refuses it."""
    from werkzeug.routing import UnicodeConverter

    class PrintableConverter(UnicodeConverter):
        def __init__(self, map, minlength=1, maxlength=None, length=None):
            super().__init__(map, minlength, maxlength, length)
            self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f-\\x9f]")

    app.url_map.converters["default"] = PrintableConverter
    app.url_map.converters["string"] = PrintableConverter

    @app.before_request
    def _refuse_nul_in_query():
        # query values reach queries too (a feed's topic filter): PostgreSQL refuses NUL in text
        if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
            abort(400)


def register_blueprints(app: Flask) -> None:
    from .accounts.views import bp as accounts_bp
    from .admin.views import bp as admin_bp
    from .associations.views import bp as associations_bp
    from .calendar.views import bp as calendar_bp
    from .public.views import bp as public_bp

    app.register_blueprint(calendar_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(associations_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)


def register_errorhandlers(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        return render_template("errors/error.html", code=code, error=error), code

    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, render_error)
    app.register_error_handler(429, ratelimits.too_many_requests)
    app.register_error_handler(CSRFError, lambda e: (render_template("errors/csrf.html"), 400))

    @app.errorhandler(500)
    def server_error(error):
        extensions.db.session.rollback()
        return render_template("errors/error.html", code=500, error=error), 500


def register_commands(app: Flask) -> None:
    from .accounts import commands as _account_commands  # noqa: F401
    from .associations import commands as _association_commands  # noqa: F401
    from .cli import booking_cli
    from .mail import commands as _mail_commands  # noqa: F401  (they add themselves to the group)
    from .privacy import commands as _privacy_commands  # noqa: F401
    from .seminars import commands as _seminar_commands  # noqa: F401

    app.cli.add_command(booking_cli)


# Pages use no inline script or style and load nothing from elsewhere, so the policy can be strict.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


# pages with personal data that are opened without a link: what a group registration just registered
PERSONAL_ENDPOINTS = frozenset({"associations.group_registered"})


def is_personal_route(rule) -> bool:
    """Whether pages of this URL rule show personal data: every page opened with a personal link
    (a `<token>` in the path), the whole workspace under /admin, and PERSONAL_ENDPOINTS."""
    return ("token" in rule.arguments or rule.rule == "/admin" or rule.rule.startswith("/admin/")
            or rule.endpoint in PERSONAL_ENDPOINTS)


# pages with personal data: kept by no cache, shared or the browser's own (nor its history on disk)
PERSONAL_CACHE_CONTROL = "private, no-store"


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        # personal links carry their token in the address: never hand it to another site
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # every answer on a personal route (its errors and redirects too), and the answer to any
        # form sent (it may show the names and addresses typed), whatever the view set
        rule = request.url_rule
        personal = (rule is not None and is_personal_route(rule)) or request.method not in ("GET", "HEAD", "OPTIONS")
        if personal and "no-store" not in response.headers.get("Cache-Control", ""):
            response.headers["Cache-Control"] = PERSONAL_CACHE_CONTROL
        hsts_seconds = app.config.get("BOOKING_HSTS_SECONDS") or 0
        if hsts_seconds > 0 and (request.is_secure or app.config["BOOKING_BASE_URL"].startswith("https://")):
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}")
        return response


def register_template_helpers(app: Flask) -> None:
    from . import formatting
    from .calendar import links

    formatting.init_app(app)
    app.add_template_global(links.google_calendar_url)
    app.add_template_global(links.outlook_calendar_url)
