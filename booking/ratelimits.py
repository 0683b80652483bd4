"""Rate limits on the forms that act: every limit of the site, its key and its page, in one module.

A view takes its limits with one decorator (`@ratelimits.registration`, `@ratelimits.group`,
`@ratelimits.lost_link`; the coordinator workspace applies `@ratelimits.login` and
`@ratelimits.password_reset`). Each counts twice: per client IP (`request.remote_addr`, which
ProxyFix makes the client's behind a proxy) and per email address typed into the form
(stripped and case-folded). The values are settings (`BOOKING_LIMIT_*` in config.py); README,
"Rate limits", says why they are what they are.

- Only POSTs count; the group form's "add another person" and "remove" round-trips never do.
- Per IP, every POST that reaches the form counts: a flood of broken forms is a flood too.
- Per address (registration, group, lost link), only requests that went through (a redirect) count:
  a person who corrects a typo a few times is never locked out, and a stranger who types someone's
  address into a broken form cannot lock its owner out either. Login and password reset count
  every attempt per address: there the failed attempts are what must be slowed down.
- The limiter's store holds neither addresses nor IPs: keys are HMACs of them under SECRET_KEY.
- A limited request gets the 429 page in the visitor's language, saying when to try again, with
  a Retry-After header.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from flask import Flask, current_app, render_template, request
from flask_babel import format_time, format_timedelta

from .associations.services import contact_for_token
from .extensions import limiter
from .formatting import datetime_short, to_local

log = logging.getLogger(__name__)

#: Every limit setting, so the README table and the tests can be checked against one list.
LIMIT_SETTINGS = (
    "BOOKING_LIMIT_REGISTER_IP", "BOOKING_LIMIT_REGISTER_EMAIL",
    "BOOKING_LIMIT_GROUP_IP", "BOOKING_LIMIT_GROUP_EMAIL",
    "BOOKING_LIMIT_LOST_LINK_IP", "BOOKING_LIMIT_LOST_LINK_EMAIL",
    "BOOKING_LIMIT_LOGIN_IP", "BOOKING_LIMIT_LOGIN_EMAIL",
    "BOOKING_LIMIT_PASSWORD_RESET_IP", "BOOKING_LIMIT_PASSWORD_RESET_EMAIL",
)


def init_app(app: Flask) -> None:
    """Bind the limiter to the app.

    Flask-Limiter keeps its storage, and the first key prefix it was given, on the (module-global)
    extension object. A process serves one app in production; the test suite builds many in turn,
    so the prefix is set from each app's settings here, and every init_app makes a fresh storage
    (in memory: counts never pass from one app to the next).
    """
    limiter._key_prefix = app.config.get("RATELIMIT_KEY_PREFIX", "")
    limiter.init_app(app)


# --- keys -----------------------------------------------------------------------------------------

def normalised_address(value: str | None) -> str:
    return value.strip().casefold() if isinstance(value, str) else ""


def _digest(kind: str, value: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return f"{kind}:" + hmac.new(secret, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def client_ip_key() -> str:
    return _digest("ip", request.remote_addr or "-")


def form_address(field: str) -> Callable[[], str]:
    """The normalised address typed into `field` (empty if none)."""
    def address() -> str:
        return normalised_address(request.form.get(field))
    return address


def group_contact_address() -> str:
    """Who registers a group: the contact whose link they came through, or the address they typed.

    A contact is one address, so both group forms count against the same address.
    """
    token = (request.view_args or {}).get("token")
    if token:
        contact = contact_for_token(token)
        return normalised_address(contact.email) if contact is not None else ""
    return normalised_address(request.form.get("contact_email"))


# --- limits ---------------------------------------------------------------------------------------

def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def went_through(response) -> bool:
    """The request was accepted (Post/Redirect/Get), not shown again with errors."""
    return response.status_code < 400


def row_round_trip() -> bool:
    return "add_row" in request.form or "remove_row" in request.form


def _any(*conditions: Callable[[], bool]) -> Callable[[], bool] | None:
    conditions = tuple(c for c in conditions if c is not None)
    if not conditions:
        return None
    return lambda: any(condition() for condition in conditions)


def per_ip(setting: str, *, scope: str, exempt_when: Callable[[], bool] | None = None):
    return limiter.shared_limit(_setting(setting), scope=f"{scope}-ip", key_func=client_ip_key,
                                methods=["POST"], exempt_when=exempt_when)


def per_address(setting: str, address: Callable[[], str], *, scope: str, count_only_accepted: bool = True,
                exempt_when: Callable[[], bool] | None = None):
    """A limit per address; a request without one is not counted here (its IP limit still applies)."""
    return limiter.shared_limit(
        _setting(setting), scope=f"{scope}-email",
        key_func=lambda: _digest("email", address()),
        methods=["POST"],
        exempt_when=_any(lambda: not address(), exempt_when),
        deduct_when=went_through if count_only_accepted else None,
    )


def _both(*limits):
    def decorate(view):
        for limit in reversed(limits):
            view = limit(view)
        return view
    return decorate


def registration(view):
    """POST /seminars/<slug>/register."""
    return _both(
        per_ip("BOOKING_LIMIT_REGISTER_IP", scope="register"),
        per_address("BOOKING_LIMIT_REGISTER_EMAIL", form_address("email"), scope="register"),
    )(view)


def group(view):
    """Both group forms (from the seminar page and from the contact's link) share one count."""
    return _both(
        per_ip("BOOKING_LIMIT_GROUP_IP", scope="group", exempt_when=row_round_trip),
        per_address("BOOKING_LIMIT_GROUP_EMAIL", group_contact_address, scope="group",
                    exempt_when=row_round_trip),
    )(view)


def lost_link(view):
    """POST /lost-link (the service itself also sends at most one email an hour per address)."""
    return _both(
        per_ip("BOOKING_LIMIT_LOST_LINK_IP", scope="lost-link"),
        per_address("BOOKING_LIMIT_LOST_LINK_EMAIL", form_address("email"), scope="lost-link"),
    )(view)


def login(view, *, address_field: str = "email"):
    """For the coordinator workspace's login POST: every attempt counts, per IP and per address."""
    return _both(
        per_ip("BOOKING_LIMIT_LOGIN_IP", scope="login"),
        per_address("BOOKING_LIMIT_LOGIN_EMAIL", form_address(address_field), scope="login",
                    count_only_accepted=False),
    )(view)


def password_reset(view, *, address_field: str = "email"):
    """For the workspace's "forgot your password?" POST: every request counts, per IP and per address."""
    return _both(
        per_ip("BOOKING_LIMIT_PASSWORD_RESET_IP", scope="password-reset"),
        per_address("BOOKING_LIMIT_PASSWORD_RESET_EMAIL", form_address(address_field), scope="password-reset",
                    count_only_accepted=False),
    )(view)


# --- the 429 page ---------------------------------------------------------------------------------

def retry_after_seconds() -> int | None:
    """Seconds until every limit this request reached lets it through again (None: not the limiter's)."""
    reached = [limit for limit in limiter.current_limits if limit.breached]
    if not reached:
        return None
    return max(1, math.ceil(max(limit.reset_at for limit in reached) - time.time()))


def too_many_requests(error):
    seconds = retry_after_seconds()
    log.warning("rate limit reached: %s (%s)", request.endpoint,
                getattr(getattr(error, "limit", None), "limit", "-"))
    wait_text = retry_text = None
    if seconds is not None:
        retry_at = datetime.now(timezone.utc) + timedelta(seconds=seconds)
        wait_text = format_timedelta(timedelta(seconds=seconds), threshold=1, add_direction=True)
        same_day = to_local(retry_at).date() == to_local(datetime.now(timezone.utc)).date()
        retry_text = format_time(retry_at, "HH:mm") if same_day else datetime_short(retry_at)
    response = current_app.make_response((render_template(
        "errors/rate_limited.html", wait_text=wait_text, retry_text=retry_text,
    ), 429))
    if seconds is not None:
        response.headers["Retry-After"] = str(seconds)
    return response
