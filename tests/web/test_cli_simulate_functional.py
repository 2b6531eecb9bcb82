"""``cobra simulate`` end to end: the real command, a scenario file or a campaign in a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from storage.engine import create_engine, session_factory
from storage.models import CallAttempt, CallResult, Campaign, CampaignMode
from web.cli.main import cli
from web.pacing.whatif import MIN_ATTEMPTS

ROOT = Path(__file__).resolve().parents[2]


def test_scenario_gives_one_row_per_agent_count() -> None:
    result = CliRunner().invoke(
        cli, ["simulate", "--scenario", str(ROOT / "bench/scenarios/small-team.json"), "--agents", "3,5", "--hours", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [r["agents"] for r in out["rows"]] == [3, 5]
    assert out["source"] == "cenário small-team" and out["cap"] == 0.03 and out["hours"] == 1.0
    for row in out["rows"]:
        assert 0.0 < row["occupancy"] <= 1.0 and 0.0 <= row["abandon_rate"] <= 1.0
        assert row["calls_placed"] > 0 and row["agent_wait_p95_s"] >= row["agent_wait_p50_s"]
    # more agents on the same list place more calls
    assert out["rows"][1]["calls_placed"] > out["rows"][0]["calls_placed"]


def test_table_in_portuguese_and_clear_errors() -> None:
    runner = CliRunner()
    table = runner.invoke(cli, ["simulate", "--scenario", "small-team", "--agents", "2", "--hours", "0.5"])
    assert table.exit_code == 0, table.output
    assert "Fonte: cenário small-team; teto de abandono 3,0 %; turno de 0,5 h" in table.output
    assert "ocupação" in table.output and "contatos/agente-h" in table.output

    neither = runner.invoke(cli, ["simulate", "--agents", "2"])
    assert neither.exit_code == 2 and "exactly one of --campaign NAME or --scenario FILE" in neither.output
    bad_agents = runner.invoke(cli, ["simulate", "--scenario", "small-team", "--agents", "3,abc"])
    assert bad_agents.exit_code == 2 and "--agents" in bad_agents.output and "'abc'" in bad_agents.output
    bad_cap = runner.invoke(cli, ["simulate", "--scenario", "small-team", "--cap", "0.5"])
    assert bad_cap.exit_code == 2 and "--cap" in bad_cap.output
    missing = runner.invoke(cli, ["simulate", "--scenario", "no-such-floor"])
    assert missing.exit_code == 2 and "no-such-floor" in missing.output and "small-team" in missing.output


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> str:
    path = tmp_path / "cobra.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return str(path)


def _seed_campaign(db_url: str, name: str, calls: int) -> None:
    """A campaign whose calls have known shares: 30 % live (talk ~100 s, wrap ~15 s), 10 % busy, the rest no answer."""

    async def run() -> None:
        engine = create_engine(db_url)
        rng = random.Random(3)
        try:
            async with session_factory(engine).begin() as s:
                c = Campaign(name=name, mode=CampaignMode.PREDICTIVE, dial_template="PJSIP/{number}@trunk",
                             caller_id="0303", pbx_name="default", ring_timeout_s=20.0)
                s.add(c)
                await s.flush()
                t = datetime.now(UTC) - timedelta(days=2)
                for i in range(calls):
                    t += timedelta(seconds=30)
                    kind = i % 10
                    a = CallAttempt(campaign_id=c.id, mode=CampaignMode.PREDICTIVE, number="+5511900000000",
                                    created_at=t, originated_at=t)
                    if kind < 3:
                        answered = t + timedelta(seconds=rng.uniform(5, 12))
                        ended = answered + timedelta(seconds=rng.uniform(60, 140))
                        a.answered_at, a.connected_at, a.ended_at = answered, answered, ended
                        a.wrapup_ended_at = ended + timedelta(seconds=rng.uniform(10, 20))
                        a.result = CallResult.CONNECTED
                    elif kind == 3:
                        a.ended_at, a.result = t + timedelta(seconds=4), CallResult.BUSY
                    else:
                        a.ended_at, a.result = t + timedelta(seconds=20), CallResult.NO_ANSWER
                    s.add(a)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_campaign_uses_its_own_measured_rates(db_url: str, config_file: str) -> None:
    _seed_campaign(db_url, "Carteira Medida", MIN_ATTEMPTS + 50)
    _seed_campaign(db_url, "Carteira Nova", 20)
    runner = CliRunner()
    measured = runner.invoke(cli, ["simulate", "--campaign", "Carteira Medida", "--agents", "2", "--hours", "0.5",
                                   "--json", "--config", config_file])
    assert measured.exit_code == 0, measured.output
    out = json.loads(measured.output)
    assert out["source"] == f"campanha Carteira Medida ({MIN_ATTEMPTS + 50} chamadas em 14 dias)"
    assert out["scenario"] == "Carteira Medida" and len(out["rows"]) == 1

    few = runner.invoke(cli, ["simulate", "--campaign", "Carteira Nova", "--agents", "2", "--hours", "0.5", "--json",
                              "--config", config_file])
    assert few.exit_code == 0, few.output
    assert json.loads(few.output)["source"] == "cenário mid-floor (a campanha Carteira Nova tem só 20 chamadas em 14 dias)"

    unknown = runner.invoke(cli, ["simulate", "--campaign", "Não Existe", "--config", config_file])
    assert unknown.exit_code == 2 and "Não Existe" in unknown.output
