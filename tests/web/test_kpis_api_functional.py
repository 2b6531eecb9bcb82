"""The KPI API on a real server: JSON per day/agent/campaign, the CSV export (BOM, ';', audited), who may read."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from storage.engine import create_engine, session_factory
from storage.repositories.audit import entries_for
from tests.web.conftest import log_in
from tests.web.kpi_data import CAMPAIGN, DAYS, FIRST_DAY, seed_history

Client = TestClient[web.Request, web.Application]
PERIOD = f"from={FIRST_DAY.isoformat()}&to={(FIRST_DAY + timedelta(days=DAYS - 1)).isoformat()}"


async def _as(client: Client, login: str) -> None:
    assert (await log_in(client, login)).status == 303


async def _json(client: Client, url: str, status: int = 200) -> Any:
    resp = await client.get(url)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_kpis_per_day_agent_and_campaign(client: Client, db_url: str) -> None:
    history, campaign_id = await seed_history(db_url)
    await _as(client, "quito")
    by_day = await _json(client, f"/api/v1/kpis?{PERIOD}&by=day")
    assert [r["key"] for r in by_day["rows"]] == [(FIRST_DAY + timedelta(days=i)).isoformat() for i in range(DAYS)]
    assert by_day["rows"][0]["label"] == "24/02/2026"
    placed = sum(1 for a in history.attempts if a["result"] is None or a["result"].value != "cancelled")
    total = by_day["total"]
    assert total["attempts"] == placed == sum(r["attempts"] for r in by_day["rows"])
    assert total["promises"] == len(history.promises) and total["agreements"] == len(history.agreements)
    assert 0 < total["right_party_rate"] < 1 and 0 < total["occupancy"] < 1
    assert total["display"]["negotiated"].startswith("R$ ")
    assert total["negotiated"] == f"{sum(p['amount'] for p in history.promises) + sum(a['total'] for a in history.agreements):.2f}"
    reasons = by_day["reasons"]
    assert reasons["company_caused"] > 0 and reasons["financial"] > 0
    assert {i["code"] for i in reasons["items"]} >= {"DESEMPREGO", "NAO_RECEBEU_FATURA"}

    by_agent = await _json(client, f"/api/v1/kpis?{PERIOD}&by=agent")
    labels = {r["label"] for r in by_agent["rows"]}
    assert "Ana Souza (ana)" in labels and any(label.startswith("Sem operador") for label in labels)
    assert by_agent["total"]["attempts"] == placed
    ana = next(r for r in by_agent["rows"] if r["label"] == "Ana Souza (ana)")
    assert ana["occupancy"] is not None and ana["contacts_per_agent_hour"] is not None

    by_campaign = await _json(client, f"/api/v1/kpis?{PERIOD}&by=campaign&campaign={campaign_id}")
    assert by_campaign["campaign_name"] == CAMPAIGN
    assert [r["label"] for r in by_campaign["rows"]] == [CAMPAIGN]
    # agents' time is not per campaign: no occupancy there
    assert by_campaign["rows"][0]["occupancy"] is None and by_campaign["rows"][0]["display"]["occupancy"] == "—"


async def test_csv_export_for_excel_is_audited(client: Client, db_url: str) -> None:
    await seed_history(db_url, attempts=200)
    await _as(client, "sofia")
    resp = await client.get(f"/api/v1/kpis.csv?{PERIOD}&by=day")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header[:3] == ["dia", "tentativas", "atendidas_pessoa"]
    assert rows[1][0] == "24/02/2026" and rows[-1][0] == "Total"
    assert len(rows) == 1 + DAYS + 1
    money = rows[-1][header.index("valor_negociado")]
    assert "," in money and "." not in money and "R$" not in money  # 1234,56
    pct = rows[-1][header.index("taxa_cpc_pct")]
    assert "," in pct and "%" not in pct  # 12,5
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            audit = await entries_for(db, "kpis")
    finally:
        await engine.dispose()
    assert [e.action for e in audit] == ["kpis.export"]
    after = audit[0].after
    assert after is not None and after["group_by"] == "day" and after["rows"] == DAYS
    assert after["source"] == "api" and after["by"] == "sofia" and after["period_from"] == "2026-02-24"
    assert audit[0].user_id is not None


async def test_empty_period_and_defaults(client: Client) -> None:
    await _as(client, "root")
    body = await _json(client, "/api/v1/kpis")  # the last 7 days by day, nothing stored
    assert body["to"] == "2026-03-02" and body["from"] == "2026-02-24" and body["by"] == "day"
    assert body["rows"] == [] and body["total"]["attempts"] == 0 and body["total"]["abandon_rate"] is None


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("by=week", 422, "by"),
        ("from=2026-03-05&to=2026-03-01", 422, "from"),
        ("from=05/03/2026", 422, "from"),
        ("from=9999-12-31&to=9999-12-31", 422, "from"),
        ("to=0001-01-01", 422, "to"),
        ("from=2024-01-01&to=2026-01-01", 422, "to"),
        ("campaign=abc", 422, "campaign"),
        ("campaign=99999", 404, "campaign"),
    ],
)
async def test_bad_queries_name_the_parameter(client: Client, query: str, status: int, field: str) -> None:
    await _as(client, "quito")
    for path in ("/api/v1/kpis", "/api/v1/kpis.csv"):
        body = await _json(client, f"{path}?{query}", status)
        assert body["error"]["field"] == field


async def test_agents_may_not_read_kpis(client: Client) -> None:
    assert (await client.get("/api/v1/kpis")).status == 401
    await _as(client, "ana")
    for path in ("/api/v1/kpis", "/api/v1/kpis.csv", "/monitoria/indicadores"):
        assert (await client.get(path, allow_redirects=False)).status == 403, path


async def test_the_page_for_qa(client: Client) -> None:
    await _as(client, "quito")
    resp = await client.get("/monitoria/indicadores")
    assert resp.status == 200
    html = await resp.text()
    assert "kpis.js" in html and 'id="kpi-filters"' in html and 'value="24/02/2026"' in html
    assert '<a href="/monitoria/indicadores">Indicadores</a>' in html
