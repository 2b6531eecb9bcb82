"""Validate portfolio records into typed rows, or say exactly what is wrong with them.

One row per debt; a customer's rows share ``id_cliente``. A row is rejected when
the customer id, CPF, name, contract, balance or due date is missing or wrong,
when no phone in it is a valid Brazilian number, or when an optional field that
is filled doesn't parse (birth date, UF, original amount). Phones that don't
parse next to good ones, and a malformed e-mail, only produce warnings: the
debt is still worth importing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import BinaryIO, TypeVar

from dialer.leads.ddd import UFS
from dialer.portfolio.cpf import parse_cpf
from dialer.portfolio.csv_reader import MAX_FIELD_CHARS, CsvLayout, PortfolioCsv, RawRow
from dialer.portfolio.dates import parse_date
from dialer.portfolio.errors import FieldError
from dialer.portfolio.phones import NormalizedPhone, normalize_phone, split_phones
from scripting.money import MoneyFormatError, parse_money

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# How nearly every Brazilian file writes money: "1.234,56" or "1234,56". Taken apart here,
# anything else (R$, signs, dots as decimals, errors) goes to scripting.money.parse_money
_BR_AMOUNT = re.compile(r"([0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+),([0-9]{2})")
MAX_TEXT = 200
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RowRejection:
    """One problem in one cell: spreadsheet row, canonical column, machine code and pt-BR reason."""

    row_number: int
    column: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class RejectedRow:
    row_number: int
    rejections: tuple[RowRejection, ...]


@dataclass(frozen=True, slots=True)
class PortfolioRow:
    """A valid debt row, typed; ``warnings`` lists what was dropped (bad extra phones, bad e-mail)."""

    row_number: int
    customer_id: str
    name: str
    cpf: str
    birth_date: date | None
    phones: tuple[NormalizedPhone, ...]
    email: str | None
    uf: str | None
    contract: str
    creditor: str
    product: str
    original_amount: Decimal | None
    balance: Decimal
    due_date: date
    tags: tuple[str, ...]
    warnings: tuple[RowRejection, ...] = ()


class _Collector:
    """Gathers the problems of one row while its fields are parsed."""

    def __init__(self, row_number: int) -> None:
        self.row_number = row_number
        self.errors: list[RowRejection] = []
        self.warnings: list[RowRejection] = []

    def reject(self, column: str, code: str, reason: str) -> None:
        self.errors.append(RowRejection(self.row_number, column, code, reason))

    def warn(self, column: str, code: str, reason: str) -> None:
        self.warnings.append(RowRejection(self.row_number, column, code, reason))


def _text(raw: RawRow, column: str, issues: _Collector, *, required: str | None = None) -> str:
    value = " ".join((raw.values.get(column) or "").split())
    if required and not value:
        issues.reject(column, required, f"Campo {column} vazio.")
    if len(value) > MAX_TEXT:
        issues.reject(column, "texto_longo_demais", f"{column} com mais de {MAX_TEXT} caracteres.")
    return value


def _parsed(
    raw: RawRow, column: str, parse: Callable[[str], T], issues: _Collector, *, optional: bool = False
) -> T | None:
    text = (raw.values.get(column) or "").strip()
    if optional and not text:
        return None
    try:
        return parse(text)
    except (FieldError, MoneyFormatError) as exc:
        issues.reject(column, exc.code, exc.message_pt)
        return None


def _money(text: str) -> Decimal:
    """parse_money, with the common Brazilian shape read directly (same Decimal, two places)."""
    match = _BR_AMOUNT.fullmatch(text)
    if match is None:
        return parse_money(text)
    return Decimal(f"{match[1].replace('.', '')}.{match[2]}")


def balance_cents(text: str) -> int:
    """A valid balance cell in cents, as the validation would read it (for rows already accepted once)."""
    text = text.strip()
    match = _BR_AMOUNT.fullmatch(text)
    if match is None:
        return int(parse_money(text).scaleb(2))
    return int(match[1].replace(".", "")) * 100 + int(match[2])


def _phones(raw: RawRow, issues: _Collector) -> tuple[NormalizedPhone, ...]:
    found: dict[str, NormalizedPhone] = {}
    problems: list[FieldError] = []
    for text in split_phones(raw.values.get("telefones", "")):
        try:
            phone = normalize_phone(text)
        except FieldError as exc:
            problems.append(exc)
            continue
        found.setdefault(phone.e164, phone)
    if not found:
        detail = "; ".join(p.message_pt.rstrip(".") for p in problems) + "." if problems else "coluna vazia."
        issues.reject("telefones", "sem_telefone_valido", f"Nenhum telefone brasileiro válido: {detail}")
    else:
        for problem in problems:
            issues.warn("telefones", problem.code, f"Telefone ignorado: {problem.message_pt}")
    return tuple(found.values())


def _tags(cell: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in cell.split(","):
        if tag.strip():
            seen.setdefault(" ".join(tag.split()), None)
    return tuple(seen)


def validate_row(raw: RawRow) -> PortfolioRow | RejectedRow:
    """Every check on one record; all problems are reported, not just the first."""
    issues = _Collector(raw.row_number)
    for column in raw.oversized:
        issues.reject(
            column, "campo_grande_demais", f"{column} com mais de {MAX_FIELD_CHARS} caracteres (campo grande demais)."
        )
    if raw.extra:
        issues.reject(
            "(linha)", "colunas_excedentes", f"Linha com {len(raw.extra)} valor(es) além das colunas do cabeçalho."
        )
    customer_id = _text(raw, "id_cliente", issues, required="id_cliente_vazio")
    name = _text(raw, "nome", issues, required="nome_vazio")
    cpf = _parsed(raw, "cpf", parse_cpf, issues)
    birth_date = _parsed(raw, "data_nascimento", parse_date, issues, optional=True)
    phones = _phones(raw, issues)
    contract = _text(raw, "contrato", issues, required="contrato_vazio")
    creditor = _text(raw, "credor", issues)
    product = _text(raw, "produto", issues)

    email = _text(raw, "email", issues) or None
    if email is not None and _EMAIL.fullmatch(email) is None:
        issues.warn("email", "email_invalido", f"E-mail ignorado, formato inválido: {email!r}.")
        email = None

    uf = _text(raw, "uf", issues).upper() or None
    if uf is not None and uf not in UFS:
        issues.reject("uf", "uf_invalida", f"UF desconhecida: {uf!r} (use a sigla, ex.: SP).")

    original_amount = _parsed(raw, "valor_original", _money, issues, optional=True)
    if original_amount is not None and original_amount < 0:
        issues.reject("valor_original", "valor_original_negativo", "Valor original negativo.")

    balance = _parsed(raw, "saldo", _money, issues)
    if balance is not None and balance <= 0:
        issues.reject("saldo", "saldo_nao_positivo", f"Saldo deve ser maior que zero: {raw.values['saldo']!r}.")
    due_date = _parsed(raw, "vencimento", parse_date, issues)

    if issues.errors:
        return RejectedRow(raw.row_number, tuple(issues.errors))
    assert cpf is not None and balance is not None and due_date is not None  # else rejected above
    return PortfolioRow(
        row_number=raw.row_number,
        customer_id=customer_id,
        name=name,
        cpf=cpf,
        birth_date=birth_date,
        phones=phones,
        email=email,
        uf=uf,
        contract=contract,
        creditor=creditor,
        product=product,
        original_amount=original_amount,
        balance=balance,
        due_date=due_date,
        tags=_tags(raw.values.get("tags", "")),
        warnings=tuple(issues.warnings),
    )


class PortfolioReader:
    """Stream a portfolio file: ``layout`` tells what was detected; iterating yields rows or rejections."""

    def __init__(self, stream: BinaryIO, *, column_map: Mapping[str, str] | None = None) -> None:
        self._csv = PortfolioCsv(stream, column_map=column_map)
        self.layout: CsvLayout = self._csv.layout

    def __iter__(self) -> Iterator[PortfolioRow | RejectedRow]:
        for raw in self._csv:
            yield validate_row(raw)


def read_portfolio(
    stream: BinaryIO, *, column_map: Mapping[str, str] | None = None
) -> Iterator[PortfolioRow | RejectedRow]:
    """Validated rows of a portfolio file, one at a time (see :class:`PortfolioReader` for the layout)."""
    return iter(PortfolioReader(stream, column_map=column_map))
