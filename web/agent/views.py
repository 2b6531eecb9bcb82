"""What the agent's screen shows, in pt-BR: labels, and the screen-pop split at the identity gate.

Everything is formatted here (``R$ 1.234,56``, ``dd/mm/aaaa``, Brasília time) so the page's
script only places text. The part before the identity is confirmed carries nothing that
reveals the debt (SPEC §6): the browser does not even receive the rest until then.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dialer.agents.desktop import CallPhase, ScreenPop
from dialer.agents.state import AgentState, AgentStatus, PauseReason
from dialer.calls.services import pop_window
from dialer.floor.identity import METHOD_LABEL, STATUS_LABEL, IdentityCheck
from dialer.leads.ddd import UFS
from dialer.leads.windows import holiday_on
from dialer.regua.pop import pop_flags
from scripting.money import format_brl, format_date_br
from storage.models import CallResult, OutcomeCode
from storage.repositories.agent_day import AgentDay
from web.agent.messages import (
    AgentStateFrame,
    DayCallbackView,
    IdentityView,
    MyDayFrame,
    PopAttemptView,
    PopDebtView,
    PopDetails,
    PopPromiseView,
    PopSummary,
    ScreenPopFrame,
)

BRASILIA = ZoneInfo("America/Sao_Paulo")

STATE_LABEL: dict[AgentState, str] = {
    AgentState.OFFLINE: "Fora do discador",
    AgentState.CONNECTING: "Chamando seu telefone",
    AgentState.READY: "Disponível",
    AgentState.RESERVED: "Chamada chegando",
    AgentState.ON_CALL: "Em atendimento",
    AgentState.WRAP_UP: "Pós-atendimento",
    AgentState.PAUSED: "Em pausa",
}

PAUSE_LABEL: dict[PauseReason, str] = {
    PauseReason.BANHEIRO: "Banheiro",
    PauseReason.LANCHE: "Lanche",
    PauseReason.TREINAMENTO: "Treinamento",
    PauseReason.FEEDBACK: "Feedback",
    PauseReason.OUTROS: "Outros",
}

PHASE_LABEL: dict[CallPhase, str] = {
    CallPhase.PREVIEW: "Prévia: confira a ficha e clique em Ligar",
    CallPhase.DIALING: "Chamando o cliente",
    CallPhase.CONNECTING: "Cliente atendeu: conectando",
    CallPhase.CONNECTED: "Em conversa",
    CallPhase.ENDED: "Chamada encerrada",
}

RESULT_LABEL: dict[str, str] = {
    CallResult.BUSY: "Ocupado",
    CallResult.NO_ANSWER: "Não atendeu",
    CallResult.CONGESTION: "Congestionamento",
    CallResult.FAILED: "Falha na discagem",
    CallResult.MACHINE: "Caixa postal",
    CallResult.ABANDONED: "Abandonada",
    CallResult.ANSWERED: "Atendida",
    CallResult.CONNECTED: "Conversa concluída",
    CallResult.CANCELLED: "Cancelada",
}

# The outcome catalogue (SPEC §7), in the order the form shows it, with its keyboard shortcut
OUTCOMES: tuple[tuple[OutcomeCode, str, str], ...] = (
    (OutcomeCode.PROMESSA, "Promessa de pagamento", "1"),
    (OutcomeCode.ACORDO, "Acordo fechado", "2"),
    (OutcomeCode.RETORNAR, "Retornar ligação", "3"),
    (OutcomeCode.RECUSA, "Recusa", "4"),
    (OutcomeCode.SEM_CONDICOES, "Sem condições de pagar", "5"),
    (OutcomeCode.RECADO, "Recado com terceiro", "6"),
    (OutcomeCode.JA_PAGO, "Já pagou", "7"),
    (OutcomeCode.CONTESTA, "Contesta a dívida", "8"),
    (OutcomeCode.TELEFONE_ERRADO, "Telefone errado", "9"),
    (OutcomeCode.FALECIDO, "Falecido", "0"),
)
OUTCOME_LABEL: dict[str, str] = {code.value: label for code, label, _ in OUTCOMES}


def greeting_name(full_name: str) -> str:
    """First name and last-name initial: "Maria da Silva" → "Maria S."."""
    parts = full_name.split()
    if not parts:
        return full_name
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."


def br_datetime(at: datetime) -> str:
    """``dd/mm/aaaa HH:MM`` in Brasília time."""
    return at.astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M")


def agent_state_frame(status: AgentStatus, since: datetime) -> AgentStateFrame:
    label = STATE_LABEL[status.state]
    if status.state is AgentState.PAUSED and status.pause_reason is not None:
        label = f"Pausa: {PAUSE_LABEL[status.pause_reason]}"
    return AgentStateFrame(
        state=status.state.value,
        label=label,
        pause_reason=status.pause_reason.value if status.pause_reason else None,
        pause_requested=status.pause_requested.value if status.pause_requested else None,
        since=since,
    )


def pop_summary(pop: ScreenPop, now: datetime) -> PopSummary:
    window = pop.window
    if window is None or window.minute != now.replace(second=0, microsecond=0):
        window = pop_window(now, pop.phone_e164, pop.customer.uf)  # shown in another minute than worked out
    flags = [t for t in pop.customer.tags if t.lower() in {"nao_ligar", "opt_out", "optout", "advogado", "disputa"}]
    regua = pop.extras.get("regua")
    if isinstance(regua, dict):  # why the régua brought the account back, which channels the customer stopped
        flags += pop_flags(regua.get("reasons") or (), regua.get("opted_out") or ())
    return PopSummary(
        greeting_name=greeting_name(pop.customer.name),
        phone_masked=pop.phone_masked,
        local_time=window.local_time,
        window_open=window.allowed,
        window_message=window.message,
        attempts_today=pop.attempts_today,
        attempts_7d=pop.attempts_7d,
        flags=flags,
    )


def pop_details(pop: ScreenPop) -> PopDetails:
    return PopDetails(
        customer_id=pop.customer.id,
        full_name=pop.customer.name,
        masked_cpf=pop.customer.masked_cpf,
        uf=pop.customer.uf,
        total_balance=format_brl(pop.total_balance),
        debts=[
            PopDebtView(
                contract=d.contract,
                creditor=d.creditor,
                product=d.product,
                original_amount=format_brl(d.original_amount),
                balance=format_brl(d.balance),
                due_date=format_date_br(d.due_date),
                days_past_due=d.days_past_due,
            )
            for d in pop.debts
        ],
        attempts=[
            PopAttemptView(
                at=br_datetime(a.at),
                result=RESULT_LABEL.get(a.result or "", a.result),
                agent_name=a.agent_name,
                outcome=OUTCOME_LABEL.get(a.outcome_code or "", a.outcome_code),
                notes=a.notes,
            )
            for a in pop.attempts
        ],
        promises=[
            PopPromiseView(
                created_at=format_date_br(p.created_at.astimezone(BRASILIA).date()),
                amount=format_brl(p.amount) if p.amount is not None else None,
                due=format_date_br(p.due) if p.due is not None else None,
                kept="em aberto" if p.kept is None else ("cumprida" if p.kept else "quebrada"),
            )
            for p in pop.promises
        ],
        tags=list(pop.customer.tags),
    )


def warm_calendars(today: datetime) -> None:
    """Load every UF's holidays for this year and the next (the first lookup costs ~0.2 s, which
    must not fall on the first screen-pop: the pop is built while the customer waits)."""
    for year in (today.year, today.year + 1):
        day = today.date().replace(year=year, month=1, day=1)
        holiday_on(day, sorted(UFS))


def screen_pop_frame(pop: ScreenPop, now: datetime, confirmed_at: datetime | None) -> ScreenPopFrame:
    """The pop as sent: the summary always, the details only once the identity is confirmed."""
    return ScreenPopFrame(
        call_id=pop.call_id,
        campaign_id=pop.campaign_id,
        campaign_name=pop.campaign_name,
        mode=pop.mode,
        created_at=pop.created_at,
        summary=pop_summary(pop, now),
        identity_confirmed_at=confirmed_at,
        details=pop_details(pop) if confirmed_at is not None else None,
    )


def identity_view(check: IdentityCheck, message: str | None = None) -> IdentityView:
    """The identity check as the page shows it: the questions' names, never the answers on file."""
    return IdentityView(
        status=check.status.value,
        label=STATUS_LABEL[check.status],
        methods=[[m.value, METHOD_LABEL[m] if m.value != "outra" else (check.key.other_question or METHOD_LABEL[m])]
                 for m in check.key.methods()],
        attempts_left=check.attempts_left,
        message=message,
    )


def my_day_frame(day: AgentDay, now: datetime) -> MyDayFrame:
    """The agent's day in pt-BR: the bar's one line, the callbacks (overdue marked) and today's figures."""
    overdue = sum(1 for c in day.callbacks if c.due_at <= now)
    callbacks = [
        DayCallbackView(at=br_datetime(c.due_at), customer=greeting_name(c.customer_name), notes=c.notes,
                        overdue=c.due_at <= now)
        for c in day.callbacks
    ]
    late = f" ({overdue} atrasado{'s' if overdue != 1 else ''})" if overdue else ""
    line = (
        f"Retornos: {len(day.callbacks)}{late} · Contatos hoje: {day.contacts} · "
        f"Promessas: {day.promises} · Acordos: {day.agreements}"
    )
    figures = [
        ["Contatos (conversas) hoje", str(day.contacts)],
        ["Promessas hoje", f"{day.promises} · {format_brl(day.promises_amount)}"],
        ["Acordos hoje", f"{day.agreements} · {format_brl(day.agreements_amount)}"],
        ["Retornos em aberto", f"{len(day.callbacks)}{late}"],
    ]
    return MyDayFrame(line=line, callbacks=callbacks, figures=figures)
