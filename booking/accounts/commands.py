"""`flask booking create-user`: a staff account from the command line (the first coordinator, say)."""
from __future__ import annotations

import sys

import click

from ..addresses import AddressRefused
from ..cli import booking_cli
from ..database import begin_write
from ..extensions import db
from .models import Role
from .services import AccountRefused, create_user, password_problem


@booking_cli.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True,
              help="coordinator: everything; trainer: sees the seminars they are assigned to.")
@click.option("--name", default="", help="The name shown in the workspace and the audit log.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password once from standard input (for scripts), instead of asking twice.")
def create_user_command(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create a staff account that logs in to the workspace at /admin with EMAIL and a password
    of at least 10 characters."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if problem := password_problem(password):
        raise click.ClickException(f"Password refused: {problem}")
    begin_write()
    try:
        user = create_user(email, role=role, display_name=name, password=password)
    except (AccountRefused, AddressRefused) as refused:
        db.session.rollback()
        raise click.ClickException(str(refused.message)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (user {user.id}). Log in at /admin/login.")
