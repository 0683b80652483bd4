"""The funder's report as downloads: an Excel workbook (one sheet per table) and a PDF.

The workbook follows booking.registrations.exports: bold frozen header rows, numbers as numbers,
rates as percentages, and every text cell through booking.textsafety.spreadsheet_cell (association
names and districts come from public forms: `=HYPERLINK(...)` must stay text). The PDF is the page's
report part (templates/reports/_report.html) with its SVG charts, made by booking.documents.
"""
from __future__ import annotations

import io
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..documents.rendering import render_pdf
from ..formatting import month_name
from ..languages import language_name, text_direction
from ..textsafety import spreadsheet_cell
from .charts import report_charts
from .services import Report

PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "DD.MM.YYYY"


def _cell(value):
    if value is None or isinstance(value, (int, float, date)):
        return value
    return spreadsheet_cell(str(value))


def _sheets(report: Report) -> list[tuple[str, list[str], list[list]]]:
    """(sheet title, column headings, rows) in the page's order; rates as fractions (or None)."""
    no_association, no_district = str(_l("No association")), str(_l("District not given"))
    summary = [
        [_l("Period from"), report.period.start],
        [_l("Period to (including)"), report.period.end],
        [_l("Seminars held"), report.seminars],
        [_l("Sessions held"), report.sessions],
        [_l("Participants (places taken)"), report.participants],
        [_l("Of them registered by their association as a group"), report.in_groups],
        [_l("Of them registered on their own"), report.single],
        [_l("Expected at the sessions held"), report.listed],
        [_l("Present"), report.present],
        [_l("Absent without excuse"), report.absent],
        [_l("Excused"), report.excused],
        [_l("Attendance rate"), report.attendance_rate],
        [_l("No-show rate"), report.no_show_rate],
        [_l("Participants of the seminars that are over"), report.over_participants],
        [_l("Completed"), report.completed],
        [_l("Completion rate"), report.completion_rate],
        [_l("Could not get a place"), report.waiting_total],
    ]
    return [
        (str(_l("Summary")), [str(_l("Figure")), str(_l("Value"))], summary),
        (str(_l("Topics")), [str(_l("Topic")), str(_l("Seminars held")), str(_l("Sessions held")),
                             str(_l("Participants")), str(_l("Expected")), str(_l("Present"))],
         [[row.topic, row.seminars, row.sessions, row.participants, row.listed, row.present]
          for row in report.topics]),
        (str(_l("Months")), [str(_l("Month")), str(_l("Sessions held")), str(_l("Expected")), str(_l("Present"))],
         [[month_name(row.month), row.sessions, row.listed, row.present] for row in report.months]),
        (str(_l("Associations")), [str(_l("Association")), str(_l("Participants"))],
         [[row.label if row.key is not None else no_association, row.count] for row in report.associations]),
        (str(_l("Districts")), [str(_l("District")), str(_l("Participants"))],
         [[row.label if row.key is not None else no_district, row.count] for row in report.districts]),
        (str(_l("Languages")), [str(_l("Language")), str(_l("Seminars held")), str(_l("Participants"))],
         _languages(report)),
        (str(_l("Waiting list")), [str(_l("Seminar")), str(_l("Topic")), str(_l("Still waiting")),
                                   str(_l("Left the waiting list")), str(_l("Total"))],
         [[row.seminar, row.topic, row.still_waiting, row.left, row.total] for row in report.waiting]),
    ]


def _languages(report: Report) -> list[list]:
    """One row per language: seminars taught in it, participants who prefer it."""
    seminars = {row.key: row.count for row in report.instruction_languages}
    people = {row.key: row.count for row in report.preferred_languages}
    codes = sorted(set(seminars) | set(people), key=lambda code: (-seminars.get(code, 0), -people.get(code, 0), code))
    return [[language_name(code), seminars.get(code, 0), people.get(code, 0)] for code in codes]


def xlsx_bytes(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, headings, rows in _sheets(report):
        # Excel allows 31 characters and none of []:*?/\ in a sheet's name
        sheet = workbook.create_sheet("".join(c for c in title if c not in "[]:*?/\\")[:31] or "Sheet")
        sheet.append([spreadsheet_cell(heading) for heading in headings])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for values in rows:
            sheet.append([_cell(value) for value in values])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, float):
                    cell.number_format = PERCENT_FORMAT
                elif isinstance(cell.value, date):
                    cell.number_format = DATE_FORMAT
        sheet.freeze_panes = "A2"
        for column_cells in sheet.columns:
            width = max((len(str(cell.value)) for cell in column_cells if cell.value is not None), default=8)
            sheet.column_dimensions[column_cells[0].column_letter].width = min(max(width + 2, 10), 60)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def pdf_bytes(report: Report, *, language: str) -> bytes:
    """The report as an A4 PDF in `language` (the page's), its charts drawn for that direction."""
    from flask_babel import force_locale

    with force_locale(language):
        charts = report_charts(report, rtl=text_direction(language) == "rtl")
    return render_pdf("documents/report.html", language=language, report=report, charts=charts,
                      office_name=current_app.config["BOOKING_OFFICE_NAME"],
                      funder_line=current_app.config["BOOKING_FUNDER_LINE"].strip())
