"""The demo's SMS/WhatsApp gateway: a small HTTP server on loopback that keeps every message.

Started with ``cobra demo --smtp-sink`` next to the SMTP sink; the demo's ``[gateway.sms]`` and
``[gateway.whatsapp]`` post to it, and ``/demo/emails`` lists what it received. It drops a
repeated ``Idempotency-Key``, as a real gateway should, and writes each message as one JSON
line of ``<dir>/mensagens.jsonl``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from aiohttp import web

DEFAULT_PORT = 2526
FILE = "mensagens.jsonl"


class GatewaySink:
    def __init__(self, directory: Path, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.path = directory / FILE
        self.host = host
        self.port = port
        self.keys: set[str] = set()
        self._runner: web.AppRunner | None = None
        directory.mkdir(parents=True, exist_ok=True)
        for item in read_messages(directory):
            if item.get("key"):
                self.keys.add(str(item["key"]))

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = request.headers.get("Idempotency-Key", "")
        if key and key in self.keys:
            return web.json_response({"ok": True, "duplicate": True})
        self.keys.add(key)
        item = {"channel": request.match_info["channel"], "key": key, "at": datetime.now(UTC).isoformat(),
                "to": str(body.get("to", "")), "text": str(body.get("text", ""))}
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
        return web.json_response({"ok": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{channel}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def url(self, channel: str) -> str:
        return f"http://{self.host}:{self.port}/{channel}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def read_messages(directory: Path, limit: int = 200) -> list[dict[str, Any]]:
    """The messages kept in ``directory``, newest first."""
    path = directory / FILE
    if not path.exists():
        return []
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(reversed(items))[:limit]
