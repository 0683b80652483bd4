"""Log in, log out, change one's password: the door of the coordinator workspace (/admin).

The pages a one-time link opens (an invitation, a password reset) and "forgot your password?"
are here too: unlike the `admin` blueprint, this one lets visitors in who are not logged in.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import ratelimits
from ..database import utcnow
from ..extensions import db, login_manager
from . import services
from .forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, SetPasswordForm
from .links import LinkPurpose, LinkState, check_link_token

log = logging.getLogger(__name__)

bp = Blueprint("accounts", __name__, url_prefix="/admin")

SEEN_KEY = "admin_seen_at"


def safe_next(target: str | None) -> str | None:
    """A path on this site to return to after login, or None: never another host, scheme or '//'."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(char) < 32 or char == "\\" for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@login_manager.user_loader
def _load_user(identity: str):
    return services.load_user(identity)


@login_manager.unauthorized_handler
def _unauthorized():
    flash(_("Please log in to continue."), "info")
    path = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("accounts.login", next=safe_next(path)))


def check_idle_timeout():
    """Called before every workspace request: a session idle for BOOKING_ADMIN_IDLE_MINUTES ends."""
    if not current_user.is_authenticated:
        return None
    now = int(utcnow().timestamp())
    seen = session.get(SEEN_KEY)
    idle = timedelta(minutes=current_app.config["BOOKING_ADMIN_IDLE_MINUTES"])
    if isinstance(seen, int) and now - seen > idle.total_seconds():
        log.info("user %s logged out after being idle", current_user.id)
        logout_user()
        session.pop(SEEN_KEY, None)
        flash(_("For your security you were logged out after %(minutes)d minutes without activity. "
                "Please log in again.", minutes=int(idle.total_seconds() // 60)), "info")
        path = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("accounts.login", next=safe_next(path)))
    session[SEEN_KEY] = now
    return None



def fresh_session() -> None:
    """Start a new session at a login or logout (no state carries over from before), keeping only
    the language the visitor chose: the pages after it stay in that language."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language

@bp.route("/login", methods=["GET", "POST"])
@ratelimits.login
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("admin.dashboard"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            fresh_session()  # nothing from before the login carries over, but the language
            login_user(user)
            session[SEEN_KEY] = int(utcnow().timestamp())
            log.info("user %s logged in", user.id)
            return redirect(safe_next(form.next.data) or url_for("admin.dashboard"))
        # the same words whether the address is unknown, the password wrong or the account inactive
        form.password.errors = [_("The email address or the password is not right.")]
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        log.info("user %s logged out", current_user.id)
    logout_user()
    fresh_session()
    flash(_("You are logged out."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors = [_("This is not your current password.")]
        else:
            services.change_password(current_user, form.new_password.data)
            db.session.commit()
            login_user(current_user)  # this session goes on with the new identity
            flash(_("Your password has been changed. Other devices are logged out."), "success")
            return redirect(url_for("admin.dashboard"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/password.html", form=form), status


@bp.route("/password/forgot", methods=["GET", "POST"])
@ratelimits.password_reset
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        # the same answer whether there is an account or not
        flash(_("If there is an account with this address, we have sent it a link to set a new password. "
                "The link works for 2 hours. Please also look in your spam folder."), "success")
        return redirect(url_for("accounts.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/forgot.html", form=form), status


def _link_page(purpose: LinkPurpose, token: str):
    """The page an invitation or a reset link opens: set a password, then logged in."""
    checked = check_link_token(purpose, token, utcnow())
    if checked.state != LinkState.VALID:
        # 410 for a genuine link past its time, 404 for one that is unknown, used or withdrawn
        status = 410 if checked.state == LinkState.EXPIRED else 404
        return _no_store(render_template("accounts/link_unusable.html", purpose=purpose, state=checked.state),
                         status)
    user = checked.user
    form = SetPasswordForm()
    if form.validate_on_submit():
        services.set_password_from_link(user, form.new_password.data, purpose=purpose)
        db.session.commit()
        fresh_session()
        login_user(user)
        session[SEEN_KEY] = int(utcnow().timestamp())
        log.info("user %s set a password through a %s link", user.id, purpose.value)
        flash(_("Welcome, %(name)s. Your password is saved and you are logged in.", name=user.display_name)
              if purpose == LinkPurpose.INVITATION else
              _("Your new password is saved and you are logged in. Other devices are logged out."), "success")
        return redirect(url_for("admin.dashboard"))
    status = 422 if request.method == "POST" else 200
    return _no_store(render_template("accounts/set_password.html", form=form, user=user, purpose=purpose), status)


def _no_store(body: str, status: int):
    """A page opened by a one-time link: never kept in a cache or the browser's history store."""
    response = current_app.make_response((body, status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _link_page(LinkPurpose.PASSWORD_RESET, token)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _link_page(LinkPurpose.INVITATION, token)
