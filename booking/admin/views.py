"""The workspace's pages. Every route here needs a logged-in staff user (see `_require_login`)."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..accounts.views import check_idle_timeout
from ..database import utcnow
from ..registrations.models import STATUS_LABELS
from . import access, services

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _require_login():
    """No page of the workspace answers anyone who is not logged in; idle sessions end."""
    return check_idle_timeout()


@bp.app_context_processor
def workspace_context():
    return {"access": access, "status_labels": STATUS_LABELS}


@bp.get("/")
def dashboard():
    return render_template("admin/dashboard.html", overview=services.dashboard(current_user, utcnow()))


from . import users as _users  # noqa: E402,F401  (its routes join this blueprint)
