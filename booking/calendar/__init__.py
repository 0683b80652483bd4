"""Calendar data: the one place that builds iCalendar objects (invitations, cancellations, feeds)."""
