"""The certificate of attendance: one A4 page for a participant who completed a seminar.

Written in the participant's preferred language (its words, dates and direction: an Arabic
certificate runs right to left), with names in whatever script they were typed. Who gets one,
and which sessions count as attended, is decided by booking.attendance; this module renders, and
packs a seminar's certificates into one ZIP file for the office.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date

from flask import current_app

from ..attendance import services as attendance
from ..formatting import to_local
from ..database import utcnow
from ..registrations.models import Registration
from ..seminars.models import Session
from .rendering import render_pdf

# More sessions than this are listed in two columns, so the certificate stays one page.
TWO_COLUMNS_FROM = 7


def certificate_pdf(registration: Registration, sessions_attended: Sequence[Session], *, language: str,
                    issued_on: date | None = None) -> bytes:
    """The certificate as PDF bytes. `issued_on`: the date printed beside the signature (today)."""
    seminar = registration.seminar
    attended = sorted(sessions_attended, key=lambda session: session.starts_at)
    config = current_app.config
    return render_pdf(
        "documents/certificate.html", language=language,
        registration=registration, seminar=seminar, attended=attended,
        scheduled_count=len(seminar.scheduled_sessions),
        two_columns=len(attended) >= TWO_COLUMNS_FROM,
        office_name=config["BOOKING_OFFICE_NAME"],
        signature_line=config["BOOKING_CERTIFICATE_SIGNATURE"].strip(),
        issued_on=issued_on or to_local(utcnow()).date(),
    )


def participant_certificate_pdf(registration: Registration, *, issued_on: date | None = None) -> bytes:
    """The registration's certificate, in its preferred language, listing the sessions attended
    (booking.attendance says which; whether it completed is the caller's question)."""
    return certificate_pdf(registration, attendance.sessions_attended(registration),
                           language=registration.preferred_language, issued_on=issued_on)


# Letters (any script), their marks and digits stay in a file name; anything else becomes a hyphen.
KEPT_CATEGORIES = ("L", "M", "N")
FILE_NAME_LENGTH = 80  # characters, before ".pdf"
HYPHENS = re.compile(r"-+")


def file_name_stem(registration: Registration) -> str:
    """The participant's name made safe as a file name on any system: no slashes, dots, quotes,
    control or direction marks; letters of every script kept ("Şule-Çağlar-İnce", "ليلى-العلي")."""
    name = unicodedata.normalize("NFC", registration.full_name)
    kept = "".join(char if unicodedata.category(char)[0] in KEPT_CATEGORIES else "-" for char in name)
    stem = HYPHENS.sub("-", kept).strip("-")[:FILE_NAME_LENGTH].strip("-")
    return stem or f"participant-{registration.id}"


def certificate_file_names(registrations: Iterable[Registration]) -> dict[int, str]:
    """{registration id: file name}, unique even where names are the same or differ only in case
    (file systems that ignore case would otherwise overwrite one with the other)."""
    names: dict[int, str] = {}
    taken: set[str] = set()
    for registration in registrations:
        stem = file_name_stem(registration)
        name, number = f"{stem}.pdf", 1
        while name.casefold() in taken:
            number += 1
            name = f"{stem}-{number}.pdf"
        taken.add(name.casefold())
        names[registration.id] = name
    return names


def certificates_zip(registrations: Sequence[Registration], *, issued_on: date | None = None) -> bytes:
    """One ZIP file holding each registration's certificate, each in its participant's language."""
    names = certificate_file_names(registrations)
    buffer = io.BytesIO()
    # PDFs are compressed already: stored as they are
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for registration in registrations:
            archive.writestr(names[registration.id], participant_certificate_pdf(registration, issued_on=issued_on))
    return buffer.getvalue()
