"""BOOKING_COMPLETION_SHARE is checked when the app is created: a wrong value stops the start with a
clear message, not first when a seminar's page is shown."""
from __future__ import annotations

import pytest

from booking import SettingMissing, create_app

from tests.test_accounts_cli import run_flask


@pytest.mark.parametrize("value", [0, -0.5, 1.5, "0", "2", "drei Viertel", "", "nan"])
def test_a_share_outside_0_to_1_stops_the_app_from_being_created(value):
    with pytest.raises(SettingMissing) as refused:
        create_app({"BOOKING_COMPLETION_SHARE": value})
    assert "BOOKING_COMPLETION_SHARE" in str(refused.value)
    assert "above 0 and at most 1" in str(refused.value)


@pytest.mark.parametrize(("value", "share"), [("0.75", 0.75), ("0,75", 0.75), ("1", 1.0), (0.5, 0.5), (1, 1.0)])
def test_a_share_in_range_is_read_as_a_number(value, share):
    assert create_app({"BOOKING_COMPLETION_SHARE": value}).config["BOOKING_COMPLETION_SHARE"] == share


def test_from_the_environment_it_is_one_clear_line(tmp_path):
    result = run_flask("booking", "sessions", env={
        "BOOKING_CONFIG": "development", "BOOKING_COMPLETION_SHARE": "1.5",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: BOOKING_COMPLETION_SHARE='1.5' is not a share"), result.stderr
