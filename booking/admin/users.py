"""The staff list of the workspace (/admin/users): invite people, change their role, deactivate them.

Coordinators only; a trainer gets 403 on every page here before anything is looked up. The rules
(nobody changes their own account, the last active coordinator stays) live in
booking/accounts/services.py; the pages only show what they say.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts import services as accounts
from ..accounts.forms import ConfirmForm, InviteUserForm, RoleForm
from ..accounts.models import ROLE_LABELS, User
from ..addresses import AddressRefused
from ..extensions import db
from .access import can_change_account, coordinator_required
from .views import bp


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _account_page(user: User, *, role_form: RoleForm | None = None, problem: str | None = None, status: int = 200):
    role_form = role_form or RoleForm(role=user.role.value)
    return render_template("admin/users/detail.html", account=user, role_form=role_form, confirm_form=ConfirmForm(),
                           problem=problem, pending=accounts.invitation_pending(user),
                           role_labels=ROLE_LABELS), status


@bp.get("/users")
@coordinator_required
def users():
    staff = accounts.staff_list()
    return render_template("admin/users/list.html", staff=staff, role_labels=ROLE_LABELS,
                           pending={user.id for user in staff if accounts.invitation_pending(user)})


@bp.route("/users/invite", methods=["GET", "POST"])
@coordinator_required
def invite_user():
    form = InviteUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.invite_user(form.email.data, role=form.role.data, display_name=form.display_name.data)
        except (accounts.AccountRefused, AddressRefused) as refused:
            db.session.rollback()
            form.email.errors = [refused.message]
        else:
            db.session.commit()
            flash(_("%(name)s is invited: the email with the link to set a password is on its way "
                    "(valid for 72 hours).", name=user.display_name), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/users/invite.html", form=form), status


@bp.get("/users/<int:user_id>")
@coordinator_required
def user(user_id: int):
    return _account_page(_user_or_404(user_id))


@bp.post("/users/<int:user_id>/role")
@coordinator_required
def change_role(user_id: int):
    user = _user_or_404(user_id)
    if not can_change_account(user):
        abort(403)
    form = RoleForm()
    if not form.validate_on_submit():
        return _account_page(user, role_form=form, status=422)
    try:
        changed = accounts.change_role(user, form.role.data, acting=current_user)
    except accounts.AccountRefused as refused:
        db.session.rollback()
        form.role.errors = [refused.message]
        return _account_page(user, role_form=form, status=409)
    db.session.commit()
    if changed:
        flash(_("%(name)s is now: %(role)s.", name=user.display_name, role=ROLE_LABELS[user.role]), "success")
    return redirect(url_for("admin.user", user_id=user.id))


def _set_active(user_id: int, active: bool):
    user = _user_or_404(user_id)
    if not can_change_account(user):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        return _account_page(user, status=422)
    try:
        changed = accounts.set_active(user, active, acting=current_user)
    except accounts.AccountRefused as refused:
        db.session.rollback()
        return _account_page(user, problem=str(refused.message), status=409)
    db.session.commit()
    if changed:
        flash(_("%(name)s can log in again.", name=user.display_name) if active else
              _("%(name)s is deactivated and logged out everywhere.", name=user.display_name), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/deactivate")
@coordinator_required
def deactivate_user(user_id: int):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
@coordinator_required
def reactivate_user(user_id: int):
    return _set_active(user_id, True)


@bp.post("/users/<int:user_id>/invitation")
@coordinator_required
def resend_invitation(user_id: int):
    user = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        return _account_page(user, status=422)
    try:
        sent = accounts.resend_invitation(user)
    except accounts.AccountRefused as refused:
        db.session.rollback()
        return _account_page(user, problem=str(refused.message), status=409)
    db.session.commit()
    flash(_("A new invitation is on its way to %(name)s (valid for 72 hours).", name=user.display_name) if sent else
          _("An invitation went to %(name)s a moment ago; it is on its way.", name=user.display_name), "success")
    return redirect(url_for("admin.user", user_id=user.id))
