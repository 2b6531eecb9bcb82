"""Acceptance: ``cobra demo --smtp-sink`` keeps the mails; ``cobra regua preview`` twice and
``cobra regua run`` twice (the real command, another process, on the demo's cobra.toml)
deliver each due customer's e-mail once to the sink, readable on ``/demo/emails``."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import aiohttp

from tests.web.conftest import FAST_HASHER
from web.demo.gateway_sink import read_messages
from web.demo.seed import DEMO_PASSWORD
from web.demo.service import CLI_CONFIG, DemoOptions, running_demo


async def cobra(*args: str, config: Path) -> str:
    env = {**os.environ, "COBRA_CONFIG": str(config)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli.main", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_cobra_regua_run_lands_the_due_customers_mails_in_the_demo_sink(tmp_path: Path) -> None:
    options = DemoOptions(directory=tmp_path, port=0, customers=300, hasher=FAST_HASHER, smtp_sink_port=0)
    async with running_demo(options) as demo:
        assert demo.smtp_sink is not None
        config = tmp_path / CLI_CONFIG
        first = json.loads(await cobra("regua", "preview", "--json", config=config))
        second = json.loads(await cobra("regua", "preview", "--json", config=config))
        assert first == second
        emails = sorted(i["recipient"] for i in first["items"] if i["channel"] == "email")
        assert emails, "the demo portfolio should have e-mails due today"
        run = json.loads(await cobra("regua", "run", "--json", config=config))
        assert run["messages"] >= len(emails) and run["outbox"]["sent"] >= len(emails)
        again = json.loads(await cobra("regua", "run", "--json", config=config))
        assert again["decided"] == 0
        texts = read_messages(tmp_path / "emails")
        due_phones = sorted(i["recipient"] for i in first["items"] if i["channel"] in ("sms", "whatsapp"))
        # SMS go out when each phone's own window is open (a UTC-5 DDD opens two hours after Brasília): a subset now
        assert len({m["key"] for m in texts}) == len(texts)
        assert all(m["to"] in due_phones for m in texts)
        received = sorted(r for m in demo.smtp_sink.mails for r in m.rcpt_to)
        assert received == emails  # each due message once (a customer with two contracts due gets two)
        assert all(m.subject for m in demo.smtp_sink.mails)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # cookies on 127.0.0.1
            page = await (await http.get(f"{demo.url}/login")).text()
            token = re.search(r'name="csrf_token" value="([^"]*)"', page)
            assert token is not None
            await http.post(f"{demo.url}/login", data={"login": "supervisor", "password": DEMO_PASSWORD,
                                                       "csrf_token": token.group(1)})
            inbox = await http.get(f"{demo.url}/demo/emails")
            assert inbox.status == 200
            html = await inbox.text()
        assert html.count('data-testid="demo-email"') == len(emails)
        assert html.count('data-testid="demo-mensagem"') == len(texts)
        assert demo.smtp_sink.mails[0].subject in html.replace("&#39;", "'")
