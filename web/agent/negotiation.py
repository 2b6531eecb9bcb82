"""Rendering the negotiation of the call on an agent's screen: script text, and Pix codes.

The call session itself (script run, identity, quote, approvals) is the floor's
(:class:`dialer.floor.session.CallSession`); here it is only read and turned into frames.
The debt namespaces of the script (``divida``, ``credor``, ``oferta``, ``acordo``) are
filled from the server's own quote, and only once the identity is confirmed (SPEC §6, §7).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import segno

from dialer.floor.session import CallSession
from dialer.leads.ddd import offsets_for
from scripting.money import format_brl, format_date_br
from scripting.pix import build_pix_payload
from scripting.render import (
    Agente,
    Chamada,
    Cliente,
    Credor,
    Empresa,
    TemplateContext,
    TemplateRefused,
    abbreviated_name,
    acordo_from,
    as_plain_text,
    divida_from,
    first_name,
    greeting_at,
    oferta_from,
)
from web.agent.messages import PixView, ScriptChoiceView, ScriptFrame

#: The collection company as the script names it (not the creditor) when none is configured;
#: the composition root passes ``[company]`` of the configuration (see ``web.app``).
COMPANY = Empresa(nome="Cobra Assessoria de Cobrança", telefone="0800 000 0000")


@dataclass(frozen=True)
class PixReceiver:
    """Who receives the Pix payments (the key's owner), for the BR Code."""

    key: str
    name: str
    city: str

    def code(self, amount: Decimal, txid: str) -> PixView:
        """The "copia e cola" for ``amount`` and its QR code as SVG."""
        payload = build_pix_payload(self.key, self.name, self.city, amount=amount, txid=re.sub(r"[^A-Za-z0-9]", "", txid)[:25])
        out = io.BytesIO()
        segno.make(payload, error="m").save(out, kind="svg", scale=4, xmldecl=False, svgns=True, title="QR Code Pix")
        return PixView(amount=format_brl(amount), payload=payload, svg=out.getvalue().decode("utf-8"))


def template_context(session: CallSession, company: Empresa = COMPANY) -> TemplateContext:
    """The script's template context; debt namespaces only once identity is confirmed and a quote exists."""
    pop = session.pop
    name = pop.customer.name
    base = TemplateContext(
        agente=Agente(nome=session.agent_name, primeiro_nome=first_name(session.agent_name)),
        empresa=company,
        cliente=Cliente(nome=name, primeiro_nome=first_name(name), nome_abreviado=abbreviated_name(name)),
        chamada=Chamada(protocolo=session.call_id, data=format_date_br(pop.created_at.date()),
                        saudacao=greeting_at(_local_hour(pop.phone_e164, pop.created_at))),
    )
    if session.identity_confirmed_at is None or session.quote is None:
        return base
    quote = session.quote
    debt = pop.debts[0] if pop.debts else None
    contracts = ", ".join(c.contract for c in quote.contracts)
    # "o seu financiamento de veículo" (the script adds "contrato <número>" itself)
    descricao = f"o seu {debt.product.lower()}" if debt is not None and debt.product else "o seu contrato"
    chosen = session.selected or quote.cash
    return TemplateContext(
        agente=base.agente,
        empresa=base.empresa,
        cliente=base.cliente,
        chamada=base.chamada,
        divida=divida_from(quote.debt, descricao, contracts),
        credor=Credor(nome=debt.creditor if debt is not None else ""),
        oferta=oferta_from(quote.offers),
        acordo=acordo_from(chosen),
    )


def _local_hour(phone_e164: str, at: datetime) -> int:
    """The hour on the customer's clock (their DDD's offset; Brasília when the number is unknown)."""
    try:
        offset = offsets_for(phone_e164)[0]
    except (ValueError, KeyError, IndexError):
        offset = timedelta(hours=-3)
    return (at.astimezone(UTC) + offset).hour


def script_frame(session: CallSession, company: Empresa = COMPANY) -> ScriptFrame:
    """The run's current step, rendered for this call (or the outcome once it is finished)."""
    run = session.run
    confirmed = session.identity_confirmed_at is not None
    if run.finished:
        return ScriptFrame(
            call_id=session.call_id, step_id=None, title="Roteiro concluído", text="", choices=[],
            actions=[], identity_confirmed=confirmed, outcome=run.outcome,
        )
    step = run.current_step
    try:
        # plain text: the page inserts it with textContent (its own code renders **negrito**)
        text = as_plain_text(run.render_current(template_context(session, company)))
    except TemplateRefused as exc:
        text = f"(texto indisponível: {exc})"
    choices = [
        ScriptChoiceView(
            id=c.id,
            label=c.label,
            capture_key=c.capture.key if c.capture else None,
            options=[[i.code, i.label] for i in c.capture.catalogue] if c.capture else [],
            dispose=c.dispose,
        )
        for c in step.choices
    ]
    return ScriptFrame(
        call_id=session.call_id, step_id=step.id, title=step.title, text=text, choices=choices,
        actions=[a.value for a in step.actions], identity_confirmed=confirmed, outcome=None,
    )


__all__ = ["COMPANY", "PixReceiver", "script_frame", "template_context"]
