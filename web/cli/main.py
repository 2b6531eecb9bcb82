"""The ``cobra`` command: one entry point, a subcommand per job (SPEC §12)."""

from __future__ import annotations

import click

from web.cli.common import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="cobra-collections", prog_name="cobra")
def cli() -> None:
    """Cobra: outbound collections dialer and agent desktop."""


# Each command group lives in its own module under web/cli/ and is registered here.
from web.cli import db as _db

cli.add_command(_db.db)
from web.cli import pbx_sim as _pbx_sim

cli.add_command(_pbx_sim.pbx_sim)
from web.cli import pix as _pix

cli.add_command(_pix.pix_command)
from web.cli import script as _script

cli.add_command(_script.script_group)
from web.cli import user as _user

cli.add_command(_user.user_group)
from web.cli import serve as _serve

cli.add_command(_serve.serve)
from web.cli import campaign as _campaign

cli.add_command(_campaign.campaign_group)
from web.cli import portfolio as _portfolio

cli.add_command(_portfolio.import_command)
from web.cli import dnc as _dnc

cli.add_command(_dnc.dnc_group)
from web.cli import payments as _payments

cli.add_command(_payments.payments_group)
from web.cli import demo as _demo

cli.add_command(_demo.demo)
from web.cli import bots as _bots

cli.add_command(_bots.bots)
from web.cli import simulate as _simulate

cli.add_command(_simulate.simulate_command)
from web.cli import asterisk as _asterisk

cli.add_command(_asterisk.asterisk_group)
from web.cli import kpis as _kpis  # noqa: E402

cli.add_command(_kpis.kpis_group)
from web.cli import regua as _regua  # noqa: E402

cli.add_command(_regua.regua_group)
from web.cli import export as _export

cli.add_command(_export.export_group)
from web.cli import qa as _qa

cli.add_command(_qa.qa_group)


def main() -> None:
    cli(prog_name="cobra")


if __name__ == "__main__":
    main()
