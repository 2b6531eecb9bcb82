"""The storage package's exception hierarchy: one root, so callers can catch what they mean."""

from __future__ import annotations


class StorageError(Exception):
    """Root of every error the storage package raises."""


class UnsupportedDatabaseUrl(StorageError, ValueError):
    """The URL names a driver Cobra does not run on (only sqlite+aiosqlite and postgresql+asyncpg)."""


class DatabaseUnavailable(StorageError):
    """The database could not be opened or reached."""


class MigrationError(StorageError):
    """Applying or checking migrations failed."""


class SchemaDrift(MigrationError):
    """The database schema and the models differ; the message lists each difference."""

    def __init__(self, message: str, differences: list[str]) -> None:
        super().__init__(message)
        self.differences = differences


class AlreadyExists(StorageError):
    """A row with the same unique key is already stored; the message names the key."""


class NotFound(StorageError, LookupError):
    """No row with the given key."""


class UnknownField(StorageError, ValueError):
    """An update named a field the model does not have (or that may not be changed)."""


class InvalidValue(StorageError, ValueError):
    """A value given to a repository is not acceptable; the message names the field."""
