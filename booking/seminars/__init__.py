"""Seminars, their sessions and topics: what the integration office offers."""
