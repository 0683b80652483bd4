"""Rendered public pages and feeds, kept per worker for the data version they were rendered at.

`@cached_page` on a view (the catalogue, a seminar page, the calendar feeds): a GET whose page is
kept for the current data version, language and query is answered from memory, after reading
only the version (one query, or none with Redis). Otherwise the view renders it and the result
is kept, in a small LRU per worker (BOOKING_PAGE_CACHE_SIZE pages; 0 turns the cache off).

What a kept page never carries of another visitor:
- Its CSRF token: the token the page was rendered with is swapped for a placeholder before it is
  kept, and each answer gets the visitor's own token (and session cookie) in its place.
- Cookies and headers: only the body, status and content headers are kept; Flask writes the
  visitor's session cookie (the language chosen, the CSRF secret) as for any page.
- Flashed messages or a logged-in user's view: requests with a message waiting or a staff login
  are rendered afresh and not kept.

Time alone changes pages too (a deadline passes, a session ends): a kept page is also dropped after
BOOKING_PAGE_CACHE_SECONDS. Conditional requests (If-None-Match) are answered 304 from the kept
page's ETag: a calendar app polling a feed that did not change costs one version read.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import wraps

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

from .version import current_version

# headers of the view's answer worth keeping (never Set-Cookie, Vary or the security headers,
# which every answer gets anew)
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Cache-Control", "ETag")
CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_RANGE")
# what stands for the visitor's CSRF token in a kept page (random per process: no page can contain it)
CSRF_PLACEHOLDER = f"csrf-placeholder-{secrets.token_hex(16)}"
MAX_QUERY_LENGTH = 512  # longer query strings (no filter needs one) are rendered without being kept


@dataclass(frozen=True)
class KeptPage:
    version: int
    kept_until: float  # time.monotonic()
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    has_csrf_token: bool


class PageCache:
    """A small LRU of KeptPage by key, safe for a threaded worker."""

    def __init__(self, size: int):
        self.size = size
        self._pages: OrderedDict[tuple, KeptPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, version: int) -> KeptPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if page.version != version or page.kept_until < time.monotonic():
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: KeptPage) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


def page_cache() -> PageCache:
    return current_app.extensions["booking_page_cache"]


def _cacheable_request() -> bool:
    if request.method not in ("GET", "HEAD") or current_app.config["BOOKING_PAGE_CACHE_SIZE"] <= 0:
        return False
    if len(request.query_string) > MAX_QUERY_LENGTH:
        return False
    # a message waiting to be shown, or a staff login: this visitor's own page
    return "_flashes" not in session and "_user_id" not in session


def _key(view_args) -> tuple:
    locale = get_locale()  # chosen as for any page (and remembered in the visitor's session)
    arguments = tuple(sorted((k, v) for k, v in request.args.items(multi=True) if k != "lang"))
    return (request.endpoint, tuple(sorted(view_args.items())), str(locale), arguments)


def _answer(page: KeptPage):
    body = page.body
    if page.has_csrf_token:
        body = body.replace(CSRF_PLACEHOLDER.encode(), generate_csrf().encode())
    response = current_app.response_class(body, status=page.status)
    for name, value in page.headers:
        response.headers[name] = value
    return response


def _keep(key: tuple, version: int, response) -> None:
    if response.status_code != 200 or response.direct_passthrough or response.headers.get("Set-Cookie"):
        return
    if "_flashes" in session:
        return
    body = response.get_data()
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    has_token = bool(token) and token.encode() in body
    if has_token:
        body = body.replace(token.encode(), CSRF_PLACEHOLDER.encode())
    headers = tuple((name, response.headers[name]) for name in KEPT_HEADERS if name in response.headers)
    seconds = current_app.config["BOOKING_PAGE_CACHE_SECONDS"]
    page_cache().put(key, KeptPage(version, time.monotonic() + seconds, 200, headers, body, has_token))


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


def cached_page(view):
    """Keep the view's 200 answers per data version, language and query (see the module's docstring)."""

    @wraps(view)
    def wrapper(**kwargs):
        if not _cacheable_request():
            return view(**kwargs)
        key = _key(kwargs)
        version = current_version()
        page = page_cache().get(key, version)
        if page is not None:
            response = _answer(page)
        else:
            response = _render_unconditionally(view, kwargs)
            _keep(key, version, response)
        if response.status_code == 200 and response.get_etag()[0]:
            response = response.make_conditional(request)
        return response

    return wrapper


def init_app(app: Flask) -> None:
    app.extensions["booking_page_cache"] = PageCache(max(app.config["BOOKING_PAGE_CACHE_SIZE"], 0))
