"""The fast lane: kept pages answered before Flask, at the WSGI level.

A kept page (booking/caching/pages.py) used to be answered inside Flask, which costs more than the
page itself: the request context, the session cookie, Flask-Babel, the hooks (about 0.5 ms of the
0.8 ms of a kept catalogue). The fast lane sits under the proxy middlewares and in front of Flask.
For a GET or HEAD it finds the page kept for this address, query and language, reads the data
version (booking/caching/version.py) and, when the page was kept for that version and is not too
old, answers it as Flask would:

- the status, body and every header Flask sent with it (the security headers, Content-Type, Vary,
  ETag, Cache-Control...), except Set-Cookie and Content-Length, which are this visitor's;
- the visitor's own session cookie and CSRF token, made with Flask's session interface and with
  itsdangerous as Flask-WTF makes them: a visitor without a session gets a new one (the language the
  visit speaks, a new CSRF secret if the page has a form), a visitor with one gets a token for their
  secret and no new cookie unless something changed;
- the language chosen by the one rule of booking/languages.py (`choose_language`), as Flask-Babel's
  selector does, remembered in the session in the same cases;
- `304 Not Modified` when If-None-Match names the kept page's ETag; HEAD without a body.

Everything else goes to Flask unchanged: other methods, a session holding more than the language
and the CSRF secret (a message waiting to be shown, a staff login; `_fresh`, which Flask-Login left
in anonymous sessions before public pages stopped loading the user, changes nothing and is allowed),
a "remember me" cookie, a query
string that is long or carries a NUL byte, other conditional headers (If-Modified-Since, If-Match,
If-Range, Range), and every page not kept. When Flask renders a page that `@cached_page` may keep,
it marks it in the WSGI environ; the fast lane keeps it (the one store of kept pages) and answers
this request from Flask's answer.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import dump_cookie, http_date, is_resource_modified, parse_accept_header, remove_entity_headers
from werkzeug.wrappers import Request, Response

from .. import languages
from .pages import KEEP, MAX_QUERY_LENGTH, PAGE_KEY, KeptPage, Rendering, page_cache, page_key
from .version import read_version

log = logging.getLogger(__name__)

# Flask-WTF signs its tokens with this salt (flask_wtf.csrf.generate_csrf and validate_csrf)
CSRF_SALT = "wtf-csrf-token"
# what Flask handles itself: conditions other than If-None-Match, and byte ranges
UNANSWERED_HEADERS = ("HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_RANGE", "HTTP_RANGE")
# headers that belong to one answer, not to the kept page
VISITOR_HEADERS = frozenset({"set-cookie", "content-length", "date"})


@dataclass
class Visit:
    """What the fast lane read of one request."""

    base: tuple  # address, query and language
    chosen_by_visit: bool  # the language is the visit's choice (?lang=, or remembered)
    session: object  # the session interface's SecureCookieSession
    requested_language: str | None


class FastLane:
    """WSGI middleware around Flask's wsgi_app (see the module's docstring)."""

    def __init__(self, app: Flask, wsgi_app):
        self.flask_app = app
        self.wsgi_app = wsgi_app
        self._csrf = (None, None)  # (secret, serializer)
        self._cookies_by_language: dict[str, tuple[int, list[str]]] = {}

    # --- the request ----------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or self.flask_app.config["BOOKING_PAGE_CACHE_SIZE"] <= 0:
            return self.wsgi_app(environ, start_response)
        try:
            visit = self._visit(environ)
            if visit is None:
                return self.wsgi_app(environ, start_response)
            cache = page_cache(self.flask_app)
            for speaks_own_language in (False, True):
                key = page_key(visit.base, visit.chosen_by_visit, speaks_own_language)
                page = cache.peek(key)
                if page is not None:
                    version = read_version(self.flask_app, environ, through_session=False)
                    if cache.is_current(key, page, version):
                        return self._answer_kept(page, visit, environ, start_response)
                    break
        except Exception:  # never worse than without the lane: Flask answers (and shows its error page)
            log.exception("fast lane failed; the request goes to Flask")
            return self.wsgi_app(environ, start_response)
        environ[PAGE_KEY] = (visit.base, visit.chosen_by_visit)
        return self._render(environ, start_response)

    def _visit(self, environ) -> Visit | None:
        """The request's page key, session and language; None when Flask must answer it."""
        if len(environ.get("QUERY_STRING", "")) > MAX_QUERY_LENGTH or any(name in environ for name in UNANSWERED_HEADERS):
            return None
        app = self.flask_app
        request = Request(environ)
        args = request.args
        if any("\x00" in key or "\x00" in value for key, value in args.items(multi=True)):
            return None  # Flask answers 400
        if app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
            return None  # Flask-Login would log the staff member in
        session = app.session_interface.open_session(app, request)
        if session is None or not set(session) <= {"lang", self._csrf_field(), "_fresh"}:
            return None  # a message waiting, a staff login: this visitor's own page
        available = languages.interface_languages(app)
        requested, remembered = args.get("lang"), session.get("lang")
        code, _remember = languages.choose_language(requested, remembered, None, _accepted(environ),
                                                    available, app.config["BABEL_DEFAULT_LOCALE"])
        chosen_by_visit = requested in available or remembered in available
        arguments = tuple(sorted((k, v) for k, v in args.items(multi=True) if k != "lang"))
        base = (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), environ.get("SCRIPT_NAME", ""),
                environ.get("PATH_INFO", ""), arguments, code)
        return Visit(base, chosen_by_visit, session, requested)

    # --- a kept page ----------------------------------------------------------------------------

    def _answer_kept(self, page: KeptPage, visit: Visit, environ, start_response):
        app = self.flask_app
        session = visit.session
        if page.asks_language:
            # with the page's own language, if it has one: as Flask-Babel's selector would
            code, remember = languages.choose_language(
                visit.requested_language, session.get("lang"), page.page_language, _accepted(environ),
                languages.interface_languages(app), app.config["BABEL_DEFAULT_LOCALE"])
            if remember:
                session["lang"] = code
        body = page.parts[0]
        if page.uses_csrf:
            field = self._csrf_field()
            if field not in session:  # as flask_wtf.csrf.generate_csrf makes the secret
                session[field] = hashlib.sha1(os.urandom(64)).hexdigest()
            if len(page.parts) > 1:
                body = self._csrf_serializer().dumps(session[field]).encode().join(page.parts)
        headers = list(page.headers)
        headers.append(("Content-Length", str(len(body))))
        if page.dated:
            headers.append(("Date", http_date()))
        if session.modified:
            headers.extend(("Set-Cookie", cookie) for cookie in self._session_cookies(session))
        return _respond(environ, start_response, page.status, headers, body, page.etag)

    def _session_cookies(self, session) -> list[str]:
        """The Set-Cookie values Flask's session interface writes for this session.

        A session holding only the language (a first visit to a page without a form, the commonest
        answer of all) is signed once per language and second: itsdangerous stamps whole seconds, so
        within one second the cookie is the very bytes Flask would write."""
        language = session["lang"] if set(session) == {"lang"} else None
        second = int(time.time())
        if language is not None:
            kept_second, cookies = self._cookies_by_language.get(language, (None, None))
            if kept_second == second:
                return cookies
        cookies = self._signed_cookies(session)
        if language is not None and int(time.time()) == second:  # signed within that second
            self._cookies_by_language[language] = (second, cookies)
        return cookies

    def _signed_cookies(self, session) -> list[str]:
        """What SecureCookieSessionInterface.save_session writes for a session that is neither empty
        nor permanent (none the fast lane changes is): the session signed by the interface's own
        serializer, in a cookie with the interface's settings, written by werkzeug's dump_cookie as
        Response.set_cookie writes it (without building a Response: a third of the cost)."""
        app, interface = self.flask_app, self.flask_app.session_interface
        if not session or session.permanent:
            answer = Response()
            interface.save_session(app, session, answer)
            return answer.headers.getlist("Set-Cookie")
        value = interface.get_signing_serializer(app).dumps(dict(session))
        return [dump_cookie(
            interface.get_cookie_name(app), value, expires=interface.get_expiration_time(app, session),
            httponly=interface.get_cookie_httponly(app), domain=interface.get_cookie_domain(app),
            path=interface.get_cookie_path(app), secure=interface.get_cookie_secure(app),
            partitioned=interface.get_cookie_partitioned(app), samesite=interface.get_cookie_samesite(app),
            max_size=Response.max_cookie_size)]

    def _csrf_field(self) -> str:
        return self.flask_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")

    def _csrf_serializer(self) -> URLSafeTimedSerializer:
        """Flask-WTF's token serializer (its secret and salt), made once per secret."""
        secret = self.flask_app.config.get("WTF_CSRF_SECRET_KEY") or self.flask_app.secret_key
        if self._csrf[0] != secret:
            self._csrf = (secret, URLSafeTimedSerializer(secret, salt=CSRF_SALT))
        return self._csrf[1]

    # --- a page Flask renders -------------------------------------------------------------------

    def _render(self, environ, start_response):
        """Flask answers; a page `@cached_page` marked for keeping is kept, and this request is
        answered from Flask's answer (304 included: the view rendered the whole page)."""
        captured = []

        def capture(status, headers, exc_info=None):
            if KEEP in environ:
                captured.append((status, headers))
                return lambda data: None
            return start_response(status, headers, exc_info)

        iterable = self.wsgi_app(environ, capture)
        if not captured:
            return iterable
        rendering: Rendering = environ.pop(KEEP)
        status, headers = captured[0]
        if not status.startswith("200 "):  # a hook after the view failed or changed the answer: not kept
            start_response(status, headers)
            return iterable
        if hasattr(iterable, "close"):
            iterable.close()
        kept_headers = tuple((name, value) for name, value in headers if name.lower() not in VISITOR_HEADERS)
        page_cache(self.flask_app).put(rendering.key, KeptPage(
            version=rendering.version,
            kept_until=time.monotonic() + self.flask_app.config["BOOKING_PAGE_CACHE_SECONDS"],
            status=status,
            headers=kept_headers,
            parts=rendering.parts,
            uses_csrf=rendering.uses_csrf,
            asks_language=rendering.asks_language,
            page_language=rendering.page_language,
            dated=any(name.lower() == "date" for name, _value in headers),
            etag=next((value for name, value in headers if name.lower() == "etag"), None),
        ))
        return _respond(environ, start_response, status, list(headers), rendering.body,
                        next((value for name, value in headers if name.lower() == "etag"), None))


@lru_cache(maxsize=256)
def _parsed_accept_language(header: str | None) -> LanguageAccept:
    return parse_accept_header(header, LanguageAccept)


def _accepted(environ) -> LanguageAccept:
    """The browser's languages, parsed as werkzeug parses them for Flask (request.accept_languages);
    browsers send a handful of distinct headers, each parsed once."""
    return _parsed_accept_language(environ.get("HTTP_ACCEPT_LANGUAGE"))


def _respond(environ, start_response, status: str, headers: list, body: bytes, etag: str | None):
    """Answer as werkzeug's make_conditional and get_app_iter would: 304 without entity headers when
    If-None-Match names the ETag, no body for HEAD."""
    if etag and environ.get("HTTP_IF_NONE_MATCH") and not is_resource_modified(environ, etag=etag):
        remove_entity_headers(headers)
        start_response("304 NOT MODIFIED", headers)
        return []
    start_response(status, headers)
    return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def install(app: Flask) -> None:
    """Put the fast lane in front of Flask (under the proxy middlewares, which wrap it later)."""
    app.wsgi_app = FastLane(app, app.wsgi_app)
