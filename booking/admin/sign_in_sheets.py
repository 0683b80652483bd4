"""A session's sign-in sheet in the workspace: a print-friendly page and the same sheet as PDF,
for the seminar's trainer and coordinators (access.can_view_seminar). Both are in the language of
the page; the sheet itself is built in booking.documents.
"""
from __future__ import annotations

import logging

from flask import abort, current_app, render_template
from flask_babel import get_locale

from .. import documents
from ..extensions import db
from ..formatting import to_local
from ..inputs import parse_id
from ..seminars.models import Session
from . import access
from .seminars import seminar_or_404
from .views import bp

log = logging.getLogger(__name__)


def viewable_session_or_404(seminar_id: str, session_id: str) -> Session:
    """The session of this seminar (404 for an unknown id or another seminar's), if this user may
    see the seminar (else 403)."""
    seminar = seminar_or_404(seminar_id)
    parsed = parse_id(session_id)
    session = db.session.get(Session, parsed) if parsed is not None else None
    if session is None or session.seminar_id != seminar.id:
        abort(404)
    if not access.can_view_seminar(seminar):
        abort(403)
    return session


@bp.get("/seminars/<seminar_id>/sessions/<session_id>/sign-in-sheet")
def sign_in_sheet(seminar_id: str, session_id: str):
    session = viewable_session_or_404(seminar_id, session_id)
    return render_template("admin/seminars/sign_in_sheet.html", sheet=documents.sign_in_sheet(session),
                           seminar=session.seminar)


@bp.get("/seminars/<seminar_id>/sessions/<session_id>/sign-in-sheet.pdf")
def sign_in_sheet_pdf(seminar_id: str, session_id: str):
    session = viewable_session_or_404(seminar_id, session_id)
    body = documents.sign_in_sheet_pdf(documents.sign_in_sheet(session), language=str(get_locale()))
    log.info("sign-in sheet of session %s (seminar %s) downloaded as PDF", session.id, session.seminar_id)
    response = current_app.response_class(body, mimetype="application/pdf")
    day = to_local(session.starts_at).strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{session.seminar.slug}-sign-in-sheet-{day}.pdf"')
    response.headers["Cache-Control"] = "no-store"  # names of participants: not for shared caches
    return response
