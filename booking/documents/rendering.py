"""HTML template → PDF bytes: the one place that makes PDFs and knows their fonts.

WeasyPrint lays the page out with Pango, which shapes text with HarfBuzz (Arabic letters join,
ligatures form), applies the Unicode bidirectional algorithm (an Arabic name reads right to left
inside a German sentence), and falls back font by font for each character. The fonts are found,
not bundled: fontconfig finds the families of FONT_FAMILIES among the system's fonts (Debian's
fonts-noto-core, see .ci/system-packages). Noto Sans covers Latin with every Turkish letter,
Noto Sans Arabic the Arabic script; DejaVu Sans stands in for both where Noto is missing.

Documents load nothing from elsewhere: the only stylesheet is documents.css from the app's static
folder, read by this module, and a template cannot make WeasyPrint fetch any other address
(`no_fetching`).
"""
from __future__ import annotations

import logging
import shutil
import subprocess
from functools import cache
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

from ..languages import interface_language_or_default, text_direction

log = logging.getLogger(__name__)

# In this order in every document's font-family (documents.css says the same; a test compares).
FONT_FAMILIES = ("Noto Sans", "Noto Sans Arabic", "DejaVu Sans")
# The ones a document must find; DejaVu Sans only stands in where they are missing.
REQUIRED_FONT_FAMILIES = FONT_FAMILIES[:2]
STYLESHEET = Path("css") / "documents.css"  # under the app's static folder


class DocumentFetchRefused(ValueError):
    """A document asked for something outside its own stylesheet."""


def refuse_fetching(url: str, *args, **kwargs):
    raise DocumentFetchRefused(f"documents load nothing from elsewhere (asked for {url[:60]!r})")


def no_fetching():
    """A WeasyPrint URL fetcher that fetches nothing: an image or stylesheet a document names is
    left out (WeasyPrint logs it), never loaded from the disk or the network."""
    from weasyprint.urls import URLFetcher

    class NoFetching(URLFetcher):
        def fetch(self, url, headers=None):
            refuse_fetching(url)

    return NoFetching(allowed_protocols=())


def stylesheet_path() -> Path:
    return Path(current_app.static_folder) / STYLESHEET


@cache
def installed_families() -> frozenset[str] | None:
    """The font families fontconfig knows (None: fc-list is not there to ask)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    output = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, check=False).stdout
    return frozenset(name.strip() for line in output.splitlines() for name in line.split(","))


def missing_fonts() -> list[str]:
    """Required font families this machine lacks (README: "Sign-in sheets and certificates")."""
    families = installed_families()
    if families is None:
        return list(REQUIRED_FONT_FAMILIES)
    return [family for family in REQUIRED_FONT_FAMILIES if family not in families]


def html_to_pdf(html: str) -> bytes:
    """A PDF of a whole HTML document, styled by documents.css alone."""
    from weasyprint import CSS, HTML  # imported on first use: loading Pango takes a moment

    missing = missing_fonts()
    if missing:
        # the PDF is still made, in whatever fonts fontconfig offers instead
        log.warning("fonts for documents missing: %s", ", ".join(missing))
    fetcher = no_fetching()
    document = HTML(string=html, base_url=str(stylesheet_path().parent), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[CSS(string=stylesheet_path().read_text(encoding="utf-8"),
                                                url_fetcher=fetcher)])


def render_pdf(template: str, *, language: str, **context) -> bytes:
    """Render templates/documents/<template> in `language` (words, dates, direction) to PDF."""
    language = interface_language_or_default(language)
    with force_locale(language):
        html = render_template(template, document_language=language,
                               document_direction=text_direction(language), **context)
    return html_to_pdf(html)
