"""The registration rules: capacity, association maximum, waiting list, promotion, refusals."""
from datetime import timedelta

import pytest

from booking.extensions import db
from booking.registrations import services
from booking.registrations.models import Registration, RegistrationStatus, WaitlistReason, active
from booking.seminars.models import ClosedReason, SeminarStatus, SessionStatus

from tests.factories import make_applicant, make_association, make_registration, make_seminar, now


def count(status=None):
    query = db.select(db.func.count(Registration.id))
    if status is not None:
        query = query.where(Registration.status == status)
    return db.session.scalar(query)


def test_places_are_given_until_full_then_waitlisted(app_ctx):
    seminar = make_seminar(capacity=2)
    first, second, third = (make_registration(seminar) for _ in range(3))
    assert [r.status for r in (first, second, third)] == [
        RegistrationStatus.CONFIRMED, RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]
    assert third.waitlist_reason == WaitlistReason.FULL
    assert services.waitlist_position(third) == 1
    assert services.waitlist_position(first) is None
    assert services.places_left(seminar) == 0


def test_association_maximum_waitlists_with_reason(app_ctx):
    seminar = make_seminar(capacity=10, max_per_association=2)
    verein = make_association("Deutsch-Türkischer Kulturverein")
    other = make_association("Eritreische Gemeinde")
    regs = [make_registration(seminar, verein) for _ in range(3)]
    outsider = make_registration(seminar, other)
    assert [r.status for r in regs] == [RegistrationStatus.CONFIRMED] * 2 + [RegistrationStatus.WAITLISTED]
    assert regs[2].waitlist_reason == WaitlistReason.ASSOCIATION_LIMIT
    assert outsider.status == RegistrationStatus.CONFIRMED


def test_group_is_decided_in_order(app_ctx):
    seminar = make_seminar(capacity=5)
    make_registration(seminar)
    make_registration(seminar)
    group = services.register_people(seminar, [make_applicant() for _ in range(5)], make_association())
    assert [r.status for r in group] == [RegistrationStatus.CONFIRMED] * 3 + [RegistrationStatus.WAITLISTED] * 2
    assert [services.waitlist_position(r) for r in group[3:]] == [1, 2]


@pytest.mark.parametrize("change, reason", [
    (lambda s: setattr(s, "status", SeminarStatus.DRAFT), ClosedReason.DRAFT),
    (lambda s: setattr(s, "status", SeminarStatus.CANCELLED), ClosedReason.CANCELLED),
    (lambda s: setattr(s, "registration_deadline", now() - timedelta(minutes=1)), ClosedReason.DEADLINE_PASSED),
    (lambda s: [setattr(x, "status", SessionStatus.CANCELLED) for x in s.sessions], ClosedReason.OVER),
])
def test_closed_seminars_refuse_and_store_nothing(app_ctx, change, reason):
    seminar = make_seminar()
    change(seminar)
    db.session.flush()
    with pytest.raises(services.RegistrationClosed) as refused:
        make_registration(seminar)
    assert refused.value.reason == reason
    assert count() == 0


def test_seminar_whose_sessions_are_over_refuses(app_ctx):
    start = now() - timedelta(days=3)
    seminar = make_seminar(sessions=[(start, start + timedelta(hours=2))])
    with pytest.raises(services.RegistrationClosed) as refused:
        make_registration(seminar)
    assert refused.value.reason == ClosedReason.OVER


def test_same_email_twice_is_refused_but_allowed_after_cancel(app_ctx):
    seminar = make_seminar()
    first = make_registration(seminar, email="Leyla@Example.net")
    with pytest.raises(services.DuplicateRegistration):
        make_registration(seminar, email=" leyla@example.NET ")
    assert count() == 1
    services.cancel_registration(first)
    again = make_registration(seminar, email="leyla@example.net")
    assert again.status == RegistrationStatus.CONFIRMED
    assert count() == 2


def test_an_address_on_the_waiting_list_is_registered_already_and_active_means_the_same_in_sql(app_ctx):
    seminar = make_seminar(capacity=1)
    make_registration(seminar)
    waiting = make_registration(seminar, email="warte@example.net")
    assert waiting.status == RegistrationStatus.WAITLISTED
    with pytest.raises(services.DuplicateRegistration):
        make_registration(seminar, email="Warte@example.net")
    assert services.active_email_keys(seminar, ["warte@example.net", "neu@example.net"]) == {"warte@example.net"}
    cancelled = make_registration(make_seminar())
    services.cancel_registration(cancelled)
    db.session.flush()
    # the SQL the counts under the lock use (the unique index's condition) and the model's rule
    in_sql = set(db.session.scalars(db.select(Registration.id).where(active())))
    assert in_sql == {r.id for r in db.session.scalars(db.select(Registration)) if r.is_active}
    assert cancelled.id not in in_sql and waiting.id in in_sql


def test_duplicate_in_group_names_the_row(app_ctx):
    seminar = make_seminar()
    people = [make_applicant(email="a@example.net"), make_applicant(email="b@example.net"),
              make_applicant(email="A@example.net")]
    with pytest.raises(services.DuplicateRegistration) as refused:
        services.register_people(seminar, people, None)
    assert refused.value.index == 2
    assert count() == 0


def test_cancel_promotes_first_waitlisted(app_ctx):
    seminar = make_seminar(capacity=1)
    holder = make_registration(seminar)
    first_waiting = make_registration(seminar)
    second_waiting = make_registration(seminar)
    promoted = services.cancel_registration(holder)
    assert promoted == [first_waiting]
    assert holder.status == RegistrationStatus.CANCELLED and holder.cancelled_at is not None
    assert first_waiting.status == RegistrationStatus.CONFIRMED
    assert services.waitlist_position(second_waiting) == 1


def test_promotion_passes_over_association_at_maximum_but_keeps_position(app_ctx):
    seminar = make_seminar(capacity=3, max_per_association=1)
    verein, other = make_association(), make_association()
    holder = make_registration(seminar)  # no association
    make_registration(seminar, verein)
    make_registration(seminar, other)
    verein_waiting = make_registration(seminar, verein)  # full, and verein at its maximum
    free_waiting = make_registration(seminar)
    promoted = services.cancel_registration(holder)
    assert promoted == [free_waiting]
    assert verein_waiting.status == RegistrationStatus.WAITLISTED
    assert verein_waiting.waitlist_reason == WaitlistReason.ASSOCIATION_LIMIT
    assert services.waitlist_position(verein_waiting) == 1


def test_cancelling_a_waitlisted_registration_promotes_nobody(app_ctx):
    seminar = make_seminar(capacity=1)
    make_registration(seminar)
    waiting = make_registration(seminar)
    later = make_registration(seminar)
    assert services.cancel_registration(waiting) == []
    assert later.status == RegistrationStatus.WAITLISTED
    assert services.waitlist_position(later) == 1


def test_cancelling_twice_is_refused(app_ctx):
    registration = make_registration(make_seminar())
    services.cancel_registration(registration)
    with pytest.raises(services.CancellationRefused):
        services.cancel_registration(registration)


def test_capacity_raised_nothing_exceeded_after_many_cancellations(app_ctx):
    seminar = make_seminar(capacity=3)
    regs = [make_registration(seminar) for _ in range(8)]
    for registration in regs[:4]:
        services.cancel_registration(registration)
    assert count(RegistrationStatus.CONFIRMED) == 3
    assert count(RegistrationStatus.WAITLISTED) == 1
    assert [r.status for r in regs[4:]] == [RegistrationStatus.CONFIRMED] * 3 + [RegistrationStatus.WAITLISTED]
