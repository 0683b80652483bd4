"""Late places become offers: held for the first person on the waiting list who may take it, passed
on when declined or when the worker finds the deadline past; a place freed earlier is given as before.

Time is injected: the services and the worker's pass take `now`.
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from booking.database import begin_write
from booking.extensions import db
from booking.mail.dispatcher import run_worker
from booking.mail.models import MessageKind, MessageStatus, OutboxMessage
from booking.registrations import services
from booking.registrations.models import Registration, RegistrationStatus
from booking.seminars.models import Seminar
from booking.seminars.services import catalogue_entry

from tests.factories import csrf_token, make_applicant, make_association, make_registration, make_seminar, now


def kinds(registration: Registration) -> list[MessageKind]:
    return list(db.session.scalars(
        db.select(OutboxMessage.kind).where(OutboxMessage.registration_id == registration.id)
        .order_by(OutboxMessage.id)))


def reload(registration: Registration) -> Registration:
    db.session.expire_all()
    return db.session.get(Registration, registration.id)


def assert_capacity_holds(seminar: Seminar) -> None:
    db.session.expire_all()
    seminar = db.session.get(Seminar, seminar.id)
    assert services.places_taken(seminar) <= seminar.capacity
    assert services.confirmed_count(seminar) <= seminar.capacity


def seminar_starting_in(hours: float, **overrides) -> Seminar:
    start = now().replace(microsecond=0) + timedelta(hours=hours)
    return make_seminar(sessions=[(start, start + timedelta(hours=2)),
                                  (start + timedelta(days=7), start + timedelta(days=7, hours=2))], **overrides)


@pytest.fixture
def late(app_ctx):
    """A seminar two days ahead, its one place taken, two people waiting; everything committed."""
    seminar = seminar_starting_in(48, capacity=1)
    holder = make_registration(seminar, email="holder@example.net")
    first = make_registration(seminar, email="first@example.net")
    second = make_registration(seminar, email="second@example.net")
    db.session.commit()
    return seminar, holder, first, second


def test_a_late_place_is_offered_and_held_not_given(late):
    seminar, holder, first, second = late
    moment = now()
    assert services.cancel_registration(holder, now=moment) == []  # nobody was given the place

    first = reload(first)
    assert first.status == RegistrationStatus.WAITLISTED
    assert first.has_open_offer
    assert first.offered_at == moment
    assert first.offer_expires_at == moment + timedelta(hours=24)
    assert kinds(first) == [MessageKind.WAITLISTED, MessageKind.OFFER]
    assert not reload(second).has_open_offer
    # the offer holds the place: none is left, for the public page and for registrations alike
    assert services.places_left(seminar) == 0
    assert catalogue_entry(seminar, moment).places_left == 0
    newcomer = make_registration(seminar, email="newcomer@example.net")
    assert newcomer.status == RegistrationStatus.WAITLISTED
    assert_capacity_holds(seminar)


def test_an_offer_never_runs_past_the_first_session(app_ctx):
    seminar = seminar_starting_in(10, capacity=1)
    holder = make_registration(seminar)
    waiting = make_registration(seminar)
    services.cancel_registration(holder, now=now())
    assert reload(waiting).offer_expires_at == seminar.first_start


def sent_to(smtp_server, address: str, subject_start: str):
    return [m for m in smtp_server.messages if m["To"] == address and m["Subject"].startswith(subject_start)]


def test_an_offer_moves_on_after_its_deadline_with_the_workers_pass(late, smtp_server):
    seminar, holder, first, second = late
    seminar_id, first_id, second_id = seminar.id, first.id, second.id
    first_token = services.manage_token(first)
    start = now()
    services.cancel_registration(holder, now=start)
    db.session.commit()
    quiet = {"once": True, "echo": lambda line: None}
    run_worker(now=start + timedelta(minutes=1), **quiet)  # emails recorded "now" are due a moment later
    [offer_to_first] = sent_to(smtp_server, "first@example.net", "A place for you:")
    text = offer_to_first.get_body(("plain",)).get_content()
    assert "we are offering it to you" in text
    assert f"/registrations/{first_token}" in text

    # a pass before the deadline changes nothing
    run_worker(now=start + timedelta(hours=23, minutes=59), **quiet)
    assert db.session.get(Registration, first_id).has_open_offer
    assert not db.session.get(Registration, second_id).has_open_offer

    later = start + timedelta(hours=24, minutes=1)
    run_worker(now=later, **quiet)
    first, second = db.session.get(Registration, first_id), db.session.get(Registration, second_id)
    assert first.status == RegistrationStatus.CANCELLED
    assert first.offer_ran_out
    assert second.has_open_offer
    # 24 hours from now would be past the start: the offer ends when the first session begins
    assert second.offer_expires_at == db.session.get(Seminar, seminar_id).first_start < later + timedelta(hours=24)
    assert kinds(first)[-1] == MessageKind.OFFER_EXPIRED
    assert kinds(second)[-1] == MessageKind.OFFER
    assert len(sent_to(smtp_server, "first@example.net", "The place offered to you has been passed on")) == 1
    assert len(sent_to(smtp_server, "second@example.net", "A place for you:")) == 1
    assert_capacity_holds(db.session.get(Seminar, seminar_id))

    # the one who missed it reads why on their page
    page = seminar_client_get(first)
    assert "was not accepted by" in page and "This registration is cancelled." in page


def seminar_client_get(registration: Registration) -> str:
    from flask import current_app

    client = current_app.test_client()
    return client.get(f"/registrations/{services.manage_token(registration)}").get_data(as_text=True)


def test_the_manage_page_shows_the_offer_with_its_deadline_and_accepting_confirms(late, client):
    seminar, holder, first, second = late
    services.cancel_registration(holder)
    db.session.commit()
    first_token = services.manage_token(first)

    page = client.get(f"/registrations/{first_token}").get_data(as_text=True)
    assert "A place has become free, and we are offering it to you." in page
    assert "Please accept or decline it by" in page
    assert "Accept the place" in page and "Decline: I cannot come" in page
    # the next one still waits, at their position
    assert "You are number 2 on the waiting list." in client.get(
        f"/registrations/{services.manage_token(second)}").get_data(as_text=True)

    response = client.post(f"/registrations/{first_token}/offer",
                           data={"csrf_token": csrf_token(client, f"/registrations/{first_token}"),
                                 "accept": "Accept the place"}, follow_redirects=True)
    assert response.status_code == 200
    assert "The place is yours." in response.get_data(as_text=True)
    assert "You have a place." in response.get_data(as_text=True)
    first = reload(first)
    assert first.status == RegistrationStatus.CONFIRMED
    assert not first.has_open_offer
    # the emails of a promotion: the place, and an invitation per session still to come
    assert kinds(first) == [MessageKind.WAITLISTED, MessageKind.OFFER, MessageKind.PROMOTION,
                            MessageKind.INVITATION, MessageKind.INVITATION]
    assert not reload(second).has_open_offer  # the place was taken, nothing moves on
    assert_capacity_holds(seminar)


def test_accepting_after_the_deadline_is_refused_and_changes_nothing(late):
    seminar, holder, first, second = late
    moment = now()
    services.cancel_registration(holder, now=moment)
    with pytest.raises(services.OfferRefused) as refused:
        services.accept_offer(first, now=moment + timedelta(hours=25))
    assert "run out" in str(refused.value.message)
    assert reload(first).has_open_offer


def test_declining_moves_the_offer_on(late, client):
    seminar, holder, first, second = late
    services.cancel_registration(holder)
    db.session.commit()
    first_token = services.manage_token(first)
    response = client.post(f"/registrations/{first_token}/offer",
                           data={"csrf_token": csrf_token(client, f"/registrations/{first_token}"),
                                 "decline": "Decline: I cannot come"}, follow_redirects=True)
    assert "You have declined the place" in response.get_data(as_text=True)
    first, second = reload(first), reload(second)
    assert first.status == RegistrationStatus.CANCELLED
    assert not first.offer_ran_out
    assert kinds(first)[-1] == MessageKind.REGISTRATION_CANCELLED
    assert second.has_open_offer
    assert kinds(second)[-1] == MessageKind.OFFER
    assert_capacity_holds(seminar)


def test_an_answer_without_an_open_offer_is_refused(late, client):
    seminar, holder, first, second = late
    token = services.manage_token(second)
    response = client.post(f"/registrations/{token}/offer",
                           data={"csrf_token": csrf_token(client, f"/registrations/{token}/cancel"),
                                 "accept": "Accept the place"}, follow_redirects=True)
    assert "No place is offered to you at the moment." in response.get_data(as_text=True)
    assert reload(second).status == RegistrationStatus.WAITLISTED
    with pytest.raises(services.OfferRefused):
        services.decline_offer(second)


def test_a_place_freed_before_the_cutoff_is_promoted_as_before(app, app_ctx):
    seminar = seminar_starting_in(24 * 7, capacity=1)
    holder = make_registration(seminar)
    waiting = make_registration(seminar)
    assert services.cancel_registration(holder) == [waiting]
    waiting = reload(waiting)
    assert waiting.status == RegistrationStatus.CONFIRMED
    assert waiting.offered_at is None
    assert MessageKind.OFFER not in kinds(waiting)
    assert MessageKind.PROMOTION in kinds(waiting)

    # the cutoff is a setting: a week ahead is late when the office says so
    app.config["BOOKING_OFFER_CUTOFF_HOURS"] = 24 * 8
    app.config["BOOKING_OFFER_HOURS"] = 6
    other = seminar_starting_in(24 * 7, capacity=1)
    holder = make_registration(other)
    waiting = make_registration(other)
    moment = now()
    assert services.cancel_registration(holder, now=moment) == []
    assert reload(waiting).offer_expires_at == moment + timedelta(hours=6)


def test_once_the_seminar_has_started_a_freed_place_is_given_as_before(app_ctx):
    seminar = seminar_starting_in(1, capacity=1)
    holder = make_registration(seminar)
    waiting = make_registration(seminar)
    during_first_session = seminar.first_start + timedelta(minutes=30)
    assert services.cancel_registration(holder, now=during_first_session) == [waiting]


def test_capacity_holds_with_an_open_offer(app_ctx):
    seminar = seminar_starting_in(30, capacity=2)
    make_registration(seminar)
    holder = make_registration(seminar)
    offered = make_registration(seminar)
    passed_by_office = make_registration(seminar)
    services.cancel_registration(holder)
    assert reload(offered).has_open_offer
    assert_capacity_holds(seminar)

    # the office cannot give the held place to someone else...
    with pytest.raises(services.OfficeActionRefused):
        services.promote_by_office(passed_by_office)
    # ...may give it to the one it is offered to...
    services.promote_by_office(offered)
    assert reload(offered).status == RegistrationStatus.CONFIRMED
    assert_capacity_holds(seminar)
    assert services.places_taken(seminar) == 2
    assert reload(passed_by_office).status == RegistrationStatus.WAITLISTED


def test_the_capacity_cannot_be_lowered_under_an_open_offer(app_ctx):
    from booking.seminars.editing import SeminarRefused, _check_capacity

    seminar = seminar_starting_in(30, capacity=2)
    make_registration(seminar)
    holder = make_registration(seminar)
    make_registration(seminar)
    services.cancel_registration(holder)
    with pytest.raises(SeminarRefused):
        _check_capacity(seminar, 1)


def test_an_open_offer_counts_towards_the_association_maximum(app_ctx):
    association = make_association()
    seminar = seminar_starting_in(30, capacity=3, max_per_association=1)
    holder = make_registration(seminar)
    make_registration(seminar)
    make_registration(seminar)
    member = make_registration(seminar, association)
    second_member = make_registration(seminar, association)
    outsider = make_registration(seminar)
    services.cancel_registration(holder)
    assert reload(member).has_open_offer
    # a second place frees: the association's offer counts, so it goes to the outsider
    services.cancel_registration(db.session.scalars(
        db.select(Registration).where(Registration.seminar_id == seminar.id,
                                      Registration.status == RegistrationStatus.CONFIRMED)).first())
    assert not reload(second_member).has_open_offer
    assert reload(outsider).has_open_offer
    assert_capacity_holds(seminar)


def test_an_offer_to_a_member_without_an_address_goes_to_their_contact(app_ctx, smtp_server):
    from booking.associations import services as associations
    from booking.associations.services import ContactDetails
    from booking.mail.dispatcher import dispatch_pending

    seminar = seminar_starting_in(30, capacity=1)
    holder = make_registration(seminar)
    [member] = associations.register_group(
        seminar, ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example", phone=None,
                                preferred_language="en"),
        [make_applicant(first_name="Ali", last_name="Aksoy", email=None)], make_association("Kulturverein"))
    services.cancel_registration(holder)
    db.session.commit()
    dispatch_pending()
    offer = [m for m in smtp_server.messages if m["To"] == "vorstand@verein.example"][-1]
    assert offer["Subject"].startswith("A place for Ali Aksoy:")
    text = offer.get_body(("plain",)).get_content()
    assert "we are offering it to Ali Aksoy" in text
    assert f"/registrations/{services.manage_token(member)}" in text


def test_the_offer_email_is_in_the_recipients_language(late, smtp_server):
    from booking.mail.dispatcher import dispatch_pending

    seminar, holder, first, second = late
    first.preferred_language = "tr"
    services.cancel_registration(holder)
    db.session.commit()
    dispatch_pending()
    offer = [m for m in smtp_server.messages if m["To"] == "first@example.net"][-1]
    html = offer.get_body(("html",)).get_content()
    assert 'lang="tr"' in html
    assert "Merhaba" in html  # the greeting, translated already


def test_an_offer_email_that_went_stale_is_not_sent(late, smtp_server):
    from booking.mail.dispatcher import dispatch_pending

    seminar, holder, first, second = late
    services.cancel_registration(holder)
    services.accept_offer(first)
    db.session.commit()
    dispatch_pending()
    offer = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.kind == MessageKind.OFFER))
    assert offer.status == MessageStatus.SKIPPED


def test_concurrent_answers_and_expiry_never_exceed_capacity(app):
    """The offer's person accepts while the worker expires it and newcomers register: one place, one outcome."""
    with app.app_context():
        seminar = seminar_starting_in(30, capacity=1)
        holder = make_registration(seminar)
        offered = make_registration(seminar)
        make_registration(seminar)
        moment = now()
        services.cancel_registration(holder, now=moment)
        db.session.commit()
        seminar_id, offered_id = seminar.id, offered.id
        deadline = reload(offered).offer_expires_at
    applicants = [make_applicant(email=f"rush{i}@example.net") for i in range(4)]
    barrier = threading.Barrier(6)
    errors = []

    def work(i):
        if i == 0:
            services.accept_offer(db.session.get(Registration, offered_id), now=deadline - timedelta(seconds=1))
        elif i == 1:
            services.expire_offers(now=deadline)
        else:
            services.register(db.session.get(Seminar, seminar_id), applicants[i - 2], None)

    def target(i):
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                try:
                    begin_write()
                    work(i)
                    db.session.commit()
                except services.OfferRefused:
                    db.session.rollback()  # the worker came first: a refusal, not an error
                except Exception:
                    db.session.rollback()
                    raise
                finally:
                    db.session.remove()
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=target, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    with app.app_context():
        seminar = db.session.get(Seminar, seminar_id)
        assert_capacity_holds(seminar)
        assert services.places_taken(seminar) == 1
        offered = db.session.get(Registration, offered_id)
        # either the person got the place, or it went on as a new offer to the next one
        assert offered.status in (RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED)
        newcomers = db.session.scalars(db.select(Registration).where(Registration.email.like("rush%"))).all()
        assert all(r.status == RegistrationStatus.WAITLISTED for r in newcomers)


def test_the_office_sees_the_offer_and_can_send_it_again(late):
    seminar, holder, first, second = late
    services.cancel_registration(holder)
    assert services.resend_emails(first, key="again1") == 1
    assert kinds(first)[-1] == MessageKind.OFFER
    assert services.resend_emails(first, key="again1") == 0  # a double click sends once


def test_the_workspace_shows_the_open_offer_and_the_coming(late, client):
    from booking.accounts.models import Role
    from booking.accounts.services import create_user

    from tests.test_admin_access import PASSWORD, log_in

    seminar, holder, first, second = late
    create_user("koordination@stadt.example", role=Role.COORDINATOR, display_name="Koordination", password=PASSWORD)
    services.cancel_registration(holder)
    db.session.commit()
    log_in(client, "koordination@stadt.example")
    page = client.get(f"/admin/registrations/{first.id}").get_data(as_text=True)
    assert "Late place offered" in page and "open: the place is held" in page
    assert "The offer of the place, with its deadline." in page
