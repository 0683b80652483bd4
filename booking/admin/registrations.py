"""The office's registration pages: a seminar's list (filter, sort, download), one registration
(details, its emails, its audit log), registering by hand, cancelling with a note, giving a
waitlisted person a place, resending emails, and writing to a seminar's participants.

Trainers assigned to a seminar read its list and registrations; every changing route answers
them 403 (access.can_change_registrations). Views only load (404), check (403), validate (422),
call one service, commit once and redirect.
"""
from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from .. import audit
from ..attendance import services as attendance
from ..associations import services as associations
from ..database import utcnow
from ..extensions import db
from ..inputs import parse_id
from ..mail import services as mail_services
from ..mail.models import OutboxMessage
from ..registrations import services as registrations
from ..registrations.exports import csv_bytes, xlsx_bytes
from ..registrations.listing import seminar_registrations
from ..registrations.models import WAITLIST_REASON_MESSAGES, Registration, RegistrationStatus
from ..seminars.models import CLOSED_MESSAGES, Seminar
from . import access
from .registration_forms import (
    CancelByOfficeForm,
    ListFilterForm,
    MessageForm,
    PromoteForm,
    RegisterByHandForm,
    ResendForm,
    new_request_key,
)
from .views import bp

log = logging.getLogger(__name__)

DONE_KEYS = "admin_done_keys"  # request keys of forms already carried out in this browser session


# --- loading ----------------------------------------------------------------------------------

def seminar_or_404(seminar_id: str) -> Seminar:
    seminar = db.session.get(Seminar, parse_id(seminar_id) or 0)
    if seminar is None:
        abort(404)
    return seminar


def registration_or_404(registration_id: str) -> Registration:
    registration = db.session.get(Registration, parse_id(registration_id) or 0)
    if registration is None:
        abort(404)
    return registration


def require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def already_done(key: str) -> bool:
    return key in session.get(DONE_KEYS, [])


def mark_done(key: str) -> None:
    session[DONE_KEYS] = [*session.get(DONE_KEYS, [])[-19:], key]


@bp.app_context_processor
def registrations_context():
    # one list of names for kinds and states of email, shared with the email log (booking/mail/services.py)
    return {"email_kind_labels": mail_services.KIND_LABELS, "email_state_labels": mail_services.STATE_LABELS,
            "waitlist_reason_labels": WAITLIST_REASON_LABELS}


WAITLIST_REASON_LABELS = {
    "full": _l("all places taken"),
    "association_limit": _l("association maximum reached"),
}


# --- the list -----------------------------------------------------------------------------------

def _listing(seminar: Seminar):
    everyone = seminar_registrations(seminar)
    form = ListFilterForm(request.args, associations=everyone.associations)
    return form, seminar_registrations(seminar, form.filters())


@bp.get("/seminars/<seminar_id>/registrations")
def seminar_registrations_page(seminar_id: str):
    seminar = seminar_or_404(seminar_id)
    require(access.can_view_seminar(seminar))
    form, listing = _listing(seminar)
    # the downloads hold what the page shows
    filter_args = {name: request.args[name] for name in ("status", "association", "needs", "sort", "order")
                   if request.args.get(name)}
    return render_template("admin/registrations/list.html", seminar=seminar, form=form, listing=listing,
                           filter_args=filter_args,
                           no_shows=attendance.no_show_marks([row.registration for row in listing.rows]))


def _download(seminar: Seminar, body: bytes, extension: str, mimetype: str):
    response = current_app.response_class(body, mimetype=mimetype)
    stamp = utcnow().strftime("%Y%m%d")
    response.headers["Content-Disposition"] = f'attachment; filename="{seminar.slug}-{stamp}.{extension}"'
    response.headers["Cache-Control"] = "no-store"  # personal data: not for shared caches
    return response


@bp.get("/seminars/<seminar_id>/registrations.csv")
def seminar_registrations_csv(seminar_id: str):
    seminar = seminar_or_404(seminar_id)
    require(access.can_view_seminar(seminar))
    _, listing = _listing(seminar)
    log.info("registrations of seminar %s downloaded as CSV", seminar.id)
    return _download(seminar, csv_bytes(listing), "csv", "text/csv; charset=utf-8")


