from decimal import Decimal

import pytest

from scripting.indices import IndexTableError, Month, Series, load_index_table, parse_index_table


def test_shipped_table_has_the_format_and_no_invented_figures() -> None:
    table = load_index_table()
    assert table.rates == {}


def test_parse_and_accumulate_factor() -> None:
    table = parse_index_table("# comment\nseries,month,percent\nIPCA,2025-03,1.00\nIPCA,2025-04,0.50\n")
    factor = table.factor(Series.IPCA, Month(2025, 3), Month(2025, 5))
    assert factor == Decimal("1.01") * Decimal("1.005")
    assert table.factor(Series.IPCA, Month(2025, 5), Month(2025, 5)) == 1


def test_missing_month_is_named() -> None:
    table = parse_index_table("series,month,percent\nIPCA,2025-03,1.00\n")
    with pytest.raises(IndexTableError, match="IPCA for 2025-04 is not in the index table"):
        table.factor(Series.IPCA, Month(2025, 3), Month(2025, 5))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,c\n", "header must be"),
        ("series,month,percent\nXPTO,2025-01,1\n", r"src:2: column series: unknown series 'XPTO'"),
        ("series,month,percent\nIPCA,2025-13,1\n", "src:2: column month"),
        ("series,month,percent\nIPCA,2025-01,x\n", "src:2: column percent: not a number"),
        ("series,month,percent\nIPCA,2025-01\n", "src:2: expected 3 columns"),
        ("series,month,percent\nTAXA_LEGAL,2025-01,-0.1\n", "taxa legal cannot be negative"),
        ("series,month,percent\nIPCA,2025-01,1\nIPCA,2025-01,2\n", "src:3: duplicate IPCA 2025-01"),
        ("# only a comment\n", "no header"),
    ],
)
def test_bad_tables_name_line_and_column(text: str, message: str) -> None:
    with pytest.raises(IndexTableError, match=message):
        parse_index_table(text, "src")


def test_load_from_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "idx.csv"
    path.write_text("series,month,percent\nIGP-M,2024-12,0.94\n", encoding="utf-8")
    assert load_index_table(path).rate(Series.IGPM, Month(2024, 12)) == Decimal("0.94")
