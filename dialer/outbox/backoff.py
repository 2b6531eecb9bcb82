"""Retry schedule: exponential backoff with a cap, and a final failure after ``max_attempts``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 6
    initial: timedelta = timedelta(seconds=30)
    maximum: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial <= timedelta(0) or self.maximum < self.initial:
            raise ValueError("backoff needs 0 < initial <= maximum")

    def delay_after(self, attempts: int) -> timedelta | None:
        """How long to wait after the ``attempts``-th failure; None when that was the last attempt."""
        if attempts >= self.max_attempts:
            return None
        return min(self.initial * (2 ** max(0, attempts - 1)), self.maximum)