@bp.get("/seminars/<seminar_id>/registrations.xlsx")
def seminar_registrations_xlsx(seminar_id: str):
    seminar = seminar_or_404(seminar_id)
    require(access.can_view_seminar(seminar))
    _, listing = _listing(seminar)
    log.info("registrations of seminar %s downloaded as XLSX", seminar.id)
    return _download(seminar, xlsx_bytes(listing), "xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- one registration ---------------------------------------------------------------------------

def _emails_of(registration: Registration) -> list[OutboxMessage]:
    return list(db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.registration_id == registration.id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())))


@bp.get("/registrations/<registration_id>")
def registration_page(registration_id: str):
    registration = registration_or_404(registration_id)
    require(access.can_view_registration(registration))
    return render_template(
        "admin/registrations/detail.html", registration=registration, seminar=registration.seminar,
        position=registrations.waitlist_position(registration),
        waitlist_reason=WAITLIST_REASON_MESSAGES.get(registration.waitlist_reason),
        emails=_emails_of(registration) if access.can_manage() else [],
        entries=audit.entries_for(registration=registration),
        promote_form=PromoteForm(), resend_form=ResendForm(key=new_request_key()),
        can_cancel=registration.can_cancel(), places_left=registrations.places_left(registration.seminar),
        no_shows=attendance.no_show_marks([registration]),
    )


