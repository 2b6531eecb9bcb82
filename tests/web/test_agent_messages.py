"""Client messages: every type parses; anything malformed names its field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dialer.agents.state import PauseReason
from storage.models import OutcomeCode
from web.agent.messages import (
    MAX_MESSAGE_BYTES,
    BadMessage,
    Dial,
    Dispose,
    Hangup,
    Hello,
    Logout,
    OverrideIdentity,
    ScheduleCallback,
    SetState,
    VerifyIdentity,
    parse_client_message,
)


def test_every_client_message_type_parses() -> None:
    assert parse_client_message('{"type": "hello", "last_seq": 12, "epoch": "ab12"}') == Hello(
        type="hello", last_seq=12, epoch="ab12"
    )
    assert parse_client_message('{"type": "set_state", "state": "ready"}') == SetState(type="set_state", state="ready")
    pause = parse_client_message('{"type": "set_state", "state": "pause", "reason": "treinamento", "ref": "r1"}')
    assert isinstance(pause, SetState) and pause.reason is PauseReason.TREINAMENTO and pause.ref == "r1"
    verify = parse_client_message('{"type": "verify_identity", "call_id": "c1", "method": "cpf", "answer": "123"}')
    assert isinstance(verify, VerifyIdentity) and verify.answer == "123"
    with pytest.raises(BadMessage) as bad:
        parse_client_message('{"type": "verify_identity", "call_id": "c1", "method": "signo", "answer": "leão"}')
    assert bad.value.field == "method"
    assert isinstance(
        parse_client_message('{"type": "override_identity", "call_id": "c1", "reason": "cliente sem data no cadastro"}'),
        OverrideIdentity,
    )
    assert isinstance(parse_client_message('{"type": "hangup", "call_id": "c1"}'), Hangup)
    assert isinstance(parse_client_message('{"type": "dial", "call_id": "c1"}'), Dial)
    assert isinstance(parse_client_message('{"type": "logout"}'), Logout)
    cb = parse_client_message(
        '{"type": "schedule_callback", "customer_id": 9, "due_at": "2026-03-03T10:00:00-03:00", "own": false}'
    )
    assert isinstance(cb, ScheduleCallback) and cb.due_at == datetime(2026, 3, 3, 13, 0, tzinfo=UTC) and not cb.own
    d = parse_client_message(
        '{"type": "dispose", "call_id": "c1", "code": "PROMESSA", "client_key": "k-123456",'
        ' "promise_amount": "1234.56", "promise_date": "2026-03-10", "pause_after": "lanche"}'
    )
    assert isinstance(d, Dispose)
    assert (d.code, d.promise_amount, d.promise_date, d.pause_after) == (
        OutcomeCode.PROMESSA, Decimal("1234.56"), date(2026, 3, 10), PauseReason.LANCHE
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("{", None),
        ("[]", None),
        ('{"state": "ready"}', "type"),
        ('{"type": 3}', "type"),
        ('{"type": "set_state", "state": "dormindo"}', "state"),
        ('{"type": "set_state", "state": "pause"}', "reason"),
        ('{"type": "set_state", "state": "ready", "extra": 1}', "extra"),
        ('{"type": "hello", "last_seq": -1}', "last_seq"),
        ('{"type": "dispose", "call_id": "c1", "code": "PROMESSA"}', "client_key"),
        ('{"type": "dispose", "call_id": "c1", "code": "PROMESSA", "client_key": "k-123456", "promise_amount": "-5"}',
         "promise_amount"),
        ('{"type": "dispose", "call_id": "c1", "code": "PROMESSA", "client_key": "k-123456", "promise_amount": "1.005"}',
         "promise_amount"),
        ('{"type": "dispose", "call_id": "c1", "code": "RETORNAR", "client_key": "k-123456",'
         ' "callback_at": "2026-03-03T10:00:00"}', "callback_at"),
        ('{"type": "schedule_callback", "customer_id": 0, "due_at": "2026-03-03T10:00:00Z"}', "customer_id"),
    ],
)
def test_malformed_messages_name_the_field(raw: str, field: str | None) -> None:
    with pytest.raises(BadMessage) as err:
        parse_client_message(raw)
    assert err.value.field == field
    assert err.value.message


def test_the_ref_of_a_bad_message_is_kept_for_the_answer() -> None:
    with pytest.raises(BadMessage) as err:
        parse_client_message('{"type": "hangup", "ref": "r9"}')
    assert (err.value.field, err.value.ref) == ("call_id", "r9")


def test_oversized_messages_are_refused_before_parsing() -> None:
    with pytest.raises(BadMessage, match="grande demais"):
        parse_client_message('{"type": "logout", "ref": "' + "x" * MAX_MESSAGE_BYTES + '"}')
