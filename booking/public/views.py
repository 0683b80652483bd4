"""The participants' pages: catalogue, seminar page, registration and the personal manage link."""
from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from .. import audit, documents, privacy_notice, ratelimits
from ..caching import cached_page
from ..attendance import services as attendance
from ..associations.services import accepted_association_choices
from ..privacy import services as privacy_rules
from ..privacy.forms import DeleteDataForm
from ..registrations.links import request_links
from ..database import reads_first, utcnow
from ..documents.downloads import download
from ..extensions import csrf, db
from ..external_links import external_url
from ..forms import HONEYPOT_ANSWER
from ..languages import speak, interface_language_choices, interface_language_or_default, language_name, text_direction
from ..registrations import services as registrations
from ..registrations.models import WAITLIST_REASON_MESSAGES, Registration, RegistrationStatus
from ..seminars.models import CLOSED_MESSAGES, Seminar
from ..seminars.services import (
    all_topics,
    catalogue_entry,
    catalogue_languages,
    catalogue_months,
    published_seminar_by_slug,
    upcoming_catalogue,
)
from .forms import (
    CancelForm,
    CatalogueFilterForm,
    ComingForm,
    LostLinkForm,
    OfferAnswerForm,
    RegistrationForm,
    ReleasePlaceForm,
)

log = logging.getLogger(__name__)

bp = Blueprint("public", __name__)



# --- template helpers -------------------------------------------------------------------------

def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else current_app.config["BABEL_DEFAULT_LOCALE"]


def url_in_language(code: str) -> str:
    """This page in another language. After a POST (a form shown again) the link leads to the GET page.

    The link is built from the matched route, never from the requested path: a path such as
    `/\\evil.example` or `//evil.example` would make a browser leave the site. Where no route
    matched (404, 405), the link leads to the home page in that language.
    """
    path = None
    if request.url_rule is not None and request.endpoint is not None:
        try:
            path = url_for(request.endpoint, **(request.view_args or {}))
        except BuildError:
            path = None
    if path is None or not path.startswith("/") or path.startswith(("//", "/\\")):
        return url_for("public.catalogue", lang=code)
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return f"{path}?{urlencode([*args, ('lang', code)])}"


@bp.app_context_processor
def page_context():
    language = current_language()
    return {
        "current_locale": current_language,
        "text_direction": text_direction(language),
        "interface_languages": interface_language_choices(),
        "url_in_language": url_in_language,
        "office_name": current_app.config["BOOKING_OFFICE_NAME"],
    }


# --- catalogue and seminar page ---------------------------------------------------------------

@bp.get("/")
@cached_page
def catalogue():
    now = utcnow()
    form = CatalogueFilterForm(request.args, topics=all_topics(), months=catalogue_months(now),
                               languages=catalogue_languages(now))
    form.validate()
    return render_template(
        "public/catalogue.html",
        form=form,
        months=upcoming_catalogue(now, form.filters()),
    )


def seminar_or_404(slug: str) -> Seminar:
    seminar = published_seminar_by_slug(slug)
    if seminar is None:
        abort(404)
    return seminar


def registration_form(**kwargs) -> RegistrationForm:
    language = interface_language_or_default(current_language())
    return RegistrationForm(associations=accepted_association_choices, preferred_language=language, **kwargs)


def render_seminar(seminar: Seminar, form: RegistrationForm, *, status: int = 200, refusal=None):
    entry = catalogue_entry(seminar, utcnow())
    closed_message = CLOSED_MESSAGES[entry.closed_reason] if entry.closed_reason else None
    return render_template(
        "public/seminar.html",
        seminar=seminar,
        entry=entry,
        form=form,
        closed_message=closed_message,
        refusal=refusal,
    ), status


@bp.get("/seminars/<slug>")
@cached_page
def seminar(slug: str):
    seminar = seminar_or_404(slug)
    return render_seminar(seminar, registration_form())


@bp.get("/seminars/<slug>/register")
def register_page(slug: str):
    """The form lives on the seminar page; this address only answers links such as the language switcher."""
    seminar_or_404(slug)
    return redirect(url_for(".seminar", slug=slug, _anchor="register"))


