"""A setting the app cannot start without, missing or wrong: the flask command and gunicorn say so
in one line and stop with a non-zero status, without a Python traceback (wsgi.py)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from booking import PROJECT_DIR

MISSING_KEY = "Error: SECRET_KEY is not set. Set the SECRET_KEY environment variable"


def run(args: list[str], tmp_path, **settings) -> subprocess.CompletedProcess:
    """Run `python -m ...` in the project folder, in an environment without SECRET_KEY and BOOKING_CONFIG
    (the production configuration) unless `settings` give them."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("BOOKING_", "FLASK_")) and name not in ("SECRET_KEY", "DATABASE_URL")}
    # gunicorn keeps its control socket under $HOME; the database, if one were opened, in tmp_path
    env |= {"HOME": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'booking.sqlite'}"} | settings
    env.pop("XDG_RUNTIME_DIR", None)
    # the timeout only keeps a broken start from hanging the suite (gunicorn booting workers forever)
    return subprocess.run([sys.executable, "-m", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args", [
    ["flask", "--app", "wsgi", "--help"],
    ["flask", "--app", "wsgi", "booking", "worker", "--help"],
    ["flask", "--app", "wsgi", "db", "upgrade"],
], ids=["help", "booking command", "db upgrade"])
def test_the_flask_command_without_secret_key_says_so_in_one_line(args, tmp_path):
    result = run(args, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line
    assert result.stderr.startswith(MISSING_KEY)
    assert "BOOKING_CONFIG=development for a local trial." in result.stderr
    assert not (tmp_path / "booking.sqlite").exists()


def test_a_wrong_setting_is_one_line_too(tmp_path):
    result = run(["flask", "--app", "wsgi", "booking", "--help"], tmp_path, BOOKING_CONFIG="development",
                 BOOKING_COMPLETION_SHARE="2")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "Error: BOOKING_COMPLETION_SHARE='2' is not a share of a seminar's sessions: use a number above 0 "
        "and at most 1, e.g. 1 (every session) or 0.75 (three of four).")

    result = run(["flask", "--app", "wsgi", "booking", "--help"], tmp_path, BOOKING_CONFIG="development",
                 BOOKING_DEFAULT_LOCALE="fr")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "Error: BOOKING_DEFAULT_LOCALE 'fr' is not one of BOOKING_LANGUAGES " \
                                    "['de', 'tr', 'ar', 'en']"


def test_with_the_secret_key_the_command_starts(tmp_path):
    result = run(["flask", "--app", "wsgi", "booking", "--help"], tmp_path, SECRET_KEY="a-long-random-test-value")
    assert result.returncode == 0, result.stderr
    assert "worker" in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize("preload", [False, True], ids=["in the worker", "preloaded"])
def test_gunicorn_without_secret_key_stops_with_the_message(preload, tmp_path):
    result = run(["gunicorn", "-w", "1", "-b", "127.0.0.1:0", *(["--preload"] if preload else []), "wsgi:app"],
                 tmp_path)
    assert result.returncode == 4  # gunicorn's "App failed to load": the master stops, no worker is booted again
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if "SECRET_KEY" in line] == [
        line for line in result.stderr.splitlines() if line.startswith(MISSING_KEY)]
    assert result.stderr.count(MISSING_KEY) == 1
    if not preload:
        assert "Reason: App failed to load." in result.stderr
