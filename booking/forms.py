"""Form pieces every participant-facing form shares: friendly CSRF expiry, the association choice,
the checks every name and address field gets, and the "did you mean ...?" guard on addresses."""
from __future__ import annotations

import logging

from flask import request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .addresses import EMAIL_INVALID, DeliverableEmail, suggest_address, typo_message
from .associations.models import Association, association_name_key
from .associations.services import find_or_create_association, get_accepted_association
from .inputs import FitsColumn, NotAWebAddress, PersonName, clean_line, parse_id
from .baseform import BookingForm

__all__ = ["EMAIL_INVALID"]

log = logging.getLogger(__name__)

MAX_LENGTH = _l("Please use at most %(max)d characters.")
PHONE_PATTERN = r"^\+?[0-9 ()/.\-]+$"
PHONE_INVALID = _l("Please enter a phone number with digits only (and + ( ) / - if needed).")
HONEYPOT_ANSWER = _l("Thank you. Please check your email.")  # what a dropped bot submission is told
FORM_EXPIRED_MESSAGE = _l(
    "For your security this form has expired. Please check your entries and send the form again."
)

# Every one-line text field is cleaned first (NFC, no control characters, spaces collapsed),
# so the validators check what will be stored.
strip = clean_line


def name_field(label, required_message, *, required: bool = True) -> StringField:
    """A person's first or last name (column: 100 characters)."""
    return StringField(label, filters=[clean_line], validators=[
        DataRequired(required_message) if required else Optional(),
        Length(max=100, message=MAX_LENGTH), PersonName()])


def email_field(label, required_message=None, *, description=None) -> StringField:
    """An address we can deliver to, stored in its normalised form (booking.addresses)."""
    return StringField(label, filters=[clean_line], description=description, validators=[
        DataRequired(required_message) if required_message else Optional(),
        Length(max=254, message=MAX_LENGTH), DeliverableEmail()])


class ParticipantFacingForm(BookingForm):
    """A form whose CSRF failure is told in words participants understand, beside the form.

    It also carries the honeypot: a text field people never see (CSS class `trap`, skipped by Tab,
    labelled for the screen readers that still reach it) that bots filling every field fill too.
    """

    website = StringField(_l("Leave this field empty"), filters=[strip])

    def honeypot_filled(self) -> bool:
        """True, and counted in the log, for a submission to drop without a hint (see HONEYPOT_ANSWER)."""
        if not self.website.data:
            return False
        log.info("honeypot filled: submission to %s dropped", request.endpoint)
        return True

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        csrf_field = getattr(self, "csrf_token", None)
        if csrf_field is not None and csrf_field.errors:
            # Flask-WTF's own text ("The CSRF token is missing.") means nothing to participants
            csrf_field.errors = [FORM_EXPIRED_MESSAGE]
        return valid


class TypoGuard:
    """Mixin: an address one slip away from a common domain (gmial.com, gmail.con, wbe.de) is
    questioned once, before anything is stored; sent again unchanged, it is taken as typed.

    The form declares `checked_addresses = HiddenField()` and renders it; it carries the
    addresses already questioned (changing it only skips a hint, so it needs no protection).
    """

    def guard_typos(self, email_fields) -> bool:
        already = set((self.checked_addresses.data or "").split())
        questioned = []
        valid = True
        for field in email_fields:
            if not field.data or field.errors:
                continue
            suggestion = suggest_address(field.data)
            if suggestion is None:
                continue
            questioned.append(field.data)
            if field.data not in already:
                field.errors = [*field.errors, typo_message(suggestion)]
                valid = False
        self.checked_addresses.data = " ".join(questioned)
        return valid


def checked_addresses_field() -> HiddenField:
    return HiddenField(filters=[clean_line], validators=[Length(max=4000)])


def association_choice_fields() -> tuple[SelectField, StringField]:
    """The two fields of AssociationChoice, made where the form lists them (fields keep creation order)."""
    return (
        SelectField(_l("Choose from the list"), validate_choice=False, filters=[clean_line]),
        StringField(_l("Or type its name, if it is not in the list"), filters=[clean_line],
                    validators=[Optional(), Length(max=200, message=MAX_LENGTH), NotAWebAddress(),
                                FitsColumn(200, association_name_key,
                                           _l("This name is too long for our list. Please shorten it."))]),
    )


# Up to this many accepted associations the form offers a select as well as the typed name; with
# more, a select is a long scroll on a phone (a wheel on iOS), so only the typed name is offered,
# with the accepted names as suggestions (a native <datalist>: no script, and a browser without
# it still has a plain text field whose name is matched by key).
ASSOCIATION_SELECT_LIMIT = 25


class AssociationChoice:
    """Mixin: choose an accepted association, or type its name (same name in other case/spaces = same one).

    The public list holds accepted associations only. A typed name is matched by key against every
    association: an accepted one is taken as if chosen, a pending one (typed before, not yet
    reviewed) is taken too, and a new name becomes a pending association that only the office sees.
    The form declares `association_id, new_association = association_choice_fields()`; the
    templates render `association_names` as the datalist of the typed field.
    """

    def set_association_choices(self, associations) -> None:
        """`associations`: the accepted ones, anything with `.id` and `.name` (the public forms pass the
        rows of booking.associations.services.accepted_association_choices), or a function giving
        them, called only when something needs the list: rendering the form, or the message for
        both fields left empty. A valid POST needs neither (an id chosen is checked by itself)."""
        self._associations = associations
        self.association_id.choices = lambda: [SelectChoice("", _l("– not in the list –"))] + [
            SelectChoice(str(a.id), a.name) for a in self.accepted_associations
        ]
        typed_label = self.new_association.label.text
        self.new_association.label.text = LazyString(
            lambda: str(typed_label if self.offers_select else _l("Name of your association")))
        self.chosen_association: Association | None = None

    @property
    def accepted_associations(self) -> list:
        if callable(self._associations):
            self._associations = self._associations()
        return self._associations

    @property
    def association_names(self) -> list[str]:
        return [a.name for a in self.accepted_associations]

    @property
    def offers_select(self) -> bool:
        return len(self.accepted_associations) <= ASSOCIATION_SELECT_LIMIT

    @property
    def shows_select(self) -> bool:
        """The select is rendered when the list is short, or to show what was sent with it."""
        return self.offers_select or bool(self.association_id.data) or bool(self.association_id.errors)

    def validate_association_id(self, field):
        if not field.data:
            if not self.new_association.data:
                raise ValidationError(_l("Please choose your association from the list or type its name.")
                                      if self.offers_select else _l("Please type the name of your association."))
            return
        association_id = parse_id(field.data)
        association = get_accepted_association(association_id) if association_id is not None else None
        if association is None:
            raise ValidationError(_l("Please choose your association from the list."))
        self.chosen_association = association

    def validate_new_association(self, field):
        if not field.data:
            return
        chosen = self.chosen_association
        if chosen is not None and chosen.name_key != association_name_key(field.data):
            raise ValidationError(_l(
                "You chose an association from the list and typed another name. Please keep only one."
            ))

    def association(self) -> Association:
        """The chosen association, or the one with the typed name (a new name: pending); after validate()."""
        if self.chosen_association is not None:
            return self.chosen_association
        return find_or_create_association(self.new_association.data)
