"""The participant's confirmation that their registration and data are to be deleted."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SubmitField

from ..baseform import BookingForm


class DeleteDataForm(BookingForm):
    submit = SubmitField(_l("Yes, delete my registration and my data"))
