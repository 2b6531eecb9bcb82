"""Checking a disposition before it is stored: the form's fields, named in pt-BR messages (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dialer.agents.desktop import Disposition
from dialer.agents.services import InvalidDisposition
from dialer.agents.state import PauseReason

BRASILIA = timezone(timedelta(hours=-3))  # no daylight saving since 2019
# Same values as storage.models.OutcomeCode (storage imports nothing of ours)
OUTCOME_CODES = (
    "ACORDO",
    "PROMESSA",
    "RECUSA",
    "SEM_CONDICOES",
    "CONTESTA",
    "JA_PAGO",
    "RETORNAR",
    "RECADO",
    "TELEFONE_ERRADO",
    "FALECIDO",
)


def validate_disposition(d: Disposition, now: datetime) -> None:
    """Refuse a disposition the form must fix, naming the field (pt-BR messages)."""
    if not d.client_key or len(d.client_key) > 64:
        raise InvalidDisposition("client_key", "chave de idempotência ausente ou longa demais (máx. 64)")
    code = d.code
    if code not in OUTCOME_CODES:
        allowed = ", ".join(OUTCOME_CODES)
        raise InvalidDisposition("code", f"resultado desconhecido {d.code!r}; use um de: {allowed}")
    today = now.astimezone(BRASILIA).date()
    if code == "PROMESSA":
        if d.promise_amount is None or d.promise_amount <= 0:
            raise InvalidDisposition("promise_amount", "informe o valor prometido (maior que zero)")
        if d.promise_date is None:
            raise InvalidDisposition("promise_date", "informe a data da promessa")
        if d.promise_date < today:
            raise InvalidDisposition("promise_date", "a data da promessa não pode estar no passado")
    if code == "RETORNAR":
        if d.callback_at is None:
            raise InvalidDisposition("callback_at", "informe a data e a hora do retorno")
        if d.callback_at.tzinfo is None or d.callback_at.utcoffset() is None:
            raise InvalidDisposition("callback_at", "informe a data e a hora com fuso horário")
        if d.callback_at <= now - timedelta(minutes=1):
            raise InvalidDisposition("callback_at", "a data do retorno precisa estar no futuro")
    if d.notes is not None and len(d.notes) > 4000:
        raise InvalidDisposition("notes", "observação longa demais (máx. 4000 caracteres)")
    if d.pause_after is not None:
        try:
            PauseReason(d.pause_after)
        except ValueError:
            raise InvalidDisposition("pause_after", f"motivo de pausa desconhecido {d.pause_after!r}") from None
