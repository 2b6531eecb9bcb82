"""The negotiation of the call on an agent's screen: its script run, last quote and approved discount.

One :class:`CallNegotiation` per agent and call, kept by :class:`Negotiations` (the desk owns
it). The run starts when the screen-pop arrives; the debt namespaces of the script
(``divida``, ``credor``, ``oferta``, ``acordo``) are filled from the server's own quote, and
only once the identity is confirmed (SPEC §6, §7). Everything here is in memory: the run is
stored with the call at dispose (``record_script_run``).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from dialer.agents.desktop import ScreenPop
from dialer.negotiation.offers import NegotiationQuote
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
    divida_from,
    first_name,
    oferta_from,
)
import segno

from scripting.money import format_brl, format_date_br
from scripting.pix import build_pix_payload
from scripting.offers import Offer
from scripting.run import RunError, ScriptRun
from scripting.script import Script, load_default_script
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


@dataclass
class CallNegotiation:
    """What the agent's negotiation of one call has reached so far."""

    call_id: str
    customer_id: int
    campaign_id: int
    agent_name: str
    pop: ScreenPop
    run: ScriptRun
    quote: NegotiationQuote | None = None
    selected: Offer | None = None
    approvals: dict[int, Decimal] = field(default_factory=dict)  # approved request id → discount %
    company: Empresa = COMPANY

    def approval_for(self, discount_pct: Decimal) -> int | None:
        """An approved request covering ``discount_pct`` (the latest), if any."""
        found = [rid for rid, pct in self.approvals.items() if pct >= discount_pct]
        return max(found) if found else None

    def context(self) -> TemplateContext:
        """The template context; debt namespaces only once identity is confirmed and a quote exists."""
        name = self.pop.customer.name
        base = TemplateContext(
            agente=Agente(nome=self.agent_name, primeiro_nome=first_name(self.agent_name)),
            empresa=self.company,
            cliente=Cliente(nome=name, primeiro_nome=first_name(name), nome_abreviado=abbreviated_name(name)),
            chamada=Chamada(protocolo=self.call_id, data=format_date_br(self.pop.created_at.date())),
        )
        if not self.run.identity_confirmed or self.quote is None:
            return base
        quote = self.quote
        debt = self.pop.debts[0] if self.pop.debts else None
        contracts = ", ".join(c.contract for c in quote.contracts)
        descricao = f"o contrato {debt.product}" if debt is not None and debt.product else "o seu contrato"
        chosen = self.selected or quote.cash
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

    def script_frame(self) -> ScriptFrame:
        """The run's current step, rendered for this call (or the outcome once it is finished)."""
        run = self.run
        if run.finished:
            return ScriptFrame(
                call_id=self.call_id, step_id=None, title="Roteiro concluído", text="", choices=[],
                actions=[], identity_confirmed=run.identity_confirmed, outcome=run.outcome,
            )
        step = run.current_step
        try:
            text = str(run.render_current(self.context()))
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
            call_id=self.call_id, step_id=step.id, title=step.title, text=text, choices=choices,
            actions=[a.value for a in step.actions], identity_confirmed=run.identity_confirmed, outcome=None,
        )

    def confirm_identity(self, at: datetime) -> None:
        """Mark the run's identity step: take the choices that lead through the gate, if they are one step away."""
        run = self.run
        if run.identity_confirmed or run.finished:
            return
        step = run.current_step
        confirming = next((c for c in step.choices if c.confirms_identity), None)
        if confirming is None:
            # e.g. still on the greeting: take the choice leading to the gate step first
            for c in step.choices:
                if c.next is not None and any(x.confirms_identity for x in run.script.step(c.next).choices):
                    run.choose(c.id, at)
                    confirming = next(x for x in run.current_step.choices if x.confirms_identity)
                    break
        if confirming is not None:
            try:
                run.choose(confirming.id, at)
                return
            except RunError:
                pass
        # no gate within reach in this script: the record still shows when it was confirmed
        run.identity_confirmed_at = at


class Negotiations:
    """The negotiation of each agent's current call (one at a time per agent)."""

    def __init__(self, script: Script | None = None, company: Empresa = COMPANY) -> None:
        self.script = script or load_default_script()
        self.company = company
        # Campaign id → the published script its calls run (kept fresh by ``web.scripts``); others: ``script``
        self.campaign_scripts: dict[int, Script] = {}
        self._by_agent: dict[int, CallNegotiation] = {}

    def start(self, user_id: int, pop: ScreenPop, agent_name: str, at: datetime) -> CallNegotiation:
        """The negotiation for ``pop`` (a new run unless this call already has one)."""
        current = self._by_agent.get(user_id)
        if current is not None and current.call_id == pop.call_id:
            current.pop = pop
            return current
        neg = CallNegotiation(
            call_id=pop.call_id,
            customer_id=pop.customer.id,
            campaign_id=pop.campaign_id,
            agent_name=agent_name,
            pop=pop,
            run=ScriptRun(self.campaign_scripts.get(pop.campaign_id, self.script), at),
            company=self.company,
        )
        self._by_agent[user_id] = neg
        return neg

    def get(self, user_id: int, call_id: str) -> CallNegotiation | None:
        neg = self._by_agent.get(user_id)
        return neg if neg is not None and neg.call_id == call_id else None

    def end(self, user_id: int, call_id: str) -> None:
        if self.get(user_id, call_id) is not None:
            del self._by_agent[user_id]


__all__ = ["COMPANY", "CallNegotiation", "Negotiations", "PixReceiver"]
