"""Every model, imported in one place for metadata, migrations and the shell."""
from .accounts.models import User  # noqa: F401
from .associations.models import Association, AssociationContact, LinkRequest  # noqa: F401
from .registrations.models import Registration  # noqa: F401
from .seminars.models import Seminar, Session, Topic  # noqa: F401
from .mail.models import DeliveryAttempt, OutboxMessage  # noqa: F401
from .audit import AuditEntry  # noqa: F401
from .attendance.models import Attendance  # noqa: F401
from .caching.models import DataVersion  # noqa: F401
