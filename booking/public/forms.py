"""The participants' forms: the catalogue filters and the registration form.

Maximum lengths follow the model columns, so whatever passes the form fits the database.
"""
from __future__ import annotations

import re
from dataclasses import astuple
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..baseform import BookingForm
from ..formatting import month_name
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
from ..inputs import clean_multiline
from ..languages import INSTRUCTION_LANGUAGES, interface_language_choices, is_interface_language, language_name
from ..registrations.services import Applicant
from ..seminars.models import Topic
from ..seminars.services import CatalogueFilters

NEEDS_MAX_LENGTH = 2000
# ASCII digits only (\d would take other scripts' digits too), and years a calendar can show.
MONTH_PATTERN = re.compile(r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])$")


# --- catalogue filters ------------------------------------------------------------------------

class CatalogueFilterForm(BookingForm):
    """The GET form above the catalogue; values live in the query string.

    An unknown value is not an error the user must fix: it is ignored (the catalogue then shows
    all seminars for that filter) and the reason is shown beside the filter.
    """

    class Meta:
        csrf = False  # a GET form that changes nothing

    topic = SelectField(_l("Topic"), validate_choice=False, filters=[strip])
    language = SelectField(_l("Language"), validate_choice=False, filters=[strip])
    month = SelectField(_l("Month"), validate_choice=False, filters=[strip])

    def __init__(self, formdata, *, topics: list[Topic], months: list[date], languages: list[str]):
        super().__init__(formdata=formdata)
        self.topic_slugs = {topic.slug for topic in topics}
        self.topic.choices = [SelectChoice("", _l("All topics"))] + [
            SelectChoice(t.slug, t.name) for t in topics
        ]
        # only languages some upcoming seminar is taught in; a known one without seminars (an old
        # bookmark) stays selected, and the list is then empty
        if self.language.data in INSTRUCTION_LANGUAGES and self.language.data not in languages:
            languages = [*languages, self.language.data]
        self.language.choices = [SelectChoice("", _l("All languages"))] + [
            SelectChoice(code, language_name(code)) for code in languages
        ]
        month_values = [m.strftime("%Y-%m") for m in months]
        # a well-formed month without seminars (an old bookmark) stays selected; the list is then empty
        if self.month.data and MONTH_PATTERN.match(self.month.data) and self.month.data not in month_values:
            year, month = (int(part) for part in self.month.data.split("-"))
            months = sorted([*months, date(year, month, 1)])
        self.month.choices = [SelectChoice("", _l("All months"))] + [
            SelectChoice(m.strftime("%Y-%m"), month_name(m)) for m in months
        ]

    def validate_topic(self, field):
        if field.data and field.data not in self.topic_slugs:
            raise ValidationError(_l("There is no such topic; seminars of all topics are shown."))

    def validate_language(self, field):
        if field.data and field.data not in INSTRUCTION_LANGUAGES:
            raise ValidationError(_l("There is no such language; seminars in all languages are shown."))

    def validate_month(self, field):
        if field.data and not MONTH_PATTERN.match(field.data):
            raise ValidationError(_l("This is not a month; seminars of all months are shown."))

    def filters(self) -> CatalogueFilters:
        """The valid filters only; call after validate()."""
        def valid(field):
            return (field.data or None) if not field.errors else None

        return CatalogueFilters(topic=valid(self.topic), language=valid(self.language),
                                month=valid(self.month))

    @property
    def active(self) -> bool:
        return any(astuple(self.filters()))

    @property
    def active_count(self) -> int:
        return sum(1 for value in astuple(self.filters()) if value)


# --- registration -----------------------------------------------------------------------------

