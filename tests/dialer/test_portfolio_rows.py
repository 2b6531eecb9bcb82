from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.portfolio.csv_reader import RawRow
from dialer.portfolio.rows import PortfolioReader, PortfolioRow, RejectedRow, _money, read_portfolio, validate_row
from scripting.money import parse_money

FIXTURES = Path(__file__).parent.parent / "fixtures" / "portfolios"

GOOD = {
    "id_cliente": "C1",
    "nome": "José da Conceição",
    "cpf": "529.982.247-25",
    "data_nascimento": "15/04/1980",
    "telefones": "(11) 98765-4321|11 3212-3456",
    "email": "jose@example.com.br",
    "uf": "sp",
    "contrato": "CT-1",
    "credor": "Banco Exemplo",
    "produto": "Cartão",
    "valor_original": "1.000,00",
    "saldo": "1.234,56",
    "vencimento": "10/03/2025",
    "tags": "vip, cartão,vip",
}


def row(**changes: str) -> PortfolioRow | RejectedRow:
    return validate_row(RawRow(7, {**GOOD, **changes}))


def rejection_codes(result: PortfolioRow | RejectedRow) -> set[tuple[str, str]]:
    assert isinstance(result, RejectedRow), result
    assert all(r.row_number == result.row_number for r in result.rejections)
    return {(r.column, r.code) for r in result.rejections}


def test_a_good_row_is_typed() -> None:
    result = row()
    assert isinstance(result, PortfolioRow)
    assert result.cpf == "52998224725"
    assert [p.e164 for p in result.phones] == ["+5511987654321", "+551132123456"]
    assert result.uf == "SP"
    assert result.balance == Decimal("1234.56") and result.original_amount == Decimal("1000.00")
    assert result.due_date == date(2025, 3, 10) and result.birth_date == date(1980, 4, 15)
    assert result.tags == ("vip", "cartão")
    assert result.warnings == ()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"cpf": ""}, {("cpf", "cpf_ausente")}),
        ({"cpf": "529.982.247-24"}, {("cpf", "cpf_invalido")}),
        ({"cpf": "111.111.111-11"}, {("cpf", "cpf_digitos_repetidos")}),
        ({"nome": "  "}, {("nome", "nome_vazio")}),
        ({"id_cliente": ""}, {("id_cliente", "id_cliente_vazio")}),
        ({"contrato": ""}, {("contrato", "contrato_vazio")}),
        ({"saldo": "0,00"}, {("saldo", "saldo_nao_positivo")}),
        ({"saldo": "-5,00"}, {("saldo", "saldo_nao_positivo")}),
        ({"saldo": "abc"}, {("saldo", "valor_invalido")}),
        ({"saldo": ""}, {("saldo", "valor_vazio")}),
        ({"vencimento": "31/02/2025"}, {("vencimento", "data_inexistente")}),
        ({"vencimento": ""}, {("vencimento", "data_vazia")}),
        ({"telefones": "0800 123 4567|abc"}, {("telefones", "sem_telefone_valido")}),
        ({"telefones": ""}, {("telefones", "sem_telefone_valido")}),
        ({"uf": "XX"}, {("uf", "uf_invalida")}),
        ({"data_nascimento": "30/02/1980"}, {("data_nascimento", "data_inexistente")}),
        ({"valor_original": "mil"}, {("valor_original", "valor_invalido")}),
        ({"nome": "x" * 201}, {("nome", "texto_longo_demais")}),
    ],
)
def test_each_rejection_names_column_and_reason(changes: dict[str, str], expected: set[tuple[str, str]]) -> None:
    result = row(**changes)
    assert rejection_codes(result) == expected
    assert isinstance(result, RejectedRow) and all(r.reason for r in result.rejections)


def test_all_problems_of_a_row_are_reported_together() -> None:
    result = row(cpf="", saldo="abc", vencimento="13/13/2025", nome="")
    assert rejection_codes(result) == {
        ("cpf", "cpf_ausente"),
        ("saldo", "valor_invalido"),
        ("vencimento", "data_inexistente"),
        ("nome", "nome_vazio"),
    }


def test_bad_extra_phone_and_email_are_warnings_only() -> None:
    result = row(telefones="(22) 1234|(21) 3212-3456|21 3212 3456", email="maria@")
    assert isinstance(result, PortfolioRow)
    assert [p.e164 for p in result.phones] == ["+552132123456"]  # duplicates collapse
    assert {(w.column, w.code) for w in result.warnings} == {("telefones", "telefone_invalido"), ("email", "email_invalido")}
    assert result.email is None


def test_optional_columns_may_be_empty_or_absent() -> None:
    minimal = {k: GOOD[k] for k in ("id_cliente", "nome", "cpf", "telefones", "contrato", "saldo", "vencimento")}
    result = validate_row(RawRow(2, minimal))
    assert isinstance(result, PortfolioRow)
    assert result.uf is None and result.email is None and result.birth_date is None
    assert result.original_amount is None and result.tags == () and result.creditor == ""


