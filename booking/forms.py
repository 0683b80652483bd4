"""Form pieces every participant-facing form shares: friendly CSRF expiry, the association choice."""
from __future__ import annotations

import logging

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from .associations.models import Association, association_name_key
from .associations.services import find_or_create_association, get_association

log = logging.getLogger(__name__)

MAX_LENGTH = _l("Please use at most %(max)d characters.")
EMAIL_INVALID = _l("Please enter a valid email address, for example name@example.org.")
PHONE_PATTERN = r"^\+?[0-9 ()/.\-]+$"
PHONE_INVALID = _l("Please enter a phone number with digits only (and + ( ) / - if needed).")
HONEYPOT_ANSWER = _l("Thank you. Please check your email.")  # what a dropped bot submission is told
FORM_EXPIRED_MESSAGE = _l(
    "For your security this form has expired. Please check your entries and send the form again."
)


def strip(value):
    return value.strip() if isinstance(value, str) else value


class ParticipantFacingForm(FlaskForm):
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


def association_choice_fields() -> tuple[SelectField, StringField]:
    """The two fields of AssociationChoice, made where the form lists them (fields keep creation order)."""
    return (
        SelectField(_l("Choose from the list"), validate_choice=False, filters=[strip]),
        StringField(_l("Or type its name, if it is not in the list"), filters=[strip],
                    validators=[Optional(), Length(max=200, message=MAX_LENGTH)]),
    )


class AssociationChoice:
    """Mixin: choose an existing association, or type a new name (same name in other case/spaces = same one).

    The form declares `association_id, new_association = association_choice_fields()`.
    """

    def set_association_choices(self, associations: list[Association]) -> None:
        self.association_id.choices = [SelectChoice("", _l("– not in the list –"))] + [
            SelectChoice(str(a.id), a.name) for a in associations
        ]
        self.chosen_association: Association | None = None

    def validate_association_id(self, field):
        if not field.data:
            if not self.new_association.data:
                raise ValidationError(_l("Please choose your association from the list or type its name."))
            return
        association = get_association(int(field.data)) if field.data.isdigit() else None
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
        """The chosen association, or the one with the typed name (created if new); after validate()."""
        if self.chosen_association is not None:
            return self.chosen_association
        return find_or_create_association(self.new_association.data)
