"""The funder's report in the workspace: the page for a period and its downloads (XLSX, PDF).
Coordinators only (access.can_see_report). The counts are booking.reports' (only counts, nobody
named); a period that is not one (bad dates, the end before the start, too long) answers 400 with
the message beside its field, for the page and the downloads alike.
"""
from __future__ import annotations

import logging

from flask import abort, render_template, request
from flask_babel import get_locale

from ..database import utcnow
from ..documents.downloads import download
from ..formatting import to_local
from ..languages import text_direction
from ..reports import downloads, services as reports
from ..reports.charts import report_charts
from ..reports.forms import PeriodForm
from . import access
from .views import bp

log = logging.getLogger(__name__)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period_form() -> PeriodForm:
    """The form as sent, or filled with the default period (the calendar year so far) when nothing was."""
    if "from" in request.args or "to" in request.args:
        return PeriodForm(request.args)
    default = reports.default_period(to_local(utcnow()).date())
    return PeriodForm(formdata=None, start=default.start, end=default.end)


def _checked_form() -> PeriodForm:
    """The period's form, checked (403 for anyone but a coordinator)."""
    if not access.can_see_report():
        abort(403)
    form = _period_form()
    form.validate()
    return form


def _invalid(form: PeriodForm):
    """The page with the form's messages beside its fields, and no report: 400."""
    return render_template("admin/reports/report.html", form=form, report=None), 400


def _file_name(report: reports.Report, extension: str) -> str:
    return f"report-{report.period.start.isoformat()}-{report.period.end.isoformat()}.{extension}"


@bp.get("/report")
def report():
    form = _checked_form()
    if form.errors:
        return _invalid(form)
    report = reports.build(form.period)
    period_args = {"from": report.period.start.isoformat(), "to": report.period.end.isoformat()}
    return render_template("admin/reports/report.html", form=form, report=report, period_args=period_args,
                           charts=report_charts(report, rtl=text_direction(str(get_locale())) == "rtl"))


@bp.get("/report.xlsx")
def report_xlsx():
    form = _checked_form()
    if form.errors:
        return _invalid(form)
    report = reports.build(form.period)
    log.info("funder's report %s to %s downloaded as XLSX", report.period.start, report.period.end)
    return download(downloads.xlsx_bytes(report), mimetype=XLSX_MIMETYPE, file_name=_file_name(report, "xlsx"))


@bp.get("/report.pdf")
def report_pdf():
    form = _checked_form()
    if form.errors:
        return _invalid(form)
    report = reports.build(form.period)
    log.info("funder's report %s to %s downloaded as PDF", report.period.start, report.period.end)
    return download(downloads.pdf_bytes(report, language=str(get_locale())), mimetype="application/pdf",
                    file_name=_file_name(report, "pdf"))