# The form checks its CSRF token itself, so a stale token is shown beside the form with what was
# typed kept, instead of the bare error page CSRFProtect would give.
@bp.post("/seminars/<slug>/register")
@reads_first
@csrf.exempt
@ratelimits.registration
def register(slug: str):
    seminar = seminar_or_404(slug)
    form = registration_form()
    if form.honeypot_filled():
        flash(str(HONEYPOT_ANSWER), "success")
        return redirect(url_for(".seminar", slug=slug))
    if not seminar.is_open(utcnow()):
        return render_seminar(seminar, registration_form(), status=409)
    if not form.validate_on_submit():
        return render_seminar(seminar, form, status=422)
    applicant = form.applicant()
    try:
        # the association is found or created only inside the attempt: not kept if nobody is registered
        outcome = registrations.register_or_send_links(seminar, [applicant], form.association)
    except registrations.RegistrationRefused as refused:
        db.session.rollback()
        seminar = seminar_or_404(slug)
        field = getattr(form, refused.field, None) if refused.field else None
        if field is not None:
            field.errors = [*field.errors, refused.message]
            return render_seminar(seminar, form, status=422)
        return render_seminar(seminar, form, status=409, refusal=refused.message)
    # the answer is made before the commit, from what is loaded: after it every object would be
    # read again (three queries) only to say what was just decided
    if not outcome.registered:
        # The address was registered already; its personal link went out by email (at most once an
        # hour). The answer must not say so: it reads the same as "we have sent you an email".
        message = _("We have sent an email to %(email)s. It contains your personal link: there you see your "
                    "registration and can cancel it.", email=applicant.email)
        target = url_for(".seminar", slug=seminar.slug)
    else:
        registration = outcome.registered[0]
        message = registration_outcome(registration)
        target = url_for(".manage", token=registrations.manage_token(registration))
    db.session.commit()
    flash(message, "success")
    return redirect(target)


def registration_outcome(registration: Registration) -> str:
    """What a person hears first after registering; the page below says whether they have a place
    or a waiting list position (once: it is the same page the email's link opens)."""
    if registration.status == RegistrationStatus.CONFIRMED:
        return _("Thank you! Your registration for “%(title)s” is saved. We are sending you an email "
                 "with this page's link and one calendar invitation for each session.",
                 title=registration.seminar.title)
    return _("Thank you! Your registration for “%(title)s” is saved. We are sending you an email with this "
             "page's link. The calendar invitations follow when you get a place.", title=registration.seminar.title)


# --- the personal manage link -----------------------------------------------------------------

def registration_or_404(token: str, resolve=registrations.registration_for_token) -> Registration:
    """The registration a personal link opens (`resolve`: which kind of link), in its person's language."""
    registration = resolve(token)
    if registration is None:
        abort(404)
    speak(registration.preferred_language)
    return registration


def private(response):
    """Pages opened with a personal link must not be kept in shared caches or browser history stores."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/registrations/<token>")
@cached_page  # kept in this worker's memory only, per link (see booking/caching/pages.py)
def manage(token: str):
    registration = registration_or_404(token)
    response = current_app.make_response(render_template(
        "public/manage.html",
        registration=registration,
        position=registrations.waitlist_position(registration),
        waitlist_reason=WAITLIST_REASON_MESSAGES.get(registration.waitlist_reason),
        manage_url=external_url(".manage", token=token),
        token=token,
        can_cancel=registration.can_cancel(),
        can_accept_offer=registration.can_accept_offer(),
        offer_form=OfferAnswerForm() if registration.has_open_offer else None,
        certificate_ready=attendance.participant_may_download_certificate(registration),
    ))
    return private(response)


@bp.get("/registrations/<token>/certificate.pdf")
def certificate(token: str):
    """The participant's certificate of attendance, in their language, once the seminar is over."""
    registration = registration_or_404(token)
    if not attendance.participant_may_download_certificate(registration):
        abort(404)
    body = documents.participant_certificate_pdf(registration)
    log.info("certificate of registration %s downloaded by the participant", registration.id)
    return private(download(body, mimetype="application/pdf",
                            file_name=documents.certificate_file_names([registration])[registration.id]))


@bp.post("/registrations/<token>/offer")
def answer_offer(token: str):
    """Accept or decline a late place offered (the buttons on the manage page)."""
    registration = registration_or_404(token)
    form = OfferAnswerForm()
    if not form.validate_on_submit() or not (form.accept.data or form.decline.data):
        abort(400)
    try:
        with audit.acting_as(audit.Actor("participant")):
            if form.accept.data:
                registrations.accept_offer(registration)
            else:
                registrations.decline_offer(registration)
    except registrations.OfferRefused as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
        return redirect(url_for(".manage", token=token))
    db.session.commit()
    if form.accept.data:
        flash(_("The place is yours. We are sending you an email with a calendar invitation for each session."),
              "success")
    else:
        flash(_("You have declined the place, and it goes to the next person on the waiting list. Thank you for "
                "letting us know."), "success")
    return redirect(url_for(".manage", token=token))


# --- the reminder's two links: "I am coming" and "release my place" -----------------------------
# Each opens a page with a button: mail scanners follow links, and a GET changes nothing.

@bp.route("/registrations/<token>/coming", methods=["GET", "POST"])
def confirm_coming(token: str):
    registration = registration_or_404(token, registrations.registration_for_coming_token)
    manage_token = registrations.manage_token(registration)
    if not registration.can_confirm_attendance():
        flash(_("This registration has no place in a seminar still to come: there is nothing to confirm."), "error")
        return redirect(url_for(".manage", token=manage_token))
    form = ComingForm()
    if form.validate_on_submit():
        try:
            with audit.acting_as(audit.Actor("participant")):
                registrations.confirm_attendance(registration)
        except registrations.AttendanceRefused as refused:
            db.session.rollback()
            flash(str(refused.message), "error")
            return redirect(url_for(".manage", token=manage_token))
        db.session.commit()
        flash(_("Thank you! We have noted that you are coming."), "success")
        return redirect(url_for(".manage", token=manage_token))
    response = current_app.make_response(render_template(
        "public/coming.html", registration=registration, form=form, token=token, manage_token=manage_token,
        release_token=registrations.release_token(registration),
    ))
    return private(response)


