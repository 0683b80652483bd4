"""The data version's one row."""
from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, event, insert
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class DataVersion(db.Model):
    """Rises with every change a public page shows; cached pages are kept per version.

    One row (id 1). Made by the migration, and by `db.create_all()` (tests) through the
    after_create hook below."""

    __tablename__ = "data_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


@event.listens_for(DataVersion.__table__, "after_create")
def _first_row(table, connection, **kwargs):
    connection.execute(insert(table).values(id=1, version=0))
