"""The catalogues are complete: every string of the code and templates is in each language's
catalogue, and translated there, with the same placeholders.

`make messages` brings the catalogues up to date with the code; translators then fill what is new.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from booking.languages import SOURCE_LANGUAGE, TRANSLATIONS_DIR

PROJECT_DIR = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
LANGUAGES = sorted(path.name for path in TRANSLATIONS_DIR.iterdir() if (path / "LC_MESSAGES" / "messages.po").exists())


def catalogue(language: str):
    with open(TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as file:
        return read_po(file, locale=language)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """What `make messages` extracts from the code and templates today."""
    template = tmp_path_factory.mktemp("messages") / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).with_name("pybabel")), "extract", "-F", "babel.cfg", "-k", "_l", "-k",
         "lazy_gettext", "-o", str(template), "."],
        cwd=PROJECT_DIR, check=True, capture_output=True,
    )
    with open(template, "rb") as file:
        return read_po(file)


def message_ids(messages) -> set:
    return {message.id for message in messages if message.id}


def test_the_configured_languages_each_have_a_catalogue(app):
    configured = [code.strip() for code in app.config["BOOKING_LANGUAGES"].split(",")]
    assert set(configured) - {SOURCE_LANGUAGE} == set(LANGUAGES)
    assert app.config["BOOKING_INTERFACE_LANGUAGES"] == configured


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_holds_every_string_of_the_code(language, extracted):
    held = message_ids(catalogue(language))
    missing = message_ids(extracted) - held
    assert not missing, (f"{len(missing)} strings of the code are not in the {language} catalogue "
                         f"(run `make messages`), e.g. {sorted(map(str, missing))[:5]}")
    unused = held - message_ids(extracted)
    assert not unused, f"the {language} catalogue holds strings the code no longer has (run `make messages`): {sorted(map(str, unused))[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated(language):
    messages = catalogue(language)
    untranslated = [message.id for message in messages
                    if message.id and (not all(message.string if isinstance(message.string, tuple) else [message.string])
                                       or message.fuzzy)]
    assert not untranslated, (f"{len(untranslated)} strings have no (or a fuzzy) {language} translation, "
                              f"e.g. {[str(u)[:60] for u in untranslated[:5]]}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language):
    wrong = []
    for message in catalogue(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        allowed = {name for text in ids for name in PLACEHOLDER.findall(text)}
        for index, text in enumerate(strings):
            used = set(PLACEHOLDER.findall(text or ""))
            # a plural form may leave the number out ("one seminar"), never bring in a name the code lacks
            expected_all = len(ids) == 1
            if used - allowed or (expected_all and text and used != allowed):
                wrong.append((ids[0][:50], index, sorted(used)))
    assert not wrong, f"{language}: placeholders differ from the English text: {wrong[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_the_plural_forms_of_its_language(language):
    messages = catalogue(language)
    for message in messages:
        if message.pluralizable and message.id:
            assert len(message.string) == messages.num_plurals, message.id
