"""A session's attendance list in the workspace, made for a phone in the seminar room.

Each row is its own small form: without JavaScript a tick is a POST that saves at once and comes
back to the row (Post/Redirect/Get to its anchor); with booking/static/js/attendance.js the same
form is sent with fetch and `Accept: application/json`, and the same route answers with JSON.
The CSRF token travels in the form either way. Who may: access.can_record_attendance; the rules
(cancelled seminar or session, who is on the list) are booking.attendance.services'.
"""
from __future__ import annotations

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from ..attendance import services as attendance
from ..attendance.models import ATTENDANCE_LABELS, AttendanceStatus
from ..database import utcnow
from ..extensions import db
from ..inputs import parse_id
from ..registrations.models import Registration
from ..seminars.models import Session
from . import access
from .views import bp
from ..baseform import BookingForm


class TickForm(BookingForm):
    # sent by the button pressed: <button name="status" value="present">
    status = SelectField(choices=[SelectChoice(s.value, s.value) for s in AttendanceStatus])


def session_or_404(seminar_id: str, session_id: str) -> Session:
    parsed_seminar, parsed_session = parse_id(seminar_id), parse_id(session_id)
    session = db.session.get(Session, parsed_session) if parsed_session is not None else None
    if session is None or parsed_seminar != session.seminar_id:
        abort(404)
    return session


def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def render_roll(session: Session, *, refusal=None, status: int = 200):
    roll = attendance.session_roll(session)
    return render_template("admin/attendance/session.html", session=session, seminar=session.seminar, roll=roll,
                           closed=attendance.closed_reason(session), refusal=refusal, form=TickForm(),
                           labels=ATTENDANCE_LABELS, now=utcnow()), status


def refused(session: Session, message, status: int):
    if wants_json():
        return jsonify(error=str(message)), status
    return render_roll(session, refusal=message, status=status)


@bp.get("/seminars/<seminar_id>/sessions/<session_id>/attendance")
def session_attendance(seminar_id: str, session_id: str):
    session = session_or_404(seminar_id, session_id)
    if not access.can_record_attendance(session.seminar):
        abort(403)
    return render_roll(session)


@bp.post("/seminars/<seminar_id>/sessions/<session_id>/attendance/<registration_id>")
def record_attendance(seminar_id: str, session_id: str, registration_id: str):
    session = session_or_404(seminar_id, session_id)
    if not access.can_record_attendance(session.seminar):
        abort(403)
    parsed = parse_id(registration_id)
    registration = db.session.get(Registration, parsed) if parsed is not None else None
    if registration is None or registration.seminar_id != session.seminar_id:
        abort(404)
    form = TickForm()
    if not form.validate():
        return refused(session, _("Choose present, absent or excused."), 422)
    try:
        tick = attendance.record(session, registration, form.status.data, by=current_user)
    except attendance.AttendanceRefused as refusal:
        db.session.rollback()
        return refused(session, refusal.message, 409)
    db.session.commit()
    if wants_json():
        roll = attendance.session_roll(session)
        name = registration.full_name if not registration.is_anonymised else _("Anonymised participant")
        return jsonify(registration_id=registration.id, status=str(tick.status), label=tick.label,
                       message=_("%(name)s: %(state)s", name=name, state=tick.label),
                       counts={"present": roll.present, "absent": roll.absent, "excused": roll.excused,
                               "unticked": roll.unticked})
    return redirect(url_for(".session_attendance", seminar_id=session.seminar_id, session_id=session.id,
                            _anchor=f"person-{registration.id}"))
