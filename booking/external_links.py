"""Absolute links to this site, always built on BOOKING_BASE_URL.

A page or feed that shows a full link (a personal link to copy, a calendar feed to subscribe to,
the URL of each calendar event) must not take the site's address from the request: without
SERVER_NAME, Flask's `url_for(..., _external=True)` uses the Host header, which anyone sending
the request chooses (and a shared cache would keep the poisoned page for others). Emails already
use BOOKING_BASE_URL (booking/mail/render.py); this is the same rule for pages and feeds.
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app, has_request_context, request


def external_url(endpoint: str, /, _anchor: str | None = None, **values) -> str:
    """The absolute URL of `endpoint` on BOOKING_BASE_URL (e.g. https://seminare.example.org/sub).

    `endpoint` may be blueprint-relative (".contact") inside a request, as with url_for.
    """
    if endpoint.startswith("."):
        blueprint = request.blueprint if has_request_context() else None
        endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
    base = urlsplit(current_app.config["BOOKING_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https",
    )
    current_app.inject_url_defaults(endpoint, values)
    url = adapter.build(endpoint, values, force_external=True)
    if _anchor is not None:
        url = f"{url}#{quote(_anchor, safe='%!#$&()*+,/:;=?@')}"
    return url
