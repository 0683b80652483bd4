"""WSGI entry point: `gunicorn wsgi:app`, and the app of `flask --app wsgi ...`."""
import sys

import click

from booking import SettingMissing, create_app

try:
    app = create_app()
except SettingMissing as missing:
    # A setting is missing or wrong: say so in one line, not under a traceback (the flask command
    # prints one for any exception while it loads the app for --help; gunicorn logs one).
    print(f"Error: {missing.format_message()}", file=sys.stderr)
    # The flask command (loading the app inside its click context): status 1, as for any refused
    # command. gunicorn: status 4, its "App failed to load", on which the master stops instead of
    # booting the worker again and again (it would on any other status).
    raise SystemExit(1 if click.get_current_context(silent=True) is not None else 4) from None
