"""Certificates of attendance in the workspace: one participant's as PDF, or all of a seminar's as
a ZIP file, each in its participant's preferred language. Coordinators only
(access.can_download_certificates); who has one is booking.attendance's rule, the PDF is made in
booking.documents.
"""
from __future__ import annotations

import logging

from flask import abort

from .. import documents
from ..attendance import services as attendance
from ..documents.downloads import download
from ..extensions import db
from ..inputs import parse_id
from ..registrations.models import Registration
from . import access
from .seminars import seminar_or_404
from .views import bp

log = logging.getLogger(__name__)


@bp.get("/seminars/<seminar_id>/certificates/<registration_id>.pdf")
def certificate_pdf(seminar_id: str, registration_id: str):
    seminar = seminar_or_404(seminar_id)
    if not access.can_download_certificates():
        abort(403)
    parsed = parse_id(registration_id)
    registration = db.session.get(Registration, parsed) if parsed is not None else None
    if registration is None or registration.seminar_id != seminar.id or not attendance.has_certificate(registration):
        abort(404)
    body = documents.participant_certificate_pdf(registration)
    log.info("certificate of registration %s (seminar %s) downloaded by the office", registration.id, seminar.id)
    return download(body, mimetype="application/pdf",
                    file_name=documents.certificate_file_names([registration])[registration.id])


@bp.get("/seminars/<seminar_id>/certificates.zip")
def certificates_zip(seminar_id: str):
    seminar = seminar_or_404(seminar_id)
    if not access.can_download_certificates():
        abort(403)
    holders = attendance.certificate_holders(seminar)
    if not holders:
        abort(404)
    body = documents.certificates_zip(holders)
    log.info("certificates of seminar %s downloaded as a ZIP file (%d)", seminar.id, len(holders))
    return download(body, mimetype="application/zip", file_name=f"{seminar.slug}-certificates.zip")
