"""Rendered pages and feeds, kept per worker for the data version they were rendered at.

`@cached_page` on a view (the catalogue, a seminar page, the calendar feeds, a participant's manage
page): its 200 answers are kept per data version, address, query and language, in a small LRU per
worker (BOOKING_PAGE_CACHE_SIZE pages; 0 turns the cache off), and the fast lane
(booking/caching/fastlane.py) answers the next request for the same page before Flask runs, after
reading only the version (one query, or none with Redis). This module is the Flask side: the view
renders the page once, and tells the fast lane what to keep.

What a kept page never carries of another visitor:
- Its CSRF token: the page is kept cut where the token it was rendered with stood, and each answer
  gets the visitor's own token (and session cookie) there.
- Cookies: Set-Cookie is never kept; each visitor's session cookie is written as Flask would.
- Flashed messages or a logged-in user's view: requests with a message waiting or a staff login
  go to Flask, and their pages are not kept.
- Another person's manage page: its address, token included, is part of the key (compared whole).

Time alone changes pages too (a deadline passes, a session ends): a kept page is dropped after
BOOKING_PAGE_CACHE_SECONDS, and every kept page of an older version is dropped as soon as a newer
version is read (a personal page stays no longer than that in the worker's memory, and nowhere else).
Conditional requests (If-None-Match) are answered 304 from the kept page's ETag.
"""
from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from functools import wraps

from flask import Flask, current_app, g, request, session

from ..languages import is_interface_language
from .version import current_version

CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_RANGE")
MAX_QUERY_LENGTH = 512  # longer query strings (no filter needs one) are rendered without being kept
PAGE_KEY = "booking.page_key"  # WSGI environ: the fast lane found no current page: (base key, chosen by visit)
KEEP = "booking.keep"  # WSGI environ: the view rendered a page to keep (a Rendering)
SWEEP_SECONDS = 1.0  # how often the cache looks for pages past their time


@dataclass(frozen=True)
class Rendering:
    """What `@cached_page` tells the fast lane about a page it rendered to be kept."""

    key: tuple
    version: int
    body: bytes  # as this visitor gets it
    parts: tuple[bytes, ...]  # the body split where the CSRF token stands (one part: no token)
    uses_csrf: bool  # the page made a CSRF token (the session gets a secret)
    asks_language: bool  # the page chose a language (the session may remember it)
    page_language: str | None  # the page's own language (a registration's), see languages.choose_language


@dataclass(frozen=True)
class KeptPage:
    version: int
    kept_until: float  # time.monotonic()
    status: str
    headers: tuple[tuple[str, str], ...]  # Flask's, without Set-Cookie, Content-Length and Date
    parts: tuple[bytes, ...]  # the body split where the visitor's CSRF token goes
    uses_csrf: bool
    asks_language: bool
    page_language: str | None
    dated: bool  # Flask sent a Date header (werkzeug's make_conditional): each answer gets its own
    etag: str | None


class PageCache:
    """A small LRU of KeptPage by key, safe for a threaded worker.

    Pages of an older version are dropped as soon as a newer version is seen, and pages past their
    time at the latest SWEEP_SECONDS after it: by the requests, and by a sweeper thread when the
    worker has none (a kept personal page must not outlive its time in an idle worker)."""

    def __init__(self, size: int):
        self.size = size
        self._pages: OrderedDict[tuple, KeptPage] = OrderedDict()
        self._lock = threading.Lock()
        self._newest_version = -1
        self._next_sweep = 0.0
        self._sweeper: threading.Thread | None = None

    def peek(self, key: tuple) -> KeptPage | None:
        """The page kept under this key, whatever its version (the version is read only if there is one)."""
        with self._lock:
            return self._pages.get(key)

    def is_current(self, key: tuple, page: KeptPage, version: int) -> bool:
        """Whether `page` (from peek) may answer a request that read `version`; drops it if not."""
        now = time.monotonic()
        with self._lock:
            self._saw(version, now)
            if page.version != version or page.kept_until < now:
                if self._pages.get(key) is page:
                    del self._pages[key]
                return False
            if key in self._pages:
                self._pages.move_to_end(key)
            return True

    def put(self, key: tuple, page: KeptPage) -> None:
        with self._lock:
            self._saw(page.version, time.monotonic())
            if page.version < self._newest_version:
                return  # rendered at a version already replaced
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
            if self._sweeper is None or not self._sweeper.is_alive():  # (a forked worker has no thread yet)
                self._sweeper = threading.Thread(target=_sweep_while_kept, args=(weakref.ref(self),),
                                                 name="page-cache-sweeper", daemon=True)
                self._sweeper.start()

    def sweep(self) -> None:
        """Drop the pages past their time."""
        with self._lock:
            self._next_sweep = 0.0
            self._saw(self._newest_version, time.monotonic())

    def _saw(self, version: int, now: float) -> None:
        if version > self._newest_version:
            self._newest_version = version
            for key in [key for key, page in self._pages.items() if page.version < version]:
                del self._pages[key]
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            for key in [key for key, page in self._pages.items() if page.kept_until < now]:
                del self._pages[key]

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


