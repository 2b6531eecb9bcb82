"""What the audit log says about file imports and exports (SPEC §11: "every export ... audited").

Each import of a file (portfolio over the CLI or REST, payments, do-not-call) and each export
writes one entry naming who did it (the user id for the web, the operating-system account for
the CLI, where no one logs in), through which door (``source``: ``cli`` or ``api``), the file's
name and the figures; never the file's contents.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

MAX_NAME = 200


def cli_actor() -> str:
    """The operating-system account running the command (``cli:ana``); the uid when it has no name."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry (containers)
        name = f"uid {os.getuid()}"
    return f"cli:{name}"


def file_label(name: str | os.PathLike[str] | None) -> str | None:
    """A file's base name as the audit keeps it (no directories: they say nothing about the data)."""
    if name is None:
        return None
    return PurePath(os.fspath(name)).name[:MAX_NAME] or None


def transfer_entry(
    *, source: str, actor: str, file: str | os.PathLike[str] | None, figures: Mapping[str, Any], **extra: Any
) -> dict[str, Any]:
    """The ``after`` of an import or export entry: who, how, which file, how many (who and how win
    over a figure of the same name)."""
    return {**figures, **extra, "source": source, "by": actor, "file": file_label(file)}


__all__ = ["cli_actor", "file_label", "transfer_entry"]
