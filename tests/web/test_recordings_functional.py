"""``GET /api/v1/calls/{call_id}/recording`` over the real app, a real SQLite file and real WAV files.

Whole file and byte ranges (206, 416), the path only from the database and only inside
``[recording] dir`` (``..`` and symlinks out are refused), roles (agent 403), the audit of
every access, and the redirect to ``[recording] url_template``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from sqlalchemy import select

from dialer.floor.recording import recording_path
from dialer.simulator.recordings import FinishedRecording, write_wav
from storage.engine import create_engine, session_factory
from storage.models import AuditLog, CallAttempt, CampaignMode, User, new_attempt_id
from storage.repositories.recordings import (
    close_recording_gap,
    open_recording_gap,
    recording_gaps,
)
from tests.dialer.runtime_support import add_campaign
from tests.web.conftest import FAST_HASHER, Clock, add_users, log_in
from web.app import create_app
from web.auth.settings import Auth, AuthSettings
from web.config import Config, DatabaseConfig, RecordingConfig
from web.recordings import recording_link
from web.recordings.services import parse_range

Client = TestClient[web.Request, web.Application]
CONNECTED = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)  # 11:30 in Brasília: the file goes under 2026/03/02


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    return tmp_path / "gravacoes"


@pytest.fixture
def config(db_url: str, recordings: Path) -> Config:
    return Config(database=DatabaseConfig(url=db_url), recording=RecordingConfig(dir=str(recordings)))


async def _call(db_url: str, path: str | None) -> str:
    """A connected call attempt whose recording the dialer stored at ``path``; its id."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as s:
            campaign = await add_campaign(s, name=f"Carteira {new_attempt_id()[:6]}")
            attempt = CallAttempt(campaign_id=campaign.id, mode=CampaignMode.PROGRESSIVE, number="+5511987650001",
                                  connected_at=CONNECTED, recording_path=path)
            s.add(attempt)
            await s.flush()
            return attempt.id
    finally:
        await engine.dispose()


async def _recorded_call(db_url: str, recordings: Path, seconds: float = 2.0) -> tuple[str, bytes]:
    """A call with a real WAV in the date layout; its id and the file's bytes."""
    call_id = new_attempt_id()
    path = recording_path(str(recordings), call_id, CONNECTED)
    write_wav(FinishedRecording(path, seconds, ((0.5, 1.0),)))
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as s:
            campaign = await add_campaign(s, name=f"Carteira {call_id[:6]}")
            s.add(CallAttempt(id=call_id, campaign_id=campaign.id, mode=CampaignMode.PROGRESSIVE,
                              number="+5511987650001", connected_at=CONNECTED, recording_path=path))
    finally:
        await engine.dispose()
    return call_id, Path(path).read_bytes()


async def _accesses(db_url: str, call_id: str) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            rows = await s.execute(
                select(User.login, AuditLog.after).join(User, User.id == AuditLog.user_id)
                .where(AuditLog.action == "recording.access", AuditLog.entity == "call", AuditLog.entity_id == call_id)
                .order_by(AuditLog.id)
            )
            return [(login, after) for login, after in rows]
    finally:
        await engine.dispose()


async def _as(client: Client, login: str) -> Client:
    assert (await log_in(client, login)).status == 303
    return client


async def test_qa_gets_the_whole_wav_and_the_access_is_audited(client: Client, db_url: str, recordings: Path) -> None:
    call_id, data = await _recorded_call(db_url, recordings)
    await _as(client, "quito")
    resp = await client.get(f"/api/v1/calls/{call_id}/recording")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "audio/wav" and resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["Cache-Control"] == "no-store"
    assert int(resp.headers["Content-Length"]) == len(data)
    body = await resp.read()
    assert body == data and body[:4] == b"RIFF" and body[8:12] == b"WAVE"
    assert await _accesses(db_url, call_id) == [("quito", {"via": "file", "range": None, "client": "127.0.0.1"})]


async def test_byte_ranges_answer_206_with_the_bytes_asked_for(client: Client, db_url: str, recordings: Path) -> None:
    call_id, data = await _recorded_call(db_url, recordings)
    size = len(data)
    await _as(client, "sofia")
    url = f"/api/v1/calls/{call_id}/recording"
    for header, (first, last) in (("bytes=0-99", (0, 99)), ("bytes=100-", (100, size - 1)),
                                  ("bytes=-10", (size - 10, size - 1)), (f"bytes=44-{size * 2}", (44, size - 1))):
        resp = await client.get(url, headers={"Range": header})
        assert resp.status == 206, header
        assert resp.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert resp.headers["Accept-Ranges"] == "bytes" and resp.headers["Content-Type"] == "audio/wav"
        assert await resp.read() == data[first : last + 1]
    # several ranges, other units, garbage: ignored, the whole file (RFC 9110 §14.2)
    for header in ("bytes=0-1,5-6", "items=0-3", "bytes=9-3"):
        resp = await client.get(url, headers={"Range": header})
        assert resp.status == 200 and await resp.read() == data, header
    audited = await _accesses(db_url, call_id)
    assert [a["range"] for _, a in audited] == ["bytes=0-99", "bytes=100-", "bytes=-10", f"bytes=44-{size * 2}",
                                                "bytes=0-1,5-6", "items=0-3", "bytes=9-3"]


async def test_a_range_past_the_end_is_416_with_the_size(client: Client, db_url: str, recordings: Path) -> None:
    call_id, data = await _recorded_call(db_url, recordings)
    await _as(client, "root")
    for header in (f"bytes={len(data)}-", f"bytes={len(data) + 5}-{len(data) + 9}", "bytes=-0"):
        resp = await client.get(f"/api/v1/calls/{call_id}/recording", headers={"Range": header})
        assert resp.status == 416, header
        assert resp.headers["Content-Range"] == f"bytes */{len(data)}"
        body = await resp.json()
        assert body["error"]["code"] == "range_not_satisfiable" and "bytes" in body["error"]["message"]


