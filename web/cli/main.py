"""The ``cobra`` command: one entry point, a subcommand per job (SPEC §12)."""

from __future__ import annotations

import click

from web.cli.common import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="cobra-collections", prog_name="cobra")
def cli() -> None:
    """Cobra: outbound collections dialer and agent desktop."""


# Each command group lives in its own module under web/cli/ and is registered here.


def main() -> None:
    cli(prog_name="cobra")
