from dataclasses import replace

import pytest
from jinja2.exceptions import SecurityError

from scripting.render import (
    CONTEXT_SCHEMA,
    Cliente,
    TemplateRefused,
    abbreviated_name,
    check_template,
    make_environment,
    render_text,
    sample_context,
)

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__init__.__globals__ }}",
    "{{ cliente.__class__ }}",
    "{{ cliente.nome.__class__.__base__ }}",
    "{{ cliente|attr('__class__') }}",
    "{{ cliente.nome|attr('__class__') }}",
    "{{ cliente['__class__'] }}",
    "{{ cliente.nome.format(cliente) }}",
    "{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}",
    "{{ range(10)|list }}",
    "{% include 'x' %}",
    "{% macro m() %}{% endmacro %}{{ m() }}",
    "{{ config }}",
    "{{ request }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_attempts_are_refused_at_validation(source: str) -> None:
    assert check_template(source).problems


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_attempts_are_refused_at_render(source: str) -> None:
    with pytest.raises(TemplateRefused):
        render_text(source, sample_context(), identity_confirmed=True)


@pytest.mark.parametrize(
    "source",
    ["{{ ''.__class__.__mro__ }}", "{{ self._TemplateReference__context }}", "{{ x.__init__.__globals__ }}"],
)
def test_the_sandbox_itself_refuses_internals(source: str) -> None:
    # Third line of defence: even without our checks the environment will not reach internals.
    env = make_environment()
    with pytest.raises(SecurityError):
        env.from_string(source).render(x=sample_context().cliente)


def test_documented_context_renders_and_autoescapes() -> None:
    context = replace(sample_context(), cliente=Cliente(nome="<b>Zé</b>", primeiro_nome="<script>", nome_abreviado="Z."))
    text = render_text("Olá {{ cliente.primeiro_nome }}, {{ cliente.nome|upper }}", context, identity_confirmed=False)
    assert text == "Olá &lt;script&gt;, &lt;B&gt;ZÉ&lt;/B&gt;"


def test_unknown_variables_and_fields_are_named() -> None:
    messages = [p.message for p in check_template("{{ cliente.cpf }}\n{{ saldo }}\n{{ cliente }}").problems]
    assert messages[0].startswith("unknown variable 'cliente.cpf'")
    assert messages[1].startswith("unknown variable 'saldo'")
    assert messages[2] == "use a field of 'cliente', e.g. cliente.nome"
    assert [p.line for p in check_template("a\n\n{{ saldo }}").problems] == [3]


def test_syntax_errors_are_reported_with_the_line() -> None:
    problems = check_template("ok\n{% if cliente.nome %}\nno end").problems
    assert problems and problems[0].message.startswith("template syntax error")


def test_debt_namespaces_need_identity_at_render() -> None:
    check = check_template("{{ divida.total }} {{ credor.nome }}")
    assert check.reveals_debt and check.namespaces == {"divida", "credor"}
    with pytest.raises(TemplateRefused, match="credor, divida before the identity is confirmed"):
        render_text("{{ divida.total }} {{ credor.nome }}", sample_context(), identity_confirmed=False)
    assert render_text("{{ divida.total }}", sample_context(), identity_confirmed=True) == "R$ 1.050,20"


def test_missing_namespace_in_context_is_a_clear_error() -> None:
    context = replace(sample_context(), divida=None)
    with pytest.raises(TemplateRefused, match="no 'divida'"):
        render_text("{{ divida.total }}", context, identity_confirmed=True)


def test_schema_lists_the_documented_variables() -> None:
    assert {"agente", "empresa", "cliente", "chamada", "divida", "credor", "oferta", "acordo"} == set(CONTEXT_SCHEMA)
    assert {"nome", "primeiro_nome"} <= CONTEXT_SCHEMA["cliente"]
    assert "total" in CONTEXT_SCHEMA["divida"]


def test_set_and_if_are_allowed() -> None:
    source = "{% set n = cliente.primeiro_nome %}{% if n %}Oi {{ n }}{% endif %}"
    assert render_text(source, sample_context(), identity_confirmed=False) == "Oi Maria"


def test_abbreviated_name() -> None:
    assert abbreviated_name("Maria da Silva Souza") == "Maria S."
    assert abbreviated_name("Cher") == "Cher"
