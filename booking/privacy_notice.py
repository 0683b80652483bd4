"""The privacy notice at /privacy: the office's own text, one Markdown file per language, versioned.

Where the texts come from: the directory `BOOKING_PRIVACY_NOTICE_DIR` (default `instance/privacy/`)
holds the office's texts, `de.md`, `en.md`, `tr.md`, ...; when it holds none for German or English,
the texts shipped in `booking/privacy_notices/` are used as a whole (never a mix of the two sets,
so a visitor never reads the shipped text beside the office's). A language without a text falls
back to German, then English.

Each file starts with a short header naming its version and date::

    ---
    version: 2026-1
    date: 2026-12-01
    ---
    # Privacy notice
    ...

The body may name the settings it promises, so that the notice and what the software does cannot
drift apart: `{retention_days}`, `{cancelled_retention_days}`, `{needs_retention_days}`, `{email_log_retention_days}`, `{office}`
and `{contact_email}` are replaced before the text is rendered.

The text is rendered with markdown-it-py with raw HTML off (any HTML in the file is shown as
text, not run), images off (no third-party requests from the page) and its safe-link check (no
`javascript:` or `data:` links): an office's text cannot put script on the page.

A registration records which notice was agreed to in `consent_version` (see `consent_version()`):
the declared version, the language and a fingerprint of the text as shown (settings filled in),
so that even a text edited without a new version number can be told apart.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt
from markupsafe import Markup

log = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).resolve().parent / "privacy_notices"
FALLBACK_LANGUAGES = ("de", "en")
RIGHT_TO_LEFT = {"ar", "fa", "he", "ur"}

# The retention settings the notice promises, with the defaults issue 17 gives them. Read with
# .get() so that the notice is right whether or not the retention settings are configured.
RETENTION_SETTINGS = {
    "retention_days": ("BOOKING_RETENTION_DAYS", 180),
    "cancelled_retention_days": ("BOOKING_CANCELLED_RETENTION_DAYS", 30),
    "needs_retention_days": ("BOOKING_NEEDS_RETENTION_DAYS", 14),
    "email_log_retention_days": ("BOOKING_EMAIL_LOG_RETENTION_DAYS", 30),
}

# Recorded on registrations the office makes by hand in the workspace: the office confirms that
# the people agreed (the form's checkbox says so), not the people themselves on our page.
BY_OFFICE_PREFIX = "office:"
BY_OFFICE_LABEL = _l("by the office")

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


class NoticeError(ValueError):
    """A notice file that cannot be used (no header, no version, a date that is not a date)."""


@dataclass(frozen=True)
class Notice:
    language: str
    version: str
    date: date
    fingerprint: str  # the first 12 hex digits of the SHA-256 of the text as shown
    html: Markup
    shipped: bool  # the default text that comes with the software, not the office's own

    @property
    def direction(self) -> str:
        return "rtl" if self.language in RIGHT_TO_LEFT else "ltr"

    @property
    def reference(self) -> str:
        """What a registration records: `2026-1/de/3f2a9c1b0d4e`."""
        return f"{self.version}/{self.language}/{self.fingerprint}"


def notice_dir() -> Path:
    configured = current_app.config.get("BOOKING_PRIVACY_NOTICE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "privacy"


def settings_values() -> dict[str, str]:
    values = {name: str(int(current_app.config.get(setting, default)))
              for name, (setting, default) in RETENTION_SETTINGS.items()}
    values["office"] = current_app.config.get("BOOKING_OFFICE_NAME", "")
    values["contact_email"] = current_app.config.get("BOOKING_MAIL_SENDER", "")
    return values


def notice_for(language: str | None = None) -> Notice:
    """The notice to show a visitor who reads `language` (default: the request's language)."""
    language = (language or str(get_locale() or "") or "").split("_")[0].lower()
    wanted = [language] if _LANGUAGE.match(language or "") else []
    wanted += [code for code in FALLBACK_LANGUAGES if code not in wanted]
    office_dir = notice_dir()
    for directory, shipped in ((office_dir, False), (SHIPPED_DIR, True)):
        if not shipped and not any((directory / f"{code}.md").is_file() for code in FALLBACK_LANGUAGES):
            continue  # the office's set counts only with a German or English text in it
        for code in wanted:
            path = directory / f"{code}.md"
            if not path.is_file():
                continue
            try:
                return _load(path, code, shipped)
            except (NoticeError, OSError, UnicodeDecodeError) as error:
                # The file's path and the reason only: the text is the office's, not personal data,
                # but nothing else belongs in the log.
                log.error("privacy notice %s cannot be used: %s", path, error)
    raise NoticeError("no privacy notice found, not even the shipped German or English one")


def consent_version(*, by_office: bool = False, language: str | None = None) -> str:
    """What a new registration records as the notice it was given under.

    `by_office`: the office registered the people by hand and confirmed their agreement.
    """
    reference = notice_for(language).reference
    return f"{BY_OFFICE_PREFIX}{reference}" if by_office else reference


def consent_label(value: str | None) -> str:
    """A recorded consent_version for people to read (the workspace, the data download)."""
    if not value:
        return str(_l("before versioned notices"))
    if value.startswith(BY_OFFICE_PREFIX):
        return f"{value[len(BY_OFFICE_PREFIX):]} ({BY_OFFICE_LABEL})"
    return value


def _load(path: Path, language: str, shipped: bool) -> Notice:
    stat = path.stat()
    return _render(str(path), stat.st_mtime_ns, stat.st_size, language, shipped,
                   tuple(sorted(settings_values().items())))


@lru_cache(maxsize=64)
def _render(path: str, _mtime_ns: int, _size: int, language: str, shipped: bool,
            values: tuple[tuple[str, str], ...]) -> Notice:
    # mtime and size are part of the key so that an edited file is read again.
    header, body = _split_header(Path(path).read_text(encoding="utf-8"))
    version = header.get("version", "").strip()
    if not version or len(version) > 40 or not re.fullmatch(r"[\w.\-]+", version):
        raise NoticeError("the header needs 'version:' (letters, digits, '.', '-', at most 40)")
    try:
        issued = date.fromisoformat(header.get("date", "").strip())
    except ValueError:
        raise NoticeError("the header needs 'date:' as YYYY-MM-DD") from None
    filled = _fill(body, dict(values))
    fingerprint = hashlib.sha256(f"{version}\n{issued}\n{filled}".encode()).hexdigest()[:12]
    return Notice(language=language, version=version, date=issued, fingerprint=fingerprint,
                  html=Markup(_markdown().render(filled)), shipped=shipped)


def _split_header(text: str) -> tuple[dict[str, str], str]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise NoticeError("the file must start with a '---' header")
    header: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return header, "\n".join(lines[number + 1:])
        key, _, value = line.partition(":")
        header[key.strip().lower()] = value
    raise NoticeError("the header is not closed with '---'")


def _fill(body: str, values: dict[str, str]) -> str:
    """Put the settings into the text; a value cannot add Markdown of its own."""
    def value_for(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return _MARKDOWN_SPECIALS.sub(r"\\\1", values[name])
    return _PLACEHOLDER.sub(value_for, body)


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # "js-default": CommonMark with tables and strikethrough, raw HTML off, no linkify.
    return MarkdownIt("js-default").disable("image")
