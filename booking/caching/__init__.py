"""Pages that skip the database (and Flask) when nothing changed.

`version`: the data version, one number that rises in the same transaction as every change a
kept page shows (a session event does it, so no service can forget), kept in the database and
mirrored in Redis when BOOKING_CACHE_URL is set. `pages`: rendered public pages, feeds and manage
pages kept per worker, per version, address, query and language. `fastlane`: the WSGI middleware
that answers a kept page before Flask runs, after reading only the version, as Flask would answer
it (the visitor's own session cookie and CSRF token). `session_cookie`: Flask's session interface
with its signing serializer made once.
"""
from __future__ import annotations

from flask import Flask

from . import pages, version
from .pages import cached_page  # noqa: F401  (the views' decorator)


def init_app(app: Flask) -> None:
    version.init_app(app)
    pages.init_app(app)
