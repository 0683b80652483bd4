"""Showing dates, times and places to people: always in BOOKING_TIMEZONE and their language."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from babel.dates import format_interval, format_skeleton
from babel.lists import format_list
from flask_babel import get_locale, get_timezone

from .languages import language_name, text_direction


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BOOKING_TIMEZONE"])


def to_local(value: datetime) -> datetime:
    return value.astimezone(local_zone())


def _skeleton(value, skeleton: str) -> str:
    """A date or time in the page's (or email's) locale, its own order and words: 'Di., 2. März 2027'
    in German, 'الثلاثاء، 2 مارس 2027' in Arabic, from a CLDR skeleton (the fields, not their order)."""
    if isinstance(value, datetime):
        return format_skeleton(skeleton, value, tzinfo=get_timezone(), locale=get_locale())
    return format_skeleton(skeleton, value, locale=get_locale())


def date_long(value) -> str:
    """Weekday, day, month and year: 'Di., 2. März 2027', 'Tue, Mar 2, 2027'."""
    return _skeleton(value, "yMMMEd")


def _date_and_time(date_text: str, time_text: str) -> str:
    """A date and a time joined as the locale joins them ('{1}, {0}', '{1} {0}', ...)."""
    return get_locale().datetime_formats["medium"].format(time_text, date_text)


def datetime_short(value: datetime) -> str:
    """Day, month, year and time (24 hours): '2. März 2027, 18:00'."""
    return _date_and_time(_skeleton(value, "yMMMd"), _skeleton(value, "Hm"))


def month_name(value) -> str:
    """'März 2027', 'Mart 2027', 'مارس 2027'."""
    return _skeleton(value, "yMMMM")


def session_when(starts_at, ends_at: datetime | None = None) -> str:
    """'Di., 2. März 2027, 18:00–20:30 Uhr', in the local time zone and the page's locale.

    Takes a start and an end, or anything with `starts_at` and `ends_at` (a session).
    """
    if ends_at is None:
        starts_at, ends_at = starts_at.starts_at, starts_at.ends_at
    if to_local(starts_at).date() == to_local(ends_at).date():
        times = format_interval(starts_at, ends_at, "Hm", tzinfo=get_timezone(), locale=get_locale())
        return _date_and_time(date_long(starts_at), times)
    return " – ".join(_date_and_time(date_long(moment), _skeleton(moment, "Hm")) for moment in (starts_at, ends_at))


def language_list(codes) -> str:
    """Languages of instruction as the page's language lists things: 'Deutsch und Türkisch' is
    'German and Turkish', 'الألمانية والتركية'."""
    return format_list([language_name(code) for code in codes], locale=get_locale())


def map_link(address: str) -> str:
    return "https://www.openstreetmap.org/search?query=" + quote_plus(address)


def init_app(app: Flask) -> None:
    app.add_template_filter(session_when)
    app.add_template_filter(language_name)
    app.add_template_filter(language_list)
    app.add_template_filter(text_direction)
    app.add_template_filter(map_link)
    app.add_template_filter(date_long)
    app.add_template_filter(datetime_short)
    app.add_template_filter(month_name)
