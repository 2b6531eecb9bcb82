"""The campaign page's logic without I/O: calling windows as the page sends them, and the change
history told in pt-BR (who, when, what, before → after) from audit entries."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from dialer.leads.windows import WeeklyWindow
from scripting.money import format_brl
from storage.repositories.steering import HistoryRow

# The page's weekday keys, Monday first (the stored override uses them too: WeeklyWindow.parse reads them)
WEEK_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_PT = {"mon": "seg", "tue": "ter", "wed": "qua", "thu": "qui", "fri": "sex", "sat": "sáb", "sun": "dom"}


class WindowError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalise_window(days: Mapping[str, str | None]) -> dict[str, str | None]:
    """``{"mon": "08:00-18:00", "sun": null, ...}`` checked and with every weekday present (a day left out is closed).

    Raises :class:`WindowError` naming ``window.<day>``."""
    out: dict[str, str | None] = {}
    for key in days:
        if key not in WEEK_KEYS:
            raise WindowError(f"window.{key}", f"dia desconhecido; use {', '.join(WEEK_KEYS)}")
    for key in WEEK_KEYS:
        value = days.get(key)
        value = value.strip() if isinstance(value, str) else None
        if value:
            try:
                WeeklyWindow.parse({key: value})
            except ValueError:
                raise WindowError(f"window.{key}", "use HH:MM-HH:MM, com o início antes do fim (ex.: 08:00-18:00)") from None
        out[key] = value or None
    return out


def widens(before: Mapping[str, str | None] | None, after: Mapping[str, str | None] | None) -> bool:
    """True when ``after`` lets the campaign call at some moment ``before`` did not (None: no restriction)."""
    if before is None:
        return False
    if after is None:
        return True
    old, new = WeeklyWindow.parse(dict(before)), WeeklyWindow.parse(dict(after))
    for day in range(7):
        was, now = old.on(day), new.on(day)
        if now is not None and (was is None or now.start < was.start or now.end > was.end):
            return True
    return False


def window_text(window: Mapping[str, Any] | None) -> str:
    if not window:
        return "sem restrição da campanha"
    parts = [f"{WEEKDAY_PT.get(k, k)} {window.get(k) or 'fechado'}" for k in WEEK_KEYS if k in window]
    return ", ".join(parts) or "sem restrição da campanha"


_STATUS_PT = {"active": "ativa", "paused": "pausada", "stopped": "encerrada"}
_MODE_PT = {"predictive": "preditivo", "progressive": "progressivo", "preview": "prévia", "manual": "manual"}
_HOLD_PT = {"deceased": "falecido", "dispute": "contestação", "lawyer": "advogado", "insolvency": "insolvência"}
_PACING_PT = {"mode": "modo", "max_dial_level": "nível máximo", "abandon_cap": "teto de abandono",
              "amd_enabled": "detecção de secretária eletrônica"}
_MONITOR_PT = {"listen": "ouvir", "whisper": "sussurrar", "barge": "conferência"}


def _pacing_value(key: str, value: Any) -> str:
    """A pacing setting as people read it: "prévia", "2,5", "3,0%", "sim"."""
    if value is None:
        return "—"
    if key == "mode":
        return str(_MODE_PT.get(str(value), value))
    if isinstance(value, bool):
        return "sim" if value else "não"
    if key == "abandon_cap" and isinstance(value, (int, float)):
        return f"{value * 100:.1f}%".replace(".", ",")
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def filter_text(flt: Mapping[str, Any] | None) -> str:
    """A bulk-boost or segment filter in pt-BR (``DDD 21, UF RJ``); "todas as contas" when empty."""
    if not flt:
        return "todas as contas"
    parts = []
    if flt.get("ddds"):
        parts.append("DDD " + ", ".join(flt["ddds"]))
    if flt.get("ufs"):
        parts.append("UF " + ", ".join(flt["ufs"]))
    if flt.get("buckets"):
        parts.append("atraso " + ", ".join(flt["buckets"]))
    if flt.get("balance_min") is not None:
        parts.append("saldo a partir de " + format_brl(Decimal(str(flt["balance_min"]))))
    if flt.get("balance_max") is not None:
        parts.append("saldo até " + format_brl(Decimal(str(flt["balance_max"]))))
    if flt.get("tags_any"):
        parts.append("etiquetas " + ", ".join(flt["tags_any"]))
    return "; ".join(parts) or "todas as contas"


def _segments(value: Mapping[str, Any] | None) -> str:
    segs = (value or {}).get("segments") or []
    return ", ".join(f"{s.get('name')} (peso {s.get('weight')})" for s in segs) or "nenhum"


def describe(row: HistoryRow, agent_names: Mapping[int, str] | None = None) -> str:
    """One audit entry as the history panels show it (pt-BR)."""
    b, a = row.before or {}, row.after or {}
    act = row.action
    if act in ("campaign.start", "campaign.pause", "campaign.stop"):
        verb = {"campaign.start": "Iniciou", "campaign.pause": "Pausou", "campaign.stop": "Encerrou"}[act]
        was, now = str(b.get("status")), str(a.get("status"))
        return f"{verb} a campanha ({_STATUS_PT.get(was, was)} → {_STATUS_PT.get(now, now)})"
    if act == "campaign.pacing":
        changed = [k for k in a if b.get(k) != a.get(k)]
        bits = []
        for k in changed or list(a):
            bits.append(f"{_PACING_PT.get(k, k)}: {_pacing_value(k, b.get(k))} → {_pacing_value(k, a.get(k))}")
        return "Mudou o ritmo de discagem (" + "; ".join(bits) + ")"
    if act == "segments.replace":
        return f"Mudou os segmentos: {_segments(b)} → {_segments(a)}"
    if act == "boosts.set":
        bits = [f"{ext}: {b.get(ext)} → {v}" for ext, v in a.items()]
        return "Mudou a prioridade extra de " + ", ".join(bits)
    if act == "boosts.bulk":
        return f"Prioridade extra {a.get('boost')} para {a.get('count')} contas ({filter_text(a.get('filter'))})"
    if act == "campaign.window":
        return f"Mudou o horário da campanha: {window_text(b.get('window'))} → {window_text(a.get('window'))}"
    if act == "campaign.script":
        return f"Mudou o roteiro: {b.get('script_key') or 'padrão'} → {a.get('script_key') or 'padrão'}"
    if act == "hold.set":
        return f"Suspendeu a cobrança de {a.get('external_id') or a.get('customer_id')} " \
               f"({_HOLD_PT.get(str(a.get('kind')), a.get('kind'))}: {a.get('reason')})"
    if act == "hold.release":
        return f"Encerrou a suspensão de {a.get('external_id') or a.get('customer_id')}"
    if act == "portfolio.import":
        test = " (teste)" if a.get("dry_run") else ""
        return f"Importou a carteira {a.get('file') or ''}{test}: {a.get('rows')} linhas, " \
               f"{a.get('rejected_rows')} rejeitadas".replace("  ", " ")
    if act == "campaign.add":
        return "Criou a campanha"
    if act in ("monitor_started", "monitor_stopped"):
        verb = "Começou" if act == "monitor_started" else "Terminou"
        mode = _MONITOR_PT.get(str(a.get("mode") or b.get("mode")), a.get("mode"))
        agent = row.entity_id or "?"
        if agent.isdigit() and agent_names is not None:
            agent = agent_names.get(int(agent), agent)
        return f"{verb} a monitoria ({mode}) de {agent}"
    return act


def agent_ids(rows: list[HistoryRow]) -> list[int]:
    """The agents the monitoring entries of ``rows`` name (to look their names up)."""
    return [int(r.entity_id) for r in rows if r.entity == "agent" and r.entity_id and r.entity_id.isdigit()]


def history_item(
    row: HistoryRow, campaign_names: Mapping[int, str] | None = None, agent_names: Mapping[int, str] | None = None
) -> dict[str, Any]:
    campaign = None
    if row.entity == "campaign" and row.entity_id and row.entity_id.isdigit() and campaign_names is not None:
        campaign = campaign_names.get(int(row.entity_id))
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "user_id": row.user_id,
        "login": row.login,
        "user_name": row.user_name,
        "action": row.action,
        "entity": row.entity,
        "entity_id": row.entity_id,
        "campaign": campaign,
        "summary": describe(row, agent_names),
        "before": row.before,
        "after": row.after,
    }


__all__ = [
    "WEEK_KEYS", "WindowError", "agent_ids", "describe", "filter_text", "history_item", "normalise_window", "widens",
    "window_text",
]
