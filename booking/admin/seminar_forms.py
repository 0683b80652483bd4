"""The workspace's seminar forms: one page for a seminar and its sessions, and the small ones around it.

Session rows are a FieldList: "add another session" and "remove" are submit buttons that send
the form back with a row more or less, so the page works without JavaScript and keeps what was
typed (as the public group form does). Dates and times are entered in BOOKING_TIMEZONE.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..associations.forms import RowList
from ..formatting import local_zone, to_local
from ..forms import MAX_LENGTH
from ..inputs import clean_line, clean_multiline, parse_id
from ..languages import INSTRUCTION_LANGUAGES
from ..seminars.editing import MAX_DUPLICATE_WEEKS, SeminarDetails, SessionPlan
from ..seminars.schedule_warnings import PlannedSession
from ..baseform import BookingForm

MAX_SESSIONS = 60
NUMBER_MESSAGE = _l("Please enter a whole number.")
DATE_MESSAGE = _l("Please enter a date.")
TIME_MESSAGE = _l("Please enter a time (hours and minutes).")


class WholeNumberField(IntegerField):
    """An integer field that says what it wants in words the office understands."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(NUMBER_MESSAGE) from None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SessionRowForm(Form):
    """One session. A row with no date and no times is empty and ignored."""

    session_id = HiddenField(filters=[clean_line])
    day = DateField(_l("Date"), validators=[Optional()])
    starts = TimeField(_l("From"), validators=[Optional()])
    ends = TimeField(_l("Until"), validators=[Optional()])
    venue_name = StringField(_l("Place, if not the seminar's"), filters=[clean_line],
                             validators=[Length(max=200, message=MAX_LENGTH)])
    venue_address = StringField(_l("Address, if not the seminar's"), filters=[clean_line],
                                validators=[Length(max=300, message=MAX_LENGTH)])

    @property
    def is_empty(self) -> bool:
        return not (self.day.raw_data and self.day.raw_data[0]) and not (self.starts.raw_data and self.starts.raw_data[0]) \
            and not (self.ends.raw_data and self.ends.raw_data[0])

    def validate(self, extra_validators=None) -> bool:
        if self.is_empty:
            return True
        valid = super().validate(extra_validators)
        for field, message in ((self.day, DATE_MESSAGE), (self.starts, TIME_MESSAGE), (self.ends, TIME_MESSAGE)):
            if field.data is None:
                field.errors = [message]
                valid = False
        return valid

    def plan(self) -> SessionPlan:
        zone = local_zone()
        return SessionPlan(
            starts_at=datetime.combine(self.day.data, self.starts.data, tzinfo=zone),
            ends_at=datetime.combine(self.day.data, self.ends.data, tzinfo=zone),
            venue_name=self.venue_name.data or "", venue_address=self.venue_address.data or "",
            id=parse_id(self.session_id.data or ""),
        )


