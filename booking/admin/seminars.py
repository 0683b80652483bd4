"""The workspace's seminar pages: the list, a seminar's page, the one-page editor with its
sessions, publishing, preview, cancelling, duplicating, deleting, and the topics.

Every changing route: load or 404, coordinator or 403, validate the form (422 beside the
fields), call one service of booking.seminars.editing, commit once, flash, redirect.
"""
from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from ..associations.services import all_associations
from ..attendance import services as attendance
from ..database import utcnow
from ..extensions import db
from ..inputs import parse_id
from ..public.forms import RegistrationForm
from ..seminars import editing, schedule_warnings
from ..seminars.models import CLOSED_MESSAGES, Seminar, SeminarStatus, Session, Topic
from ..seminars.school_holidays import school_holidays
from ..seminars.services import all_topics, catalogue_entry
from . import access, seminar_queries
from .seminar_forms import ConfirmForm, DuplicateForm, ReasonForm, SeminarForm, TopicForm
from .views import bp

# What the conflict message calls each field (names as in booking.seminars.editing.DETAIL_FIELDS).
FIELD_LABELS = {
    "title": _l("Title"), "topic_id": _l("Topic"), "summary": _l("Summary"), "description": _l("Description"),
    "languages": _l("Languages of instruction"), "interpreting_available": _l("Interpreting can be arranged"),
    "trainer": _l("Trainer"),
    "trainer_user_id": _l("Trainer with an account"), "venue_name": _l("Venue"),
    "venue_address": _l("Venue address"), "online_url": _l("Online meeting link"), "capacity": _l("Places"),
    "max_per_association": _l("Maximum per association"), "registration_deadline": _l("Registration deadline"),
    "sessions": _l("Sessions"),
}


def seminar_or_404(seminar_id: str) -> Seminar:
    parsed = parse_id(seminar_id)
    seminar = seminar_queries.seminar_by_id(parsed) if parsed is not None else None
    if seminar is None:
        abort(404)
    return seminar


def viewable_seminar_or_404(seminar_id: str) -> Seminar:
    seminar = seminar_or_404(seminar_id)
    if not access.can_view_seminar(seminar):
        abort(403)
    return seminar


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


@bp.app_context_processor
def seminar_page_context():
    return {"seminar_field_label": field_label}


def page_warnings(seminar: Seminar) -> dict[int, list[schedule_warnings.ScheduleWarning]]:
    """The scheduling warnings beside the sessions on the seminar's page, for whoever may see them."""
    if not access.can_see_scheduling_warnings():
        return {}
    return schedule_warnings.session_warnings(seminar, now=utcnow())


def flash_warnings(seminar: Seminar) -> None:
    """After a save: how many scheduling warnings the seminar's page now shows beside its sessions."""
    found = schedule_warnings.count(schedule_warnings.session_warnings(seminar, now=utcnow()))
    if found:
        flash(ngettext("Please check %(num)d scheduling warning beside its session below.",
                       "Please check %(num)d scheduling warnings beside the sessions below.", found), "warning")


# --- reading -----------------------------------------------------------------------------------

@bp.get("/seminars")
def seminars():
    return render_template("admin/seminars/list.html", listing=seminar_queries.seminar_list(current_user, utcnow()))


@bp.get("/seminars/<seminar_id>")
def seminar(seminar_id: str):
    seminar = viewable_seminar_or_404(seminar_id)
    return render_template(
        "admin/seminars/page.html", seminar=seminar, fill=seminar_queries.seminar_fill(seminar),
        entries=seminar_queries.audit_log(seminar), now=utcnow(), confirm_form=ConfirmForm(),
        editable=editing.editable_sessions(seminar, utcnow()), warnings=page_warnings(seminar),
        attendance=attendance.seminar_attendance(seminar, now=utcnow()),
        certificate_holders=attendance.certificate_holders(seminar) if access.can_download_certificates() else [],
    )


