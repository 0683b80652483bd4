"""The email log (coordinators only): every outbox message with its state, one message as it was
sent, and sending a failed one again (the rule of `flask booking outbox --retry`)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from ..extensions import db
from ..inputs import clean_line, parse_id
from ..mail import services
from ..mail.models import MessageStatus, OutboxMessage
from .access import coordinator_required
from .views import bp
from ..baseform import BookingForm

PER_PAGE = 50

# The stored HTML part is shown in a frame that may do nothing: no script, no form, no request to
# anywhere, not even its own origin's (CSP `sandbox` makes it a unique origin).
HTML_PART_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; "
                    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


class EmailFilterForm(BookingForm):
    """The GET form above the log. An unknown value is ignored (all messages are shown for that
    filter) and the reason is shown beside the filter, as in the public catalogue."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    state = SelectField(_l("State"), validate_choice=False, filters=[clean_line])
    seminar = SelectField(_l("Seminar"), validate_choice=False, filters=[clean_line])

    def __init__(self, formdata, *, seminars):
        super().__init__(formdata=formdata)
        self.state.choices = [SelectChoice("", _l("All states"))] + [
            SelectChoice(value, label) for value, label in services.FILTER_STATE_LABELS.items()]
        self.seminar.choices = [SelectChoice("", _l("All seminars"))] + [
            SelectChoice(str(s.id), s.title) for s in seminars]
        self.seminar_ids = {s.id for s in seminars}

    def validate_state(self, field):
        if field.data and field.data not in services.FILTER_STATE_LABELS:
            raise ValidationError(_l("There is no such state; messages in every state are shown."))

    def validate_seminar(self, field):
        if field.data and parse_id(field.data) not in self.seminar_ids:
            raise ValidationError(_l("There is no such seminar; messages of every seminar are shown."))

    def chosen_state(self) -> str | None:
        return (self.state.data or None) if not self.state.errors else None

    def chosen_seminar_id(self) -> int | None:
        return parse_id(self.seminar.data) if self.seminar.data and not self.seminar.errors else None


class RetryForm(BookingForm):
    submit = SubmitField(_l("Send again"))


def message_or_404(message_id: str) -> OutboxMessage:
    number = parse_id(message_id)
    message = db.session.get(OutboxMessage, number) if number is not None else None
    if message is None:
        abort(404)
    return message


@bp.get("/emails")
@coordinator_required
def emails():
    form = EmailFilterForm(request.args, seminars=services.seminars_with_messages())
    form.validate()
    state, seminar_id = form.chosen_state(), form.chosen_seminar_id()
    page_number = parse_id(request.args.get("page", "1")) or 1
    log_page = services.email_log(state=state, seminar_id=seminar_id, page=page_number, per_page=PER_PAGE)
    filters = {key: value for key, value in (("state", state), ("seminar", seminar_id)) if value}
    return render_template("admin/emails/index.html", form=form, log=log_page, filters=filters,
                           state_labels=services.STATE_LABELS, kind_labels=services.KIND_LABELS,
                           seminar_of=services.seminar_of)


@bp.get("/emails/<message_id>")
@coordinator_required
def email(message_id: str):
    message = message_or_404(message_id)
    return render_template("admin/emails/show.html", message=message, form=RetryForm(formdata=None),
                           seminar=services.seminar_of(message), state_labels=services.STATE_LABELS,
                           kind_labels=services.KIND_LABELS, can_retry=message.status == MessageStatus.FAILED)


@bp.get("/emails/<message_id>/html")
@coordinator_required
def email_html(message_id: str):
    """The HTML part as sent, for the sandboxed frame on the message's page."""
    message = message_or_404(message_id)
    if not message.body_html:
        abort(404)
    response = current_app.make_response((message.body_html, 200, {"Content-Type": "text/html; charset=utf-8"}))
    response.headers["Content-Security-Policy"] = HTML_PART_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"  # it carries the participant's personal link
    return response


@bp.post("/emails/<message_id>/retry")
@coordinator_required
def email_retry(message_id: str):
    message = message_or_404(message_id)
    form = RetryForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.retry_message(message)
    except services.RetryRefused as refused:
        db.session.rollback()
        flash(str(refused.message), "error")
        return redirect(url_for(".email", message_id=message.id))
    db.session.commit()
    flash(_("The message will be sent again in a moment."), "success")
    return redirect(url_for(".email", message_id=message.id))
