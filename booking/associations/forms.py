"""The group form (an association contact registers members) and the "lost your link?" form.

The group form has one row per person (a FieldList); "add another person" and "remove" are
submit buttons that send the form back for one row more or less, so they work without JavaScript
and keep what was typed. Rows left completely empty are ignored.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from ..forms import (
    EMAIL_INVALID,
    MAX_LENGTH,
    PHONE_INVALID,
    PHONE_PATTERN,
    AssociationChoice,
    ParticipantFacingForm,
    association_choice_fields,
    strip,
)
from ..languages import INTERFACE_LANGUAGES
from ..registrations.services import Applicant
from .models import Association
from .services import ContactDetails
LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in INTERFACE_LANGUAGES.items()]


class ParticipantForm(Form):
    """One person of the group. A row with no name and no email counts as empty and is ignored."""

    first_name = StringField(_l("First name"), filters=[strip],
                             validators=[Length(max=100, message=MAX_LENGTH)])
    last_name = StringField(_l("Last name"), filters=[strip],
                            validators=[Length(max=100, message=MAX_LENGTH)])
    email = StringField(_l("Email address (optional)"), filters=[strip],
                        description=_l("Without one, we send this person's messages to you."),
                        validators=[Optional(), Length(max=254, message=MAX_LENGTH), Email(EMAIL_INVALID)])
    preferred_language = SelectField(_l("Preferred language"), choices=LANGUAGE_CHOICES, validate_choice=False)

    @property
    def is_empty(self) -> bool:
        return not (self.first_name.data or self.last_name.data or self.email.data)

    def validate(self, extra_validators=None) -> bool:
        if self.is_empty:
            return True
        valid = super().validate(extra_validators)
        if not self.first_name.data:
            self.first_name.errors = [*self.first_name.errors, _l("Please enter the first name.")]
            valid = False
        if not self.last_name.data:
            self.last_name.errors = [*self.last_name.errors, _l("Please enter the last name.")]
            valid = False
        if self.preferred_language.data not in INTERFACE_LANGUAGES:
            self.preferred_language.errors = [*self.preferred_language.errors, _l("Please choose a language.")]
            valid = False
        return valid

    def applicant(self) -> Applicant:
        return Applicant(first_name=self.first_name.data, last_name=self.last_name.data,
                         email=self.email.data or None, preferred_language=self.preferred_language.data)


class GroupForm(AssociationChoice, ParticipantFacingForm):
    """The contact (unless they come from their own link), their association, and the people."""

    contact_first_name = StringField(
        _l("Your first name"), filters=[strip],
        validators=[DataRequired(_l("Please enter your first name.")), Length(max=100, message=MAX_LENGTH)])
    contact_last_name = StringField(
        _l("Your last name"), filters=[strip],
        validators=[DataRequired(_l("Please enter your last name.")), Length(max=100, message=MAX_LENGTH)])
    contact_email = StringField(
        _l("Your email address"), filters=[strip],
        description=_l("We send you the overview and your personal link to this address."),
        validators=[DataRequired(_l("Please enter your email address.")),
                    Length(max=254, message=MAX_LENGTH), Email(EMAIL_INVALID)])
    contact_phone = StringField(
        _l("Your phone (optional)"), filters=[strip],
        validators=[Optional(), Length(max=40, message=MAX_LENGTH),
                    Regexp(PHONE_PATTERN, message=PHONE_INVALID)])
    association_id, new_association = association_choice_fields()
    participants = FieldList(FormField(ParticipantForm), min_entries=1)
    consent = BooleanField(
        _l("The people listed agree that their details are stored to organise this seminar, "
           "as described in the privacy notice."),
        validators=[DataRequired(_l("Please confirm this, otherwise we cannot register these people."))])
    submit = SubmitField(_l("Register these people"))
    add_row = SubmitField(_l("Add another person"))

    def __init__(self, *args, associations: list[Association], max_people: int, language: str,
                 known_contact: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_people = max_people
        self.known_contact = known_contact
        self.group_errors: list[str] = []
        self.set_association_choices(associations)
        for row in self.participants:
            if not row.preferred_language.data:
                row.preferred_language.data = language
        self.language = language
        if known_contact:
            # the contact came through their own link: the form does not ask who they are
            for name in ("contact_first_name", "contact_last_name", "contact_email", "contact_phone"):
                delattr(self, name)

    # --- rows ----------------------------------------------------------------------------------

    @property
    def too_many_rows(self) -> bool:
        return len(self.participants.entries) > self.max_people

    def add_empty_row(self) -> bool:
        """One row more, if the maximum allows it; False (with a message) if not."""
        if len(self.participants.entries) >= self.max_people:
            self.group_errors.append(self.too_many_message())
            return False
        self.participants.append_entry()
        self.participants.entries[-1].preferred_language.data = self.language
        return True

    def remove_row(self, index_text: str) -> None:
        """Remove the row whose index the remove button carried; the last row stays."""
        entries = self.participants.entries
        for position, row in enumerate(entries):
            if row.name == f"participants-{index_text}" and len(entries) > 1:
                del entries[position]
                return

    def too_many_message(self) -> str:
        return _l("At most %(max)d people can be registered at once. "
                  "For more, send this form and then register the others.", max=self.max_people)

    def filled_rows(self) -> list[ParticipantForm]:
        return [row.form for row in self.participants if not row.form.is_empty]

    # --- validation ----------------------------------------------------------------------------

    def validate(self, extra_validators=None) -> bool:
        if self.too_many_rows:
            # a tampered form: do not even look at the rows
            self.group_errors.append(self.too_many_message())
            return False
        valid = super().validate(extra_validators)
        if not self.filled_rows():
            self.group_errors.append(_l("Please enter at least one person."))
            valid = False
        return valid

    def row_error(self, filled_index: int, message) -> None:
        """Put a refusal of the service (which counts filled rows only) beside that row's email."""
        row = self.filled_rows()[filled_index]
        row.email.errors = [*row.email.errors, message]

    # --- results -------------------------------------------------------------------------------

    def contact_details(self) -> ContactDetails:
        return ContactDetails(first_name=self.contact_first_name.data, last_name=self.contact_last_name.data,
                              email=self.contact_email.data, phone=self.contact_phone.data or None,
                              preferred_language=self.language)

    def applicants(self) -> list[Applicant]:
        return [row.applicant() for row in self.filled_rows()]


class ContactCancelForm(FlaskForm):
    submit = SubmitField(_l("Yes, cancel this registration"))
