"""Every form derives from booking.baseform.BookingForm: WTForms' own messages ("Not a valid
choice.") speak the page's language, from a catalogue loaded once per language and process."""
from __future__ import annotations

import importlib
import pkgutil

import pytest
from flask_wtf import FlaskForm

import booking
from booking.baseform import BookingForm, wtforms_catalogue

from tests.test_public_registration import field_error, rows, seminar_slug, valid_form, verein_id  # noqa: F401


def all_subclasses(cls) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | all_subclasses(sub)
    return found


def test_every_form_of_the_app_is_a_booking_form():
    for module in pkgutil.walk_packages(booking.__path__, "booking."):
        importlib.import_module(module.name)
    forms = {cls for cls in all_subclasses(FlaskForm) if cls.__module__.startswith("booking.")} - {BookingForm}
    assert len(forms) > 30  # the walk found the app's forms
    assert [cls.__qualname__ for cls in forms if not issubclass(cls, BookingForm)] == []


@pytest.mark.parametrize(("language", "message"), [
    ("de", "Keine gültige Auswahl."), ("tr", "Geçerli bir seçenek değil."), ("ar", "اختيار غير صحيح."),
    ("en", "Not a valid choice."),
])
def test_wtforms_own_message_speaks_the_page_language_and_its_catalogue_is_loaded_once(
        app, client, seminar_slug, verein_id, language, message):  # noqa: F811
    wtforms_catalogue.cache_clear()
    loaded = []
    for _ in range(3):
        data = valid_form(client, seminar_slug, verein_id, preferred_language="xx")
        response = client.post(f"/seminars/{seminar_slug}/register?lang={language}", data=data)
        assert response.status_code == 422
        assert field_error(response.get_data(as_text=True), "preferred_language") == message
        loaded.append(wtforms_catalogue.cache_info().misses)
    assert rows(app) == []
    # loaded once per language (the form's page and the answer), not once per request
    assert 1 <= loaded[0] <= 2 and loaded[0] == loaded[1] == loaded[2]
