"""Finding and creating associations."""
from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from .models import Association, LegalForm, association_name_key, clean_association_name

log = logging.getLogger(__name__)


def all_associations() -> list[Association]:
    return list(db.session.scalars(db.select(Association).order_by(Association.name_key)))


def get_association(association_id: int) -> Association | None:
    return db.session.get(Association, association_id)


def find_association_by_name(name: str) -> Association | None:
    return db.session.scalar(
        db.select(Association).where(Association.name_key == association_name_key(name))
    )


def find_or_create_association(
    name: str,
    *,
    district: str = "",
    legal_form: LegalForm | None = None,
    contact_email: str | None = None,
) -> Association:
    """The association with this name (ignoring case and spaces), created if it is new.

    Two people typing the same new name at the same moment end up with one association:
    the loser of the race rolls back to a savepoint and takes the winner's row.
    """
    existing = find_association_by_name(name)
    if existing is not None:
        return existing
    association = Association(
        name=clean_association_name(name),
        name_key=association_name_key(name),
        district=district.strip(),
        legal_form=legal_form,
        contact_email=contact_email,
    )
    try:
        with db.session.begin_nested():
            db.session.add(association)
    except IntegrityError:
        existing = find_association_by_name(name)
        if existing is None:
            raise
        return existing
    log.info("association created: %s", association.name)
    return association
