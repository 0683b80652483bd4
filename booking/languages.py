"""Languages: those the interface speaks, and those seminars can be taught in."""
from flask_babel import lazy_gettext as _l

# Interface languages (translations come with the languages issue); also what participants may prefer.
INTERFACE_LANGUAGES = {
    "de": _l("German"),
    "en": _l("English"),
    "tr": _l("Turkish"),
    "ar": _l("Arabic"),
}

# Languages a seminar can be taught in or interpreted into.
INSTRUCTION_LANGUAGES = {
    **INTERFACE_LANGUAGES,
    "ru": _l("Russian"),
    "uk": _l("Ukrainian"),
    "fa": _l("Persian"),
    "fr": _l("French"),
}


def language_name(code: str) -> str:
    return str(INSTRUCTION_LANGUAGES.get(code, code))
