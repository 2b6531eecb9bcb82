"""``cobra simulate``: how many agents for this list today, at this cap (the what-if tool, SPEC §5).

    cobra simulate --campaign "Carteira Varejo" --agents 5,10,20 --cap 0.03 --hours 8
    cobra simulate --scenario bench/scenarios/small-team.json --agents 3,5 --hours 1 --json

With ``--campaign`` the campaign's own answer/machine/busy/no-answer shares and ring, talk
and wrap-up times over the last ``--days`` days feed the simulator (falling back to
``--fallback`` when it has too few calls); with ``--scenario`` a scenario file (or a name
under ``bench/scenarios``) does. Each agent count runs one simulated shift under the
production pacer: occupancy, abandon rate, connects per agent-hour, agent wait p50/p95.
"""

from __future__ import annotations

import json

import click

from storage.engine import create_engine, session_factory
from web.cli.common import CONTEXT_SETTINGS, config_option, get_config, run_async
from web.config import Config
from web.pacing.whatif import (
    DEFAULT_FALLBACK,
    WhatIfError,
    WhatIfInput,
    campaign_input,
    check_cap,
    check_hours,
    decimal_br,
    named_scenario,
    parse_agent_counts,
    percent,
    run_whatif,
)

HEADINGS = ("agentes", "ocupação", "abandono", "contatos/agente-h", "espera p50", "espera p95", "chamadas/h")


async def _campaign_input(config: Config, name: str, days: int, fallback: str) -> WhatIfInput:
    engine = create_engine(config.database.url)
    try:
        async with session_factory(engine)() as session:
            return await campaign_input(session, name, days=days, fallback=fallback)
    finally:
        await engine.dispose()


@click.command("simulate", context_settings=CONTEXT_SETTINGS)
@click.option("--campaign", "campaign", default=None, help="Campaign name: simulate with its own measured rates.")
@click.option("--scenario", "scenario", default=None, help="Scenario file, or a name under bench/scenarios (mid-floor).")
@click.option("--agents", "agents", default="5,10,20", show_default=True, help="Agent counts to try, comma-separated.")
@click.option("--cap", "cap", type=float, default=0.03, show_default=True, help="Abandon cap (0.03 = 3 %).")
@click.option("--hours", "hours", type=float, default=8.0, show_default=True, help="Length of the simulated shift.")
@click.option("--days", "days", type=click.IntRange(1, 90), default=14, show_default=True,
              help="With --campaign: how many past days of calls to measure.")
@click.option("--fallback", "fallback", default=DEFAULT_FALLBACK, show_default=True,
              help="With --campaign: scenario used when the campaign has too few calls.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
@config_option
def simulate_command(
    campaign: str | None,
    scenario: str | None,
    agents: str,
    cap: float,
    hours: float,
    days: int,
    fallback: str,
    as_json: bool,
    config_path: str | None,
) -> None:
    """How many agents for this list today at this cap: one simulated shift per agent count."""
    if (campaign is None) == (scenario is None):
        raise click.UsageError("give exactly one of --campaign NAME or --scenario FILE")
    try:
        counts = parse_agent_counts(agents)
        check_cap(cap)
        check_hours(hours)
        if campaign is not None:
            source = run_async(_campaign_input(get_config(config_path), campaign, days, fallback))
        else:
            s = named_scenario(scenario or "")
            source = WhatIfInput(s, f"cenário {s.name}")
    except WhatIfError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
    rows = run_whatif(source.scenario, counts, cap=cap, hours=hours)
    if as_json:
        click.echo(json.dumps({
            "source": source.source,
            "scenario": source.scenario.name,
            "cap": cap,
            "hours": hours,
            "leads_dialable": source.leads_dialable,
            "rows": [r.as_dict() for r in rows],
        }, ensure_ascii=False, indent=2))
        return
    click.echo(f"Fonte: {source.source}; teto de abandono {percent(cap)}; turno de {decimal_br(hours)} h")
    if source.leads_dialable is not None:
        click.echo(f"Leads discáveis hoje: {source.leads_dialable}")
    cells = [
        (
            str(r.agents),
            percent(r.occupancy),
            percent(r.abandon_rate, 2),
            decimal_br(r.connects_per_agent_hour, 2),
            f"{decimal_br(r.agent_wait_p50_s)} s",
            f"{decimal_br(r.agent_wait_p95_s)} s",
            decimal_br(r.calls_per_hour),
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(HEADINGS)]
    click.echo("  ".join(h.rjust(w) for h, w in zip(HEADINGS, widths)))
    for c in cells:
        click.echo("  ".join(v.rjust(w) for v, w in zip(c, widths)))
    for r in rows:
        if source.leads_dialable is not None and r.calls_per_hour > 0 and source.leads_dialable / r.calls_per_hour < hours:
            click.echo(
                f"Com {r.agents} agentes a lista acaba em cerca de {decimal_br(source.leads_dialable / r.calls_per_hour)} h."
            )
