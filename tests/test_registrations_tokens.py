"""The personal manage link: derived from the secret, never stored, revocable, rotatable."""
from booking import create_app
from booking.extensions import db
from booking.registrations import services
from booking.registrations.models import Registration

from tests.factories import make_registration, make_seminar


def test_token_opens_its_registration_only(app_ctx):
    seminar = make_seminar()
    first, second = make_registration(seminar), make_registration(seminar)
    token = services.manage_token(first)
    assert services.registration_for_token(token) is first
    assert services.registration_for_token(services.manage_token(second)) is second
    public_id, mac = token.split(".")
    assert len(mac) >= 22  # at least 128 bits
    assert services.registration_for_token(f"{second.public_id}.{mac}") is None
    assert services.registration_for_token(f"{public_id}.{mac[:-1]}A" if mac[-1] != "A" else f"{public_id}.{mac[:-1]}B") is None
    assert services.registration_for_token(public_id) is None
    assert services.registration_for_token("") is None
    assert services.registration_for_token("nonsense.value") is None


def test_token_is_not_in_the_database(app_ctx):
    registration = make_registration(make_seminar())
    token = services.manage_token(registration)
    mac = token.split(".")[1]
    row = db.session.execute(db.select(Registration.__table__)).one()
    assert all(mac not in str(value) for value in row)


def test_bumping_the_version_revokes_the_link(app_ctx):
    registration = make_registration(make_seminar())
    old = services.manage_token(registration)
    services.revoke_links(registration)
    assert services.registration_for_token(old) is None
    assert services.registration_for_token(services.manage_token(registration)) is registration


def test_rotated_secret_keeps_old_links_working(app, tmp_path):
    with app.app_context():
        registration = make_registration(make_seminar())
        db.session.commit()
        old_token = services.manage_token(registration)
    rotated = create_app({
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "a-new-secret",
        "SECRET_KEY_FALLBACKS": [app.config["SECRET_KEY"]],
    })
    with rotated.app_context():
        found = services.registration_for_token(old_token)
        assert found is not None and found.public_id == registration.public_id
        assert services.manage_token(found) != old_token  # new links use the new key
        db.session.remove()
        db.engine.dispose()
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "SECRET_KEY": "unrelated-secret"})
    with other.app_context():
        assert services.registration_for_token(old_token) is None
        db.session.remove()
        db.engine.dispose()
