"""The report's period, chosen in the query string (a GET form that changes nothing)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField

from ..baseform import BookingForm
from .services import MAX_YEARS, Period, longest_end

DATE_MESSAGE = _l("Please enter a date (day, month and year).")


class ReportDateField(DateField):
    """A date, or a message in words the office understands (WTForms' own is in English only)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(DATE_MESSAGE) from None


class PeriodForm(BookingForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    start = ReportDateField(_l("From"), name="from")
    end = ReportDateField(_l("To (including)"), name="to")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in (self.start, self.end):
            if field.data is None and not field.errors:
                field.errors = [DATE_MESSAGE]
                valid = False
        if not valid:
            return False
        if self.end.data < self.start.data:
            self.end.errors = [_l("The end of the period cannot be before its start.")]
            return False
        if self.end.data > longest_end(self.start.data):
            self.end.errors = [_l("A report covers at most %(years)d years: please choose a shorter period.",
                                  years=MAX_YEARS)]
            return False
        return True

    @property
    def period(self) -> Period:
        return Period(self.start.data, self.end.data)
