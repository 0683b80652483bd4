"""The sign-in sheet of one session: who has a place, to sign in the room.

The rows are the seminar's confirmed registrations, sorted by last name as the workspace's list
sorts names (booking.registrations.listing: case and accents aside). The same template part makes
the print-friendly page in the workspace and the PDF, so both always hold the same rows.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..registrations.listing import RegistrationFilters, seminar_registrations
from ..registrations.models import Registration, RegistrationStatus
from ..seminars.models import Seminar, Session
from .rendering import render_pdf


@dataclass(frozen=True)
class SignInSheet:
    seminar: Seminar
    session: Session
    participants: list[Registration]  # confirmed, by last name
    funder_line: str  # BOOKING_FUNDER_LINE; empty: none printed

    @property
    def number_of_sessions(self) -> tuple[int, int]:
        """This session's number among the seminar's scheduled sessions, and how many there are
        (0 for a cancelled session)."""
        scheduled = self.seminar.scheduled_sessions
        position = scheduled.index(self.session) + 1 if self.session in scheduled else 0
        return position, len(scheduled)


def sign_in_sheet(session: Session) -> SignInSheet:
    seminar = session.seminar
    listing = seminar_registrations(seminar, RegistrationFilters(status=RegistrationStatus.CONFIRMED, sort="name"))
    participants = [row.registration for row in listing.groups.get(RegistrationStatus.CONFIRMED, [])
                    if not row.registration.is_anonymised]
    return SignInSheet(seminar, session, participants, current_app.config["BOOKING_FUNDER_LINE"].strip())


def sign_in_sheet_pdf(sheet: SignInSheet, *, language: str) -> bytes:
    """The sheet as an A4 PDF in `language` (the language of the page it was asked from)."""
    return render_pdf("documents/sign_in_sheet.html", language=language, sheet=sheet,
                      office_name=current_app.config["BOOKING_OFFICE_NAME"])
