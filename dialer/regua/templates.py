"""Message texts: pt-BR jinja2 in the scripts' sandbox (:mod:`scripting.sandbox`), rendered as plain text.

The sandbox escapes every value as HTML and offers no way to turn that off; a message is
plain text (an e-mail's text/plain part, an SMS), so the rendered text is unescaped once
afterwards: a customer named ``D'Ávila & Filhos`` reads as written, and nothing a value
contains can reach a template construct.

Variables: ``cliente.nome``, ``cliente.primeiro_nome``, ``empresa.nome``,
``empresa.telefone``, ``valor`` (``R$ 1.234,56``), ``vencimento`` (``dd/mm/aaaa``),
``dias_atraso``, ``contrato``, ``credor``, ``parcela`` (installment number, "" otherwise),
``oferta`` (the offer sentence, "" without one), ``valor_oferta``, ``pix`` (Pix copia e
cola, "" without a Pix key), ``valor_pix`` (what the Pix charges: ``valor_oferta`` when the
step makes an offer, else ``valor``) and ``link_avaliacao`` (satisfaction link).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import TemplateError

from scripting.render import Cliente, Empresa, abbreviated_name, first_name
from scripting.sandbox import ScriptSandbox, render_bounded

MAX_SUBJECT_CHARS = 200


class TemplateRenderError(ValueError):
    """A template that does not compile or render; ``message_pt`` says why, for the rule editor."""

    def __init__(self, message_pt: str) -> None:
        super().__init__(message_pt)
        self.message_pt = message_pt


@dataclass(frozen=True, slots=True)
class MessageContext:
    nome: str
    empresa: Empresa
    valor: str
    vencimento: str
    dias_atraso: int
    contrato: str = ""
    credor: str = ""
    parcela: str = ""
    oferta: str = ""
    valor_oferta: str = ""
    pix: str = ""
    valor_pix: str = ""
    link_avaliacao: str = ""

    def variables(self) -> dict[str, object]:
        return {
            "cliente": Cliente(nome=self.nome, primeiro_nome=first_name(self.nome), nome_abreviado=abbreviated_name(self.nome)),
            "empresa": self.empresa,
            "valor": self.valor,
            "vencimento": self.vencimento,
            "dias_atraso": self.dias_atraso,
            "contrato": self.contrato,
            "credor": self.credor,
            "parcela": self.parcela,
            "oferta": self.oferta,
            "valor_oferta": self.valor_oferta,
            "pix": self.pix,
            "valor_pix": self.valor_pix,
            "link_avaliacao": self.link_avaliacao,
        }


@lru_cache(maxsize=1)
def _sandbox() -> ScriptSandbox:
    return ScriptSandbox()


def render_text(source: str, context: MessageContext) -> str:
    """One template rendered as plain text; TemplateRenderError (pt-BR) when it can't be."""
    try:
        out = render_bounded(_sandbox(), source, context.variables())
    except TemplateError as exc:
        raise TemplateRenderError(f"modelo inválido: {exc.message or exc}") from None
    return html.unescape(out).strip()


def render_message(subject: str, body: str, context: MessageContext) -> tuple[str, str]:
    """(subject, body); the subject is one line, cut at :data:`MAX_SUBJECT_CHARS`."""
    rendered_subject = " ".join(render_text(subject, context).split())[:MAX_SUBJECT_CHARS] if subject else ""
    return rendered_subject, render_text(body, context)


def sample_context(empresa: Empresa) -> MessageContext:
    """Made-up values to check a template in the editor."""
    return MessageContext(
        nome="Maria da Silva", empresa=empresa, valor="R$ 1.234,56", vencimento="10/01/2027", dias_atraso=15,
        contrato="CT-0001", credor="Banco Exemplo", parcela="1", oferta="Desconto de 10% para pagamento à vista.",
        valor_oferta="R$ 1.111,10", pix="00020126...", valor_pix="R$ 1.111,10", link_avaliacao="https://cobra.example/avaliacao/xyz",
    )
