"""The negotiation messages of the agent websocket: they parse, and bad input names its field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from web.agent.messages import (
    BadMessage,
    Dispose,
    PixCode,
    RequestApproval,
    ScriptStep,
    SimulateOffer,
    parse_client_message,
)


def test_negotiation_messages_parse() -> None:
    step = parse_client_message('{"type": "script_step", "call_id": "c1", "choice": "motivo_financeiro", "capture": "DESEMPREGO"}')
    assert step == ScriptStep(type="script_step", call_id="c1", choice="motivo_financeiro", capture="DESEMPREGO")
    sim = parse_client_message('{"type": "simulate_offer", "call_id": "c1", "discount_pct": "12.5", "installments": 6}')
    assert isinstance(sim, SimulateOffer) and sim.discount_pct == Decimal("12.5") and sim.installments == 6
    ask = parse_client_message('{"type": "request_approval", "call_id": "c1", "discount_pct": "20"}')
    assert isinstance(ask, RequestApproval) and ask.kind == "a_vista"
    pix = parse_client_message('{"type": "pix_code", "call_id": "c1", "amount": "150.00"}')
    assert isinstance(pix, PixCode) and pix.amount == Decimal("150.00")
    acordo = parse_client_message(
        '{"type": "dispose", "call_id": "c1", "code": "ACORDO", "client_key": "k-12345678",'
        ' "agreement": {"kind": "parcelado", "installments": 6, "discount_pct": "10", "approval_id": 3}}'
    )
    assert isinstance(acordo, Dispose) and acordo.agreement is not None and acordo.agreement.installments == 6


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"type": "simulate_offer", "call_id": "c1", "discount_pct": "120"}', "discount_pct"),
        ('{"type": "simulate_offer", "call_id": "c1", "installments": 0}', "installments"),
        ('{"type": "request_approval", "call_id": "c1", "discount_pct": "0"}', "discount_pct"),
        ('{"type": "request_approval", "call_id": "c1", "discount_pct": "20", "kind": "boleto"}', "kind"),
        ('{"type": "script_step", "call_id": "c1"}', "choice"),
        ('{"type": "pix_code", "call_id": "c1", "amount": "-1"}', "amount"),
        ('{"type": "dispose", "call_id": "c1", "code": "ACORDO", "client_key": "k-12345678"}', "agreement"),
        (
            '{"type": "dispose", "call_id": "c1", "code": "ACORDO", "client_key": "k-12345678", "agreement": {"kind": "parcelado"}}',
            "installments",
        ),
    ],
)
def test_bad_negotiation_messages_name_the_field(raw: str, field: str) -> None:
    with pytest.raises(BadMessage) as caught:
        parse_client_message(raw)
    assert caught.value.field is not None and caught.value.field.split(".")[-1] == field, caught.value