@bp.route("/registrations/<token>/release", methods=["GET", "POST"])
def release_place(token: str):
    """The reminder's "I cannot come": the cancellation, whose freed place moves on."""
    registration = registration_or_404(token, registrations.registration_for_release_token)
    manage_token = registrations.manage_token(registration)
    if not registration.can_cancel():
        flash(_("This registration can no longer be cancelled."), "error")
        return redirect(url_for(".manage", token=manage_token))
    form = ReleasePlaceForm()
    if form.validate_on_submit():
        try:
            with audit.acting_as(audit.Actor("participant")):
                registrations.cancel_registration(registration)
        except registrations.CancellationRefused as refused:
            db.session.rollback()
            flash(str(refused.message), "error")
            return redirect(url_for(".manage", token=manage_token))
        db.session.commit()
        flash(_("Your place is released and goes to the next person on the waiting list. Thank you for letting "
                "us know."), "success")
        return redirect(url_for(".manage", token=manage_token))
    response = current_app.make_response(render_template(
        "public/release.html", registration=registration, form=form, token=token, manage_token=manage_token,
    ))
    return private(response)


@bp.route("/registrations/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str):
    registration = registration_or_404(token)
    if request.method == "GET" and not registration.can_cancel():
        flash(_("This registration can no longer be cancelled."), "error")
        return redirect(url_for(".manage", token=token))
    form = CancelForm()
    if form.validate_on_submit():
        try:
            with audit.acting_as(audit.Actor("participant")):
                registrations.cancel_registration(registration)
        except registrations.CancellationRefused as refused:
            db.session.rollback()
            flash(str(refused.message), "error")
            return redirect(url_for(".manage", token=token))
        db.session.commit()
        flash(_("Your registration has been cancelled."), "success")
        return redirect(url_for(".manage", token=token))
    response = current_app.make_response(render_template(
        "public/cancel.html", registration=registration, form=form, token=token,
    ))
    return private(response)


# --- the person's own data: download and delete -------------------------------------------------

@bp.get("/registrations/<token>/data")
def download_data(token: str):
    """Everything held about the person, as a JSON file (the right of access)."""
    registration = registration_or_404(token)
    body = json.dumps(privacy_rules.export_registration(registration), ensure_ascii=False, indent=2)
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="registration-{registration.public_id}.json"'
    return private(response)


@bp.route("/registrations/<token>/delete", methods=["GET", "POST"])
def delete_data(token: str):
    """A page with a button first: mail scanners follow links, and must not delete anything."""
    registration = registration_or_404(token)
    if registration.is_anonymised:
        return redirect(url_for(".manage", token=token))
    form = DeleteDataForm()
    if form.validate_on_submit():
        with audit.acting_as(audit.Actor("participant")):
            privacy_rules.delete_registration(registration)
        db.session.commit()
        flash(_("Your registration and your personal data have been deleted."), "success")
        return redirect(url_for(".manage", token=token))
    response = current_app.make_response(render_template(
        "public/delete.html", registration=registration, form=form, token=token,
        can_cancel=registration.can_cancel(),
    ))
    return private(response)


# --- "lost your link?" --------------------------------------------------------------------------

@bp.route("/lost-link", methods=["GET", "POST"])
@ratelimits.lost_link
def lost_link():
    form = LostLinkForm()
    if form.honeypot_filled():
        flash(str(HONEYPOT_ANSWER), "success")
        return redirect(url_for(".lost_link"))
    if form.validate_on_submit():
        request_links(form.email.data)
        db.session.commit()
        # the same answer whether or not the address is known, or links went out within the hour
        flash(_("If we know this address, we have sent your links to it. It can take a few minutes."), "success")
        return redirect(url_for(".lost_link"))
    status = 422 if request.method == "POST" else 200
    return render_template("public/lost_link.html", form=form), status


# --- information ------------------------------------------------------------------------------

@cache
def favicon_svg() -> bytes:
    with open(Path(current_app.static_folder) / "favicon.svg", "rb") as file:
        return file.read()


@bp.get("/favicon.ico")  # for programs that ask at the old address instead of reading the page's link
@bp.get("/favicon.svg")
def favicon():
    """The site's icon, from memory: browsers often drop this request half-way, and a streamed file
    would then be left open."""
    response = current_app.response_class(favicon_svg(), mimetype="image/svg+xml")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/privacy")
def privacy():
    notice = privacy_notice.notice_for(current_language())
    return render_template("public/privacy.html", notice=notice, issued=format_date(notice.date, "long"),
                           notice_language=language_name(notice.language),
                           contact_email=current_app.config["BOOKING_MAIL_SENDER"])


# The short link, the share links and the poster add themselves to this blueprint (imported last:
# they import `bp` and the page helpers above).
from . import sharing as _sharing  # noqa: E402,F401
