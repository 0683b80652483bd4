"""Public pages that skip the database when nothing changed.

`version`: the data version, one number that rises in the same transaction as every change a
public page shows (a session event does it, so no service can forget), kept in the database and
mirrored in Redis when BOOKING_CACHE_URL is set. `pages`: rendered public pages and feeds kept
per worker, per version, language and filter; a request reads the version once and, when the
page is kept for it, answers without another query.
"""
from __future__ import annotations

from flask import Flask

from . import pages, version
from .pages import cached_page  # noqa: F401  (the views' decorator)


def init_app(app: Flask) -> None:
    version.init_app(app)
    pages.init_app(app)