@bp.get("/seminars/<seminar_id>/preview")
@access.coordinator_required
def seminar_preview(seminar_id: str):
    """The seminar page exactly as the public will see it once published; a draft stays 404 for them."""
    seminar = seminar_or_404(seminar_id)
    entry = catalogue_entry(seminar, utcnow(), as_published=True)
    reason = entry.closed_reason
    flash(_("Preview: this is how the public will see this seminar once it is published. "
            "The registration form does not work until then."), "info")
    form = RegistrationForm(associations=all_associations(), preferred_language="de")
    return render_template("public/seminar.html", seminar=seminar, entry=entry, form=form, refusal=None,
                           closed_message=CLOSED_MESSAGES[reason] if reason else None)


# --- creating and editing ----------------------------------------------------------------------

def seminar_form(**kwargs) -> SeminarForm:
    return SeminarForm(topics=all_topics(), trainers=seminar_queries.trainer_accounts(), **kwargs)


def render_editor(form: SeminarForm, seminar: Seminar | None, *, status: int = 200, notices=None,
                  conflict=None, refusal=None):
    now = utcnow()
    fixed = []
    if seminar is not None:
        editable_ids = {s.id for s in editing.editable_sessions(seminar, now)}
        fixed = [s for s in seminar.sessions if s.id not in editable_ids]
    # the warnings of the rows as they stand in the form, saved or not (they never stop a save)
    trainer_user_id, trainer = form.planned_trainer()
    row_warnings = schedule_warnings.plan_warnings(
        form.planned_sessions(), seminar=seminar, trainer_user_id=trainer_user_id, trainer=trainer,
        venue_name=form.venue_name.data or "", venue_address=form.venue_address.data or "", now=now)
    return render_template("admin/seminars/edit.html", form=form, seminar=seminar, notices=notices,
                           conflict=conflict, refusal=refusal, fixed_sessions=fixed,
                           row_warnings=row_warnings, school_holidays=school_holidays(),
                           creation_key=request.form.get("creation_key") or secrets.token_urlsafe(18)), status


def refusal_beside_field(form: SeminarForm, refused: editing.SeminarRefused) -> str | None:
    """Put a service's refusal beside its field; returns it for the summary if it has no field."""
    target = None
    if refused.index is not None and refused.field in ("starts", "ends"):
        rows = form.filled_rows()
        if refused.index < len(rows):
            target = getattr(rows[refused.index], refused.field)
    elif refused.field:
        target = getattr(form, refused.field, None)
    if target is None:
        return refused.message
    target.errors = [*target.errors, refused.message]
    return None


def rows_changed(form: SeminarForm) -> bool:
    """Handle "add another session" and "remove": True when the form only goes back with a row more or less."""
    if form.add_row.data:
        form.add_empty_row()
        return True
    remove = request.form.get("remove_row")
    if remove is not None:
        form.remove_row(remove)
        return True
    return False


@bp.route("/seminars/new", methods=["GET", "POST"])
@access.coordinator_required
def seminar_new():
    form = seminar_form()
    if request.method == "GET":
        form.languages.data = ["de"]
        return render_editor(form, None)
    if rows_changed(form):
        return render_editor(form, None)
    if not form.validate():
        return render_editor(form, None, status=422)
    try:
        seminar = editing.create_seminar(form.details(), form.plans(),
                                         creation_key=(request.form.get("creation_key") or "")[:40] or None)
    except editing.SeminarRefused as refused:
        db.session.rollback()
        return render_editor(form, None, status=422, refusal=refusal_beside_field(form, refused))
    db.session.commit()
    flash(_("The seminar is saved as a draft. Nobody outside the office sees it until you publish it."), "success")
    flash_warnings(seminar)
    return redirect(url_for(".seminar", seminar_id=seminar.id))


