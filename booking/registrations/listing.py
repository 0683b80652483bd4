"""A seminar's registrations as the office reads them: grouped by status, with waiting-list
positions, filtered and sorted. The workspace's list and the exports (booking.registrations.exports)
both read this, so a download holds what the page shows.

Sorting is done here in Python rather than by the database: one seminar has at most a few hundred
registrations, and names then sort the same way (case and accents aside) on SQLite and PostgreSQL.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sqlalchemy.orm import selectinload

from ..associations.models import Association
from ..extensions import db
from ..seminars.models import Seminar
from .models import Registration, RegistrationStatus

STATUS_ORDER = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.CANCELLED)
SORTS = ("registered", "name", "association")


def _text_key(text: str | None) -> str:
    # "Özdemir" next to "Oz...", "şahin" next to "Sahin": case and accents do not decide the order
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


@dataclass
class ListedRegistration:
    registration: Registration
    position: int | None  # on the waiting list: 1 for the first, else None

    @property
    def has_needs(self) -> bool:
        return bool((self.registration.needs or "").strip())


@dataclass
class RegistrationFilters:
    status: RegistrationStatus | None = None
    association_id: int | None = None
    needs_only: bool = False
    sort: str = "registered"
    descending: bool = False


@dataclass
class RegistrationList:
    seminar: Seminar
    filters: RegistrationFilters
    groups: dict[RegistrationStatus, list[ListedRegistration]] = field(default_factory=dict)
    associations: list[Association] = field(default_factory=list)  # those with a registration here
    counts: dict[RegistrationStatus, int] = field(default_factory=dict)  # before filtering
    needs_count: int = 0  # active registrations with needs, before filtering
    open_offers: int = 0  # waiting-list people with a late place offered to them now, before filtering

    @property
    def rows(self) -> list[ListedRegistration]:
        """Every listed registration: confirmed, then the waiting list, then cancelled."""
        return [row for status in STATUS_ORDER for row in self.groups.get(status, [])]


def _sort_key(sort: str):
    if sort == "name":
        return lambda row: (_text_key(row.registration.last_name), _text_key(row.registration.first_name),
                            row.registration.id)
    if sort == "association":
        return lambda row: (row.registration.association is None,
                            _text_key(row.registration.association.name if row.registration.association else ""),
                            row.registration.id)
    return lambda row: (row.registration.created_at, row.registration.id)


def seminar_registrations(seminar: Seminar, filters: RegistrationFilters | None = None) -> RegistrationList:
    """The seminar's registrations by status. The waiting list keeps its order (and positions)
    unless another sort is asked for; positions always count the whole waiting list."""
    filters = filters or RegistrationFilters()
    everyone = list(db.session.scalars(
        db.select(Registration)
        .where(Registration.seminar_id == seminar.id)
        .options(selectinload(Registration.association), selectinload(Registration.registered_by))
        .order_by(Registration.id)
    ))
    waiting = [r for r in everyone if r.status == RegistrationStatus.WAITLISTED]
    positions = {r.id: index for index, r in enumerate(waiting, start=1)}
    result = RegistrationList(seminar=seminar, filters=filters)
    result.counts = {status: sum(1 for r in everyone if r.status == status) for status in STATUS_ORDER}
    result.needs_count = sum(1 for r in everyone if r.is_active and (r.needs or "").strip())
    result.open_offers = sum(1 for r in everyone if r.has_open_offer)
    by_id = {r.association.id: r.association for r in everyone if r.association is not None}
    result.associations = sorted(by_id.values(), key=lambda a: _text_key(a.name))
    for status in STATUS_ORDER:
        if filters.status is not None and status != filters.status:
            continue
        rows = [ListedRegistration(r, positions.get(r.id)) for r in everyone if r.status == status
                and (filters.association_id is None or r.association_id == filters.association_id)]
        if filters.needs_only:
            rows = [row for row in rows if row.has_needs]
        rows.sort(key=_sort_key(filters.sort), reverse=filters.descending)
        result.groups[status] = rows
    return result
