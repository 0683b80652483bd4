"""What a coordinator may do with the email log."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..database import utcnow
from .models import MessageStatus, OutboxMessage


class RetryRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def retry_message(message: OutboxMessage) -> None:
    """Queue a failed message again, with a fresh allowance of attempts."""
    if message.status != MessageStatus.FAILED:
        raise RetryRefused(_l("Only a failed message can be sent again."))
    message.status = MessageStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
