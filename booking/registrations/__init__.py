"""Registrations: who has a place in which seminar, or waits for one."""
