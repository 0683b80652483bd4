"""A seminar's registrations as a spreadsheet: CSV for German Excel and XLSX.

One module for the workspace's downloads and `flask booking registrations SLUG --csv`, so both
hold the same columns. The CSV opens correctly in German Excel by double click: UTF-8 with a BOM
(else umlauts, Turkish and Arabic names come out garbled), `;` between cells (Excel in German uses
`,` as the decimal sign) and dates as `29.11.2026 18:00` in the office's time zone, which Excel
reads as dates. The XLSX holds real date cells.

Every text cell goes through booking.textsafety.spreadsheet_cell: names, associations and needs
come from public forms, and a cell starting with `=`, `+`, `-`, `@`, a tab or a CR would run as a
formula.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import IO

from flask_babel import lazy_gettext as _l

from ..attendance import services as attendance
from ..formatting import to_local
from ..languages import language_name
from ..textsafety import spreadsheet_cell
from .listing import RegistrationList
from .models import RegistrationStatus, WaitlistReason

CSV_DATE_FORMAT = "%d.%m.%Y %H:%M"
XLSX_DATE_FORMAT = "DD.MM.YYYY HH:MM"

EXPORT_STATUS = {
    RegistrationStatus.CONFIRMED: _l("Confirmed"),
    RegistrationStatus.WAITLISTED: _l("Waiting list"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}
EXPORT_WAITLIST_REASON = {
    WaitlistReason.FULL: _l("All places taken"),
    WaitlistReason.ASSOCIATION_LIMIT: _l("Association maximum reached"),
}

COLUMNS = (
    _l("Status"), _l("Waiting list position"), _l("Waiting list reason"), _l("First name"), _l("Last name"),
    _l("Association"), _l("Email"), _l("Phone"), _l("Preferred language"), _l("Needs"), _l("Registered at"),
    _l("Registered by"), _l("Contact's email"), _l("Cancelled at"),
    _l("Sessions attended"), _l("Sessions scheduled"), _l("Completed"),
)


def _local(value: datetime | None) -> datetime | None:
    """A stored (UTC) time as the office's wall-clock time, without a zone (spreadsheets know none)."""
    return to_local(value).replace(tzinfo=None) if value is not None else None


def rows(listing: RegistrationList) -> list[list]:
    """One list of values per registration, in COLUMNS' order: text, whole numbers, local datetimes or None."""
    # attendance (booking.attendance): counted once for the seminar, not per row
    completion = attendance.seminar_completion(listing.seminar)
    result = []
    for row in listing.rows:
        registration = row.registration
        contact = registration.registered_by
        # one line per cell: the office reads needs at a glance, and line breaks would be escaped
        needs = " / ".join(line.strip() for line in (registration.needs or "").splitlines() if line.strip())
        result.append([
            str(EXPORT_STATUS[registration.status]),
            row.position,
            str(EXPORT_WAITLIST_REASON[registration.waitlist_reason]) if registration.waitlist_reason else "",
            registration.first_name,
            registration.last_name,
            registration.association.name if registration.association else "",
            registration.email or "",
            registration.phone or "",
            language_name(registration.preferred_language),
            needs,
            _local(registration.created_at),
            contact.full_name if contact is not None else str(_l("Self")),
            contact.email if contact is not None else "",
            _local(registration.cancelled_at),
            completion.attended(registration),
            completion.scheduled,
            str(_l("Yes")) if completion.completed(registration) else str(_l("No")),
        ])
    return result


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(CSV_DATE_FORMAT)
    if isinstance(value, int):
        return str(value)
    return spreadsheet_cell(value)


def write_csv(stream: IO[str], listing: RegistrationList) -> None:
    """The list as CSV for German Excel: BOM, `;`, CRLF, dates as dd.mm.yyyy hh:mm."""
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
    writer.writerow([spreadsheet_cell(str(column)) for column in COLUMNS])
    for values in rows(listing):
        writer.writerow([_csv_cell(value) for value in values])


def csv_bytes(listing: RegistrationList) -> bytes:
    stream = io.StringIO(newline="")
    write_csv(stream, listing)
    return stream.getvalue().encode("utf-8")


def xlsx_bytes(listing: RegistrationList, *, sheet_title: str | None = None) -> bytes:
    """The list as an Excel workbook: a bold, frozen header row and real date cells."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    # Excel allows 31 characters and none of []:*?/\ in a sheet's name
    title = "".join(char for char in (sheet_title or str(_l("Registrations"))) if char not in "[]:*?/\\")
    sheet.title = title[:31] or "Sheet1"
    sheet.append([spreadsheet_cell(str(column)) for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows(listing):
        sheet.append([value if isinstance(value, (int, datetime)) or value is None else spreadsheet_cell(value)
                      for value in values])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, datetime):
                cell.number_format = XLSX_DATE_FORMAT
    sheet.freeze_panes = "A2"
    for column_cells in sheet.columns:
        width = max((len(str(cell.value)) for cell in column_cells if cell.value is not None), default=8)
        sheet.column_dimensions[column_cells[0].column_letter].width = min(max(width + 2, 10), 50)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()