async def test_an_agent_gets_403_and_nothing_is_audited(client: Client, db_url: str, recordings: Path) -> None:
    call_id, _ = await _recorded_call(db_url, recordings)
    await _as(client, "ana")
    resp = await client.get(f"/api/v1/calls/{call_id}/recording")
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
    assert await _accesses(db_url, call_id) == []


async def test_anonymous_requests_are_401(client: Client, db_url: str, recordings: Path) -> None:
    call_id, _ = await _recorded_call(db_url, recordings)
    assert (await client.get(f"/api/v1/calls/{call_id}/recording")).status == 401


async def test_paths_leading_out_of_the_recordings_dir_are_refused(
    client: Client, db_url: str, recordings: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "segredo.wav"
    write_wav(FinishedRecording(str(secret), 1.0, ()))
    recordings.mkdir(parents=True, exist_ok=True)
    (recordings / "atalho.wav").symlink_to(secret)
    dotdot = await _call(db_url, f"{recordings}/2026/../../segredo.wav")
    outside = await _call(db_url, str(secret))
    linked = await _call(db_url, str(recordings / "atalho.wav"))
    the_dir = await _call(db_url, str(recordings))
    await _as(client, "quito")
    for call_id in (dotdot, outside, linked, the_dir):
        resp = await client.get(f"/api/v1/calls/{call_id}/recording")
        assert resp.status == 403, call_id
        assert (await resp.json())["error"]["code"] == "outside_recordings"
        assert await _accesses(db_url, call_id) == []


async def test_errors_name_the_call(client: Client, db_url: str, recordings: Path) -> None:
    not_recorded = await _call(db_url, None)
    missing_file = await _call(db_url, recording_path(str(recordings), new_attempt_id(), CONNECTED))
    await _as(client, "quito")
    for raw in ("123", "../../etc/passwd", "G" * 32, "A" * 32):
        resp = await client.get(f"/api/v1/calls/{raw}/recording")
        if resp.status != 404:  # "../.." never reaches the route: aiohttp answers 404 for the normalised path
            assert resp.status == 422, raw
            assert (await resp.json())["error"]["field"] == "call_id"
    for call_id, message in ((new_attempt_id(), "não existe"), (not_recorded, "não foi gravada"),
                             (missing_file, "não foi encontrado")):
        resp = await client.get(f"/api/v1/calls/{call_id}/recording")
        assert resp.status == 404, call_id
        body = await resp.json()
        assert body["error"]["field"] == "call_id" and message in body["error"]["message"]


async def test_recordings_on_another_host_redirect_and_are_audited(
    aiohttp_client: AiohttpClient, db_url: str, clock: Clock, recordings: Path
) -> None:
    await add_users(db_url)
    config = Config(database=DatabaseConfig(url=db_url),
                    recording=RecordingConfig(dir=str(recordings), url_template="https://rec.example/{path}"))
    client = await aiohttp_client(create_app(config, auth=Auth(settings=AuthSettings(), hasher=FAST_HASHER), clock=clock))
    call_id = await _call(db_url, recording_path(str(recordings), "0" * 32, CONNECTED))
    await _as(client, "sofia")
    resp = await client.get(f"/api/v1/calls/{call_id}/recording", allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == f"https://rec.example/2026/03/02/{'0' * 32}.wav"
    assert await _accesses(db_url, call_id) == [
        ("sofia", {"via": "redirect", "url": resp.headers["Location"], "client": "127.0.0.1"})
    ]


def test_the_link_of_a_call_is_the_audited_endpoint() -> None:
    assert recording_link("ab" * 16, "/var/rec/2026/03/02/x.wav") == f"/api/v1/calls/{'ab' * 16}/recording"
    assert recording_link(7, "x.wav") == "/api/v1/calls/7/recording"
    assert recording_link("ab" * 16, None) is None and recording_link("ab" * 16, "") is None


def test_parse_range_edges() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=0-0", 10) is not None
    r = parse_range("bytes=-20", 10)
    assert r is not None and (r.start, r.end, r.length) == (0, 9, 10)


async def test_gaps_are_read_back_in_order_and_an_open_one_has_no_end(db_url: str) -> None:
    call_id = await _call(db_url, None)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as s:
            await open_recording_gap(s, call_id, 12.3456, "dados_cartao")
            await close_recording_gap(s, call_id, 20.0)
            await open_recording_gap(s, call_id, 31.0, "dados_cartao")
        async with session_factory(engine)() as s:
            gaps = await recording_gaps(s, call_id)
    finally:
        await engine.dispose()
    assert [g.as_json() for g in gaps] == [
        {"start_s": 12.346, "end_s": 20.0, "step_id": "dados_cartao"},
        {"start_s": 31.0, "end_s": None, "step_id": "dados_cartao"},
    ]


def test_relative_recording_dirs_work_from_the_working_directory(tmp_path: Path) -> None:
    from web.recordings.services import local_file, relative_inside

    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        write_wav(FinishedRecording("rec/2026/01/02/a.wav", 0.1, ()))
        assert str(relative_inside("rec", "rec/2026/01/02/a.wav")) == "2026/01/02/a.wav"
        assert local_file("rec", "rec/2026/01/02/a.wav") == (tmp_path / "rec/2026/01/02/a.wav").resolve()
        assert relative_inside("rec", "rec2/a.wav") is None and relative_inside("rec", "rec") is None
    finally:
        os.chdir(here)
