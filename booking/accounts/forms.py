"""Log in, change or reset one's password, accept an invitation; invite staff and change their role."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..forms import MAX_LENGTH, email_field
from ..inputs import NotAWebAddress, clean_line
from .models import ROLE_LABELS, Role
from .services import password_problem
from ..baseform import BookingForm


class LoginForm(BookingForm):
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


class ChangePasswordForm(NewPasswordFields, BookingForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Please enter your current password.")),
                                                 Length(max=200, message=MAX_LENGTH)])
    new_password = PasswordField(_l("New password"), description=_l("At least 10 characters. A few words make a good one."),
                                 validators=[DataRequired(_l("Please enter a new password."))])
    repeat_password = PasswordField(_l("New password again"),
                                    validators=[DataRequired(_l("Please enter the new password again.")),
                                                EqualTo("new_password", _l("The two passwords differ."))])
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(BookingForm):
    email = StringField(_l("Email address"), filters=[clean_line],
                        validators=[DataRequired(_l("Please enter your email address.")),
                                    Length(max=254, message=MAX_LENGTH)])
    submit = SubmitField(_l("Send me a link"))


class SetPasswordForm(NewPasswordFields, BookingForm):
    """The page an invitation or a reset link opens."""
    new_password = PasswordField(_l("New password"), description=_l("At least 10 characters. A few words make a good one."),
                                 validators=[DataRequired(_l("Please enter a new password."))])
    repeat_password = PasswordField(_l("New password again"),
                                    validators=[DataRequired(_l("Please enter the new password again.")),
                                                EqualTo("new_password", _l("The two passwords differ."))])
    submit = SubmitField(_l("Save password and log in"))


def _role_choices():
    return [(role.value, ROLE_LABELS[role]) for role in Role]


class InviteUserForm(BookingForm):
    display_name = StringField(_l("Name"), filters=[clean_line],
                               description=_l("As the workspace and the audit log show it."),
                               validators=[DataRequired(_l("Please enter a name.")),
                                           Length(max=200, message=MAX_LENGTH), NotAWebAddress()])
    email = email_field(_l("Email address"), _l("Please enter an email address."),
                        description=_l("The invitation goes here; it is also the login."))
    role = SelectField(_l("Role"), choices=_role_choices, default=Role.TRAINER.value,
                       description=_l("Coordinators may do everything; trainers see the seminars they are assigned to."),
                       validate_choice=True)
    submit = SubmitField(_l("Send invitation"))


class RoleForm(BookingForm):
    role = SelectField(_l("Role"), choices=_role_choices, validate_choice=True)
    submit = SubmitField(_l("Change role"))


class ConfirmForm(BookingForm):
    """A button that acts (deactivate, reactivate, send the invitation again): only the CSRF token."""
    submit = SubmitField(_l("Confirm"))
