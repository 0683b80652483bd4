"""Groups and single registrations racing for one seminar, each on its own connection.

Runs on a file SQLite database, and on PostgreSQL when TEST_DATABASE_URL is set.
"""
from booking.associations import services as associations
from booking.associations.models import Association, AssociationContact
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail.models import MessageKind, OutboxMessage
from booking.registrations import services as registrations
from booking.registrations.models import Registration, RegistrationStatus
from booking.seminars.models import Seminar

from tests.factories import make_applicant, make_association, make_seminar
from tests.test_registrations_concurrency import run_in_threads


def test_groups_and_singles_racing_never_exceed_capacity_or_association_maximum(app):
    with app.app_context():
        seminar_id = make_seminar(capacity=12, max_per_association=3).id
        association_ids = [make_association().id for _ in range(4)]
        db.session.commit()
    # 8 groups of 4 (two per association, the two of one association sharing a contact) and 16 singles
    groups = {i: [make_applicant(email=f"g{i}-{j}@example.net" if j % 2 else None) for j in range(4)]
              for i in range(8)}
    singles = {i: make_applicant(email=f"single{i}@example.net") for i in range(8, 24)}

    def work(i):
        seminar = db.session.get(Seminar, seminar_id)
        if i in groups:
            contact = ContactDetails(first_name="K", last_name=str(i), email=f"contact{i % 4}@verein.example")
            association = db.session.get(Association, association_ids[i % 4])
            associations.register_group(seminar, contact, groups[i], association)
        else:
            registrations.register(seminar, singles[i], None)

    errors = run_in_threads(app, 24, work)

    assert errors == []
    with app.app_context():
        rows = list(db.session.scalars(db.select(Registration).where(Registration.seminar_id == seminar_id)))
        assert len(rows) == 8 * 4 + 16  # nothing lost
        confirmed = [r for r in rows if r.status == RegistrationStatus.CONFIRMED]
        assert len(confirmed) == 12
        for association_id in association_ids:
            assert sum(1 for r in confirmed if r.association_id == association_id) <= 3
        # one contact per address, though two groups raced to create each
        assert db.session.scalar(db.select(db.func.count(AssociationContact.id))) == 4
        for contact in db.session.scalars(db.select(AssociationContact)):
            assert len([r for r in rows if r.registered_by_contact_id == contact.id]) == 8
        # each group was decided in its order: places first, then the waiting list, never mixed
        by_id = {r.id: r for r in rows}
        overviews = list(db.session.scalars(db.select(OutboxMessage).where(
            OutboxMessage.kind == MessageKind.GROUP_REGISTERED)))
        assert len(overviews) == 8
        for overview in overviews:
            statuses = [by_id[rid].status for rid in overview.facts["registration_ids"]]
            assert statuses == sorted(statuses, key=lambda s: s != RegistrationStatus.CONFIRMED)
