"""``cobra user``: add, list, change, change the password of, disable and enable the people who log in.

Every change is audited (user None, source "cli"); a password, role, extension or endpoint
change and a disable end the user's sessions, and the running service closes their open
pages within a second (see :mod:`web.auth.revocation`)."""

from __future__ import annotations

import sys
from typing import TypeVar

import click
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Role
from web.auth.accounts import (
    AccountChange,
    AccountError,
    NewAccount,
    add_account,
    change_account,
    change_password,
    check_new_account,
    list_accounts,
    set_active,
)
from web.auth.passwords import PasswordRejected, check_new_password
from web.cli.common import (
    CONTEXT_SETTINGS,
    config_option,
    get_config,
    in_database,
    run_async,
)

T = TypeVar("T")

# Audit entries of these commands: no logged-in user did it, a terminal did
SOURCE = "cli"

password_stdin_option = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of asking twice on the terminal.",
)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice on a terminal."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException("--password-stdin: standard input had no password line")
    elif _stdin_is_terminal():
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    else:
        raise click.ClickException("no terminal to ask the password on: pipe it and pass --password-stdin")
    try:
        return check_new_password(password)
    except PasswordRejected as exc:
        raise click.ClickException(str(exc)) from None


@click.group("user", context_settings=CONTEXT_SETTINGS)
def user_group() -> None:
    """People who log in: agents, supervisors, QA reviewers and admins."""


@user_group.command("add")
@click.argument("login")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What the user does.")
@click.option(
    "--name", "full_name", default=None, help='Full name shown on screens (default: the login), e.g. "Ana Souza".'
)
@click.option("--extension", default=None, help="Agent's extension (digits): the conference they sit in, e.g. 7001.")
@click.option(
    "--endpoint", default=None, help="Phone Cobra calls for this user: an Asterisk dial string, e.g. PJSIP/7001."
)
@password_stdin_option
@config_option
def add_command(
    login: str,
    role: str,
    full_name: str | None,
    extension: str | None,
    endpoint: str | None,
    password_stdin: bool,
    config_path: str | None,
) -> None:
    """Add user LOGIN (agents need --extension and --endpoint)."""
    try:
        account: NewAccount = check_new_account(login, role, full_name, extension, endpoint)
    except AccountError as exc:
        raise click.UsageError(str(exc)) from None
    config = get_config(config_path)
    password = read_password(password_stdin)
    hasher = PasswordHasher()
    run_async(in_database(config, lambda db: add_account(db, hasher, account, password, source=SOURCE)))
    phone = (
        f", extension {account.extension} on {account.endpoint}"
        if account.extension
        else (f", phone {account.endpoint}" if account.endpoint else "")
    )
    click.echo(f"user {account.login} added: {account.full_name} ({account.role.value}{phone})")


@user_group.command("list")
@config_option
def list_command(config_path: str | None) -> None:
    """List every user: login, role, name, extension, endpoint, and whether they may log in."""
    users = run_async(in_database(get_config(config_path), list_accounts))
    if not users:
        click.echo("no users yet: add one with `cobra user add LOGIN --role admin`")
        return
    rows = [("LOGIN", "ROLE", "NAME", "EXTENSION", "ENDPOINT", "STATUS")] + [
        (
            u.login,
            Role(u.role).value,
            u.full_name,
            u.extension or "-",
            u.endpoint or "-",
            "active" if u.active else "disabled",
        )
        for u in users
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@user_group.command("passwd")
@click.argument("login")
@password_stdin_option
@config_option
def passwd_command(login: str, password_stdin: bool, config_path: str | None) -> None:
    """Set a new password for LOGIN; their open sessions end."""
    config = get_config(config_path)
    password = read_password(password_stdin)
    hasher = PasswordHasher()
    ended = run_async(in_database(config, lambda db: change_password(db, hasher, login, password, source=SOURCE)))
    click.echo(f"password of {login.strip().lower()} changed; {ended} open session(s) ended")


@user_group.command("disable")
@click.argument("login")
@config_option
def disable_command(login: str, config_path: str | None) -> None:
    """Stop LOGIN from logging in; their open sessions end (history is kept)."""
    ended = run_async(in_database(get_config(config_path), lambda db: set_active(db, login, False, source=SOURCE)))
    click.echo(f"user {login.strip().lower()} disabled; {ended} open session(s) ended")


@user_group.command("enable")
@click.argument("login")
@config_option
def enable_command(login: str, config_path: str | None) -> None:
    """Let a disabled LOGIN log in again."""
    run_async(in_database(get_config(config_path), lambda db: set_active(db, login, True, source=SOURCE)))
    click.echo(f"user {login.strip().lower()} enabled")


@user_group.command("set")
@click.argument("login")
@click.option("--role", default=None, type=click.Choice([r.value for r in Role]), help="A new role.")
@click.option("--name", "full_name", default=None, help="A new full name shown on screens.")
@click.option("--extension", default=None, help="A new extension (digits), e.g. 7002.")
@click.option("--endpoint", default=None, help="A new phone dial string, e.g. PJSIP/7002.")
@click.option("--no-phone", is_flag=True, help="Remove the extension and endpoint (not for agents).")
@config_option
def set_command(
    login: str,
    role: str | None,
    full_name: str | None,
    extension: str | None,
    endpoint: str | None,
    no_phone: bool,
    config_path: str | None,
) -> None:
    """Change LOGIN's role, name, extension or endpoint; a role or phone change ends their sessions."""
    if no_phone and (extension is not None or endpoint is not None):
        raise click.UsageError("--no-phone: can't be used with --extension or --endpoint")

    async def change(db: AsyncSession) -> AccountChange:
        try:
            return await change_account(
                db,
                login,
                role=role,
                full_name=full_name,
                extension=extension,
                endpoint=endpoint,
                clear_phone=no_phone,
                source=SOURCE,
            )
        except AccountError as exc:
            raise click.UsageError(str(exc)) from None

    result = run_async(in_database(get_config(config_path), change))
    name = login.strip().lower()
    if not result.after:
        click.echo(f"user {name}: nothing to change")
        return
    changes = ", ".join(f"{key} {result.before[key] or '-'} → {result.after[key] or '-'}" for key in result.after)
    click.echo(f"user {name}: {changes}; {result.sessions_ended} open session(s) ended")
