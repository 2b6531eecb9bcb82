"""``cobra serve`` as a real process: web + dialer on the built-in simulator (or a real PBX), stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.web.conftest import add_users

REPO = Path(__file__).resolve().parents[2]
# Guards against a hung child; not a speed assertion
STARTUP_GUARD_S = 60


def _config(tmp_path: Path, db_url: str, pbx: str = "port = 0") -> Path:
    path = tmp_path / "cobra.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n\n[web]\nhost = "127.0.0.1"\nport = 0\n\n[[pbx]]\nhost = "127.0.0.1"\n{pbx}\n',
        encoding="utf-8",
    )
    return path


# What web/logs.py writes: "2026-12-04 15:32:44,123 INFO dialer.ami.gateway: ..."
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")


def _start(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``cobra serve``: status lines on stdout (a pipe), logs and errors on stderr (``<config>.stderr``)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with open(_stderr_of(config), "w", encoding="utf-8") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "web.cli.main", "serve", "--config", str(config), *args],
            cwd=REPO,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


def _stderr_of(config: Path) -> Path:
    return config.with_suffix(".stderr")


async def test_serve_runs_the_web_app_and_stops_cleanly(tmp_path: Path, db_url: str) -> None:
    await add_users(db_url)
    proc = _start(_config(tmp_path, db_url))
    try:
        assert proc.stdout is not None
        first = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), STARTUP_GUARD_S)
        assert first.startswith("cobra serve: web on http://127.0.0.1:"), first
        base = first.split()[4]
        second = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), STARTUP_GUARD_S)
        assert second.startswith("cobra serve: dialer on built-in PBX simulator sim at 127.0.0.1:"), second
        ami_port = int(second.split()[9].rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", ami_port)
        assert (await reader.readline()).startswith(b"Asterisk Call Manager/")
        writer.close()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{base}/login") as page:
                assert page.status == 200
                assert "Entrar" in await page.text()
            async with http.get(f"{base}/agente", allow_redirects=False) as anon:
                assert anon.status == 303
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.to_thread(proc.communicate, timeout=STARTUP_GUARD_S)
    log = _stderr_of(tmp_path / "cobra.toml").read_text(encoding="utf-8")
    assert proc.returncode == 0, out + log
    assert out.strip().endswith("cobra serve: stopped")
    lines = log.splitlines()
    assert lines and all(LOG_LINE.match(line) for line in lines), log
    # the dialer's AMI link, logged once it is up, naming the account and never the secret
    assert any(
        re.search(r" INFO dialer\.ami\.gateway: AMI 127\.0\.0\.1:\d+: link up, logged in as 'cobra'", line)
        for line in lines
    ), log
    assert "secret" not in log.lower()
    assert not any(" aiohttp.access: " in line for line in lines), log  # one line per request: off by default


async def test_log_level_comes_from_the_option_over_the_configuration(tmp_path: Path, db_url: str) -> None:
    config = _config(tmp_path, db_url)
    with config.open("a", encoding="utf-8") as f:
        f.write('\n[log]\nlevel = "error"\n')
    proc = _start(config, "--log-level", "debug")
    try:
        assert proc.stdout is not None
        first = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), STARTUP_GUARD_S)
        assert first.startswith("cobra serve: web on"), first
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.to_thread(proc.communicate, timeout=STARTUP_GUARD_S)
    log = _stderr_of(config).read_text(encoding="utf-8")
    assert proc.returncode == 0, out + log
    assert re.search(r"^\S+ \S+ DEBUG dialer\.ami\.gateway: ", log, re.MULTILINE), log


async def test_a_bad_log_level_in_the_environment_names_the_key(tmp_path: Path, db_url: str) -> None:
    proc = _start(_config(tmp_path, db_url), env={"COBRA_LOG__LEVEL": "loud"})
    out, _ = await asyncio.to_thread(proc.communicate, timeout=STARTUP_GUARD_S)
    err = _stderr_of(tmp_path / "cobra.toml").read_text(encoding="utf-8")
    assert proc.returncode == 1, out + err
    assert "config key 'log.level'" in err and "'loud' is not a log level" in err


async def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()  # an empty file: a missing one is refused before (tests/web/test_cli_missing_database_functional.py)
    proc = _start(_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    out, _ = await asyncio.to_thread(proc.communicate, timeout=STARTUP_GUARD_S)
    out += _stderr_of(tmp_path / "cobra.toml").read_text(encoding="utf-8")
    assert proc.returncode == 1
    assert "is at revision none (empty)" in out and "run `cobra db upgrade` first" in out
    assert "stopped" not in out


async def test_serve_says_which_pbx_it_cannot_reach(tmp_path: Path, db_url: str) -> None:
    # a port nothing listens on (the simulator is off: a "real" Asterisk is expected there)
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    proc = _start(_config(tmp_path, db_url, f"port = {free}\nsimulator = false\nname = \"sp1\""))
    out, _ = await asyncio.to_thread(proc.communicate, timeout=STARTUP_GUARD_S)
    out += _stderr_of(tmp_path / "cobra.toml").read_text(encoding="utf-8")
    assert proc.returncode == 1, out
    assert f"cannot reach the PBX sp1 at 127.0.0.1:{free} over AMI" in out