@bp.route("/seminars/<seminar_id>/edit", methods=["GET", "POST"])
@access.coordinator_required
def seminar_edit(seminar_id: str):
    seminar = seminar_or_404(seminar_id)
    if seminar.status == SeminarStatus.CANCELLED:
        flash(_("This seminar has been cancelled and can no longer be changed."), "error")
        return redirect(url_for(".seminar", seminar_id=seminar.id))
    now = utcnow()
    form = seminar_form()
    if request.method == "GET":
        form.fill_from(seminar, editing.editable_sessions(seminar, now))
        return render_editor(form, seminar)
    if rows_changed(form):
        return render_editor(form, seminar)
    if not form.validate():
        return render_editor(form, seminar, status=422)
    details, plans = form.details(), form.plans()
    notices = editing.plan_notices(seminar, details, plans, now)
    if notices.needed and form.confirmation.data != notices.fingerprint():
        # the confirmation step: say who will be told before anything is saved
        form.confirmation.data = notices.fingerprint()
        return render_editor(form, seminar, notices=notices)
    try:
        result = editing.update_seminar(seminar, details, plans, version=form.form_version(), now=now)
    except editing.EditConflict as conflict:
        db.session.rollback()
        form.version.data = str(conflict.version)
        return render_editor(form, seminar, status=409, conflict=conflict)
    except editing.SeminarRefused as refused:
        db.session.rollback()
        return render_editor(form, seminar, status=422, refusal=refusal_beside_field(form, refused))
    db.session.commit()
    flash(_("The seminar is saved."), "success")
    if result.told:
        flash(ngettext("%(num)d participant is sent the changes.", "%(num)d participants are sent the changes.",
                       result.told), "success")
    if result.promoted:
        flash(ngettext("%(num)d person got a place from the waiting list.",
                       "%(num)d people got a place from the waiting list.", result.promoted), "success")
    flash_warnings(seminar)
    return redirect(url_for(".seminar", seminar_id=seminar.id))


# --- publishing, cancelling, duplicating, deleting ---------------------------------------------

def refused_on_page(seminar: Seminar, refused: editing.SeminarRefused):
    db.session.rollback()
    flash(str(refused.message), "error")
    return redirect(url_for(".seminar", seminar_id=seminar.id))


