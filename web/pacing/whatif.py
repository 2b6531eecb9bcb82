"""The what-if tool: how many agents for this list today, at this cap (``cobra simulate``, ``/supervisor/simulacao``).

A campaign's own measured rates (answer/machine/busy/no-answer shares, ring, talk and
wrap-up time distributions over the last days) become a pacing scenario; with too few
calls measured, a named scenario stands in. :func:`run_whatif` then runs the production
pacer in the shift simulator (:mod:`dialer.pacing.simulation`) once per agent count.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.clocks import system_clock
from dialer.pacing.scenario import AgentGroup, LogNormal, Outcomes, Scenario, ScenarioError, load_scenario
from dialer.pacing.simulation import simulate
from storage.repositories.pacing import MeasuredCalls, campaign_pacing_by_name, dialable_leads, measured_calls

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "bench" / "scenarios"
DEFAULT_FALLBACK = "mid-floor"
# Below these a campaign's own figures are noise: the fallback scenario is used instead
MIN_ATTEMPTS = 200
MIN_SAMPLES = 20
MAX_AGENT_COUNTS = 6
MAX_AGENTS = 200
MAX_HOURS = 12.0


class WhatIfError(ValueError):
    """Bad input for the what-if tool; ``field`` names it, the message is pt-BR."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class WhatIfRow:
    agents: int
    occupancy: float
    abandon_rate: float
    connects_per_agent_hour: float
    agent_wait_p50_s: float
    agent_wait_p95_s: float
    calls_placed: int
    calls_per_hour: float

    def as_dict(self) -> dict[str, object]:
        return {
            "agents": self.agents,
            "occupancy": round(self.occupancy, 4),
            "abandon_rate": round(self.abandon_rate, 4),
            "connects_per_agent_hour": round(self.connects_per_agent_hour, 2),
            "agent_wait_p50_s": round(self.agent_wait_p50_s, 1),
            "agent_wait_p95_s": round(self.agent_wait_p95_s, 1),
            "calls_placed": self.calls_placed,
            "calls_per_hour": round(self.calls_per_hour, 1),
        }


@dataclass(frozen=True, slots=True)
class WhatIfInput:
    """The scenario to simulate and where its rates came from."""

    scenario: Scenario
    source: str  # "campanha <name> (N chamadas, D dias)" or "cenário <name>"
    calls_measured: int = 0
    leads_dialable: int | None = None


