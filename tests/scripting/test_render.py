from dataclasses import replace

import pytest
from jinja2.exceptions import SecurityError, TemplateAssertionError
from markupsafe import Markup

from scripting.render import (
    CONTEXT_SCHEMA,
    Cliente,
    TemplateRefused,
    abbreviated_name,
    as_plain_text,
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
    # turning escaping off or marking text safe (issue 14 item 3)
    "{% autoescape false %}{{ cliente.nome }}{% endautoescape %}",
    "{% autoescape cliente.nome == '' %}{{ cliente.nome }}{% endautoescape %}",
    "{{ cliente.nome|safe }}",
    "{% set x = cliente.nome|safe %}{{ x }}",
    "{% filter safe %}{{ cliente.nome }}{% endfilter %}",
    "{{ Markup(cliente.nome) }}",
    "{{ markupsafe.Markup }}",
    "{{ cliente.nome.__html__() }}",
    "{{ cliente.nome|attr('__html__') }}",
    "{{ cliente.nome|urlize }}",
    "{{ cliente.nome|forceescape|safe }}",
    "<img src=x onerror=alert(1)> {{ cliente.nome }}",
    "<script>window.__xss = 1</script>",
    "Olá <!-- {{ cliente.nome }} -->",
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


XSS_NAME = "<img src=x onerror=alert(1)> Souza"


def test_a_customer_name_with_html_is_always_escaped() -> None:
    context = replace(sample_context(), cliente=Cliente(nome=XSS_NAME, primeiro_nome="<img", nome_abreviado="<img S."))
    text = render_text("Posso falar com {{ cliente.nome }}?", context, identity_confirmed=False)
    assert text == "Posso falar com &lt;img src=x onerror=alert(1)&gt; Souza?"
    # what the agent page receives: the literal name, which it inserts as text
    assert as_plain_text(text) == f"Posso falar com {XSS_NAME}?"


def test_a_markup_value_in_the_context_is_escaped_too() -> None:
    # a context value that claims to be safe HTML is not trusted: every value is plain text
    context = replace(sample_context(), cliente=Cliente(nome=Markup("<b>x</b>"), primeiro_nome="x", nome_abreviado="x"))
    assert render_text("{{ cliente.nome }}", context, identity_confirmed=False) == "&lt;b&gt;x&lt;/b&gt;"


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("{% autoescape false %}{{ x }}{% endautoescape %}", "autoescape"),
        ("{% autoescape true %}{{ x }}{% endautoescape %}", "autoescape"),
    ],
)
def test_the_environment_itself_does_not_compile_autoescape_blocks(source: str, needle: str) -> None:
    # defence in depth: even a template that skipped check_template can't turn escaping off
    with pytest.raises(SecurityError, match=needle):
        make_environment().from_string(source)


def test_the_environment_has_no_filter_that_marks_text_safe() -> None:
    env = make_environment()
    assert not {"safe", "forceescape", "urlize", "xmlattr", "tojson"} & set(env.filters)
    assert env.autoescape is True and not env.globals
    with pytest.raises(TemplateAssertionError):
        env.from_string("{{ x|safe }}")


def test_unsafe_constructs_are_named_in_portuguese() -> None:
    messages = [p.message for p in check_template("{{ cliente.nome|safe }}\n<b>{{ cliente.nome }}").problems]
    assert messages == [
        "o filtro 'safe' não é permitido: o texto do roteiro é sempre escapado",
        "HTML não é permitido no texto do passo (ele é exibido como texto); use **negrito** e quebras de linha",
    ]
    [problem] = check_template("a\n{% autoescape false %}{{ cliente.nome }}{% endautoescape %}").problems
    assert problem.line == 2 and "não pode ser desligado" in problem.message


def test_unknown_variables_and_fields_are_named() -> None:
    messages = [p.message for p in check_template("{{ cliente.cpf }}\n{{ saldo }}\n{{ cliente }}").problems]
    assert messages[0].startswith("variável desconhecida 'cliente.cpf'")
    assert messages[1].startswith("variável desconhecida 'saldo'")
    assert messages[2] == "use um campo de 'cliente', ex.: cliente.nome"
    assert [p.line for p in check_template("a\n\n{{ saldo }}").problems] == [3]


def test_syntax_errors_are_reported_with_the_line() -> None:
    problems = check_template("ok\n{% if cliente.nome %}\nno end").problems
    assert problems and problems[0].message == (
        "erro de sintaxe: o texto terminou com um bloco aberto ({% if %} sem {% endif %}?)"
    )
    [problem] = check_template("a\n{{ cliente.nome }\nb").problems
    assert problem.line == 2 and problem.message.startswith("erro de sintaxe: ")


def test_debt_namespaces_need_identity_at_render() -> None:
    check = check_template("{{ divida.total }} {{ credor.nome }}")
    assert check.reveals_debt and check.namespaces == {"divida", "credor"}
    with pytest.raises(TemplateRefused, match="usa credor, divida antes da confirmação de identidade"):
        render_text("{{ divida.total }} {{ credor.nome }}", sample_context(), identity_confirmed=False)
    assert render_text("{{ divida.total }}", sample_context(), identity_confirmed=True) == "R$ 1.050,20"


def test_missing_namespace_in_context_is_a_clear_error() -> None:
    context = replace(sample_context(), divida=None)
    with pytest.raises(TemplateRefused, match="esta ligação não tem dados de 'divida'"):
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
