"""The default régua (SPEC §9): what a new installation starts with; supervisors edit it on the page."""

from __future__ import annotations

from dialer.regua.rules import Action, Anchor, Channel, Offer, Rule

DEFAULT_AGENCY = "Assessoria Parceira"
DIAL_BOOST = 5
CALL_BOOST = 10

_SIGNATURE = "\n\n{{ empresa.nome }} · {{ empresa.telefone }}"
_PIX = "{% if pix %}\n\nPix copia e cola ({{ valor_pix }}):\n{{ pix }}{% endif %}"

DEFAULT_REGUA: tuple[Rule, ...] = (
    Rule(
        key="lembrete-d-5", name="Lembrete preventivo", anchor=Anchor.DEBT, offset_days=-5,
        action=Action.MESSAGE, channel=Channel.EMAIL,
        subject="Lembrete: seu pagamento de {{ valor }} vence em {{ vencimento }}",
        body="Olá, {{ cliente.primeiro_nome }}.\n\nLembramos que o contrato {{ contrato }} ({{ credor }}) vence em "
        "{{ vencimento }}, no valor de {{ valor }}. Pagando em dia você evita juros e multa." + _PIX + _SIGNATURE,
    ),
    Rule(
        key="aviso-d1", name="Aviso de atraso", anchor=Anchor.DEBT, offset_days=1,
        action=Action.MESSAGE, channel=Channel.SMS,
        body="{{ empresa.nome }}: {{ cliente.primeiro_nome }}, não identificamos o pagamento de {{ valor }} "
        "vencido em {{ vencimento }} (contrato {{ contrato }}). Fale conosco: {{ empresa.telefone }}.",
    ),
    Rule(
        key="discagem-d5", name="Entra na lista de discagem", anchor=Anchor.DEBT, offset_days=5,
        action=Action.DIAL, channel=Channel.CALL, boost=DIAL_BOOST,
    ),
    Rule(
        key="segundo-aviso-d15", name="Segundo aviso com oferta", anchor=Anchor.DEBT, offset_days=15,
        action=Action.MESSAGE, channel=Channel.EMAIL, offer=Offer.STANDARD,
        subject="{{ cliente.primeiro_nome }}, uma condição especial para quitar {{ valor }}",
        body="Olá, {{ cliente.primeiro_nome }}.\n\nO contrato {{ contrato }} ({{ credor }}) está em atraso desde "
        "{{ vencimento }}: {{ valor }}. {{ oferta }}{% if valor_oferta %} Pagando à vista: {{ valor_oferta }}.{% endif %}"
        + _PIX + _SIGNATURE,
    ),
    Rule(
        key="ligacao-d30", name="Ligação com oferta de supervisor", anchor=Anchor.DEBT, offset_days=30,
        action=Action.DIAL, channel=Channel.CALL, boost=CALL_BOOST, offer=Offer.SUPERVISOR,
    ),
    Rule(
        key="assessoria-d90", name="Envio para assessoria externa", anchor=Anchor.DEBT, offset_days=90,
        action=Action.HANDOFF, channel=Channel.AGENCY, agency=DEFAULT_AGENCY,
    ),
    Rule(
        key="parcela-d-3", name="Lembrete de parcela do acordo", anchor=Anchor.INSTALLMENT, offset_days=-3,
        action=Action.MESSAGE, channel=Channel.WHATSAPP,
        body="{{ empresa.nome }}: {{ cliente.primeiro_nome }}, a parcela {{ parcela }} do seu acordo, de {{ valor }}, "
        "vence em {{ vencimento }}." + _PIX,
    ),
    Rule(
        key="satisfacao", name="Pesquisa de satisfação após o acordo", anchor=Anchor.AGREEMENT, offset_days=1,
        action=Action.MESSAGE, channel=Channel.EMAIL, enabled=False,
        subject="Como foi o seu atendimento?",
        body="Olá, {{ cliente.primeiro_nome }}.\n\nObrigado por fechar o seu acordo. Em um clique, de 1 a 5, "
        "como foi o atendimento?\n\n{{ link_avaliacao }}" + _SIGNATURE,
    ),
)
