"""Languages: those the interface speaks, and those seminars can be taught in.

The interface speaks the languages of BOOKING_LANGUAGES that have a catalogue under
booking/translations (English, the language the strings are written in, needs none). Adding a
language is one `.po` file and its code in BOOKING_LANGUAGES; its name and its writing direction
come from Babel's locale data (the CLDR), so nothing else has to list them.
"""
from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from babel import Locale
from flask import Flask, current_app, g
from flask_babel import refresh
from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)

SOURCE_LANGUAGE = "en"  # the language the strings are written in
TRANSLATIONS_DIR = Path(__file__).parent / "translations"

# Languages a seminar can be taught in or interpreted into (names in the page's language).
INSTRUCTION_LANGUAGES = {
    "de": _l("German"),
    "en": _l("English"),
    "tr": _l("Turkish"),
    "ar": _l("Arabic"),
    "ru": _l("Russian"),
    "uk": _l("Ukrainian"),
    "fa": _l("Persian"),
    "fr": _l("French"),
}


def language_name(code: str) -> str:
    """A language of instruction, named in the page's language."""
    return str(INSTRUCTION_LANGUAGES.get(code, code))


@cache
def endonym(code: str) -> str:
    """A language named in itself (Deutsch, Türkçe, العربية, English), so people find theirs
    whatever language the page is in."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


@cache
def text_direction(code: str) -> str:
    """'rtl' or 'ltr', from the CLDR's data for the language."""
    return "rtl" if Locale.parse(code).character_order == "right-to-left" else "ltr"


def has_catalogue(code: str, directory: Path = TRANSLATIONS_DIR) -> bool:
    return code == SOURCE_LANGUAGE or (directory / code / "LC_MESSAGES" / "messages.mo").is_file()


def interface_languages(app: Flask | None = None) -> list[str]:
    """The languages pages and emails can be shown in, in the configured order."""
    return (app or current_app).config["BOOKING_INTERFACE_LANGUAGES"]


def is_interface_language(code: str | None) -> bool:
    return code in interface_languages()


def interface_language_or_default(code: str | None) -> str:
    return code if is_interface_language(code) else current_app.config["BABEL_DEFAULT_LOCALE"]


def choose_language(requested: str | None, remembered: str | None, page_language: str | None,
                    accepted, available, default: str) -> tuple[str, bool]:
    """Which language a page speaks, and whether the visit must remember it (session["lang"]).

    The one rule, used by Flask-Babel's locale selector and by the page cache's fast lane, which
    answers without Flask and must choose exactly as it would:
    1. `?lang=` chosen with the switcher (remembered: it is the visit's choice);
    2. the language the visit remembered;
    3. the page's own language: a page about one registration, opened without a language of this
       visit (from the email, say), speaks the registration's preferred language (not remembered:
       it is that person's, not the visit's);
    4. the browser's languages by preference, `accepted` as werkzeug parses Accept-Language
       ("tr-TR" is served Turkish before a less wanted "de"), else the default; remembered, so that
       the pages after a form do not change language.
    """
    if requested in available:
        return requested, True
    if remembered in available:
        return remembered, False
    if page_language in available:
        return page_language, False
    for value, _quality in accepted:
        code = value.replace("_", "-").split("-")[0].lower()
        if code in available:
            return code, True
    return default, True


def interface_language_choices() -> list[tuple[str, str]]:
    return [(code, endonym(code)) for code in interface_languages()]


def speak(code: str | None) -> None:
    """Show this request's page in a registration's preferred language, unless the visitor chose
    one with the switcher (which the session keeps)."""
    if is_interface_language(code):
        g.page_language = code
        refresh()


def init_app(app: Flask) -> None:
    """Settle which configured languages the interface speaks: those with a compiled catalogue.

    A configured language without one is left out (with a warning) rather than shown in English
    with a right-to-left layout or under its own name."""
    from . import SettingMissing  # booking imports this module first

    configured = app.config["BOOKING_LANGUAGES"]
    if isinstance(configured, str):
        configured = [code.strip() for code in configured.split(",") if code.strip()]
    default = app.config["BABEL_DEFAULT_LOCALE"]
    if default not in configured:
        raise SettingMissing(f"BOOKING_DEFAULT_LOCALE {default!r} is not one of BOOKING_LANGUAGES {configured!r}")
    available = []
    for code in configured:
        if has_catalogue(code):
            available.append(code)
        else:
            log.warning("language %s has no compiled catalogue (make translations): left out", code)
    if default not in available:
        raise SettingMissing(f"the default language {default!r} has no compiled catalogue: run `make translations`")
    app.config["BOOKING_INTERFACE_LANGUAGES"] = available
