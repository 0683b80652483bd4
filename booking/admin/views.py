"""The workspace's pages. Every route here needs a logged-in staff user (see `_require_login`)."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..accounts.views import check_idle_timeout
from .. import audit
from ..database import utcnow
from ..registrations.models import STATUS_LABELS
from . import access, services

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _require_login():
    """No page of the workspace answers anyone who is not logged in; idle sessions end."""
    return check_idle_timeout()


@bp.after_request
def _private(response):
    """Workspace pages show participants' personal data: never kept in shared caches or history stores."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def workspace_context():
    return {"access": access, "status_labels": STATUS_LABELS,
            "audit_action": audit.action_label, "audit_actor": audit.actor_label}


@bp.get("/")
def dashboard():
    return render_template("admin/dashboard.html", overview=services.dashboard(current_user, utcnow()))


# The seminar pages add their routes to this blueprint (imported last: they import `bp`).
from . import seminars as _seminar_pages  # noqa: E402,F401
# the workspace's other pages add their routes to `bp` when imported
from . import registrations as _registrations  # noqa: E402,F401
from . import associations, emails  # noqa: E402,F401
from . import users as _users  # noqa: E402,F401  (its routes join this blueprint)
from . import sign_in_sheets as _sign_in_sheets  # noqa: E402,F401
from . import attendance as _attendance  # noqa: E402,F401  (the attendance lists join this blueprint)
from . import certificates as _certificates  # noqa: E402,F401
from . import reports as _reports  # noqa: E402,F401  (the funder's report)