@bp.post("/seminars/<seminar_id>/publish")
@access.coordinator_required
def seminar_publish(seminar_id: str):
    seminar = seminar_or_404(seminar_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        editing.publish(seminar, now=utcnow())
    except editing.SeminarRefused as refused:
        db.session.rollback()
        seminar = seminar_or_404(seminar_id)
        return render_template(
            "admin/seminars/page.html", seminar=seminar, fill=seminar_queries.seminar_fill(seminar),
            entries=seminar_queries.audit_log(seminar), now=utcnow(), confirm_form=ConfirmForm(),
            editable=editing.editable_sessions(seminar, utcnow()), refusal=refused.message,
            warnings=page_warnings(seminar)), 409
    db.session.commit()
    flash(_("The seminar is published: it is in the catalogue and open for registration."), "success")
    return redirect(url_for(".seminar", seminar_id=seminar.id))


@bp.route("/seminars/<seminar_id>/cancel", methods=["GET", "POST"])
@access.coordinator_required
def seminar_cancel(seminar_id: str):
    seminar = seminar_or_404(seminar_id)
    form = ReasonForm()
    told = seminar_queries.seminar_fill(seminar)
    if request.method == "POST":
        if not form.validate():
            return render_template("admin/seminars/cancel.html", form=form, seminar=seminar, session=None,
                                   fill=told), 422
        try:
            count = editing.cancel_seminar(seminar, reason=form.reason.data, now=utcnow())
        except editing.SeminarRefused as refused:
            return refused_on_page(seminar, refused)
        db.session.commit()
        flash(ngettext("The seminar is cancelled; %(num)d person is told.",
                       "The seminar is cancelled; %(num)d people are told.", count), "success")
        return redirect(url_for(".seminar", seminar_id=seminar.id))
    return render_template("admin/seminars/cancel.html", form=form, seminar=seminar, session=None, fill=told)


@bp.route("/seminars/<seminar_id>/sessions/<session_id>/cancel", methods=["GET", "POST"])
@access.coordinator_required
def session_cancel(seminar_id: str, session_id: str):
    seminar = seminar_or_404(seminar_id)
    parsed = parse_id(session_id)
    session = db.session.get(Session, parsed) if parsed is not None else None
    if session is None or session.seminar_id != seminar.id:
        abort(404)
    form = ReasonForm()
    fill = seminar_queries.seminar_fill(seminar)
    if request.method == "POST":
        if not form.validate():
            return render_template("admin/seminars/cancel.html", form=form, seminar=seminar, session=session,
                                   fill=fill), 422
        try:
            count = editing.cancel_session(session, reason=form.reason.data, now=utcnow())
        except editing.SeminarRefused as refused:
            return refused_on_page(seminar, refused)
        db.session.commit()
        flash(ngettext("The session is cancelled; %(num)d participant is told.",
                       "The session is cancelled; %(num)d participants are told.", count), "success")
        return redirect(url_for(".seminar", seminar_id=seminar.id))
    return render_template("admin/seminars/cancel.html", form=form, seminar=seminar, session=session, fill=fill)


@bp.route("/seminars/<seminar_id>/duplicate", methods=["GET", "POST"])
@access.coordinator_required
def seminar_duplicate(seminar_id: str):
    seminar = seminar_or_404(seminar_id)
    form = DuplicateForm()
    creation_key = request.form.get("creation_key") or secrets.token_urlsafe(18)
    if request.method == "POST":
        if not form.validate():
            return render_template("admin/seminars/duplicate.html", form=form, seminar=seminar,
                                   creation_key=creation_key), 422
        try:
            copy = editing.duplicate(seminar, weeks=form.weeks.data, creation_key=creation_key[:40])
        except editing.SeminarRefused as refused:
            db.session.rollback()
            form.weeks.errors = [*form.weeks.errors, refused.message]
            return render_template("admin/seminars/duplicate.html", form=form, seminar=seminar,
                                   creation_key=creation_key), 422
        db.session.commit()
        flash(_("The copy is saved as a draft. Check it, then publish it."), "success")
        return redirect(url_for(".seminar_edit", seminar_id=copy.id))
    return render_template("admin/seminars/duplicate.html", form=form, seminar=seminar, creation_key=creation_key)


@bp.route("/seminars/<seminar_id>/delete", methods=["GET", "POST"])
@access.coordinator_required
def seminar_delete(seminar_id: str):
    seminar = seminar_or_404(seminar_id)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate():
            abort(400)
        try:
            editing.delete_draft(seminar)
        except editing.SeminarRefused as refused:
            return refused_on_page(seminar, refused)
        db.session.commit()
        flash(_("The draft is deleted."), "success")
        return redirect(url_for(".seminars"))
    return render_template("admin/seminars/delete.html", form=form, seminar=seminar)


# --- topics ------------------------------------------------------------------------------------

def render_topics(form=None, *, status=200, rename_errors=None):
    return render_template("admin/seminars/topics.html", topics=seminar_queries.topics_in_use(),
                           form=form or TopicForm(), rename_errors=rename_errors or {}), status


def topic_or_404(topic_id: str) -> Topic:
    parsed = parse_id(topic_id)
    topic = db.session.get(Topic, parsed) if parsed is not None else None
    if topic is None:
        abort(404)
    return topic


@bp.route("/topics", methods=["GET", "POST"])
@access.coordinator_required
def topics():
    form = TopicForm()
    if request.method == "GET":
        return render_topics(form)
    if not form.validate():
        return render_topics(form, status=422)
    try:
        editing.add_topic(form.name.data)
    except editing.SeminarRefused as refused:
        db.session.rollback()
        form.name.errors = [*form.name.errors, refused.message]
        return render_topics(form, status=422)
    db.session.commit()
    flash(_("The topic is added."), "success")
    return redirect(url_for(".topics"))


@bp.post("/topics/<topic_id>/rename")
@access.coordinator_required
def topic_rename(topic_id: str):
    topic = topic_or_404(topic_id)
    form = TopicForm()
    if not form.validate():
        return render_topics(status=422, rename_errors={topic.id: form.name.errors})
    try:
        editing.rename_topic(topic, form.name.data)
    except editing.SeminarRefused as refused:
        db.session.rollback()
        return render_topics(status=422, rename_errors={topic.id: [refused.message]})
    db.session.commit()
    flash(_("The topic is renamed."), "success")
    return redirect(url_for(".topics"))


@bp.post("/topics/<topic_id>/delete")
@access.coordinator_required
def topic_delete(topic_id: str):
    topic = topic_or_404(topic_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        editing.delete_topic(topic)
    except editing.SeminarRefused as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
        return render_topics(status=409)
    db.session.commit()
    flash(_("The topic is deleted."), "success")
    return redirect(url_for(".topics"))
