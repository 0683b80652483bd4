"""Attendance: who came to which session, who completed a seminar, and who did not come unexcused."""