def test_extra_cells_reject_the_row() -> None:
    result = validate_row(RawRow(3, GOOD, extra=("oops",)))
    assert rejection_codes(result) == {("(linha)", "colunas_excedentes")}


def test_the_messy_latin1_fixture() -> None:
    with (FIXTURES / "messy_latin1_semicolon.csv").open("rb") as stream:
        reader = PortfolioReader(stream)
        results = list(reader)
    assert reader.layout.encoding == "cp1252" and reader.layout.delimiter == ";"

    good = {r.row_number: r for r in results if isinstance(r, PortfolioRow)}
    bad = {r.row_number: {(x.column, x.code) for x in r.rejections} for r in results if isinstance(r, RejectedRow)}
    assert sorted(good) == [2, 3, 10, 11, 14]
    assert bad == {
        4: {("cpf", "cpf_invalido")},
        5: {("cpf", "cpf_digitos_repetidos")},
        6: {("nome", "nome_vazio")},
        7: {("saldo", "saldo_nao_positivo")},
        8: {("vencimento", "data_inexistente")},
        9: {("telefones", "sem_telefone_valido")},
        13: {("cpf", "cpf_ausente"), ("saldo", "valor_invalido"), ("vencimento", "data_inexistente")},
    }

    jose, jose_2 = good[2], good[3]
    assert jose.name == "José da Conceição" and jose.customer_id == jose_2.customer_id == "C001"
    assert jose.balance == Decimal("1234.56") and jose.tags == ("vip", "cartão")
    assert jose_2.product == "Empréstimo; consignado"  # quoted delimiter
    assert jose_2.balance == Decimal("2000.00") and jose_2.due_date == date(2024, 11, 5)
    assert good[10].product == "Cartão platinum"  # quoted line break, folded
    assert good[10].phones[0].e164 == "+558136191234"
    maria = good[11]
    assert maria.name == 'Maria "Cida" Souza' and maria.uf == "RJ"
    assert maria.balance == Decimal("10000.50") and maria.tags == ("renegociar", "prioridade")
    assert {w.code for w in maria.warnings} == {"telefone_invalido", "email_invalido"}
    assert good[14].name == "Conceição São João" and good[14].creditor == "Financeira Açaí"
    assert good[14].balance == Decimal("1234.56") and good[14].due_date == date(2024, 2, 29)


def test_the_same_file_in_utf8_with_commas_reads_the_same() -> None:
    import csv

    latin = (FIXTURES / "messy_latin1_semicolon.csv").read_bytes().decode("cp1252")
    records = list(csv.reader(io.StringIO(latin, newline=""), delimiter=";"))
    out = io.StringIO()
    csv.writer(out, delimiter=",").writerows(records)
    as_utf8_commas = list(read_portfolio(io.BytesIO(out.getvalue().encode("utf-8"))))
    with (FIXTURES / "messy_latin1_semicolon.csv").open("rb") as stream:
        original = list(read_portfolio(stream))
    assert as_utf8_commas == original


@given(st.integers(0, 10**12), st.booleans())
def test_money_fast_path_agrees_with_parse_money(cents: int, thousands: bool) -> None:
    reais, rest = divmod(cents, 100)
    whole = f"{reais:,}".replace(",", ".") if thousands else str(reais)
    text = f"{whole},{rest:02d}"
    assert _money(text) == parse_money(text)
    assert _money(text).as_tuple() == parse_money(text).as_tuple()


def _file(rows: list[dict[str, str]], encoding: str = "utf-8") -> io.BytesIO:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(list(GOOD))
    for r in rows:
        writer.writerow([r[c] for c in GOOD])
    return io.BytesIO(out.getvalue().encode(encoding))


def test_a_field_over_the_csv_limit_rejects_its_row_naming_row_and_column_and_the_next_rows_still_read() -> None:
    huge = "x" * 131_073  # Python's csv module refuses anything over 131,072 by default
    results = list(read_portfolio(_file([{**GOOD, "nome": huge}, {**GOOD, "id_cliente": "C2"}])))
    assert len(results) == 2
    first, second = results
    assert isinstance(first, RejectedRow) and first.row_number == 2
    assert ("nome", "campo_grande_demais") in rejection_codes(first)
    assert isinstance(second, PortfolioRow) and second.row_number == 3 and second.customer_id == "C2"


def test_a_utf16_file_is_refused_by_name_instead_of_blaming_the_header() -> None:
    from dialer.portfolio.errors import PortfolioFormatError

    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):  # with BOM, and the two without
        with pytest.raises(PortfolioFormatError, match="arquivo em UTF-16 não é aceito; salve como UTF-8"):
            list(read_portfolio(_file([GOOD], encoding)))