class SeminarForm(BookingForm):
    title = StringField(_l("Title"), filters=[clean_line], validators=[
        DataRequired(_l("Please enter a title.")), Length(max=200, message=MAX_LENGTH)])
    topic_id = SelectField(_l("Topic"), validate_choice=False, filters=[clean_line])
    summary = StringField(_l("Summary (one or two sentences for the catalogue)"), filters=[clean_line],
                          validators=[Length(max=500, message=MAX_LENGTH)])
    description = TextAreaField(_l("Description"), filters=[clean_multiline],
                                validators=[Length(max=10000, message=MAX_LENGTH)])
    languages = MultiCheckboxField(_l("Languages of instruction"),
                                   choices=[SelectChoice(code, name) for code, name in INSTRUCTION_LANGUAGES.items()],
                                   validate_choice=False)
    interpreting_available = BooleanField(
        _l("Interpreting can be arranged"),
        description=_l("The seminar page then tells participants they can ask for interpreting when they register."))
    trainer_user_id = SelectField(_l("Trainer with an account"), validate_choice=False, filters=[clean_line])
    trainer = StringField(_l("Trainer's name as shown in the catalogue"), filters=[clean_line],
                          description=_l("For an outside trainer without an account, type the name here. "
                                         "Left empty, the account's name is shown."),
                          validators=[Length(max=200, message=MAX_LENGTH)])
    venue_name = StringField(_l("Venue"), filters=[clean_line], validators=[Length(max=200, message=MAX_LENGTH)])
    venue_address = StringField(_l("Venue address"), filters=[clean_line],
                                validators=[Length(max=300, message=MAX_LENGTH)])
    online_url = StringField(_l("Online meeting link (optional)"), filters=[clean_line],
                             description=_l("Participants get it with their confirmation, never in the catalogue."),
                             validators=[Optional(), Length(max=500, message=MAX_LENGTH),
                                         URL(require_tld=False, message=_l("Please enter a web address "
                                                                           "beginning with https://."))])
    capacity = WholeNumberField(_l("Places"), validators=[InputRequired(NUMBER_MESSAGE),
                                                      NumberRange(max=10000, message=_l("Please enter at most 10000."))])
    max_per_association = WholeNumberField(
        _l("Maximum per association (optional)"), validators=[Optional(), NumberRange(max=10000,
                                                                   message=_l("Please enter at most 10000."))],
        description=_l("Further members of an association wait on the waiting list."))
    registration_deadline = DateTimeLocalField(_l("Registration deadline (optional)"), format="%Y-%m-%dT%H:%M",
                                               validators=[Optional()])
    sessions = RowList(FormField(SessionRowForm), min_entries=1, max_entries=MAX_SESSIONS)
    version = HiddenField(filters=[clean_line])
    confirmation = HiddenField(filters=[clean_line])
    save = SubmitField(_l("Save"))
    add_row = SubmitField(_l("Add another session"))
    confirm = SubmitField(_l("Save and tell the participants"))

    def __init__(self, *args, topics, trainers, **kwargs):
        super().__init__(*args, **kwargs)
        self.topic_id.choices = [SelectChoice("", _l("– choose a topic –"))] + [
            SelectChoice(str(t.id), t.name) for t in topics]
        self.trainer_user_id.choices = [SelectChoice("", _l("– outside trainer, no account –"))] + [
            SelectChoice(str(u.id), u.display_name) for u in trainers]
        self.trainers = {u.id: u for u in trainers}
        self.form_errors_extra: list[str] = []

    # --- rows ------------------------------------------------------------------------------------

    def add_empty_row(self) -> None:
        if len(self.sessions.entries) < MAX_SESSIONS:
            self.sessions.append_entry()

    def remove_row(self, index_text: str) -> bool:
        """Remove the (new or draft) row whose index the button carried; the last row stays."""
        entries = self.sessions.entries
        for position, row in enumerate(entries):
            if row.name == f"sessions-{index_text}" and len(entries) > 1:
                del entries[position]
                return True
        return False

    def filled_rows(self):
        return [row.form for row in self.sessions if not row.form.is_empty]

    # --- checks and results ----------------------------------------------------------------------

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if parse_id(self.topic_id.data or "") is None:
            self.topic_id.errors = [*self.topic_id.errors, _l("Please choose a topic.")]
            valid = False
        if self.trainer_user_id.data and parse_id(self.trainer_user_id.data) not in self.trainers:
            self.trainer_user_id.errors = [*self.trainer_user_id.errors, _l("Please choose a trainer from the list.")]
            valid = False
        if not self.languages.data:
            self.languages.errors = [*self.languages.errors, _l("Please choose at least one language.")]
            valid = False
        if self.capacity.data is not None and self.capacity.data < 1 and not self.capacity.errors:
            self.capacity.errors = [_l("Please enter a capacity of at least 1.")]
            valid = False
        if self.max_per_association.data is not None and self.max_per_association.data < 1 \
                and not self.max_per_association.errors:
            self.max_per_association.errors = [_l("Please enter at least 1, or leave the field empty for no maximum.")]
            valid = False
        return valid

    def details(self) -> SeminarDetails:
        trainer_user_id = parse_id(self.trainer_user_id.data or "")
        trainer = self.trainer.data or ""
        if not trainer and trainer_user_id is not None:
            trainer = self.trainers[trainer_user_id].display_name
        deadline = self.registration_deadline.data
        return SeminarDetails(
            title=self.title.data, topic_id=parse_id(self.topic_id.data), summary=self.summary.data or "",
            description=self.description.data or "", languages=list(dict.fromkeys(self.languages.data)),
            interpreting_available=bool(self.interpreting_available.data),
            trainer=trainer, trainer_user_id=trainer_user_id, venue_name=self.venue_name.data or "",
            venue_address=self.venue_address.data or "", online_url=self.online_url.data or None,
            capacity=self.capacity.data, max_per_association=self.max_per_association.data,
            registration_deadline=deadline.replace(tzinfo=local_zone()) if deadline else None,
        )

    def plans(self) -> list[SessionPlan]:
        return [row.plan() for row in self.filled_rows()]

    def planned_sessions(self) -> list[PlannedSession]:
        """The rows with a date and both times as they stand, numbered as the page numbers them
        (for the scheduling warnings; rows still to be corrected are left out)."""
        planned = []
        for number, entry in enumerate(self.sessions.entries, start=1):
            row = entry.form
            if None in (row.day.data, row.starts.data, row.ends.data):
                continue
            plan = row.plan()
            planned.append(PlannedSession(number, plan.starts_at, plan.ends_at, plan.venue_name, plan.venue_address,
                                          session_id=plan.id))
        return planned

    def planned_trainer(self) -> tuple[int | None, str]:
        """The trainer account and name the form names, for the scheduling warnings (before validation)."""
        account = parse_id(self.trainer_user_id.data or "")
        account = account if account in self.trainers else None
        name = self.trainer.data or (self.trainers[account].display_name if account is not None else "")
        return account, name

    def form_version(self) -> int:
        return parse_id(self.version.data or "") or 0

    def fill_from(self, seminar, sessions) -> None:
        """The form for an existing seminar (GET): its values, one row per editable session."""
        self.title.data, self.summary.data, self.description.data = seminar.title, seminar.summary, seminar.description
        self.topic_id.data = str(seminar.topic_id)
        self.languages.data = seminar.language_codes
        self.interpreting_available.data = seminar.interpreting_available
        self.trainer_user_id.data = str(seminar.trainer_user_id or "")
        self.trainer.data = seminar.trainer
        self.venue_name.data, self.venue_address.data = seminar.venue_name, seminar.venue_address
        self.online_url.data = seminar.online_url or ""
        self.capacity.data, self.max_per_association.data = seminar.capacity, seminar.max_per_association
        self.registration_deadline.data = (to_local(seminar.registration_deadline).replace(tzinfo=None)
                                           if seminar.registration_deadline else None)
        self.version.data = str(seminar.version)
        while self.sessions.entries:
            self.sessions.pop_entry()
        for session in sessions:
            self.sessions.append_entry()
            row = self.sessions.entries[-1].form
            start, end = to_local(session.starts_at), to_local(session.ends_at)
            row.session_id.data = str(session.id)
            row.day.data, row.starts.data, row.ends.data = start.date(), start.time(), end.time()
            row.venue_name.data, row.venue_address.data = session.venue_name or "", session.venue_address or ""
        if not sessions:
            self.sessions.append_entry()


class ReasonForm(BookingForm):
    reason = TextAreaField(_l("Reason, told to the participants"), filters=[clean_multiline], validators=[
        DataRequired(_l("Please give a reason: participants are told.")), Length(max=1000, message=MAX_LENGTH)])
    submit = SubmitField(_l("Cancel and tell the participants"))


class DuplicateForm(BookingForm):
    weeks = WholeNumberField(_l("Weeks later"), default=52, validators=[
        InputRequired(NUMBER_MESSAGE),
        NumberRange(min=1, max=MAX_DUPLICATE_WEEKS,
                    message=_l("Please enter a number of weeks between 1 and %(max)d.", max=MAX_DUPLICATE_WEEKS))])
    submit = SubmitField(_l("Create the copy as a draft"))


class ConfirmForm(BookingForm):
    """A button with nothing to fill in (publish, delete): the token is all it needs."""

    submit = SubmitField(_l("Yes"))


class TopicForm(BookingForm):
    name = StringField(_l("Name"), filters=[clean_line], validators=[
        DataRequired(_l("Please enter a name.")), Length(max=120, message=MAX_LENGTH)])
    submit = SubmitField(_l("Save"))

