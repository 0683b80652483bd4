"""The command line as operators meet it: the README's invocations work, a missing setting is one line."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from booking.cli import booking_cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
INVOCATION = "BOOKING_CONFIG=development .venv/bin/flask --app wsgi booking"


def run_flask(*args, env):
    """`flask --app wsgi ARGS` from the checkout, as the README has it (with this interpreter's Flask)."""
    clean = {key: value for key, value in os.environ.items()
             if key not in ("SECRET_KEY", "BOOKING_CONFIG", "DATABASE_URL")}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=clean | env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("env, message", [
    ({"BOOKING_CONFIG": "production"}, "Error: SECRET_KEY is not set."),
    ({}, "Error: SECRET_KEY is not set."),
    ({"BOOKING_CONFIG": "prod", "SECRET_KEY": "x"}, "Error: BOOKING_CONFIG='prod' is unknown"),
    ({"BOOKING_CONFIG": "development", "BOOKING_CACHE_URL": "file:///no/such/folder/v"},
     "Error: BOOKING_CACHE_URL='file:///no/such/folder/v': a file:/// address must name a file"),
])
def test_a_missing_setting_is_one_clear_line_not_a_traceback(tmp_path, env, message):
    result = run_flask("booking", "sessions", env=env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr


def test_the_readme_invocation_works_from_a_checkout(tmp_path):
    env = {"BOOKING_CONFIG": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"}
    help_text = run_flask("booking", "--help", env=env)
    assert help_text.returncode == 0 and "create-user" in help_text.stdout
    # before `db upgrade`: one line that says what to do
    early = run_flask("booking", "sessions", env=env)
    assert early.returncode == 1 and "Traceback" not in early.stderr
    assert early.stderr.strip() == ("Error: The database has no tables yet: run `flask --app wsgi db upgrade` first "
                                    "(with the same settings).")
    assert run_flask("db", "upgrade", env=env).returncode == 0
    sessions = run_flask("booking", "sessions", env=env)
    assert sessions.returncode == 0 and "Traceback" not in sessions.stderr, sessions.stderr


def test_every_command_is_in_the_readme_with_its_exact_invocation(app):  # the app adds every command
    shown = set(re.findall(re.escape(INVOCATION) + r" ([a-z-]+)", README))
    commands = set(booking_cli.commands)
    assert commands <= shown, f"commands missing from README: {sorted(commands - shown)}"
    assert shown - {"--help"} <= commands, f"README names commands that do not exist: {sorted(shown - commands)}"
    # nowhere the bare form that fails from a checkout
    assert "`flask booking" not in README
