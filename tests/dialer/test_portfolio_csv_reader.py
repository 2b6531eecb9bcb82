from __future__ import annotations

import codecs
import io

import pytest

from dialer.portfolio.csv_reader import PortfolioCsv, RawRow, detect_delimiter, detect_encoding
from dialer.portfolio.errors import PortfolioFormatError

HEADER = "id_cliente;nome;cpf;telefones;contrato;saldo;vencimento"


def read(data: bytes, **kw: object) -> tuple[PortfolioCsv, list[RawRow]]:
    reader = PortfolioCsv(io.BytesIO(data), **kw)  # type: ignore[arg-type]
    return reader, list(reader)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("nome\nJosé".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "nome\nJosé".encode(), "utf-8-sig"),
        ("nome\nJosé Conceição".encode("cp1252"), "cp1252"),
        (b"nome\nplain ascii", "utf-8"),
        (b"nome\n\x81\x8d", "latin-1"),  # bytes cp1252 leaves undefined
    ],
)
def test_encoding_detection(data: bytes, encoding: str) -> None:
    stream = io.BytesIO(data)
    assert detect_encoding(stream) == encoding
    assert stream.tell() == 0  # rewound for the real read


def test_latin1_far_into_a_utf8_looking_file_is_found() -> None:
    data = b"nome\n" + b"a" * (3 << 20) + "é".encode("cp1252")
    assert detect_encoding(io.BytesIO(data)) == "cp1252"


def test_utf8_character_across_a_chunk_boundary_is_still_utf8() -> None:
    data = b"a" * ((1 << 20) - 1) + "é".encode()
    assert detect_encoding(io.BytesIO(data)) == "utf-8"


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [
        ("id_cliente;nome;cpf", ";"),
        ("id_cliente,nome,cpf", ","),
        ("id_cliente\tnome\tcpf", "\t"),
        ('"nome, completo";cpf;saldo', ";"),
        ("nome", ","),
    ],
)
def test_delimiter_detection(line: str, delimiter: str) -> None:
    assert detect_delimiter(line) == delimiter


def test_header_is_case_insensitive_and_rows_are_numbered_like_a_spreadsheet() -> None:
    data = (
        "\ufeffID_Cliente ; Nome;CPF;Telefones;Contrato;Saldo;Vencimento;Observação\r\n"
        'C1;"Ana\r\nMaria";1;2;3;4;5;x\r\n'
        "\r\n"
        "C2;Bia;1;2;3;4;5\r\n"
    ).encode("utf-8")
    reader, rows = read(data)
    assert reader.layout.encoding == "utf-8-sig"
    assert reader.layout.columns[0] == "id_cliente"  # no BOM left in the first column's name
    assert reader.layout.delimiter == ";"
    assert reader.layout.ignored_columns == ("observação",)
    assert [row.row_number for row in rows] == [2, 4]  # row 3 is blank; "Ana\nMaria" is one row
    assert rows[0].values["nome"] == "Ana\r\nMaria" and rows[0].values["id_cliente"] == "C1"
    assert rows[1].values["observação"] == ""  # short row: missing trailing cells are empty


def test_extra_cells_are_reported() -> None:
    _, rows = read(f"{HEADER}\nC1;A;1;2;3;4;5;surprise;\n".encode())
    assert rows[0].extra == ("surprise",)


def test_column_mapping_for_other_headers() -> None:
    data = b"codigo,cliente,documento,fones,contrato,divida,venc\nC1,Ana,1,2,3,4,5\n"
    mapping = {"Codigo": "id_cliente", "cliente": "nome", "DOCUMENTO": "cpf", "fones": "telefones", "divida": "saldo", "venc": "vencimento"}
    _, rows = read(data, column_map=mapping)
    assert rows[0].values == {"id_cliente": "C1", "nome": "Ana", "cpf": "1", "telefones": "2", "contrato": "3", "saldo": "4", "vencimento": "5"}


def test_mapping_to_an_unknown_column_is_refused() -> None:
    with pytest.raises(PortfolioFormatError, match="doesn't know: divida"):
        read(f"{HEADER}\n".encode(), column_map={"saldo": "divida"})


def test_missing_required_columns_are_named() -> None:
    with pytest.raises(PortfolioFormatError, match="lacks required column\\(s\\): cpf, saldo"):
        read(b"id_cliente;nome;telefones;contrato;vencimento\n")


def test_repeated_column_is_refused_with_positions() -> None:
    with pytest.raises(PortfolioFormatError, match="'cpf' appears twice.*columns 3 and 8"):
        read(f"{HEADER};CPF\n".encode())


@pytest.mark.parametrize("data", [b"", b"\n\n", b"   \r\n"])
def test_empty_file(data: bytes) -> None:
    with pytest.raises(PortfolioFormatError, match="empty"):
        read(data)


def test_rows_stream_without_reading_ahead() -> None:
    body = "".join(f"C{i};N;1;2;3;4;5\n" for i in range(50_000))
    stream = io.BytesIO(f"{HEADER}\n{body}".encode())
    reader = PortfolioCsv(stream)
    first = next(iter(reader))
    assert first.row_number == 2
    assert stream.tell() < 64 * 1024  # only a buffer's worth has been read, not the whole file
