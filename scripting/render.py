"""Sandboxed rendering of script texts, and the documented template context.

A step's ``text`` is a jinja2 template rendered in :class:`scripting.sandbox.ScriptSandbox`
(an ``ImmutableSandboxedEnvironment``) with ``StrictUndefined`` and autoescape on; escaping
can't be turned off (no ``{% autoescape %}``, no ``|safe``, no ``Markup``) and every
operation, and the step's output, is bounded (see ``scripting.sandbox``). Templates may
use only ``namespace.field`` from :class:`TemplateContext` (e.g. ``{{ cliente.primeiro_nome }}``),
``if``/``set`` blocks and a few text filters. Anything else (unknown names, function
calls, subscripts, attributes of attributes, attributes starting with ``_``, macros,
includes, loops) is refused when the script is validated AND again at render time;
the sandbox is a third line of defence. Every context value is a ready-to-read pt-BR
string (money as ``R$ 1.234,56``, dates as ``dd/mm/aaaa``).

Namespaces ``divida``, ``credor``, ``oferta`` and ``acordo`` reveal the debt: they are
given to a template only once the identity gate has been passed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from functools import lru_cache

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from markupsafe import Markup

from scripting.debt import ChargeTerms, CorrectionIndex, DebtBreakdown, update_debt
from scripting.figures import figures_of
from scripting.money import format_brl, format_date_br
from scripting.offers import Offer, OfferKind, simulate_offers
from scripting.policy import BucketPolicy
from scripting.sandbox import (
    ALLOWED_FILTERS,
    MAX_OUTPUT_CHARS,
    ScriptSandbox,
    format_count,
    render_bounded,
)


@dataclass(frozen=True)
class Agente:
    nome: str
    primeiro_nome: str


@dataclass(frozen=True)
class Empresa:
    """The collection company calling (not the creditor)."""

    nome: str
    telefone: str


@dataclass(frozen=True)
class Cliente:
    nome: str
    primeiro_nome: str
    nome_abreviado: str  # first name + last-name initial, for before the identity check


@dataclass(frozen=True)
class Chamada:
    protocolo: str
    data: str
    saudacao: str = "Olá"  # "Bom dia" / "Boa tarde" / "Boa noite" at the customer's local time


def greeting_at(local_hour: int) -> str:
    """The greeting for the hour on the customer's clock (their DDD's time zone)."""
    if 5 <= local_hour < 12:
        return "Bom dia"
    if 12 <= local_hour < 18:
        return "Boa tarde"
    return "Boa noite"


@dataclass(frozen=True)
class Divida:
    descricao: str
    contrato: str
    vencimento: str
    dias_atraso: str
    original: str
    correcao: str
    multa: str
    juros: str
    desconto: str
    total: str
    discriminacao: str  # the itemised sentence the agent reads aloud
    encargos: str = ""  # correção + multa + juros (scripting.figures: the same words as the screen)


@dataclass(frozen=True)
class Credor:
    nome: str


@dataclass(frozen=True)
class Oferta:
    """Descriptions without the kind: read them after "à vista," / "parcelado,"."""

    a_vista: str
    parcelado: str
    maximo_parcelas: str


@dataclass(frozen=True)
class Acordo:
    resumo: str
    valor_total: str
    primeiro_vencimento: str
    primeiro_valor: str


@dataclass(frozen=True)
class TemplateContext:
    """Everything a script text may use; debt namespaces may be None before identity."""

    agente: Agente
    empresa: Empresa
    cliente: Cliente
    chamada: Chamada
    divida: Divida | None = None
    credor: Credor | None = None
    oferta: Oferta | None = None
    acordo: Acordo | None = None


#: Namespaces that reveal the debt (SPEC §6): only after the identity gate.
DEBT_NAMESPACES = frozenset({"divida", "credor", "oferta", "acordo"})

_NAMESPACE_TYPES: dict[str, type] = {
    "agente": Agente,
    "empresa": Empresa,
    "cliente": Cliente,
    "chamada": Chamada,
    "divida": Divida,
    "credor": Credor,
    "oferta": Oferta,
    "acordo": Acordo,
}
#: namespace -> its field names: the documented template variables.
CONTEXT_SCHEMA: dict[str, frozenset[str]] = {
    name: frozenset(f.name for f in fields(kind)) for name, kind in _NAMESPACE_TYPES.items()
}

_FORBIDDEN_NODES: dict[type[nodes.Node], str] = {
    nodes.Call: "chamadas de função ou método não são permitidas",
    nodes.Getitem: "índices ([...]) não são permitidos; use grupo.campo",
    nodes.Slice: "fatias ([a:b]) não são permitidas",
    nodes.For: "laços ({% for %}) não são permitidos",
    nodes.Macro: "macros não são permitidas",
    nodes.CallBlock: "blocos {% call %} não são permitidos",
    nodes.Include: "{% include %} não é permitido",
    nodes.Import: "{% import %} não é permitido",
    nodes.FromImport: "{% import %} não é permitido",
    nodes.Extends: "{% extends %} não é permitido",
    nodes.Block: "blocos {% block %} não são permitidos",
    nodes.FilterBlock: "blocos {% filter %} não são permitidos",
    nodes.With: "blocos {% with %} não são permitidos",
    nodes.NSRef: "atribuições em namespace não são permitidas",
    # escaping can't be turned off (issue 14): the page shows script text as text, never as HTML
    nodes.EvalContextModifier: "o escape do texto não pode ser desligado ({% autoescape %} não é permitido)",
    nodes.MarkSafe: "marcar texto como seguro não é permitido",
    nodes.MarkSafeIfAutoescape: "marcar texto como seguro não é permitido",
}
#: Filters that would mark text safe (or build HTML): named in the refusal, never installed.
_UNSAFE_FILTERS = frozenset({"safe", "forceescape", "urlize", "xmlattr", "tojson", "striptags"})
#: An HTML tag, comment or doctype in a step's literal text.
_HTML_TAG = re.compile(r"<\s*[A-Za-z!/?]")


class TemplateRefused(ValueError):
    """A template that is not allowed, or a render that would break the identity gate."""

    def __init__(self, problems: Sequence[TemplateProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"linha {p.line}: {p.message}" for p in problems))


@dataclass(frozen=True)
class TemplateProblem:
    line: int  # 1-based line inside the template
    message: str


@dataclass(frozen=True)
class TemplateCheck:
    problems: tuple[TemplateProblem, ...]
    namespaces: frozenset[str]  # context namespaces the template reads

    @property
    def reveals_debt(self) -> bool:
        return bool(self.namespaces & DEBT_NAMESPACES)


def make_environment() -> ScriptSandbox:
    """The one environment for script texts: sandboxed, strict, autoescaped, bounded, no globals."""
    return ScriptSandbox()


_ENV = make_environment()


@lru_cache(maxsize=512)
def check_template(source: str) -> TemplateCheck:
    """Compiles ``source`` and lists every construct or variable outside the documented context."""
    if len(source) > MAX_OUTPUT_CHARS:
        # a text longer than a step's output cap can't be shown; refused before it costs a compile
        return TemplateCheck(
            (TemplateProblem(1, f"o texto do passo tem mais de {format_count(MAX_OUTPUT_CHARS)} caracteres"),), frozenset()
        )
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return TemplateCheck((TemplateProblem(exc.lineno or 1, syntax_message(exc.message)),), frozenset())
    problems: list[TemplateProblem] = []
    used: set[str] = set()
    locals_: set[str] = set()
    for assign in tree.find_all(nodes.Assign):
        targets = [assign.target, *assign.target.find_all(nodes.Name)]
        for target in (t for t in targets if isinstance(t, nodes.Name)):
            if target.name in CONTEXT_SCHEMA:
                problems.append(TemplateProblem(target.lineno, f"'{target.name}' é um grupo de variáveis do roteiro e não pode receber valor"))
            locals_.add(target.name)
    for node_type, message in _FORBIDDEN_NODES.items():
        for forbidden in tree.find_all(node_type):
            problems.append(TemplateProblem(forbidden.lineno, message))
    namespace_children: set[int] = set()
    for getattr_node in tree.find_all(nodes.Getattr):
        attr, base = getattr_node.attr, getattr_node.node
        if attr.startswith("_"):
            problems.append(TemplateProblem(getattr_node.lineno, f"o atributo interno '{attr}' não é permitido"))
            continue
        if isinstance(base, nodes.Name) and base.name in CONTEXT_SCHEMA and base.name not in locals_:
            namespace_children.add(id(base))
            used.add(base.name)
            if attr not in CONTEXT_SCHEMA[base.name]:
                known = ", ".join(sorted(CONTEXT_SCHEMA[base.name]))
                problems.append(TemplateProblem(getattr_node.lineno, f"variável desconhecida '{base.name}.{attr}' (conhecidas: {known})"))
        elif not (isinstance(base, nodes.Name) and base.name not in locals_):
            problems.append(
                TemplateProblem(getattr_node.lineno, f"'.{attr}' só é permitido direto num grupo, ex.: cliente.nome")
            )
    try:
        undeclared = meta.find_undeclared_variables(tree)
    except TemplateError:
        undeclared = set()  # the filter check below names the cause (e.g. an unknown filter)
    reported: set[str] = set()
    for name_node in tree.find_all(nodes.Name):
        name = name_node.name
        if name_node.ctx != "load" or name in locals_ or name in reported:
            continue
        if name in CONTEXT_SCHEMA:
            if id(name_node) not in namespace_children:
                problems.append(TemplateProblem(name_node.lineno, f"use um campo de '{name}', ex.: {name}.{min(CONTEXT_SCHEMA[name])}"))
                reported.add(name)
            continue
        known = ", ".join(sorted(CONTEXT_SCHEMA))
        problems.append(TemplateProblem(name_node.lineno, f"variável desconhecida '{name}' (grupos: {known})"))
        reported.add(name)
    for name in sorted(undeclared - set(CONTEXT_SCHEMA) - reported):
        problems.append(TemplateProblem(1, f"variável desconhecida '{name}'"))
    for data in tree.find_all(nodes.TemplateData):
        tag = _HTML_TAG.search(data.data)
        if tag:
            problems.append(
                TemplateProblem(
                    data.lineno + data.data.count("\n", 0, tag.start()),
                    "HTML não é permitido no texto do passo (ele é exibido como texto); "
                    "use **negrito** e quebras de linha",
                )
            )
    for binop in tree.find_all(nodes.BinExpr):
        if binop.operator in ("*", "**"):  # repetition and powers: a big literal operand is a bomb
            for operand in (binop.left, binop.right):
                if isinstance(operand, nodes.Const) and isinstance(operand.value, (int, float)) and abs(operand.value) > MAX_OUTPUT_CHARS:
                    problems.append(
                        TemplateProblem(binop.lineno, f"número grande demais em '{binop.operator}' (o texto de um passo tem no máximo {format_count(MAX_OUTPUT_CHARS)} caracteres)")
                    )
    for filter_node in tree.find_all(nodes.Filter):
        if filter_node.name in _UNSAFE_FILTERS:
            problems.append(
                TemplateProblem(filter_node.lineno, f"o filtro '{filter_node.name}' não é permitido: o texto do roteiro é sempre escapado")
            )
        elif filter_node.name not in ALLOWED_FILTERS:
            allowed = ", ".join(sorted(ALLOWED_FILTERS))
            problems.append(TemplateProblem(filter_node.lineno, f"o filtro '{filter_node.name}' não é permitido (permitidos: {allowed})"))
    if not problems:
        try:
            _ENV.compile(tree)
        except SecurityError as exc:
            problems.append(TemplateProblem(1, str(exc)))
        except TemplateError as exc:
            problems.append(TemplateProblem(getattr(exc, "lineno", None) or 1, f"o texto não compila: {exc}"))
    problems.sort(key=lambda p: p.line)
    return TemplateCheck(tuple(problems), frozenset(used))


def render_text(source: str, context: TemplateContext, *, identity_confirmed: bool) -> Markup:
    """Renders a script text; refuses disallowed templates and debt details before identity."""
    check = check_template(source)
    if check.problems:
        raise TemplateRefused(check.problems)
    if check.reveals_debt and not identity_confirmed:
        names = ", ".join(sorted(check.namespaces & DEBT_NAMESPACES))
        raise TemplateRefused([TemplateProblem(1, f"usa {names} antes da confirmação de identidade")])
    variables = {}
    for name in check.namespaces:
        value = getattr(context, name)
        if value is None:
            raise TemplateRefused([TemplateProblem(1, f"esta ligação não tem dados de '{name}'")])
        variables[name] = _plain(value)
    try:
        return Markup(render_bounded(_ENV, source, variables))
    except (SecurityError, UndefinedError) as exc:
        raise TemplateRefused([TemplateProblem(_template_line(exc), _runtime_message(exc))]) from exc
    except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
        raise TemplateRefused([TemplateProblem(_template_line(exc), f"o texto não pôde ser montado: {exc}")]) from exc


# Jinja's own syntax errors, in pt-BR (the start of its English message → ours); others keep
# Jinja's words after the pt-BR lead, so nothing is lost
_SYNTAX = (
    ("unexpected end of template", "o texto terminou com um bloco aberto ({% if %} sem {% endif %}?)"),
    ("unexpected '}'", "'}' inesperado (faltou abrir com {{ ou {%?)"),
    ("expected token 'end of print statement'", "faltou fechar a variável com }} (ou há algo a mais dentro dela)"),
    ("expected token 'end of statement block'", "faltou fechar o bloco com %} (ou há algo a mais dentro dele)"),
    ("unexpected char", "caractere inesperado"),
    ("encountered unknown tag", "tag desconhecida"),
    ("unexpected end of print statement", "variável vazia: escreva um nome entre {{ e }}"),
    ("expected an expression", "faltou uma expressão"),
)


def syntax_message(message: str | None) -> str:
    """A Jinja syntax error in pt-BR."""
    text = message or ""
    lower = text.lower()
    for english, portuguese in _SYNTAX:
        if lower.startswith(english):
            detail = text[len(english):].strip(" .:")
            return f"erro de sintaxe: {portuguese}" + (f" [{detail}]" if detail and english.endswith(("char", "tag")) else "")
    return f"erro de sintaxe: {text}"


def _runtime_message(exc: BaseException) -> str:
    """A sandbox refusal or an undefined value at render time, in pt-BR (LimitExceeded already is)."""
    if isinstance(exc, UndefinedError):
        return f"valor indefinido ao montar o texto: {exc}"
    text = str(exc)
    if text.startswith(("access to attribute", "access to ")) or "unsafe" in text:
        return f"acesso não permitido ao montar o texto: {text}"
    return text


def _template_line(exc: BaseException) -> int:
    """The template line a render error happened on (jinja2 rewrites the traceback to template lines)."""
    line = 1
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def as_plain_text(rendered: Markup) -> str:
    """A rendered step as the text the agent reads: the page inserts it as text, never as HTML."""
    return rendered.unescape()


def _plain(namespace: object) -> object:
    """The namespace with every value as a plain ``str``: a ``Markup`` value would skip escaping."""
    values = {f.name: str(getattr(namespace, f.name)) for f in fields(namespace)}  # type: ignore[arg-type]
    return type(namespace)(**values)


# --- building a context from domain objects -------------------------------------------------


def first_name(full_name: str) -> str:
    return full_name.split()[0] if full_name.split() else full_name


def abbreviated_name(full_name: str) -> str:
    """``"Maria da Silva Souza"`` -> ``"Maria S."`` (first name + last-name initial)."""
    parts = full_name.split()
    if len(parts) < 2:
        return full_name.strip()
    return f"{parts[0]} {parts[-1][0].upper()}."


def divida_from(breakdown: DebtBreakdown, descricao: str, contrato: str) -> Divida:
    """The script's debt words, from the same figures as the debts table and the calculator."""
    f = figures_of(breakdown)
    return Divida(
        descricao=descricao,
        contrato=contrato,
        vencimento=format_date_br(breakdown.due_on),
        dias_atraso=str(breakdown.days_overdue),
        original=format_brl(f.principal),
        correcao=format_brl(f.correction),
        multa=format_brl(f.fine),
        juros=format_brl(f.interest),
        desconto=format_brl(f.discount),
        total=format_brl(f.total),
        discriminacao=breakdown.as_sentence(),
        encargos=format_brl(f.charges),
    )


