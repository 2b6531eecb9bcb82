"""``cobra dnc``: the do-not-call list by phone or CPF, permanent or until a date (SPEC §4, §5).

``cobra dnc import FILE`` reads a suppression list such as Procon-SP's "Não Me Ligue":
one phone or CPF per line, or a CSV whose header names a ``telefone`` and/or ``cpf`` column.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.portfolio.cpf import format_cpf, is_valid_cpf, parse_cpf
from dialer.portfolio.csv_reader import detect_delimiter, detect_encoding
from dialer.portfolio.dates import parse_date
from dialer.portfolio.errors import FieldError, PortfolioFormatError
from dialer.portfolio.phones import format_phone, normalize_phone
from storage.models import DncKind
from storage.repositories.audit import record
from storage.repositories.dnc import (
    DncItem,
    DncSaved,
    add_entries,
    list_entries,
    remove_entry,
)
from web.audit_trail import cli_actor, file_label, transfer_entry
from web.cli.common import (
    CONTEXT_SETTINGS,
    config_option,
    get_config,
    in_database,
    run_async,
)

PHONE_HEADERS = frozenset({"telefone", "telefones", "phone", "numero", "número", "fone", "celular"})
CPF_HEADERS = frozenset({"cpf", "documento", "cpf_cnpj"})


def _until(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return parse_date(value)
    except FieldError as exc:
        raise click.BadParameter(exc.message_pt, param_hint="--until") from None


def _target(phone: str | None, cpf: str | None) -> tuple[DncKind, str]:
    if (phone is None) == (cpf is None):
        raise click.UsageError("give exactly one of --phone or --cpf")
    try:
        if phone is not None:
            return DncKind.PHONE, normalize_phone(phone).e164
        assert cpf is not None
        return DncKind.CPF, parse_cpf(cpf)
    except FieldError as exc:
        raise click.BadParameter(exc.message_pt, param_hint="--phone" if phone is not None else "--cpf") from None


def _show(kind: DncKind | str, value: str) -> str:
    return format_phone(value) if DncKind(kind) is DncKind.PHONE else format_cpf(value)


@click.group("dnc", context_settings=CONTEXT_SETTINGS)
def dnc_group() -> None:
    """The do-not-call list: phones and CPFs never dialled (permanently or until a date)."""


target_options = [
    click.option("--phone", default=None, help='A phone, e.g. "(11) 98765-4321".'),
    click.option("--cpf", default=None, help="A CPF, e.g. 529.982.247-25."),
]


@dnc_group.command("add")
@target_options[0]
@target_options[1]
@click.option("--until", "until_text", default=None, help="Last day of the entry (dd/mm/aaaa); permanent if absent.")
@click.option("--source", default="manual", show_default=True, help='Where it comes from, e.g. "cliente", "procon-sp".')
@config_option
def add_command(phone: str | None, cpf: str | None, until_text: str | None, source: str, config_path: str | None) -> None:
    """Add (or update) one phone or CPF."""
    kind, value = _target(phone, cpf)
    until = _until(until_text)

    async def add(db: AsyncSession) -> DncSaved:
        saved = await add_entries(db, [DncItem(kind, value, until, source)])
        await record(db, user_id=None, action="dnc.add", entity="dnc", entity_id=f"{kind.value}:{value}", before=None,
                     after={"until": until.isoformat() if until else None, "source": source})
        return saved

    saved = run_async(in_database(get_config(config_path), add))
    what = "added" if saved.added else ("updated" if saved.updated else "already listed")
    when = f" until {until.strftime('%d/%m/%Y')}" if until else " permanently"
    click.echo(f"{kind.value} {_show(kind, value)} {what}{when}")


@dnc_group.command("remove")
@target_options[0]
@target_options[1]
@config_option
def remove_command(phone: str | None, cpf: str | None, config_path: str | None) -> None:
    """Remove one phone or CPF from the list."""
    kind, value = _target(phone, cpf)

    async def remove(db: AsyncSession) -> bool:
        removed = await remove_entry(db, kind, value)
        if removed:
            await record(db, user_id=None, action="dnc.remove", entity="dnc", entity_id=f"{kind.value}:{value}",
                         before={"listed": True}, after=None)
        return removed

    if not run_async(in_database(get_config(config_path), remove)):
        raise click.ClickException(f"{kind.value} {_show(kind, value)} is not on the do-not-call list")
    click.echo(f"{kind.value} {_show(kind, value)} removed")


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    value: str
    reason: str


_CPF_SHAPE = re.compile(r"[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}")


def _classify(value: str, column: str | None) -> tuple[DncKind, str]:
    """A cell → (kind, normalised value); FieldError with a pt-BR reason when it is neither or both."""
    if column == "cpf" or _CPF_SHAPE.fullmatch(value):
        return DncKind.CPF, parse_cpf(value)
    if column == "phone" or not value.isdigit():
        return DncKind.PHONE, normalize_phone(value).e164
    try:
        phone: str | None = normalize_phone(value).e164
    except FieldError:
        phone = None
    if is_valid_cpf(value):
        if phone is not None:
            raise FieldError("ambiguo", f"{value!r} pode ser CPF ou telefone: use um cabeçalho cpf ou telefone.")
        return DncKind.CPF, parse_cpf(value)
    if phone is not None:
        return DncKind.PHONE, phone
    raise FieldError("valor_invalido", f"Nem telefone nem CPF válido: {value!r}.")


def read_dnc_file(path: Path, *, until: date | None, source: str, bad: list[BadLine]) -> Iterator[DncItem]:
    """Entries of a suppression-list file; unreadable lines are appended to ``bad``."""
    with path.open("rb") as raw:
        encoding = detect_encoding(raw)
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        first = text.readline()
        delimiter = detect_delimiter(first)
        header = [h.strip().lstrip("\ufeff").lower() for h in next(csv.reader([first], delimiter=delimiter), [])]
        columns: list[tuple[int, str | None]] = [
            (i, "phone" if h in PHONE_HEADERS else "cpf") for i, h in enumerate(header) if h in PHONE_HEADERS | CPF_HEADERS
        ]
        lines: Iterator[tuple[int, list[str]]]
        rows = csv.reader(text, delimiter=delimiter)
        if columns:
            lines = ((n, row) for n, row in enumerate(rows, start=2))
        else:
            columns = [(0, None)]
            first_row = next(csv.reader([first], delimiter=delimiter), [])
            lines = enumerate(itertools.chain([first_row], rows), start=1)
        for number, row in lines:
            for index, column in columns:
                value = row[index].strip() if index < len(row) else ""
                if not value:
                    continue
                try:
                    kind, normal = _classify(value, column)
                except FieldError as exc:
                    bad.append(BadLine(number, value, exc.message_pt))
                    continue
                yield DncItem(kind, normal, until, source)


@dnc_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default="lista", show_default=True, help='Where the list comes from, e.g. "procon-sp".')
@click.option("--until", "until_text", default=None, help="Last day the entries hold (dd/mm/aaaa); permanent if absent.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@config_option
def import_command(file: Path, source: str, until_text: str | None, as_json: bool, config_path: str | None) -> None:
    """Import phones and CPFs from FILE (one per line, or CSV with a telefone/cpf header)."""
    until = _until(until_text)
    bad: list[BadLine] = []

    async def load(db: AsyncSession) -> DncSaved:
        saved = await add_entries(db, read_dnc_file(file, until=until, source=source, bad=bad))
        await record(db, user_id=None, action="dnc.import", entity="dnc", entity_id=file.name[:64], before=None,
                     after={"added": saved.added, "updated": saved.updated, "source": source,
                            "until": until.isoformat() if until else None, "by": cli_actor(),
                            "file": file_label(file), "rejected": len(bad)})
        return saved

    try:
        saved = run_async(in_database(get_config(config_path), load))
    except PortfolioFormatError as exc:  # a UTF-16 file, refused by name
        raise click.ClickException(f"{file}: {exc}") from None
    if as_json:
        click.echo(json.dumps({
            "added": saved.added, "updated": saved.updated, "unchanged": saved.unchanged,
            "rejected": [{"linha": b.line, "valor": b.value, "motivo": b.reason} for b in bad],
        }, ensure_ascii=False))
        return
    click.echo(f"{saved.added} added, {saved.updated} updated, {saved.unchanged} already listed, {len(bad)} rejected")
    for b in bad:
        click.echo(f"line {b.line}: {b.reason}", err=True)


@dnc_group.command("list")
@click.option("--kind", type=click.Choice([k.value for k in DncKind]), default=None, help="Only phones or only CPFs.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@config_option
def list_command(kind: str | None, as_json: bool, config_path: str | None) -> None:
    """List the do-not-call entries."""

    async def fetch(db: AsyncSession) -> list[tuple[str, str, date | None, str]]:
        found = [(DncKind(e.kind).value, e.value, e.until, e.source) for e in await list_entries(db, kind=kind)]
        # the list prints whole CPFs and phones: it is an export of personal data, so it is audited
        await record(db, user_id=None, action="dnc.export", entity="dnc", entity_id=None,
                     after=transfer_entry(source="cli", actor=cli_actor(), file=None,
                                          figures={"entries": len(found), "kind": kind,
                                                   "format": "json" if as_json else "table"}))
        return found

    entries = run_async(in_database(get_config(config_path), fetch))
    if as_json:
        click.echo(json.dumps([
            {"kind": k, "value": v, "until": u.isoformat() if u else None, "source": s} for k, v, u, s in entries
        ], ensure_ascii=False))
        return
    if not entries:
        click.echo("the do-not-call list is empty")
    for k, v, u, s in entries:
        click.echo(f"{k:5}  {_show(k, v):16}  {'até ' + u.strftime('%d/%m/%Y') if u else 'permanente':16}  {s}")
