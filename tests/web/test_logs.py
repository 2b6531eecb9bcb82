"""web/logs.py: the one logging setup of the commands that run the service."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from web.config import ConfigError, load_config
from web.logs import NOISY, configure_logging

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) (?P<name>[\w.]+): (?P<msg>.*)$")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The setup changes process-wide state: put it back for the next test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, lvl in noisy.items():
        logging.getLogger(name).setLevel(lvl)


def test_records_come_out_with_timestamp_level_and_logger() -> None:
    out = io.StringIO()
    configure_logging("info", stream=out)
    logging.getLogger("dialer.ami.gateway").info("AMI %s: link up", "127.0.0.1:5038")
    logging.getLogger("dialer.ami.gateway").debug("not at info")
    [line] = out.getvalue().splitlines()
    match = LINE.match(line)
    assert match is not None, line
    assert match.group("level", "name", "msg") == ("INFO", "dialer.ami.gateway", "AMI 127.0.0.1:5038: link up")


def test_a_second_setup_replaces_the_first_instead_of_doubling_lines() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("info", stream=first)
    configure_logging("warning", stream=second)
    logging.getLogger("cobra.test").warning("once")
    logging.getLogger("cobra.test").info("filtered")
    assert first.getvalue() == ""
    assert [m.group("msg") for m in map(LINE.match, second.getvalue().splitlines()) if m] == ["once"]


def test_the_access_log_and_other_chatty_libraries_stay_quiet_at_info() -> None:
    out = io.StringIO()
    configure_logging("info", stream=out)
    logging.getLogger("aiohttp.access").info('127.0.0.1 "GET /login HTTP/1.1" 200')
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("aiohttp.server").error("a real problem")
    assert [LINE.match(line).group("name") for line in out.getvalue().splitlines()] == ["aiohttp.server"]  # type: ignore[union-attr]


def test_the_access_log_when_asked_for_or_at_debug() -> None:
    out = io.StringIO()
    configure_logging("info", access_log=True, stream=out)
    logging.getLogger("aiohttp.access").info("GET /login")
    configure_logging("debug", stream=out)
    logging.getLogger("aiohttp.access").info("GET /agente")
    assert [LINE.match(line).group("msg") for line in out.getvalue().splitlines()] == ["GET /login", "GET /agente"]  # type: ignore[union-attr]


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="'loud' is not a log level"):
        configure_logging("loud")


def test_log_section_of_the_configuration(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[log]\nlevel = "debug"\naccess = true\n', encoding="utf-8")
    config = load_config(path, environ={})
    assert (config.log.level, config.log.access) == ("DEBUG", True)
    assert load_config(path, environ={"COBRA_LOG__LEVEL": "Warning"}).log.level == "WARNING"
    with pytest.raises(ConfigError, match=r"config key 'log\.level'.*'loud' is not a log level"):
        load_config(path, environ={"COBRA_LOG__LEVEL": "loud"})


def test_default_level_is_info(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(None, environ={}).log.level == "INFO"


def test_without_a_stream_it_writes_to_the_current_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    configure_logging("info")
    later = io.StringIO()
    monkeypatch.setattr("sys.stderr", later)  # as click's test runner does
    logging.getLogger("cobra.test").info("to whatever stderr is now")
    assert later.getvalue().endswith("INFO cobra.test: to whatever stderr is now\n")


def test_json_lines_carry_the_call_and_agent_ids_given_as_extra() -> None:
    out = io.StringIO()
    configure_logging("info", stream=out, fmt="json")
    log = logging.getLogger("web.agent.http")
    log.warning("agent %s: no Pix for call %s", 7, "c-1", extra={"agent_id": 7, "call_id": "c-1"})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("falhou: ação \"x\"")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["level"] == "WARNING" and first["logger"] == "web.agent.http"
    assert first["msg"] == "agent 7: no Pix for call c-1"
    assert (first["agent_id"], first["call_id"]) == (7, "c-1")
    assert first["ts"].endswith("+00:00")
    assert second["msg"] == 'falhou: ação "x"' and "ValueError: boom" in second["exc"]


def test_key_value_lines_quote_what_needs_it() -> None:
    out = io.StringIO()
    configure_logging("info", stream=out, fmt="kv")
    logging.getLogger("web.agent.hub").warning("socket cut (fila cheia)", extra={"agent_id": 3})
    [line] = out.getvalue().splitlines()
    assert line.startswith("ts=") and " level=WARNING logger=web.agent.hub " in line
    assert line.endswith(' msg="socket cut (fila cheia)" agent_id=3')


def test_the_access_log_in_json_keeps_aiohttps_fields() -> None:
    out = io.StringIO()
    configure_logging("info", access_log=True, stream=out, fmt="json")
    # what aiohttp's AccessLogger does: the formatted line plus its fields as extra
    logging.getLogger("aiohttp.access").info(
        '127.0.0.1 "GET /healthz HTTP/1.1" 200', extra={"remote_address": "127.0.0.1", "response_status": 200}
    )
    [record] = (json.loads(line) for line in out.getvalue().splitlines())
    assert record["logger"] == "aiohttp.access" and record["response_status"] == 200


def test_log_format_comes_from_the_config_and_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "cobra.toml"
    path.write_text('[log]\nformat = "JSON"\n', encoding="utf-8")
    assert load_config(path, environ={}).log.format == "json"
    with pytest.raises(ConfigError, match="log.format"):
        load_config(path, environ={"COBRA_LOG__FORMAT": "xml"})
