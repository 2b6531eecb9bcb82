"""Read a portfolio CSV as Brazilian spreadsheets save it, one record at a time.

The encoding (UTF-8, with or without BOM, else Windows-1252/Latin-1) and the
delimiter (``;`` as Excel pt-BR writes, ``,`` or tab) are detected from the bytes.
Records stream: memory stays flat whatever the file size. Row numbers are what a
spreadsheet shows: the header is row 1, and a quoted field spanning lines is
still one row.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from dialer.portfolio.errors import PortfolioFormatError

_CHUNK = 1 << 20
DELIMITERS = (";", ",", "\t")
MAX_FIELD_CHARS = 131_072
"""The longest value a cell may hold; a longer one rejects its row (naming row and column)."""
UTF16_REFUSED = "arquivo em UTF-16 não é aceito; salve como UTF-8"

# The csv module refuses a field over its limit (131,072 by default) with an exception that
# ends the whole file at that row; lifting the limit lets the reader go on and reject just
# that row. The limit is process-wide, but the only other CSV reading here (payments) gains
# nothing from a lower one, and the upload size limit still bounds memory.
csv.field_size_limit(2**31 - 1)

COLUMNS = (
    "id_cliente",
    "nome",
    "cpf",
    "data_nascimento",
    "telefones",
    "email",
    "uf",
    "contrato",
    "credor",
    "produto",
    "valor_original",
    "saldo",
    "vencimento",
    "tags",
)
"""Every column Cobra reads, by its canonical (lower-case) name."""

REQUIRED_COLUMNS = ("id_cliente", "nome", "cpf", "telefones", "contrato", "saldo", "vencimento")


def looks_utf16(head: bytes) -> bool:
    """A UTF-16 byte-order mark, or the NUL of every other byte that UTF-16 text without one has."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    sample = head[:64]
    if len(sample) < 4:
        return False
    return max(sample[0::2].count(0), sample[1::2].count(0)) * 2 >= len(sample) // 2


def detect_encoding(stream: BinaryIO) -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` if every byte decodes, else ``cp1252`` or ``latin-1``.

    Reads the whole stream once (in chunks, so memory stays flat) and rewinds it:
    a file that is UTF-8 for its first megabyte and Latin-1 further on is Latin-1.
    UTF-16 (Excel's "Unicode text") is refused by name: read as Latin-1 its header would
    be blamed instead.
    """
    start = stream.tell()
    head = stream.read(64)
    stream.seek(start)
    if looks_utf16(head):
        raise PortfolioFormatError(UTF16_REFUSED)
    head = head[:3]
    if head == codecs.BOM_UTF8:
        stream.seek(start)
        return "utf-8-sig"
    stream.seek(start)
    found = "utf-8"
    for encoding in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := stream.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            stream.seek(start)
            continue
        found = encoding
        break
    else:
        found = "latin-1"  # cp1252 leaves five bytes undefined; latin-1 decodes anything
    stream.seek(start)
    return found


def detect_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most fields, ignoring quoted text."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data record: spreadsheet row number and values by canonical column name."""

    row_number: int
    values: Mapping[str, str]
    extra: tuple[str, ...] = ()
    """Non-empty values beyond the header's last column (the row is malformed)."""
    oversized: tuple[str, ...] = ()
    """Columns whose value is longer than :data:`MAX_FIELD_CHARS` (their values are cut to it)."""


@dataclass(frozen=True)
class CsvLayout:
    """What was detected about a file, for the import report."""

    encoding: str
    delimiter: str
    columns: tuple[str, ...]
    """Canonical names, in file order (None-mapped columns are kept as their header text)."""
    ignored_columns: tuple[str, ...] = field(default=())


def _canonical(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


def _map_header(header: list[str], column_map: Mapping[str, str] | None) -> tuple[list[str], list[str]]:
    mapping = {_canonical(k): _canonical(v) for k, v in (column_map or {}).items()}
    unknown_targets = sorted(set(mapping.values()) - set(COLUMNS))
    if unknown_targets:
        raise PortfolioFormatError(
            f"column mapping points to columns Cobra doesn't know: {', '.join(unknown_targets)}"
            f" (known: {', '.join(COLUMNS)})"
        )
    names = [mapping.get(_canonical(h), _canonical(h)) for h in header]
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if not name:
            continue
        if name in seen:
            raise PortfolioFormatError(
                f"column {name!r} appears twice in the header (columns {seen[name]} and {position})"
            )
        seen[name] = position
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise PortfolioFormatError(
            f"header lacks required column(s): {', '.join(missing)}; found: {', '.join(h for h in names if h)}"
        )
    ignored = [h for h in names if h and h not in COLUMNS]
    return names, ignored


class PortfolioCsv:
    """A portfolio file opened for streaming: ``layout`` first, then iterate :class:`RawRow`."""

    def __init__(self, stream: BinaryIO, *, column_map: Mapping[str, str] | None = None) -> None:
        encoding = detect_encoding(stream)
        self._text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        first = self._text.readline()
        if not first.strip():
            raise PortfolioFormatError("the file is empty or its first line (the header) is blank")
        delimiter = detect_delimiter(first)
        header = next(csv.reader([first], delimiter=delimiter))
        names, ignored = _map_header(header, column_map)
        self._names = names
        self._named = [(i, name) for i, name in enumerate(names) if name]
        self._delimiter = delimiter
        self.layout = CsvLayout(encoding, delimiter, tuple(names), tuple(ignored))

    def __iter__(self) -> Iterator[RawRow]:
        raw_row = self.raw_row
        for row_number, record in self.records():
            yield raw_row(row_number, record)

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """``(row number, values as read)`` of every non-blank record; :meth:`raw_row` names them."""
        row_number = 1
        for record in csv.reader(self._text, delimiter=self._delimiter):
            row_number += 1
            if not "".join(record).strip():
                continue  # blank line: counted, as a spreadsheet shows it, but not a record
            yield row_number, record

    def position(self, column: str) -> int:
        """Where ``column`` (canonical name) is in a record."""
        return self._names.index(column)

    def raw_row(self, row_number: int, record: list[str]) -> RawRow:
        """One record as a :class:`RawRow`: values by column name, cells past the header, oversized cells."""
        width = len(self._names)
        named = self._named
        if len(record) >= width:
            values = {name: record[i] for i, name in named}
        else:
            values = {name: record[i] if i < len(record) else "" for i, name in named}
        oversized: tuple[str, ...] = ()
        if max(map(len, record)) > MAX_FIELD_CHARS:  # rare: look at each cell only then
            oversized = tuple(name for name, value in values.items() if len(value) > MAX_FIELD_CHARS)
            for name in oversized:
                values[name] = values[name][:MAX_FIELD_CHARS]
        extra = tuple(v[:MAX_FIELD_CHARS] for v in record[width:] if v.strip()) if len(record) > width else ()
        return RawRow(row_number, values, extra, oversized)

    def detach(self) -> None:
        """Give the binary stream back to the caller (so closing it is theirs)."""
        self._text.detach()