def oferta_from(offers: Sequence[Offer]) -> Oferta:
    cash = next((o for o in offers if o.kind is OfferKind.CASH), None)
    plans = [o for o in offers if o.kind is OfferKind.INSTALLMENTS]
    longest = plans[-1] if plans else None
    return Oferta(
        a_vista=cash.summary() if cash else "sem proposta à vista",
        parcelado=longest.summary() if longest else "sem parcelamento disponível",
        maximo_parcelas=str(len(longest.regular_installments)) if longest else "0",
    )


def acordo_from(offer: Offer) -> Acordo:
    first = offer.installments[0]
    return Acordo(
        resumo=offer.describe(),
        valor_total=format_brl(offer.total_payable),
        primeiro_vencimento=format_date_br(first.due_on),
        primeiro_valor=format_brl(first.amount),
    )


@lru_cache(maxsize=1)
def sample_context() -> TemplateContext:
    """A fictitious customer for previews (``cobra script render``): the SPEC §7 worked example."""
    today = date(2025, 5, 9)
    breakdown = update_debt(
        Decimal("1000.00"),
        date(2025, 3, 10),
        today,
        ChargeTerms(index=CorrectionIndex.IPCA),
        correction_factor=Decimal("1.0100"),
    )
    policy = BucketPolicy(
        name="31-60",
        min_days=31,
        max_days=60,
        max_cash_discount_pct=Decimal(10),
        min_down_payment_pct=Decimal(10),
        max_installments=5,
        min_installment=Decimal(50),
        first_due_max_days=10,
    )
    offers = simulate_offers(breakdown, policy, today)
    return TemplateContext(
        agente=Agente(nome="Ana Paula Ribeiro", primeiro_nome="Ana"),
        empresa=Empresa(nome="Cobra Assessoria", telefone="0800 123 4567"),
        cliente=Cliente(nome="Maria da Silva Souza", primeiro_nome="Maria", nome_abreviado="Maria S."),
        chamada=Chamada(protocolo="20250509-000123", data=format_date_br(today)),
        divida=divida_from(breakdown, "a fatura do cartão de crédito", "123456789"),
        credor=Credor(nome="Banco Exemplo"),
        oferta=oferta_from(offers),
        acordo=acordo_from(offers[0]),
    )
