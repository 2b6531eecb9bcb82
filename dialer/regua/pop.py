"""What the agent's pop says about the régua: why the account is back, which channels are stopped."""

from __future__ import annotations

from collections.abc import Iterable

from dialer.regua.rules import CHANNEL_LABEL_PT, Channel

BROKEN_PROMISE = "PROMESSA_QUEBRADA"
OUTSOURCED = "TERCEIRIZADO"
_REGUA_PREFIX = "REGUA_"
SUPERVISOR_SUFFIX = "_SUP"  # the step offers the supervisor's discount limit


def pop_flags(reasons: Iterable[str], opted_out: Iterable[str]) -> list[str]:
    """pt-BR notes for the pop: "promessa quebrada", "régua D+5", "não enviar SMS (pedido do cliente)"."""
    flags: list[str] = []
    for reason in sorted(set(reasons)):
        if reason == BROKEN_PROMISE:
            flags.append("promessa quebrada")
        elif reason == OUTSOURCED:
            flags.append("conta com assessoria externa")
        elif reason.startswith(_REGUA_PREFIX) and reason.endswith(SUPERVISOR_SUFFIX):
            step = reason.removeprefix(_REGUA_PREFIX).removesuffix(SUPERVISOR_SUFFIX)
            flags.append(f"régua {step}: oferta com alçada de supervisor")
        elif reason.startswith(_REGUA_PREFIX):
            flags.append(f"régua {reason.removeprefix(_REGUA_PREFIX)}")
    for channel in sorted(set(opted_out)):
        try:
            label = CHANNEL_LABEL_PT[Channel(channel)]
        except ValueError:
            continue
        flags.append("não ligar (pedido do cliente)" if channel == Channel.CALL else f"não enviar {label} (pedido do cliente)")
    return flags
