"""Errors of portfolio parsing: a field that doesn't parse, or a file we can't read as a portfolio."""

from __future__ import annotations

from dialer.errors import DialerError


class PortfolioError(DialerError):
    """Root of the portfolio parsing errors."""


class FieldError(PortfolioError, ValueError):
    """One value is wrong; ``code`` is for machines, ``message_pt`` for the person fixing the file."""

    def __init__(self, code: str, message_pt: str) -> None:
        super().__init__(f"{code}: {message_pt}")
        self.code = code
        self.message_pt = message_pt


class PortfolioFormatError(PortfolioError, ValueError):
    """The file as a whole can't be read (no header, missing or repeated columns...)."""
