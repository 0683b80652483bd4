"""Log in and change one's password."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..forms import MAX_LENGTH
from ..inputs import clean_line
from .services import password_problem


class LoginForm(FlaskForm):
    email = StringField(_l("Email address"), filters=[clean_line],
                        validators=[DataRequired(_l("Please enter your email address.")),
                                    Length(max=254, message=MAX_LENGTH)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Please enter your password.")),
                                                         Length(max=200, message=MAX_LENGTH)])
    next = HiddenField(filters=[clean_line], validators=[Length(max=2000)])
    submit = SubmitField(_l("Log in"))


class NewPasswordFields:
    """Mixin: a new password, typed twice."""

    def validate_new_password(self, field):
        if field.data and (problem := password_problem(field.data)):
            raise ValidationError(problem)


class ChangePasswordForm(NewPasswordFields, FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Please enter your current password.")),
                                                 Length(max=200, message=MAX_LENGTH)])
    new_password = PasswordField(_l("New password"), description=_l("At least 10 characters. A few words make a good one."),
                                 validators=[DataRequired(_l("Please enter a new password."))])
    repeat_password = PasswordField(_l("New password again"),
                                    validators=[DataRequired(_l("Please enter the new password again.")),
                                                EqualTo("new_password", _l("The two passwords differ."))])
    submit = SubmitField(_l("Change password"))
