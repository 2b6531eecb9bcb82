"""``cobra asterisk ...``: put on the Asterisk host what the shipped dialplan needs."""

from __future__ import annotations

from pathlib import Path

import click

from dialer.asterisk import sounds
from web.cli.common import CONTEXT_SETTINGS, config_option, get_config


@click.group("asterisk", context_settings=CONTEXT_SETTINGS)
def asterisk_group() -> None:
    """Files the shipped Asterisk dialplan uses (see dialer/asterisk/README.md)."""


@asterisk_group.command("sounds", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=sounds.DEFAULT_SOUNDS_DIR,
    show_default=True,
    help="Where to write abandono.wav and abandono.ulaw: <astdatadir>/sounds/pt_BR/cobra, the path "
    "extensions.conf checks (${ASTDATADIR}). The default is a stock Asterisk's (astdatadir = "
    "/var/lib/asterisk); a packaged Asterisk may set another astdatadir in asterisk.conf [directories].",
)
@click.option(
    "--generate",
    is_flag=True,
    help="Speak the message with [company] name and phone from the configuration "
    "(needs espeak-ng and sox) instead of copying the shipped generic one.",
)
@click.option("--generic", is_flag=True, help="With --generate: speak the shipped generic text (how it was made).")
@config_option
def sounds_command(directory: Path, generate: bool, generic: bool, config_path: str | None) -> None:
    """Install the abandon message the dialplan plays to a customer nobody could take.

    Without --generate, copies the shipped generic pt-BR recording ("... ligue de volta para
    o número que aparece no seu telefone"). SPEC §3 wants it to name the company and a number
    to call back: set [company] name and phone and use --generate. Asterisk picks the files up
    on the next abandoned call; no reload needed.
    """
    if generic and not generate:
        raise click.UsageError("--generic only makes sense with --generate")
    try:
        if generate:
            if generic:
                text = sounds.GENERIC_TEXT
            else:
                company = get_config(config_path, needs_database=False).company
                text = sounds.company_text(company.name, company.phone)
            written = sounds.generate(text, directory)
            click.echo(f'cobra asterisk sounds: spoke "{text}"')
        else:
            written = sounds.install(directory)
    except sounds.SoundError as exc:
        raise click.ClickException(str(exc)) from None
    for path in written:
        click.echo(f"cobra asterisk sounds: wrote {path}")
