"""An association's contact registers members as a group, and manages them through a personal link.

Pages opened with the contact's link are private (no-store) and answer 404 for a wrong token.
The result of a group registration is shown on a page that only this browser can open (the
registrations are remembered in the signed session cookie); the contact's link itself goes out by
email only, so typing someone else's address into the form never opens their registrations.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import audit, ratelimits
from ..calendar import ics
from ..calendar.views import calendar_response
from ..database import reads_first, utcnow
from ..extensions import csrf, db
from ..external_links import external_url
from ..forms import HONEYPOT_ANSWER
from ..languages import interface_language_or_default, speak
from ..public.views import private, seminar_or_404
from ..registrations import services as registrations
from ..registrations.models import WAITLIST_REASON_MESSAGES, Registration, RegistrationStatus
from ..seminars.models import CLOSED_MESSAGES, Seminar
from ..seminars.services import catalogue_entry
from . import services
from .forms import ContactCancelForm, GroupForm
from .models import AssociationContact

bp = Blueprint("associations", __name__)

RESULT_SESSION_KEY = "group_registered"


def current_language() -> str:
    return interface_language_or_default(str(get_locale() or ""))


def contact_actor(contact: AssociationContact) -> audit.Actor:
    return audit.Actor("contact", label=f"contact {contact.id}")


def contact_or_404(token: str) -> AssociationContact:
    contact = services.contact_for_token(token)
    if contact is None:
        abort(404)
    speak(contact.preferred_language)
    return contact


def people_rows(rows: list[Registration], positions: dict[int, int] | None = None,
                ) -> list[tuple[Registration, int | None, str | None]]:
    """Each registration with its waiting-list position (`positions`: found already for a longer
    list) and, where one applies, why it waits."""
    if positions is None:
        positions = registrations.waitlist_positions(rows)
    return [(r, positions.get(r.id), WAITLIST_REASON_MESSAGES.get(r.waitlist_reason)) for r in rows]


def outcome_message(rows: list[Registration], links_sent: int = 0) -> str:
    places = sum(1 for r in rows if r.status == RegistrationStatus.CONFIRMED)
    waiting = len(rows) - places
    parts = [
        ngettext("%(num)d person registered:", "%(num)d people registered:", len(rows)),
        ngettext("%(num)d with a place", "%(num)d with a place", places),
        ngettext("and %(num)d on the waiting list.", "and %(num)d on the waiting list.", waiting),
    ] if rows else []
    if links_sent:
        # neutral: never says why (the address was registered already, which no page may tell)
        parts.append(ngettext("For %(num)d person we have sent an email to their address.",
                              "For %(num)d people we have sent an email to their address.", links_sent))
    return " ".join(parts)


# --- the group form -----------------------------------------------------------------------------

def group_form(contact: AssociationContact | None) -> GroupForm:
    data = {}
    if contact is not None and contact.association is not None and request.method == "GET":
        if contact.association.is_accepted:
            data["association_id"] = str(contact.association_id)
        else:
            # their own name, still waiting for review: typed again, it finds the same association
            data["new_association"] = contact.association.name
    return GroupForm(associations=services.accepted_association_choices, max_people=current_app.config["BOOKING_GROUP_MAX"],
                     language=current_language(), known_contact=contact is not None, data=data)


def render_group(seminar: Seminar, form: GroupForm, *, token: str | None = None, status: int = 200,
                 refusal=None):
    entry = catalogue_entry(seminar, utcnow())
    closed_message = CLOSED_MESSAGES[entry.closed_reason] if entry.closed_reason else None
    action = (url_for(".contact_group", token=token, slug=seminar.slug) if token
              else url_for(".group", slug=seminar.slug))
    response = current_app.make_response((render_template(
        "associations/group.html", seminar=seminar, entry=entry, form=form, token=token, action=action,
        closed_message=closed_message, refusal=refusal,
    ), status))
    return private(response) if token else response


def group_request(seminar: Seminar, contact: AssociationContact | None, token: str | None):
    """GET shows the form; POST adds or removes a row, or registers the whole group (PRG)."""
    form = group_form(contact)
    if request.method == "GET":
        return render_group(seminar, form, token=token)
    if "add_row" in request.form or "remove_row" in request.form:
        # a round-trip for one row more or less: nothing is checked or stored yet
        if form.too_many_rows:
            form.group_errors.append(form.too_many_message())
            form.drop_extra_rows()
            return render_group(seminar, form, token=token, status=422)
        if "add_row" in request.form:
            added = form.add_empty_row()
            return render_group(seminar, form, token=token, status=200 if added else 422)
        form.remove_row(request.form["remove_row"])
        return render_group(seminar, form, token=token)
    if form.honeypot_filled():
        flash(str(HONEYPOT_ANSWER), "success")
        return redirect(url_for(request.endpoint, **request.view_args))
    if not seminar.is_open(utcnow()):
        return render_group(seminar, form, token=token, status=409)
    if not form.validate_on_submit():
        return render_group(seminar, form, token=token, status=422)
    try:
        # the contact and association are found or created inside the attempt: not kept if nobody is registered
        outcome = services.register_group_or_send_links(seminar, contact or form.contact_details(),
                                                        form.applicants(), form.association)
    except registrations.RegistrationRefused as refused:
        db.session.rollback()
        seminar = seminar_or_404(seminar.slug)
        if refused.index is not None:
            form.row_error(refused.index, refused.message)
            return render_group(seminar, form, token=token, status=422)
        return render_group(seminar, form, token=token, status=409, refusal=refused.message)
    # the answer is made before the commit, from what is loaded: after it every registration and
    # the seminar would be read again only to say what was just decided
    rows = outcome.registered
    links_sent = [f"{a.first_name.strip()} {a.last_name.strip()}" for a in outcome.links_sent]
    message = outcome_message(rows, len(links_sent))
    if token:
        target = url_for(".contact", token=token, _anchor=f"seminar-{seminar.slug}")
    else:
        session[RESULT_SESSION_KEY] = {"seminar": seminar.slug, "registered": [r.public_id for r in rows],
                                       "links_sent": links_sent, "contact_email": form.contact_email.data}
        target = url_for(".group_registered")
    db.session.commit()
    flash(message, "success")
    return redirect(target)


# The forms check their CSRF token themselves (as the single registration form does), so a
# stale token is shown beside the form with everything typed kept.
@bp.route("/seminars/<slug>/group", methods=["GET", "POST"])
@reads_first
@csrf.exempt
@ratelimits.group
def group(slug: str):
    seminar = seminar_or_404(slug)
    return group_request(seminar, None, None)


@bp.get("/associations/registered")
def group_registered():
    """The outcome of the group this browser has just registered.

    The people whose address was registered already are listed by the names typed, with "we have
    sent an email to this person's address", never with anything of their registration.
    """
    result = session.get(RESULT_SESSION_KEY)
    if not isinstance(result, dict):
        abort(404)
    rows = list(db.session.scalars(
        db.select(Registration).where(Registration.public_id.in_(result.get("registered") or []))
        .order_by(Registration.id)
    ))
    if not rows and not result.get("links_sent"):
        abort(404)
    seminar = rows[0].seminar if rows else seminar_or_404(str(result.get("seminar", "")))
    response = current_app.make_response(render_template(
        "associations/registered.html", seminar=seminar, people=people_rows(rows),
        links_sent=result.get("links_sent") or [], contact_email=result.get("contact_email"),
    ))
    return private(response)


# --- the contact's link -------------------------------------------------------------------------

@bp.get("/associations/contact/<token>")
def contact(token: str):
    contact = contact_or_404(token)
    now = utcnow()
    by_seminar = services.contact_registrations_by_seminar(contact)
    positions = registrations.waitlist_positions([r for _, rows in by_seminar for r in rows])
    seminars = [(seminar, people_rows(rows, positions), seminar.is_open(now)) for seminar, rows in by_seminar]
    response = current_app.make_response(render_template(
        "associations/contact.html", contact=contact, token=token, seminars=seminars, now=now,
        contact_url=external_url(".contact", token=token),
        feed_url=external_url(".contact_feed", token=token),
    ))
    return private(response)


@bp.route("/associations/contact/<token>/seminars/<slug>/group", methods=["GET", "POST"])
@reads_first
@csrf.exempt
@ratelimits.group
def contact_group(token: str, slug: str):
    contact = contact_or_404(token)
    seminar = seminar_or_404(slug)
    with audit.acting_as(contact_actor(contact)):
        return group_request(seminar, contact, token)


@bp.route("/associations/contact/<token>/registrations/<public_id>/cancel", methods=["GET", "POST"])
def contact_cancel(token: str, public_id: str):
    contact = contact_or_404(token)
    registration = services.contact_registration(contact, public_id) or abort(404)
    back = url_for(".contact", token=token, _anchor=f"seminar-{registration.seminar.slug}")
    if request.method == "GET" and not registration.can_cancel():
        flash(_("This registration can no longer be cancelled."), "error")
        return redirect(back)
    form = ContactCancelForm()
    if form.validate_on_submit():
        try:
            with audit.acting_as(contact_actor(contact)):
                registrations.cancel_registration(registration)
        except registrations.CancellationRefused as refused:
            db.session.rollback()
            flash(str(refused.message), "error")
            return redirect(back)
        db.session.commit()
        flash(_("The registration of %(name)s has been cancelled.", name=registration.full_name), "success")
        return redirect(back)
    response = current_app.make_response(render_template(
        "associations/cancel.html", registration=registration, form=form, token=token, back=back,
    ))
    return private(response)


@bp.get("/associations/contact/<token>/calendar.ics")
def contact_feed(token: str):
    contact = contact_or_404(token)
    confirmed = [r for r in services.contact_registrations(contact) if r.status == RegistrationStatus.CONFIRMED]
    body = ics.contact_feed(
        confirmed,
        name=_("Seminars of %(association)s", association=contact.association.name) if contact.association
        else _("Seminars"),
        summary=lambda r: _("%(title)s – %(name)s", title=r.seminar.title, name=r.full_name),
    )
    return calendar_response(body, "association.ics", personal=True)


# --- "lost your link?" --------------------------------------------------------------------------

@bp.get("/associations/lost-link")
def lost_link():
    """The page moved: it now sends every link an address has, a contact's and a participant's."""
    return redirect(url_for("public.lost_link"), 301)
