"""The campaign page's pure logic: windows as the page sends them, whether a new window widens the old
one, and the change history told in pt-BR."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.repositories.steering import HistoryRow
from web.campaign_console.services import (
    WindowError,
    describe,
    filter_text,
    normalise_window,
    widens,
)


def test_a_window_is_normalised_with_every_day_and_checked() -> None:
    assert normalise_window({"mon": " 08:00-18:00 ", "sat": ""}) == {
        "mon": "08:00-18:00", "tue": None, "wed": None, "thu": None, "fri": None, "sat": None, "sun": None}
    with pytest.raises(WindowError) as bad:
        normalise_window({"tue": "8h-18h"})
    assert bad.value.field == "window.tue"
    with pytest.raises(WindowError) as unknown:
        normalise_window({"seg": "08:00-18:00"})
    assert unknown.value.field == "window.seg"


def test_widens() -> None:
    narrow = {"mon": "10:00-12:00"}
    assert widens(narrow, None) and widens(narrow, {"mon": "09:00-12:00"}) and widens(narrow, {"tue": "10:00-11:00"})
    assert not widens(narrow, {"mon": "10:30-11:00"}) and not widens(narrow, narrow) and not widens(None, narrow)
    assert not widens(None, None)


def _row(action: str, before: dict | None, after: dict | None, entity: str = "campaign") -> HistoryRow:  # type: ignore[type-arg]
    return HistoryRow(1, datetime(2026, 3, 2, 12, tzinfo=UTC), 2, "sofia", "Sofia Lima", action, entity, "7",
                      before, after)


def test_history_summaries_in_portuguese() -> None:
    assert describe(_row("campaign.stop", {"status": "active"}, {"status": "stopped"})) == \
        "Encerrou a campanha (ativa → encerrada)"
    assert describe(_row("boosts.set", {"C1": 0}, {"C1": 300})) == "Mudou a prioridade extra de C1: 0 → 300"
    assert describe(_row("boosts.bulk", None, {"boost": 50, "count": 3, "filter": {
        "ufs": ["RJ"], "balance_min": "1000.00", "buckets": ["1-30"]}})) == \
        "Prioridade extra 50 para 3 contas (UF RJ; atraso 1-30; saldo a partir de R$ 1.000,00)"
    assert describe(_row("campaign.script", {"script_key": None}, {"script_key": "varejo"})) == \
        "Mudou o roteiro: padrão → varejo"
    assert describe(_row("monitor_started", None, {"mode": "barge"}, entity="agent"), {7: "Ana Souza"}) == \
        "Começou a monitoria (conferência) de Ana Souza"
    assert describe(_row("campaign.pacing", {"mode": "predictive", "abandon_cap": 0.03, "amd_enabled": False},
                         {"mode": "predictive", "abandon_cap": 0.025, "amd_enabled": True})) == \
        "Mudou o ritmo de discagem (teto de abandono: 3,0% → 2,5%; detecção de secretária eletrônica: não → sim)"
    assert describe(_row("something.new", None, None)) == "something.new"
    assert filter_text({}) == "todas as contas"