def _sweep_while_kept(cache_ref) -> None:
    """The sweeper thread: every SWEEP_SECONDS, until its cache is gone."""
    while True:
        time.sleep(SWEEP_SECONDS)
        cache = cache_ref()
        if cache is None:
            return
        cache.sweep()
        del cache


def page_key(base: tuple, chosen_by_visit: bool, speaks_own_language: bool) -> tuple:
    """The key a page is kept under. `base`: address, query and language (booking/caching/fastlane.py).
    A page with a language of its own (a registration's, spoken when the visit chose none) is kept
    apart for visits that chose a language and visits that did not; any other page is the same for both."""
    return (*base, chosen_by_visit if speaks_own_language else None)


def page_cache(app: Flask | None = None) -> PageCache:
    return (app or current_app).extensions["booking_page_cache"]


def _render_unconditionally(view, kwargs):
    """Run the view as for a request without If-None-Match: the whole page is what is kept."""
    environ = request.environ
    conditional = {name: environ.pop(name) for name in CONDITIONAL_HEADERS if name in environ}
    for cached in ("if_none_match", "if_modified_since", "if_match", "if_range"):
        request.__dict__.pop(cached, None)
    try:
        return current_app.make_response(view(**kwargs))
    finally:
        environ.update(conditional)
        for cached in ("if_none_match", "if_modified_since", "if_match", "if_range"):
            request.__dict__.pop(cached, None)


def _rendering(lookup: tuple, version: int, response) -> Rendering | None:
    """What to keep of the view's answer; None if it is not to be kept (not a plain 200, a cookie
    of the view's own, a message flashed while rendering)."""
    if response.status_code != 200 or response.direct_passthrough or response.headers.get("Set-Cookie"):
        return None
    if "_flashes" in session:
        return None
    body = response.get_data()
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(field)
    parts = tuple(body.split(token.encode())) if token else (body,)
    page_language = g.get("page_language")
    if not is_interface_language(page_language):
        page_language = None
    base, chosen_by_visit = lookup
    return Rendering(page_key(base, chosen_by_visit, page_language is not None), version, body, parts,
                     uses_csrf=field in g, asks_language=bool(g.get("language_asked")),
                     page_language=page_language)


def cached_page(view):
    """Keep the view's 200 answers per data version, address, query and language (see the module's docstring)."""

    @wraps(view)
    def wrapper(**kwargs):
        lookup = request.environ.get(PAGE_KEY)
        if lookup is None:  # the fast lane left this request to Flask alone (or the cache is off)
            return view(**kwargs)
        version = current_version()  # read before the page: a change meanwhile makes it older, never newer
        response = _render_unconditionally(view, kwargs)
        rendering = _rendering(lookup, version, response)
        if rendering is not None:
            request.environ[KEEP] = rendering
            return response  # the fast lane keeps it and answers (304 included)
        if response.status_code == 200 and response.get_etag()[0]:
            response = response.make_conditional(request)
        return response

    return wrapper


def init_app(app: Flask) -> None:
    from . import fastlane
    from .session_cookie import SessionInterface

    app.extensions["booking_page_cache"] = PageCache(max(app.config["BOOKING_PAGE_CACHE_SIZE"], 0))
    app.session_interface = SessionInterface()
    fastlane.install(app)