class RegistrationForm(TypoGuard, AssociationChoice, ParticipantFacingForm):
    first_name = name_field(_l("First name"), _l("Please enter your first name."))
    last_name = name_field(_l("Last name"), _l("Please enter your last name."))
    email = email_field(_l("Email address"), _l("Please enter your email address."))
    checked_addresses = checked_addresses_field()
    phone = StringField(
        _l("Phone (optional)"), filters=[strip],
        validators=[Optional(),
                    Length(max=40, message=MAX_LENGTH),
                    Regexp(PHONE_PATTERN, message=PHONE_INVALID)],
    )
    association_id, new_association = association_choice_fields()
    preferred_language = SelectField(
        _l("Preferred language for messages"),
        choices=interface_language_choices,
        validators=[DataRequired(_l("Please choose a language."))],
    )
    needs = TextAreaField(
        _l("Anything we should arrange for you? (optional)"), filters=[clean_multiline],
        description=_l("For example step-free access, childcare or interpreting."),
        validators=[Optional(),
                    Length(max=NEEDS_MAX_LENGTH, message=MAX_LENGTH)],
    )
    consent = BooleanField(
        _l("I agree that my details are stored to organise this seminar, as described in the privacy notice."),
        validators=[DataRequired(_l("Please agree to the privacy notice, otherwise we cannot register you."))],
    )
    submit = SubmitField(_l("Register"))

    def __init__(self, *args, associations, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_association_choices(associations)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self.guard_typos([self.email]) and valid

    def applicant(self) -> Applicant:
        return Applicant(
            first_name=self.first_name.data,
            last_name=self.last_name.data,
            email=self.email.data,
            phone=self.phone.data or None,
            preferred_language=self.preferred_language.data,
            needs=self.needs.data or None,
        )


class LostLinkForm(ParticipantFacingForm):
    email = email_field(_l("Your email address"), _l("Please enter your email address."),
                        description=_l("The address you registered with."))
    submit = SubmitField(_l("Send me my links"))


class CancelForm(BookingForm):
    submit = SubmitField(_l("Yes, cancel my registration"))


class ReleasePlaceForm(BookingForm):
    """The reminder's "release my place": the cancellation, under the reminder's words."""

    submit = SubmitField(_l("Yes, release my place"))


class ComingForm(BookingForm):
    submit = SubmitField(_l("Yes, I am coming"))


class OfferAnswerForm(BookingForm):
    """The answer to a late place offered: one of the two buttons."""

    accept = SubmitField(_l("Accept the place"))
    decline = SubmitField(_l("Decline: I cannot come"))


# --- the poster's languages ---------------------------------------------------------------------

POSTER_LANGUAGE_UNKNOWN = _l("There is no poster in this language. Please choose one from the list.")


class PosterForm(BookingForm):
    """The GET form above a poster: one language, or two side by side (`second_language`)."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    language = SelectField(_l("Language of the poster"), validate_choice=False, filters=[strip])
    second_language = SelectField(_l("Second language, side by side"), validate_choice=False, filters=[strip])

    def __init__(self, formdata, *, names: dict[str, str], default_language: str):
        """`names`: each language the poster can be in, named in itself; `default_language`: without a choice."""
        super().__init__(formdata=formdata)
        self.default_language = default_language
        choices = [SelectChoice(code, name, render_kw={"lang": code}) for code, name in names.items()]
        self.language.choices = choices
        self.second_language.choices = [SelectChoice("", _l("None"))] + choices
        if not self.language.data:
            self.language.data = default_language

    def validate_language(self, field):
        if not is_interface_language(field.data):
            raise ValidationError(POSTER_LANGUAGE_UNKNOWN)

    def validate_second_language(self, field):
        if field.data and not is_interface_language(field.data):
            raise ValidationError(POSTER_LANGUAGE_UNKNOWN)
        if field.data and field.data == self.language.data:
            raise ValidationError(_l("Please choose a second language that differs from the first, or none."))

    def languages(self) -> list[str]:
        """The poster's languages in order: valid only after `validate()`."""
        return [self.language.data] + ([self.second_language.data] if self.second_language.data else [])
