"""The `flask booking ...` command group."""
from __future__ import annotations

import click
from flask.cli import AppGroup

booking_cli = AppGroup("booking", help="Run booking's jobs: demo data, mail worker and more.")