def parse_agent_counts(text: str) -> list[int]:
    """``"5,10,20"`` → [5, 10, 20] (validated, duplicates dropped, order kept)."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= MAX_AGENTS:
            raise WhatIfError("agents", f"cada quantidade de agentes deve ser um inteiro de 1 a {MAX_AGENTS}, recebido {part!r}")
        if int(part) not in out:
            out.append(int(part))
    if not out:
        raise WhatIfError("agents", "informe ao menos uma quantidade de agentes, por exemplo 5,10,20")
    if len(out) > MAX_AGENT_COUNTS:
        raise WhatIfError("agents", f"no máximo {MAX_AGENT_COUNTS} quantidades de agentes por simulação")
    return out


def check_cap(cap: float) -> float:
    if not math.isfinite(cap) or not 0.0 < cap < 0.2:
        raise WhatIfError("cap", f"a taxa máxima de abandono deve estar entre 0 e 0,2 (ex.: 0.03), recebido {cap:g}")
    return cap


def check_hours(hours: float) -> float:
    if not math.isfinite(hours) or not 0.25 <= hours <= MAX_HOURS:
        raise WhatIfError("hours", f"a duração deve estar entre 0,25 e {MAX_HOURS:g} horas, recebido {hours:g}")
    return hours


def named_scenario(name_or_path: str) -> Scenario:
    """A scenario file, or a name under ``bench/scenarios`` (``mid-floor``)."""
    path = Path(name_or_path)
    if not path.is_file():
        path = SCENARIOS_DIR / f"{name_or_path}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in SCENARIOS_DIR.glob("*.json"))) or "nenhum"
        raise WhatIfError("scenario", f"cenário {name_or_path!r} não encontrado (arquivo ou nome; conhecidos: {known})")
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        raise WhatIfError("scenario", str(exc)) from None


def _lognormal(samples: Sequence[float], fallback: LogNormal) -> LogNormal:
    if len(samples) < MIN_SAMPLES:
        return fallback
    mean = statistics.fmean(samples)
    sd = statistics.pstdev(samples)
    return LogNormal(mean, max(sd, 0.05 * mean))


def scenario_from_measured(m: MeasuredCalls, base: Scenario, *, name: str, ring_timeout_s: float) -> Scenario:
    """``base`` with the campaign's measured shares and durations (``base``'s where too few samples)."""
    n = m.attempts
    outcomes = Outcomes(m.live / n, m.machine / n, m.busy / n, m.congestion / n, m.no_answer / n)
    return replace(
        base,
        name=name,
        description=f"medido: {n} chamadas",
        outcomes=outcomes,
        phases=(),
        ring_to_answer_s=_lognormal(m.ring_to_answer_s, base.ring_to_answer_s),
        ring_to_fail_s=_lognormal(m.ring_to_fail_s, base.ring_to_fail_s),
        talk_s=_lognormal(m.talk_s, base.talk_s),
        wrap_s=_lognormal(m.wrap_s, base.wrap_s),
        no_answer_timeout_s=ring_timeout_s,
    )


async def campaign_input(
    session: AsyncSession, campaign_name: str, *, days: int, fallback: str, now: datetime | None = None
) -> WhatIfInput:
    """The campaign's measured scenario over ``days`` days (the fallback's when too few calls)."""
    campaign = await campaign_pacing_by_name(session, campaign_name)
    if campaign is None:
        raise WhatIfError("campaign", f"campanha {campaign_name!r} não existe")
    now = now or system_clock()
    m = await measured_calls(session, campaign.id, since=now - timedelta(days=days))
    leads = await dialable_leads(session, campaign.id, until=now + timedelta(hours=12))
    base = named_scenario(fallback)
    if m.attempts < MIN_ATTEMPTS or m.live < MIN_SAMPLES:
        return WhatIfInput(
            base,
            f"cenário {base.name} (a campanha {campaign.name} tem só {m.attempts} chamadas em {days} dias)",
            m.attempts,
            leads,
        )
    scenario = scenario_from_measured(m, base, name=campaign.name, ring_timeout_s=campaign.ring_timeout_s)
    return WhatIfInput(scenario, f"campanha {campaign.name} ({m.attempts} chamadas em {days} dias)", m.attempts, leads)


def run_whatif(scenario: Scenario, agents: Sequence[int], *, cap: float, hours: float) -> list[WhatIfRow]:
    """One simulated shift per agent count, under the production pacer (CPU-bound: seconds)."""
    duration = hours * 3600.0
    rows = []
    for n in agents:
        s = replace(scenario, duration_s=duration, agents=(AgentGroup(n, 0.0, duration),), abandon_cap=cap)
        r = simulate(s, "cobra")
        rows.append(
            WhatIfRow(
                agents=n,
                occupancy=r.occupancy,
                abandon_rate=r.abandon_rate,
                connects_per_agent_hour=r.connects_per_agent_hour,
                agent_wait_p50_s=r.agent_wait_p50_s,
                agent_wait_p95_s=r.agent_wait_p95_s,
                calls_placed=r.calls_placed,
                calls_per_hour=r.calls_placed / hours,
            )
        )
    return rows


def percent(x: float, digits: int = 1) -> str:
    """pt-BR percentage: 0.0234 → ``2,3 %``."""
    return f"{x * 100:.{digits}f} %".replace(".", ",")


def decimal_br(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}".replace(".", ",")
