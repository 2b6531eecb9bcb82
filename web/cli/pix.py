"""``cobra pix``: prints a Pix "copia e cola" payload (and optionally writes its QR code as SVG)."""

from __future__ import annotations

from pathlib import Path

import click

from scripting.money import parse_money
from scripting.pix import PixError, build_pix_payload


@click.command("pix")
@click.option("--key", required=True, help="Pix key: CPF, CNPJ, e-mail, +55 phone or random (EVP) key.")
@click.option("--name", required=True, help="Receiver (merchant) name; accents removed, cut to 25 characters.")
@click.option("--city", required=True, help="Receiver city; accents removed, cut to 15 characters.")
@click.option("--amount", default=None, help="Amount in R$, e.g. 150.00 or 1.234,56 (omit for an open amount).")
@click.option("--txid", default=None, help="Transaction id: up to 25 letters/digits (default ***).")
@click.option("--description", default=None, help="Optional message shown to the payer.")
@click.option(
    "--qr",
    "qr_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the QR code to this .svg file (needs the segno package).",
)
def pix_command(
    key: str,
    name: str,
    city: str,
    amount: str | None,
    txid: str | None,
    description: str | None,
    qr_path: Path | None,
) -> None:
    """Print a static Pix BR Code ("copia e cola") that any Pix app can read."""
    try:
        value = parse_money(amount) if amount is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--amount") from None
    try:
        payload = build_pix_payload(key, name, city, amount=value, txid=txid, description=description)
    except PixError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(payload)
    if qr_path is not None:
        if qr_path.suffix.lower() != ".svg":
            raise click.BadParameter("the QR code is written as SVG: use a .svg file name", param_hint="--qr")
        try:
            import segno
        except ImportError:
            raise click.ClickException("--qr needs the segno package (pip install segno)") from None
        # Error level M is what Pix apps and banks commonly print; micro QR is not readable by them.
        segno.make(payload, error="m", micro=False).save(str(qr_path), kind="svg", scale=4, border=4)
        click.echo(f"QR code: {qr_path}", err=True)
