"""One logging setup for the commands that run the service (``cobra serve``, ``cobra demo``,
``cobra pbx-sim``): ``2026-12-04 15:32:44,123 INFO dialer.ami.gateway: ...`` lines on stderr.

``[log] format`` picks the line: ``text`` (that one, for people), ``json`` (one object per line,
for a log collector) or ``kv`` (``key=value`` pairs, greppable and parseable). The structured
ones carry every ``extra=`` a log call gave (``call_id``, ``agent_id``, aiohttp's access fields
...), so a collector can search by call or agent without parsing the message.

Status lines meant for the operator stay on stdout (``click.echo``); logs go to stderr so
a supervisor (systemd, docker) can keep them apart and timestamp-free output never mixes in.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_LEVEL = "INFO"
FORMATS: tuple[str, ...] = ("text", "json", "kv")
DEFAULT_FORMAT = "text"

# Third-party loggers that are chatty at INFO and say nothing an operator acts on: one line
# per HTTP request (aiohttp.access), migration chatter (alembic), connection noise
# (panoramisk, aiosqlite, websockets). They follow the chosen level only when it is DEBUG,
# or, for the access log, when asked for it.
NOISY: tuple[str, ...] = ("aiohttp.access", "alembic", "panoramisk", "aiosqlite", "websockets")
NOISY_LEVEL = logging.WARNING


class _CobraHandler(logging.StreamHandler):
    """The handler this module installs (a second setup replaces it instead of doubling lines).

    Without a fixed stream it writes to whatever ``sys.stderr`` is at the time, as logging's
    own last-resort handler does, so a command run in-process (click's test runner swaps
    stderr) never leaves a handler writing to a closed stream.
    """

    def __init__(self, stream: TextIO | None) -> None:
        logging.Handler.__init__(self)
        self._fixed = stream

    @property
    def stream(self) -> TextIO:
        return self._fixed if self._fixed is not None else sys.stderr


# What every LogRecord has: anything else on a record came from the call's ``extra=``
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")}


def _fields(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, Any]:
    """The record as ordered fields: time (UTC, ISO 8601), level, logger, message, extras, exception."""
    out: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "logger": record.name,
        "msg": record.getMessage(),
    }
    for key, value in _extras(record).items():
        out.setdefault(key, value)
    if record.exc_info:
        out["exc"] = formatter.formatException(record.exc_info)
    elif record.exc_text:
        out["exc"] = record.exc_text
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per line (values that JSON can't hold are written as their ``str``)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record, self), ensure_ascii=False, default=str)


def _kv_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if text and not any(c in text for c in ' "=\\\n\r\t'):
        return text
    return json.dumps(text, ensure_ascii=False)  # quoted, with quotes, backslashes and newlines escaped


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=INFO logger=web.agent.http msg="..." call_id=...`` on one line (logfmt)."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_kv_value(value)}" for key, value in _fields(record, self).items())


def _formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter()
    if fmt == "kv":
        return KeyValueFormatter()
    return logging.Formatter(FORMAT)


def parse_format(value: str) -> str:
    """``value`` as one of :data:`FORMATS` (case-insensitive); ``ValueError`` naming the choices."""
    fmt = value.strip().lower()
    if fmt not in FORMATS:
        raise ValueError(f"{value!r} is not a log format (one of {', '.join(FORMATS)})")
    return fmt


def parse_level(value: str) -> str:
    """``value`` as one of :data:`LEVELS` (case-insensitive); ``ValueError`` naming the choices."""
    level = value.strip().upper()
    if level not in LEVELS:
        raise ValueError(f"{value!r} is not a log level (one of {', '.join(name.lower() for name in LEVELS)})")
    return level


def configure_logging(
    level: str = DEFAULT_LEVEL, *, access_log: bool = False, stream: TextIO | None = None, fmt: str = DEFAULT_FORMAT
) -> None:
    """Send every logger's records at ``level`` and above to ``stream`` (stderr) with a timestamp,
    as ``fmt`` lines (:data:`FORMATS`).

    Calling it again replaces the previous setup (tests, a command calling another).
    """
    name = parse_level(level)
    formatter = _formatter(parse_format(fmt))
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _CobraHandler):
            root.removeHandler(handler)
            handler.close()
    handler = _CobraHandler(stream)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(name)
    for noisy in NOISY:
        if name == "DEBUG" or (noisy == "aiohttp.access" and access_log):
            logging.getLogger(noisy).setLevel(logging.NOTSET)  # follow the root level
        else:
            logging.getLogger(noisy).setLevel(max(NOISY_LEVEL, getattr(logging, name)))
