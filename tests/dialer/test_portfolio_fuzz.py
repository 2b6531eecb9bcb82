"""Fuzzing the portfolio CSV reader and row parser (``dialer/portfolio/csv_reader.py``, ``rows.py``).

Whatever text a file holds, reading it either refuses the whole file with
:class:`PortfolioFormatError` (no header, missing columns, UTF-16...) or yields one result
per record: a typed row, or a rejection whose every problem names the row, the column and
the reason. Nothing else escapes.
"""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.portfolio.csv_reader import COLUMNS, REQUIRED_COLUMNS
from dialer.portfolio.errors import PortfolioFormatError
from dialer.portfolio.rows import PortfolioReader, PortfolioRow, RejectedRow

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KNOWN_COLUMNS = {*COLUMNS, "(linha)"}

cells = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "529.982.247-25", "(11) 98765-4321", "1.234,56", "10/03/2025", "SP", "x" * 250, "y" * 131_073, '"', ";"]),
)


def _read(data: bytes) -> list[PortfolioRow | RejectedRow] | None:
    """Every result of the file, or None when the file as a whole is refused (the documented error)."""
    try:
        return list(PortfolioReader(io.BytesIO(data)))
    except PortfolioFormatError:
        return None


def _check(results: list[PortfolioRow | RejectedRow]) -> None:
    numbers = [r.row_number for r in results]
    assert numbers == sorted(set(numbers)) and all(n >= 2 for n in numbers)  # row 1 is the header
    for result in results:
        if isinstance(result, RejectedRow):
            assert result.rejections
            for problem in result.rejections:
                assert problem.row_number == result.row_number
                assert problem.column in KNOWN_COLUMNS, problem
                assert problem.code and problem.reason.strip()


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_are_refused_as_a_file_or_read_row_by_row(data: bytes) -> None:
    results = _read(data)
    if results is not None:
        _check(results)


@FUZZ
@given(st.text(max_size=2000), st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_arbitrary_text_under_a_good_header(body: str, encoding: str) -> None:
    text = ";".join(COLUMNS) + "\r\n" + body
    data = text.encode(encoding, errors="replace")
    results = _read(data)
    if results is not None:
        _check(results)


@FUZZ
@given(
    st.lists(st.lists(cells, min_size=0, max_size=len(COLUMNS) + 2), max_size=15),
    st.sampled_from([";", ",", "\t"]),
)
def test_every_record_of_a_well_quoted_file_gets_one_result(records: list[list[str]], delimiter: str) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(COLUMNS)
    writer.writerows(records)
    results = _read(out.getvalue().encode("utf-8"))
    assert results is not None  # the header is good: the file is never refused as a whole
    _check(results)
    # one result per record that is not blank (blank lines are counted, not reported)
    assert len(results) == sum(1 for r in records if any(c.strip() for c in r))


@FUZZ
@given(st.lists(st.sampled_from(COLUMNS), max_size=len(COLUMNS), unique=True))
def test_a_header_is_accepted_exactly_when_it_has_every_required_column(header: list[str]) -> None:
    data = (";".join(header) + "\n").encode("utf-8")
    accepted = _read(data) is not None
    assert accepted == (set(REQUIRED_COLUMNS) <= set(header))
