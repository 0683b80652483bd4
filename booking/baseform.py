"""The base of every form of the app: Flask-WTF's FlaskForm, with WTForms' own messages ("Not a
valid choice.", in German "Keine gültige Auswahl.") in the page's language from a catalogue loaded
once per language and process. Flask-WTF loads that catalogue from disk again on every request
that builds a form (a thirtieth of a registration request)."""
from __future__ import annotations

from functools import lru_cache

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@lru_cache(maxsize=16)
def wtforms_catalogue(locale: str) -> support.NullTranslations:
    """WTForms' translations for `locale` (English, its own words, where it has none)."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class BookingForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            locale = get_locale() if current_app.config.get("WTF_I18N_ENABLED", True) else None
            if locale is None:
                return super().get_translations(form)
            return wtforms_catalogue(str(locale))
