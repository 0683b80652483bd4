"""The group form (an association contact registers members) and the "lost your link?" form.

The group form has one row per person (a FieldList); "add another person" and "remove" are
submit buttons that send the form back for one row more or less, so they work without JavaScript
and keep what was typed. Rows left completely empty are ignored.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..baseform import BookingForm
from ..forms import (
    MAX_LENGTH,
    PHONE_INVALID,
    PHONE_PATTERN,
    AssociationChoice,
    ParticipantFacingForm,
    TypoGuard,
    association_choice_fields,
    checked_addresses_field,
    email_field,
    name_field,
    strip,
)
from ..inputs import FitsColumn, NotAWebAddress, parse_id
from ..languages import interface_language_choices, is_interface_language
from ..registrations.services import Applicant
from .models import Association, association_name_key
from .services import ContactDetails


class ParticipantForm(Form):
    """One person of the group. A row with no name and no email counts as empty and is ignored."""

    first_name = name_field(_l("First name"), None, required=False)
    last_name = name_field(_l("Last name"), None, required=False)
    email = email_field(_l("Email address (optional)"),
                        description=_l("Without one, we send this person's messages to you."))
    preferred_language = SelectField(_l("Preferred language"), choices=interface_language_choices, validate_choice=False)

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
        if not is_interface_language(self.preferred_language.data):
            self.preferred_language.errors = [*self.preferred_language.errors, _l("Please choose a language.")]
            valid = False
        return valid

    def applicant(self) -> Applicant:
        return Applicant(first_name=self.first_name.data, last_name=self.last_name.data,
                         email=self.email.data or None, preferred_language=self.preferred_language.data)


class RowList(FieldList):
    """The group's rows. Only plain row numbers count (ASCII digits, not "²" or "١", nothing huge),
    and at most `max_entries` rows are built: a form with thousands of rows costs nothing."""

    def _extract_indices(self, prefix, formdata):
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = key[offset:].split(self._field_separator, 1)[0]
                if index.isascii() and index.isdigit() and len(index) <= 3:
                    yield int(index)


def _row_indices(prefix: str, formdata) -> set[str]:
    offset = len(prefix) + 1
    return {key[offset:].split("-", 1)[0] for key in formdata if key.startswith(prefix + "-")}


class GroupForm(TypoGuard, AssociationChoice, ParticipantFacingForm):
    """The contact (unless they come from their own link), their association, and the people."""

    contact_first_name = name_field(_l("Your first name"), _l("Please enter your first name."))
    contact_last_name = name_field(_l("Your last name"), _l("Please enter your last name."))
    contact_email = email_field(
        _l("Your email address"), _l("Please enter your email address."),
        description=_l("We send you the overview and your personal link to this address."))
    contact_phone = StringField(
        _l("Your phone (optional)"), filters=[strip],
        validators=[Optional(), Length(max=40, message=MAX_LENGTH),
                    Regexp(PHONE_PATTERN, message=PHONE_INVALID)])
    association_id, new_association = association_choice_fields()
    participants = RowList(FormField(ParticipantForm), min_entries=1)
    checked_addresses = checked_addresses_field()
    consent = BooleanField(
        _l("The people listed agree that their details are stored to organise this seminar, "
           "as described in the privacy notice."),
        validators=[DataRequired(_l("Please confirm this, otherwise we cannot register these people."))])
    submit = SubmitField(_l("Register these people"))
    add_row = SubmitField(_l("Add another person"))

    def __init__(self, *args, associations, max_people: int, language: str,
                 known_contact: bool = False, **kwargs):
        self.max_people = max_people
        super().__init__(*args, **kwargs)
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

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        # Count the rows sent before building any: one row beyond the maximum is enough to say
        # "too many", and the rest are never built or shown again.
        formdata = self.meta.wrap_formdata(self, formdata)
        self.rows_sent = len(_row_indices(self.participants.name, formdata)) if formdata else 0
        self.participants.max_entries = self.max_people + 1
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)

    # --- rows ----------------------------------------------------------------------------------

    @property
    def too_many_rows(self) -> bool:
        return self.rows_sent > self.max_people or len(self.participants.entries) > self.max_people

    def drop_extra_rows(self) -> None:
        while len(self.participants.entries) > self.max_people:
            self.participants.entries.pop()

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
            self.drop_extra_rows()
            return False
        valid = super().validate(extra_validators)
        if not self.filled_rows():
            self.group_errors.append(_l("Please enter at least one person."))
            valid = False
        emails = [row.email for row in self.filled_rows()]
        if not self.known_contact:
            emails.insert(0, self.contact_email)
        return self.guard_typos(emails) and valid

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


class ContactCancelForm(BookingForm):
    submit = SubmitField(_l("Yes, cancel this registration"))


# --- the office's review (coordinator workspace) --------------------------------------------------

class AssociationAcceptForm(BookingForm):
    submit = SubmitField(_l("Accept into the public list"))


class AssociationRenameForm(BookingForm):
    name = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(_l("Please enter the name.")), Length(max=200, message=MAX_LENGTH), NotAWebAddress(),
        FitsColumn(200, association_name_key, _l("This name is too long for our list. Please shorten it."))])
    district = StringField(_l("District (optional)"), filters=[strip],
                           validators=[Optional(), Length(max=120, message=MAX_LENGTH)])
    submit = SubmitField(_l("Save name and district"))


class AssociationMergeForm(BookingForm):
    """Merge the association shown into the one chosen; `into` lists every other association."""

    into = SelectField(_l("Merge into"), validate_choice=False, filters=[strip],
                       description=_l("The association that is kept. Its name stays; this one disappears."))
    confirm = BooleanField(_l("Move the registrations and contacts of this association to the one chosen, "
                              "and delete this one. This cannot be undone."),
                           validators=[DataRequired(_l("Please confirm the merge."))])
    submit = SubmitField(_l("Merge"))

    def __init__(self, *args, targets: list[Association], **kwargs):
        super().__init__(*args, **kwargs)
        self.into.choices = [SelectChoice("", _l("– choose –"))] + [
            SelectChoice(str(a.id), a.name if a.is_accepted else _l("%(name)s (waiting for review)", name=a.name))
            for a in targets]
        self.target_ids = {a.id: a for a in targets}
        self.target: Association | None = None

    def validate_into(self, field):
        association_id = parse_id(field.data) if field.data else None
        if association_id is None or association_id not in self.target_ids:
            raise ValidationError(_l("Please choose the association to keep."))
        self.target = self.target_ids[association_id]
