"""Email: the outbox of messages to send, the dispatcher that delivers them, and the MIME shape of invitations."""
