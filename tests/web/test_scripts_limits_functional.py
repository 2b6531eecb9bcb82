"""Template bombs against the script editor's API on the real app (issue 14 items 3 and 4):
validation, preview and publishing refuse them with the step and a pt-BR message, off the
event loop, and the server process's memory does not jump."""

from __future__ import annotations

import asyncio
import resource
import threading

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.web.conftest import log_in, session_csrf
from web.scripts.http import default_script_text
from web.scripts.worker import SCRIPT_WORKER, ScriptJobTimeout, ScriptWorker

Client = TestClient[web.Request, web.Application]
MB = 1024  # ru_maxrss is in KiB on Linux

DEFAULT = default_script_text()
OPENING = "Por gentileza, eu poderia falar com {{ cliente.nome }}?"
assert OPENING in DEFAULT


def _with_opening(text: str) -> str:
    return DEFAULT.replace(OPENING, text, 1)


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _supervisor(client: Client) -> dict[str, str]:
    assert (await log_in(client, "sofia")).status == 303
    return {"X-CSRF-Token": await session_csrf(client)}


@pytest.mark.parametrize(
    ("bomb", "message"),
    [
        ("{{ 'a' * 100000000 }}", "número grande demais em '*' (o texto de um passo tem no máximo 20.000 caracteres)"),
        ("{{ cliente.nome * 20000000 }}", "número grande demais em '*' (o texto de um passo tem no máximo 20.000 caracteres)"),
        ("{% set n = 20000000 %}{{ cliente.nome * n }}", "o resultado teria 400.000.000 caracteres (limite de 20.000 por passo)"),
        ("{% autoescape false %}{{ cliente.nome }}{% endautoescape %}", "o escape do texto não pode ser desligado ({% autoescape %} não é permitido)"),
    ],
)
async def test_validate_refuses_bombs_naming_the_step_without_using_memory(client: Client, bomb: str, message: str) -> None:
    csrf = await _supervisor(client)
    text = _with_opening(bomb)
    before = _max_rss_kib()
    resp = await client.post("/api/v1/scripts/validate", json={"yaml": text}, headers=csrf)
    # generous headroom: a memory bound (the issue measured 748 MB), not a timing assertion
    assert _max_rss_kib() - before < 100 * MB
    body = await resp.json()
    assert resp.status == 200 and body["ok"] is False
    assert body["errors"] == [{"step": "abertura", "line": _line_of(text, bomb), "message": message}]


async def test_preview_refuses_a_repetition_bomb_naming_the_step(client: Client) -> None:
    csrf = await _supervisor(client)
    before = _max_rss_kib()
    resp = await client.post(
        "/api/v1/scripts/preview",
        json={"yaml": _with_opening("{% set n = 20000000 %}{{ cliente.nome * n }}"), "step": "abertura"},
        headers=csrf,
    )
    assert _max_rss_kib() - before < 100 * MB  # the issue measured a 1.69 GB peak
    assert resp.status == 422
    line = _line_of(DEFAULT, OPENING)  # the YAML line the editor shows, not the line inside the step's text
    assert (await resp.json())["error"] == {
        "code": "invalid",
        "field": "step",
        "message": f"passo abertura, linha {line}: o resultado teria 400.000.000 caracteres (limite de 20.000 por passo)",
    }


async def test_preview_sends_plain_text_that_pages_show_as_text(client: Client) -> None:
    csrf = await _supervisor(client)
    resp = await client.post(
        "/api/v1/scripts/preview",
        json={"yaml": _with_opening("**Atenção**: {{ cliente.nome }} &lt;b&gt;"), "step": "abertura"},
        headers=csrf,
    )
    body = await resp.json()
    assert resp.status == 200
    assert "**Atenção**: Maria da Silva Souza <b>" in body["text"]  # what the page inserts as text
    assert "**Atenção**: Maria da Silva Souza &lt;b&gt;" in body["html"]


async def test_publish_refuses_a_bomb_and_stores_nothing(client: Client) -> None:
    csrf = await _supervisor(client)
    text = _with_opening("{{ cliente.nome * 20000000 }}")
    resp = await client.post("/api/v1/scripts/padrao/versions", json={"yaml": text}, headers=csrf)
    body = await resp.json()
    assert resp.status == 422 and body["error"]["field"] == "yaml"
    assert body["errors"][0]["step"] == "abertura"
    listed = await (await client.get("/api/v1/scripts")).json()
    assert listed["scripts"] == []


async def test_a_validation_out_of_time_is_refused_naming_the_step(client: Client) -> None:
    # a worker whose budget is already spent: every render inside stops at once, named by step
    csrf = await _supervisor(client)
    client.app[SCRIPT_WORKER].timeout = 0.0
    body = await (await client.post("/api/v1/scripts/validate", json={"yaml": DEFAULT}, headers=csrf)).json()
    assert body["ok"] is False
    assert body["errors"][0]["step"] == "abertura"
    assert body["errors"][0]["message"] == "o texto demorou demais para ser montado (limite de 0 s)"


async def test_the_worker_runs_jobs_off_the_loop_and_names_the_step_it_was_on() -> None:
    worker = ScriptWorker(timeout=0.05)
    release = threading.Event()
    try:
        loop_thread = threading.get_ident()
        assert await worker.run(lambda on_step: threading.get_ident()) != loop_thread

        def stuck(on_step):  # type: ignore[no-untyped-def]
            on_step("proposta", 42)
            release.wait(10)

        with pytest.raises(ScriptJobTimeout) as timed_out:
            await worker.run(stuck)
        assert (timed_out.value.step, timed_out.value.line) == ("proposta", 42)
        assert str(timed_out.value) == "o passo proposta demorou demais para ser processado (limite de 0.05 s)"
    finally:
        release.set()
        worker.close()
    await asyncio.sleep(0)
