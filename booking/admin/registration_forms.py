"""The office's forms for registrations: register by hand, cancel with a note, resend, write to
participants, and the list's filters (a GET form)."""
from __future__ import annotations

import re
import secrets
from dataclasses import replace

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..associations.forms import ParticipantForm, RowList, _row_indices
from ..associations.models import Association
from ..associations.services import ContactDetails
from ..forms import (
    MAX_LENGTH,
    PHONE_INVALID,
    PHONE_PATTERN,
    AssociationChoice,
    association_choice_fields,
    email_field,
    name_field,
    strip,
)
from ..inputs import clean_multiline, parse_id
from ..languages import interface_language_choices
from ..registrations.listing import SORTS, RegistrationFilters
from ..registrations.models import RegistrationStatus
from ..registrations.services import AUDIENCES, Applicant
from ..baseform import BookingForm

NEEDS_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 2000
SUBJECT_MAX_LENGTH = 150
BODY_MAX_LENGTH = 10000
REQUEST_KEY = re.compile(r"^[A-Za-z0-9_-]{8,32}$")


def new_request_key() -> str:
    return secrets.token_urlsafe(12)


def request_key_field() -> HiddenField:
    """A key made when the form is shown: the same form sent twice (a double click) is one request."""
    return HiddenField(filters=[strip], validators=[
        DataRequired(_l("The form was incomplete. Please try again.")),
        Regexp(REQUEST_KEY, message=_l("The form was incomplete. Please try again."))])


# --- the list's filters -----------------------------------------------------------------------

class ListFilterForm(BookingForm):
    """Filters and sorting of the registrations list, in the query string. Unknown values are ignored."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    status = SelectField(_l("Status"), validate_choice=False, filters=[strip])
    association = SelectField(_l("Association"), validate_choice=False, filters=[strip])
    needs = BooleanField(_l("Only people with needs"))
    sort = SelectField(_l("Sort by"), validate_choice=False, filters=[strip], choices=[
        SelectChoice("registered", _l("Registered at")), SelectChoice("name", _l("Name")),
        SelectChoice("association", _l("Association"))])
    order = SelectField(_l("Order"), validate_choice=False, filters=[strip], choices=[
        SelectChoice("asc", _l("Ascending")), SelectChoice("desc", _l("Descending"))])

    def __init__(self, formdata, *, associations: list[Association]):
        super().__init__(formdata=formdata)
        self.status.choices = [SelectChoice("", _l("All")), SelectChoice("confirmed", _l("Confirmed")),
                               SelectChoice("waitlisted", _l("Waiting list")),
                               SelectChoice("cancelled", _l("Cancelled"))]
        self.association.choices = [SelectChoice("", _l("All associations"))] + [
            SelectChoice(str(a.id), a.name) for a in associations]
        self.association_ids = {a.id for a in associations}

    def filters(self) -> RegistrationFilters:
        status = self.status.data if self.status.data in {s.value for s in RegistrationStatus} else None
        association_id = parse_id(self.association.data or "")
        return RegistrationFilters(
            status=RegistrationStatus(status) if status else None,
            association_id=association_id if association_id in self.association_ids else None,
            needs_only=bool(self.needs.data),
            sort=self.sort.data if self.sort.data in SORTS else "registered",
            descending=self.order.data == "desc",
        )


# --- register by hand -------------------------------------------------------------------------

class PersonRow(ParticipantForm):
    """One person, as in the public group form (an empty row is ignored), with phone and needs."""

    email = email_field(_l("Email address"),
                        description=_l("Optional only when an association contact registers them: "
                                       "their messages then go to the contact."))
    phone = StringField(_l("Phone (optional)"), filters=[strip],
                        validators=[Optional(), Length(max=40, message=MAX_LENGTH),
                                    Regexp(PHONE_PATTERN, message=PHONE_INVALID)])
    preferred_language = SelectField(_l("Preferred language for messages"), choices=interface_language_choices,
                                     validate_choice=False)
    needs = TextAreaField(_l("Needs (optional)"), filters=[clean_multiline],
                          description=_l("For example step-free access, childcare or interpreting."),
                          validators=[Optional(), Length(max=NEEDS_MAX_LENGTH, message=MAX_LENGTH)])

    def applicant(self) -> Applicant:
        return replace(super().applicant(), phone=self.phone.data or None, needs=self.needs.data or None)


class RegisterByHandForm(AssociationChoice, BookingForm):
    """One person or a group, registered by the office; optionally on behalf of an association contact."""

    association_id, new_association = association_choice_fields()
    people = RowList(FormField(PersonRow), min_entries=1)
    contact_first_name = name_field(_l("Contact's first name"), None, required=False)
    contact_last_name = name_field(_l("Contact's last name"), None, required=False)
    contact_email = email_field(_l("Contact's email address"))
    contact_phone = StringField(_l("Contact's phone (optional)"), filters=[strip],
                                validators=[Optional(), Length(max=40, message=MAX_LENGTH),
                                            Regexp(PHONE_PATTERN, message=PHONE_INVALID)])
    consent = BooleanField(
        _l("The people listed agree that their details are stored to organise this seminar, "
           "as described in the privacy notice."),
        validators=[DataRequired(_l("Please confirm this, otherwise we cannot register these people."))])
    key = request_key_field()
    submit = SubmitField(_l("Register"))
    add_row = SubmitField(_l("Add another person"))

    def __init__(self, *args, associations: list[Association], max_people: int, **kwargs):
        self.max_people = max_people
        super().__init__(*args, **kwargs)
        self.group_errors: list[str] = []
        self.set_association_choices(associations)
        for row in self.people:
            if not row.preferred_language.data:
                row.preferred_language.data = "de"

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        formdata = self.meta.wrap_formdata(self, formdata)
        self.rows_sent = len(_row_indices(self.people.name, formdata)) if formdata else 0
        self.people.max_entries = self.max_people + 1
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)

    @property
    def too_many_rows(self) -> bool:
        return self.rows_sent > self.max_people or len(self.people.entries) > self.max_people

    def too_many_message(self) -> str:
        return _l("At most %(max)d people can be registered at once.", max=self.max_people)

    def add_empty_row(self) -> None:
        if len(self.people.entries) >= self.max_people:
            self.group_errors.append(self.too_many_message())
            return
        self.people.append_entry()
        self.people.entries[-1].preferred_language.data = "de"

    def remove_row(self, index_text: str) -> None:
        entries = self.people.entries
        for position, row in enumerate(entries):
            if row.name == f"people-{index_text}" and len(entries) > 1:
                del entries[position]
                return

    def filled_rows(self) -> list[PersonRow]:
        return [row.form for row in self.people if not row.form.is_empty]

    @property
    def has_contact(self) -> bool:
        return bool(self.contact_first_name.data or self.contact_last_name.data or self.contact_email.data)

    def validate(self, extra_validators=None) -> bool:
        if self.too_many_rows:
            self.group_errors.append(self.too_many_message())
            while len(self.people.entries) > self.max_people:
                self.people.entries.pop()
            return False
        valid = super().validate(extra_validators)
        if not self.filled_rows():
            self.group_errors.append(_l("Please enter at least one person."))
            valid = False
        if self.has_contact:
            for field, message in ((self.contact_first_name, _l("Please enter the contact's first name.")),
                                   (self.contact_last_name, _l("Please enter the contact's last name.")),
                                   (self.contact_email, _l("Please enter the contact's email address."))):
                if not field.data and not field.errors:
                    field.errors = [*field.errors, message]
                    valid = False
        else:
            for row in self.filled_rows():
                if not row.email.data and not row.email.errors:
                    row.email.errors = [*row.email.errors, _l(
                        "Please enter an email address, or the association contact who passes on the messages.")]
                    valid = False
        return valid

    def row_error(self, filled_index: int, message) -> None:
        """Put a refusal of the service (which counts filled rows only) beside that row's email."""
        rows = self.filled_rows()
        if 0 <= filled_index < len(rows):
            rows[filled_index].email.errors = [*rows[filled_index].email.errors, message]
        else:
            self.group_errors.append(message)

    def contact_details(self) -> ContactDetails | None:
        if not self.has_contact:
            return None
        return ContactDetails(first_name=self.contact_first_name.data, last_name=self.contact_last_name.data,
                              email=self.contact_email.data, phone=self.contact_phone.data or None,
                              preferred_language=self.filled_rows()[0].preferred_language.data)

    def applicants(self) -> list[Applicant]:
        return [row.applicant() for row in self.filled_rows()]