@bp.route("/registrations/<registration_id>/cancel", methods=["GET", "POST"])
def cancel_registration(registration_id: str):
    registration = registration_or_404(registration_id)
    require(access.can_change_registrations())
    form = CancelByOfficeForm()
    if request.method == "POST" and form.validate():
        try:
            promoted = registrations.cancel_registration(registration, by_office=True, note=form.note.data)
        except registrations.CancellationRefused as refused:
            db.session.rollback()
            flash(str(refused.message), "error")
            return redirect(url_for(".registration_page", registration_id=registration.id))
        db.session.commit()
        message = _("The registration of %(name)s is cancelled; they are told by email.",
                    name=registration.full_name)
        if promoted:
            message += " " + ngettext("%(num)d person from the waiting list got the place.",
                                      "%(num)d people from the waiting list got places.", len(promoted))
        flash(message, "success")
        return redirect(url_for(".registration_page", registration_id=registration.id))
    if request.method == "GET" and not registration.can_cancel():
        flash(_("This registration can no longer be cancelled."), "error")
        return redirect(url_for(".registration_page", registration_id=registration.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/registrations/cancel.html", registration=registration,
                           seminar=registration.seminar, form=form), status


@bp.post("/registrations/<registration_id>/promote")
def promote_registration(registration_id: str):
    registration = registration_or_404(registration_id)
    require(access.can_change_registrations())
    form = PromoteForm()
    if not form.validate():
        abort(400)
    try:
        registrations.promote_by_office(registration)
    except registrations.OfficeActionRefused as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
        return redirect(url_for(".registration_page", registration_id=registration.id))
    db.session.commit()
    flash(_("%(name)s now has a place and is told by email.", name=registration.full_name), "success")
    return redirect(url_for(".registration_page", registration_id=registration.id))


@bp.post("/registrations/<registration_id>/resend")
def resend_emails(registration_id: str):
    registration = registration_or_404(registration_id)
    require(access.can_change_registrations())
    form = ResendForm()
    if not form.validate():
        flash(_("The form was incomplete. Please try again."), "error")
        return redirect(url_for(".registration_page", registration_id=registration.id))
    try:
        count = registrations.resend_emails(registration, key=form.key.data)
    except registrations.OfficeActionRefused as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
        return redirect(url_for(".registration_page", registration_id=registration.id))
    db.session.commit()
    if count:
        flash(ngettext("%(num)d email will be sent again.", "%(num)d emails will be sent again.", count), "success")
    else:
        flash(_("These emails were already sent again."), "info")
    return redirect(url_for(".registration_page", registration_id=registration.id))


# --- register by hand ---------------------------------------------------------------------------

def _register_form() -> RegisterByHandForm:
    return RegisterByHandForm(associations=associations.all_associations(),
                              max_people=current_app.config["BOOKING_GROUP_MAX"],
                              data={"key": new_request_key()} if request.method == "GET" else None)


def _render_register(seminar: Seminar, form: RegisterByHandForm, status: int = 200, refusal=None):
    reason = seminar.closed_reason(utcnow())
    return render_template("admin/registrations/new.html", seminar=seminar, form=form, refusal=refusal,
                           closed_message=CLOSED_MESSAGES[reason] if reason else None,
                           places_left=registrations.places_left(seminar)), status


@bp.route("/seminars/<seminar_id>/registrations/new", methods=["GET", "POST"])
def register_by_hand(seminar_id: str):
    seminar = seminar_or_404(seminar_id)
    require(access.can_change_registrations())
    form = _register_form()
    if request.method == "GET":
        return _render_register(seminar, form)
    if "add_row" in request.form or "remove_row" in request.form:
        # a round-trip for one row more or less: nothing is checked or stored yet
        if form.too_many_rows:
            form.validate()
            return _render_register(seminar, form, 422)
        if "add_row" in request.form:
            form.add_empty_row()
        else:
            form.remove_row(request.form["remove_row"])
        return _render_register(seminar, form, 422 if form.group_errors else 200)
    if not form.validate():
        return _render_register(seminar, form, 422)
    if already_done(form.key.data):
        flash(_("These people were registered already (the form was sent twice)."), "info")
        return redirect(url_for(".seminar_registrations_page", seminar_id=seminar.id))
    contact = form.contact_details()
    try:
        if contact is not None:
            rows = associations.register_group(seminar, contact, form.applicants(), form.association())
        else:
            rows = registrations.register_people(seminar, form.applicants(), form.association())
    except registrations.RegistrationRefused as refused:
        db.session.rollback()
        seminar = seminar_or_404(seminar_id)
        if refused.index is not None:
            form.row_error(refused.index, refused.message)
            return _render_register(seminar, form, 422)
        return _render_register(seminar, form, 409, refusal=refused.message)
    db.session.commit()
    mark_done(form.key.data)
    places = sum(1 for r in rows if r.status == RegistrationStatus.CONFIRMED)
    flash(" ".join([
        ngettext("%(num)d person registered:", "%(num)d people registered:", len(rows)),
        ngettext("%(num)d with a place", "%(num)d with a place", places),
        ngettext("and %(num)d on the waiting list.", "and %(num)d on the waiting list.", len(rows) - places),
        _("They get the same emails as after registering themselves."),
    ]), "success")
    return redirect(url_for(".seminar_registrations_page", seminar_id=seminar.id))


# --- writing to participants ----------------------------------------------------------------------

@bp.route("/seminars/<seminar_id>/message", methods=["GET", "POST"])
def message_participants(seminar_id: str):
    seminar = seminar_or_404(seminar_id)
    require(access.can_change_registrations())
    form = MessageForm(data={"key": new_request_key()} if request.method == "GET" else None)
    counts = {audience: len(registrations.message_audience(seminar, audience))
              for audience in registrations.AUDIENCES}
    if request.method == "GET" or "edit" in request.form:
        return render_template("admin/registrations/message.html", seminar=seminar, form=form, counts=counts)
    if not form.validate():
        return render_template("admin/registrations/message.html", seminar=seminar, form=form,
                               counts=counts), 422
    count = counts[form.audience.data]
    if count == 0:
        form.audience.errors = [_("Nobody is registered in the group you chose.")]
        return render_template("admin/registrations/message.html", seminar=seminar, form=form,
                               counts=counts), 422
    if not form.send.data or form.expected_count != count:
        # the confirmation step: the office sees how many people get it before anything is sent
        changed = form.send.data and form.expected_count != count
        form.expected.data = str(count)
        return render_template("admin/registrations/message_confirm.html", seminar=seminar, form=form,
                               count=count, changed=changed), 409 if changed else 200
    try:
        sent = registrations.message_participants(seminar, audience=form.audience.data,
                                                  subject=form.subject.data, body=form.body.data,
                                                  key=form.key.data)
    except registrations.OfficeActionRefused as refused:
        db.session.rollback()
        form.audience.errors = [str(refused.message)]
        return render_template("admin/registrations/message.html", seminar=seminar, form=form,
                               counts=counts), 422
    db.session.commit()
    if sent:
        flash(ngettext("Your message goes out to %(num)d person.", "Your message goes out to %(num)d people.",
                       sent), "success")
    else:
        flash(_("This message was sent already (the form was sent twice)."), "info")
    return redirect(url_for(".seminar_registrations_page", seminar_id=seminar.id))
