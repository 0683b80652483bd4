"""Calendar feeds for subscription: a seminar's sessions, the whole catalogue, a participant's own.

Calendar apps poll these; an ETag over the content (leaving out the DTSTAMP of each request)
lets them get 304 Not Modified when nothing changed.
"""
from __future__ import annotations

import hashlib
import re

from flask import Blueprint, Response, abort, request
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager

from ..caching import cached_page
from ..database import utcnow
from ..extensions import db
from ..registrations.services import registration_for_token
from ..seminars.models import Seminar, SeminarStatus, Session, Topic
from ..seminars.services import published_seminar_by_slug
from . import ics

bp = Blueprint("calendar", __name__)

# a personal feed names people and their sessions: neither a shared cache nor the disk keeps it
PERSONAL_CACHE_CONTROL = "private, no-store"
_DTSTAMP = re.compile(rb"^DTSTAMP:.*\r\n", re.MULTILINE)


def calendar_response(body: bytes, filename: str, *, personal: bool = False) -> Response:
    """A feed. `personal`: one person's (opened with their link), kept by no cache at all."""
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = PERSONAL_CACHE_CONTROL if personal else "no-cache"
    response.set_etag(hashlib.sha256(_DTSTAMP.sub(b"", body)).hexdigest()[:32])
    return response.make_conditional(request)


@bp.get("/seminars/<slug>.ics")
@cached_page
def seminar_feed(slug):
    seminar = published_seminar_by_slug(slug) or abort(404)
    body = ics.feed(seminar.sessions, name=seminar.title,
                    url=lambda s: ics.seminar_page_url(seminar))
    return calendar_response(body, f"{seminar.slug}.ics")


@bp.get("/calendar.ics")
@cached_page
def catalogue_feed():
    query = (
        db.select(Session)
        .join(Session.seminar)
        .where(Seminar.status.in_((SeminarStatus.PUBLISHED, SeminarStatus.CANCELLED)),
               Session.ends_at > utcnow())
        .order_by(Session.starts_at)
        .options(contains_eager(Session.seminar))  # each event links to its seminar's page
    )
    topic_slug = request.args.get("topic")
    if topic_slug:
        topic = db.session.scalar(db.select(Topic).where(Topic.slug == topic_slug)) or abort(404)
        query = query.where(Seminar.topic_id == topic.id)
    sessions = list(db.session.scalars(query))
    body = ics.feed(sessions, name=_("Seminars"),
                    url=lambda s: ics.seminar_page_url(s.seminar))
    return calendar_response(body, "seminars.ics")


@bp.get("/registrations/<token>.ics")
def registration_feed(token):
    registration = registration_for_token(token) or abort(404)
    body = ics.registration_feed(registration)
    return calendar_response(body, f"{registration.seminar.slug}.ics", personal=True)
