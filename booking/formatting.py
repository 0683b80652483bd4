"""Showing dates, times and places to people: always in BOOKING_TIMEZONE and their language."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import format_date, format_datetime, format_time

from .languages import language_name, text_direction


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BOOKING_TIMEZONE"])


def to_local(value: datetime) -> datetime:
    return value.astimezone(local_zone())


def session_when(starts_at, ends_at: datetime | None = None) -> str:
    """'Tue, 3 Mar 2027, 18:00–20:30', in the local time zone.

    Takes a start and an end, or anything with `starts_at` and `ends_at` (a session).
    """
    if ends_at is None:
        starts_at, ends_at = starts_at.starts_at, starts_at.ends_at
    start = format_datetime(starts_at, "EEE, d MMM yyyy, HH:mm")
    if to_local(starts_at).date() == to_local(ends_at).date():
        return f"{start}–{format_time(ends_at, 'HH:mm')}"
    return f"{start} – {format_datetime(ends_at, 'EEE, d MMM yyyy, HH:mm')}"


def map_link(address: str) -> str:
    return "https://www.openstreetmap.org/search?query=" + quote_plus(address)


def init_app(app: Flask) -> None:
    app.add_template_filter(session_when)
    app.add_template_filter(language_name)
    app.add_template_filter(text_direction)
    app.add_template_filter(map_link)
    app.add_template_filter(lambda value: format_date(value, "EEE, d MMM yyyy"), "date_long")
    app.add_template_filter(lambda value: format_datetime(value, "d MMM yyyy, HH:mm"), "datetime_short")
    app.add_template_filter(lambda value: format_date(value, "MMMM yyyy"), "month_name")
