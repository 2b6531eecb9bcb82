"""``GET /api/v1/calls/{call_id}/recording``: a call's recording, for QA reviewers, supervisors and admins.

- The file is the one the dialer stored on the call (``call_attempts.recording_path``); the
  request only names the call. The path must lie inside ``[recording] dir`` (403 otherwise).
- ``Range`` is honoured (one range: 206 with ``Content-Range``; past the end: 416 with
  ``Content-Range: bytes */size``); ``Accept-Ranges: bytes``; ``Content-Type: audio/wav``;
  never cached (a recording holds personal data).
- With ``[recording] url_template`` the recordings live on another host: 302 to it.
- Every access is audited (``recording.access``, entity ``call``): who, when, the range or
  the redirect, and the client's address. Agents get 403.

Errors come in the API's one shape: a malformed id is 422 naming ``call_id``; an unknown call,
a call with no recording or a missing file 404.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re

from aiohttp import web

from storage.models import Role
from web.auth.access import requires
from web.auth.handlers import client_of
from web.errors import NO_STORE, FieldError
from web.keys import CLOCK, CONFIG, CURRENT_LOGIN, DB, DB_READ
from web.recordings.links import RECORDING_ROUTE
from web.recordings.services import (
    RangeNotSatisfiable,
    RecordingSettings,
    audit_access,
    find_recording,
    local_file,
    parse_range,
    read_chunks,
    redirect_url,
    relative_inside,
)

log = logging.getLogger(__name__)

LISTENERS = (Role.QA, Role.SUPERVISOR, Role.ADMIN)
CONTENT_TYPE = "audio/wav"
_CALL_ID = re.compile(r"[0-9a-f]{32}")  # storage.models.new_attempt_id: 32 hex digits

RECORDING_SETTINGS: web.AppKey[RecordingSettings] = web.AppKey("cobra.recording_settings", RecordingSettings)


def parse_call_id(raw: str) -> str:
    """A call (attempt) id from the path; FieldError (422) naming ``call_id`` when malformed."""
    if _CALL_ID.fullmatch(raw) is None:
        raise FieldError.invalid("call_id", f"Identificador de ligação inválido: {raw[:40]!r} (32 dígitos hexadecimais).")
    return raw


def _outside(call_id: str) -> FieldError:
    log.warning("recording of call %s: its stored path is outside [recording] dir; refused", call_id)
    return FieldError(403, "outside_recordings", "A gravação desta ligação está fora do diretório de gravações; acesso recusado.")


@requires(*LISTENERS)
async def get_recording(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/calls/{call_id}/recording``: the WAV (whole or one byte range), or a redirect (audited)."""
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach here
        raise web.HTTPUnauthorized()
    call_id = parse_call_id(request.match_info["call_id"])
    settings = request.app[RECORDING_SETTINGS]
    found = await find_recording(request.app[DB_READ], call_id)
    if found is None:
        raise FieldError.not_found("call_id", f"Ligação {call_id} não existe.")
    if not found.path:
        raise FieldError.not_found("call_id", "Esta ligação não foi gravada.")
    if settings.directory is None:
        raise FieldError(404, "not_configured", "As gravações não estão configuradas neste servidor ([recording] dir).")
    relative = relative_inside(settings.directory, found.path)
    if relative is None:
        raise _outside(call_id)
    at = request.app[CLOCK]()
    client = client_of(request)
    if settings.url_template is not None:
        url = redirect_url(settings.url_template, relative)
        await audit_access(request.app[DB], user_id=login.user_id, call_id=call_id, at=at,
                           detail={"via": "redirect", "url": url, "client": client})
        return web.Response(status=302, headers={"Location": url, **NO_STORE})
    path = local_file(settings.directory, found.path)
    if path is None:
        raise _outside(call_id)
    try:
        size = (await asyncio.to_thread(os.stat, path)).st_size
    except FileNotFoundError:
        log.warning("recording of call %s: file %s not found", call_id, path)
        raise FieldError.not_found("call_id", "O arquivo da gravação desta ligação não foi encontrado.") from None
    wanted = request.headers.get("Range")
    await audit_access(request.app[DB], user_id=login.user_id, call_id=call_id, at=at,
                       detail={"via": "file", "range": wanted, "client": client})
    try:
        byte_range = parse_range(wanted, size)
    except RangeNotSatisfiable:
        raise FieldError(
            416, "range_not_satisfiable", f"Intervalo de bytes fora do arquivo da gravação ({size} bytes).",
            headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
        ) from None
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": f'inline; filename="{call_id}.wav"', **NO_STORE}
    start, length, status = 0, size, 200
    if byte_range is not None:
        start, length, status = byte_range.start, byte_range.length, 206
        headers["Content-Range"] = byte_range.content_range()
    response = web.StreamResponse(status=status, headers=headers)
    response.content_type = CONTENT_TYPE
    response.content_length = length
    await response.prepare(request)
    if request.method != "HEAD":
        async for chunk in read_chunks(path, start, length):
            await response.write(chunk)
    await response.write_eof()
    return response


def setup_recordings(app: web.Application) -> None:
    """Mount the recording endpoint (its directory and URL template from ``[recording]``)."""
    app[RECORDING_SETTINGS] = RecordingSettings.from_config(app[CONFIG])
    app.router.add_get(RECORDING_ROUTE, get_recording, name="call_recording")


__all__ = ["RECORDING_SETTINGS", "parse_call_id", "setup_recordings"]
