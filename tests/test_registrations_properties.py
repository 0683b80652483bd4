"""The registration rules under random sequences of registrations, groups and cancellations.

After every step: capacity and each association's maximum hold, nobody waits while a place is
free for them, and the waiting list keeps registration order.
"""
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from booking.extensions import db
from booking.registrations import services
from booking.registrations.models import Registration, RegistrationStatus

from tests.factories import make_applicant, make_association, make_seminar


def rules_machine(app):
    class RegistrationRules(RuleBasedStateMachine):
        @initialize(capacity=st.integers(1, 6), limit=st.one_of(st.none(), st.integers(1, 3)))
        def seminar(self, capacity, limit):
            self.context = app.app_context()
            self.context.push()
            db.drop_all()
            db.create_all()
            self.seminar = make_seminar(capacity=capacity, max_per_association=limit)
            self.associations = [make_association() for _ in range(3)] + [None]
            db.session.commit()

        def teardown(self):
            if hasattr(self, "context"):
                db.session.remove()
                self.context.pop()

        def registrations(self, status=None):
            query = db.select(Registration).where(Registration.seminar_id == self.seminar.id)
            if status is not None:
                query = query.where(Registration.status == status)
            return list(db.session.scalars(query.order_by(Registration.id)))

        @rule(which=st.integers(0, 3), size=st.integers(1, 4))
        def register(self, which, size):
            people = [make_applicant() for _ in range(size)]
            services.register_people(self.seminar, people, self.associations[which])
            db.session.commit()

        @precondition(lambda self: any(r.is_active for r in self.registrations()))
        @rule(data=st.data())
        def cancel(self, data):
            active = [r for r in self.registrations() if r.is_active]
            services.cancel_registration(data.draw(st.sampled_from(active)))
            db.session.commit()

        @invariant()
        def places_and_waiting_list_are_right(self):
            if not hasattr(self, "seminar"):
                return
            confirmed = self.registrations(RegistrationStatus.CONFIRMED)
            waiting = self.registrations(RegistrationStatus.WAITLISTED)
            capacity, limit = self.seminar.capacity, self.seminar.max_per_association
            assert len(confirmed) <= capacity
            per_association = {}
            for registration in confirmed:
                if registration.association_id is not None:
                    per_association[registration.association_id] = per_association.get(registration.association_id, 0) + 1
            if limit is not None:
                assert all(count <= limit for count in per_association.values())
            if len(confirmed) < capacity:
                # a free place: everyone still waiting is held back by their association's maximum
                for registration in waiting:
                    assert limit is not None and registration.association_id is not None
                    assert per_association.get(registration.association_id, 0) >= limit
            positions = [services.waitlist_position(r) for r in waiting]
            assert positions == list(range(1, len(waiting) + 1))

    return RegistrationRules


def test_rules_hold_for_any_sequence(app):
    machine = rules_machine(app)
    machine.TestCase.settings = settings(max_examples=25, stateful_step_count=12, deadline=None,
                                         suppress_health_check=[HealthCheck.function_scoped_fixture])
    machine.TestCase().runTest()
