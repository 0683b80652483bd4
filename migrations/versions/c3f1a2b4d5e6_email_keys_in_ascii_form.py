"""Email keys in their ASCII form (IDNA 2008 domain, lower case) so different addresses never share one

Earlier keys were the casefolded address: "ß@x" and "ss@x" shared a key, and a domain typed in
another script had a different key than its ASCII spelling. Keys are recomputed as
booking.addresses.address_key does (written out here, since a migration must not change when the
application's code does). A row whose new key another row already holds keeps its old key.

Revision ID: c3f1a2b4d5e6
Revises: 667fbde803d6
Create Date: 2026-11-29 17:30:00
"""
import idna
import sqlalchemy as sa
from alembic import op

revision = 'c3f1a2b4d5e6'
down_revision = '667fbde803d6'
branch_labels = None
depends_on = None


def _key(address):
    if not address or not address.strip():
        return None
    local, _, domain = address.strip().rpartition("@")
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        pass
    return f"{local.lower()}@{domain.lower()}"


def _rekey(connection, table: str, scope: str) -> None:
    """Recompute keys; `scope` is the SQL expression within which a key must be unique."""
    rows = list(connection.execute(sa.text(
        f"SELECT id, email, email_key, {scope} FROM {table} WHERE email IS NOT NULL")))
    taken = {(row[3], row[2]) for row in rows}
    for row_id, email, old_key, unique_within in rows:
        new_key = _key(email)
        if new_key == old_key or (unique_within, new_key) in taken:
            continue
        connection.execute(sa.text(f"UPDATE {table} SET email_key = :key WHERE id = :id"),
                           {"key": new_key, "id": row_id})
        taken.add((unique_within, new_key))


def upgrade():
    connection = op.get_bind()
    _rekey(connection, "association_contacts", "0")
    # one active registration per address and seminar; cancelled ones are each their own
    _rekey(connection, "registrations",
           "CASE WHEN status = 'cancelled' THEN 'cancelled-' || id ELSE 'seminar-' || seminar_id END")


def downgrade():
    # the old keys (casefolded addresses) are what every address without a non-ASCII domain has anyway
    connection = op.get_bind()
    for table in ("association_contacts", "registrations"):
        rows = connection.execute(sa.text(f"SELECT id, email FROM {table} WHERE email IS NOT NULL"))
        for row_id, email in list(rows):
            connection.execute(sa.text(f"UPDATE {table} SET email_key = :key WHERE id = :id"),
                               {"key": email.strip().casefold(), "id": row_id})
