"""One logging setup for the commands that run the service (``cobra serve``, ``cobra demo``,
``cobra pbx-sim``): ``2026-12-04 15:32:44,123 INFO dialer.ami.gateway: ...`` lines on stderr.

Status lines meant for the operator stay on stdout (``click.echo``); logs go to stderr so
a supervisor (systemd, docker) can keep them apart and timestamp-free output never mixes in.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_LEVEL = "INFO"

# Third-party loggers that are chatty at INFO and say nothing an operator acts on: one line
# per HTTP request (aiohttp.access), migration chatter (alembic), connection noise
# (panoramisk, aiosqlite, websockets). They follow the chosen level only when it is DEBUG,
# or, for the access log, when asked for it.
NOISY: tuple[str, ...] = ("aiohttp.access", "alembic", "panoramisk", "aiosqlite", "websockets")
NOISY_LEVEL = logging.WARNING


class _CobraHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs (a second setup replaces it instead of doubling lines).

    Without a fixed stream it writes to whatever ``sys.stderr`` is at the time, as logging's
    own last-resort handler does, so a command run in-process (click's test runner swaps
    stderr) never leaves a handler writing to a closed stream.
    """

    def __init__(self, stream: TextIO | None) -> None:
        logging.Handler.__init__(self)
        self._fixed = stream

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return self._fixed if self._fixed is not None else sys.stderr


def parse_level(value: str) -> str:
    """``value`` as one of :data:`LEVELS` (case-insensitive); ``ValueError`` naming the choices."""
    level = value.strip().upper()
    if level not in LEVELS:
        raise ValueError(f"{value!r} is not a log level (one of {', '.join(l.lower() for l in LEVELS)})")
    return level


def configure_logging(level: str = DEFAULT_LEVEL, *, access_log: bool = False, stream: TextIO | None = None) -> None:
    """Send every logger's records at ``level`` and above to ``stream`` (stderr) with a timestamp.

    Calling it again replaces the previous setup (tests, a command calling another).
    """
    name = parse_level(level)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _CobraHandler):
            root.removeHandler(handler)
            handler.close()
    handler = _CobraHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(name)
    for noisy in NOISY:
        if name == "DEBUG" or (noisy == "aiohttp.access" and access_log):
            logging.getLogger(noisy).setLevel(logging.NOTSET)  # follow the root level
        else:
            logging.getLogger(noisy).setLevel(max(NOISY_LEVEL, getattr(logging, name)))
