"""Passing a seminar on: share links for chats and email, the short link, and the printable poster.

Associations organise themselves in WhatsApp and Telegram groups, and the office hangs posters in
community centres. Everything here is plain links and HTML rendered on the server: no share widget,
no script, nothing the page loads from another site (a share link leads there only when tapped).

The short link `/s/<slug>` answers with a temporary redirect (302), not a permanent one: posters
hang for months and a browser keeps a 301 for good, so the office could never again change where a
printed code leads (a renamed seminar, another page). A 302 asks this server at every scan, which
costs one small request and keeps that decision here.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import segno
from flask import redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from ..database import utcnow
from ..external_links import external_url
from ..formatting import session_when
from ..languages import endonym, interface_languages, is_interface_language, text_direction
from ..seminars.models import CLOSED_MESSAGES, Seminar
from .forms import PosterForm
from .views import bp, current_language, seminar_or_404

# Chat apps and mail programs take their text from these addresses (no script of theirs runs here).
WHATSAPP_SHARE = "https://wa.me/?text={text}"
TELEGRAM_SHARE = "https://t.me/share/url?url={url}&text={text}"
EMAIL_SHARE = "mailto:?subject={subject}&body={body}"


def encoded(text: str) -> str:
    """Percent-encoded UTF-8 for a query value: spaces as %20 (a mailto body shows '+' as it is)."""
    return quote(text, safe="")


# --- the short link ----------------------------------------------------------------------------

def short_url(seminar: Seminar, language: str | None = None) -> str:
    """The seminar's short link on BOOKING_BASE_URL, e.g. https://seminare.example.org/s/vereinsrecht."""
    values = {"lang": language} if language else {}
    return external_url("public.short_link", slug=seminar.slug, **values)


@bp.get("/s/<slug>")
def short_link(slug: str):
    """The short link of posters and chats: the seminar page, for exactly those who may see it."""
    seminar = seminar_or_404(slug)
    language = request.args.get("lang")
    values = {"lang": language} if is_interface_language(language) else {}
    # a relative Location: never built from the request's Host header
    return redirect(url_for("public.seminar", slug=seminar.slug, **values), 302)


# --- share links -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShareLinks:
    whatsapp: str
    telegram: str
    email: str
    short_url: str  # to copy elsewhere; opens the page in the reader's own language


def share_message(seminar: Seminar, link: str) -> list[str]:
    """The message's lines in the current language: the title, the next session's date, the link."""
    lines = [_("Seminar: %(title)s", title=seminar.title)]
    now = utcnow()
    sessions = seminar.scheduled_sessions
    upcoming = [session for session in sessions if session.ends_at > now]
    if upcoming:
        when = session_when(upcoming[0])
        if upcoming[0] is sessions[0]:
            lines.append(_("First session: %(when)s", when=when))
        else:
            lines.append(_("Next session: %(when)s", when=when))
    lines.append(_("Information and registration: %(link)s", link=link))
    return lines


@bp.app_template_global()
def share_links(seminar: Seminar) -> ShareLinks | None:
    """Links that open WhatsApp, Telegram or the mail program with the message filled in, in the
    page's language (its link opens the page in that language); None while nobody can register."""
    if seminar.closed_reason(utcnow()) is not None:
        return None
    link = short_url(seminar, current_language())
    lines = share_message(seminar, link)
    return ShareLinks(
        whatsapp=WHATSAPP_SHARE.format(text=encoded("\n".join(lines))),
        # Telegram puts the link above the text itself
        telegram=TELEGRAM_SHARE.format(url=encoded(link), text=encoded("\n".join(lines[:-1]))),
        # RFC 6068: a line break in a mailto body is written CRLF
        email=EMAIL_SHARE.format(subject=encoded(lines[0]), body=encoded("\r\n".join(lines))),
        short_url=short_url(seminar),
    )


# --- the poster ----------------------------------------------------------------------------------

def qr_code_svg(url: str, title: str) -> Markup:
    """A QR code of `url` as an inline <svg> element (segno, on the server).

    It carries presentation attributes (fill, stroke) and no style attribute, so the page's strict
    Content-Security-Policy allows it; its size comes from poster.css through the viewBox.
    """
    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=1, border=4, omitsize=True, svgclass="poster-qr", lineclass=None,
                                  title=title, dark="#000", light="#fff"))


@dataclass(frozen=True)
class PosterColumn:
    language: str
    direction: str
    html: Markup


def poster_columns(seminar: Seminar, languages: list[str]) -> list[PosterColumn]:
    """The poster's text once per language, each rendered in that language (dates and names too)."""
    sessions = seminar.scheduled_sessions
    reason = seminar.closed_reason(utcnow())
    closed_message = CLOSED_MESSAGES[reason] if reason is not None else None  # lazy: read in each language
    columns = []
    for code in languages:
        with force_locale(code):
            html = render_template("public/_poster_column.html", seminar=seminar, sessions=sessions,
                                   closed_message=closed_message)
        columns.append(PosterColumn(code, text_direction(code), Markup(html)))
    return columns


# The posters the workspace offers with one click (the poster page itself offers every pair).
POSTER_CHOICES = [("de",), ("de", "tr"), ("de", "ar"), ("tr",), ("ar",), ("en",)]


@dataclass(frozen=True)
class PosterLink:
    languages: list[tuple[str, str]]  # (code, name in itself)
    url: str


@bp.app_template_global()
def poster_links(seminar: Seminar) -> list[PosterLink]:
    """Links to the seminar's poster in the usual languages, for the office."""
    links = []
    for choice in POSTER_CHOICES:
        values = {"language": choice[0]} | ({"second_language": choice[1]} if len(choice) > 1 else {})
        if not all(is_interface_language(code) for code in choice):
            continue
        links.append(PosterLink([(code, endonym(code)) for code in choice],
                                url_for("public.poster", slug=seminar.slug, **values)))
    return links


def printed_address(url: str) -> str:
    """The link as people type it from paper: without "https://"."""
    parts = urlsplit(url)
    return url[len(parts.scheme) + 3:] if parts.scheme in ("http", "https") else url


@bp.get("/seminars/<slug>/poster")
def poster(slug: str):
    """An A4 poster to print, in one language or two side by side (`?language=de&second_language=tr`)."""
    seminar = seminar_or_404(slug)
    default_language = current_language()
    names = {code: endonym(code) for code in interface_languages()}
    form = PosterForm(request.args, names=names, default_language=default_language)
    valid = form.validate()
    languages = form.languages() if valid else [default_language]
    link = short_url(seminar)
    return render_template(
        "public/poster.html",
        seminar=seminar,
        form=form,
        columns=poster_columns(seminar, languages),
        qr_code=qr_code_svg(link, _("QR code: %(link)s", link=link)),
        short_link=link,
        printed_link=printed_address(link),
    ), 200 if valid else 400
