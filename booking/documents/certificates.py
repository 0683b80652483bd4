"""The certificate of attendance: one A4 page for a participant who completed a seminar.

Written in the participant's preferred language (its words, dates and direction: an Arabic
certificate runs right to left), with names in whatever script they were typed. Who gets one,
and which sessions count as attended, is decided by booking.attendance; this module only renders.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import current_app

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