# --- actions on one registration --------------------------------------------------------------

class CancelByOfficeForm(BookingForm):
    note = TextAreaField(_l("Note to the participant (optional)"), filters=[clean_multiline],
                         description=_l("It is put into the cancellation email as you write it."),
                         validators=[Optional(), Length(max=NOTE_MAX_LENGTH, message=MAX_LENGTH)])
    submit = SubmitField(_l("Cancel this registration"))


class PromoteForm(BookingForm):
    submit = SubmitField(_l("Give a place"))


class ResendForm(BookingForm):
    key = request_key_field()
    submit = SubmitField(_l("Send the emails again"))


# --- writing to participants ------------------------------------------------------------------

class MessageForm(BookingForm):
    audience = RadioField(_l("To"), choices=[
        SelectChoice("confirmed", _l("Everyone with a place")),
        SelectChoice("waitlisted", _l("Everyone on the waiting list")),
        SelectChoice("both", _l("Both"))], default="confirmed",
        validators=[DataRequired(_l("Please choose who gets the message."))])
    subject = StringField(_l("Subject"), filters=[strip],
                          validators=[DataRequired(_l("Please enter a subject.")),
                                      Length(max=SUBJECT_MAX_LENGTH, message=MAX_LENGTH)])
    body = TextAreaField(_l("Message"), filters=[clean_multiline],
                         description=_l("Each person gets it with a greeting and their personal link, "
                                        "in their language; your text is sent as you write it."),
                         validators=[DataRequired(_l("Please write the message.")),
                                     Length(max=BODY_MAX_LENGTH, message=MAX_LENGTH)])
    key = request_key_field()
    expected = HiddenField(filters=[strip])  # the number of recipients the office confirmed
    preview = SubmitField(_l("Continue"))
    send = SubmitField(_l("Send"))

    def validate_audience(self, field):
        if field.data not in AUDIENCES:
            raise ValidationError(_l("Please choose who gets the message."))

    def audience_label(self) -> str:
        return next((str(choice.label) for choice in self.audience.choices if choice.value == self.audience.data), "")

    @property
    def expected_count(self) -> int | None:
        return int(self.expected.data) if (self.expected.data or "").isascii() and \
            (self.expected.data or "").isdigit() and len(self.expected.data) < 7 else None
