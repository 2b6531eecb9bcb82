"""Template resource limits (issue 14 item 4): no constant folding of big values, bounded
operations, a capped output and a time budget, with the memory the process uses measured."""

from __future__ import annotations

import resource
from dataclasses import replace

import pytest

from scripting.render import (
    Cliente,
    TemplateRefused,
    check_template,
    make_environment,
    render_text,
    sample_context,
)
from scripting.sandbox import MAX_OUTPUT_CHARS, LimitExceeded, job_budget

MB = 1024  # ru_maxrss is in KiB on Linux

# Each of these would allocate hundreds of MB (or spin for minutes) without the limits.
BOMBS = [
    "{{ 'a' * 100000000 }}",
    "{{ cliente.nome * 20000000 }}",
    "{% set n = 20000000 %}{{ cliente.nome * n }}",
    "{% set n = 100000 %}{{ (cliente.nome * 999) * n }}",
    "{{ [cliente.nome] * 100000000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{% set n = 99999999 %}{{ 2 ** n }}",
    "{{ '%0100000000d' % 1 }}",
    "{% set a = cliente.nome * 999 %}{{ a + a }}",
    "{% set a = cliente.nome * 999 %}{{ a ~ a }}",
    "{% set a = cliente.nome * 999 %}{{ a|replace('a', a) }}",
    "{{ cliente.nome|replace('', cliente.nome * 999) }}",
    "{% set a = cliente.nome * 999 %}{{ a }}{{ a }}",
    "{% set q = '\"' * 19999 %}{{ q|e }}",
    "".join(f"{{% set a{i} = cliente.nome * 999 %}}" for i in range(60)),
    "{{ range(1000000000)|length }}",
]


def _max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_big_constants_are_not_folded_at_compile_time() -> None:
    env = make_environment()
    before = _max_rss_kib()
    for source in ["{{ 'a' * 100000000 }}", "{{ 'ab' ~ 'c' * 100000000 }}", "{{ ('x' * 15000)|replace('', 'y' * 100) }}"]:
        code = env.compile(source, raw=True)
        # the operation is left for render time (where it is bounded), not computed into the code
        assert len(code) < 5_000, source
    assert _max_rss_kib() - before < 50 * MB


@pytest.mark.parametrize("source", BOMBS)
def test_template_bombs_are_refused_at_render_without_using_memory(source: str) -> None:
    before = _max_rss_kib()
    with pytest.raises(TemplateRefused) as refused:
        render_text(source, sample_context(), identity_confirmed=True)
    assert refused.value.problems[0].message
    # generous headroom: a memory bound, not a timing assertion (the unbounded versions take 100 MB to GBs)
    assert _max_rss_kib() - before < 100 * MB


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ 'a' * 100000000 }}", "número grande demais em '*' (o texto de um passo tem no máximo 20.000 caracteres)"),
        ("x\n{{ cliente.nome * 20000000 }}", "número grande demais em '*' (o texto de um passo tem no máximo 20.000 caracteres)"),
        ("{{ 2 ** 100000 }}", "número grande demais em '**' (o texto de um passo tem no máximo 20.000 caracteres)"),
    ],
)
def test_big_literal_operands_are_refused_at_validation(source: str, message: str) -> None:
    [problem] = check_template(source).problems
    assert problem.message == message and problem.line == source.count("\n") + 1


def test_refusals_say_what_and_where_in_portuguese() -> None:
    with pytest.raises(TemplateRefused) as refused:
        render_text("Olá\n{% set n = 20000000 %}{{ cliente.nome * n }}", sample_context(), identity_confirmed=True)
    [problem] = refused.value.problems
    assert (problem.line, problem.message) == (2, "o resultado teria 400.000.000 caracteres (limite de 20.000 por passo)")
    with pytest.raises(TemplateRefused, match="o texto do passo passa de 20.000 caracteres"):
        render_text("{% set a = cliente.nome * 999 %}{{ a }}{{ a }}", sample_context(), identity_confirmed=True)
    [too_long] = check_template("x" * (MAX_OUTPUT_CHARS + 1)).problems
    assert too_long.message == "o texto do passo tem mais de 20.000 caracteres"


def test_ordinary_templates_within_the_limits_still_render() -> None:
    context = replace(sample_context(), cliente=Cliente(nome="Zé", primeiro_nome="Zé", nome_abreviado="Zé"))
    source = "{{ cliente.nome * 3 }} {{ 2 ** 10 }} {{ 7 % 3 }} {{ cliente.nome ~ '!' }} {{ cliente.nome|replace('é', 'e') }}"
    assert render_text(source, context, identity_confirmed=False) == "ZéZéZé 1024 1 Zé! Ze"
    text = render_text("{{ 'a' * 19000 }}", context, identity_confirmed=False)
    assert len(text) == 19000


def test_a_render_past_its_time_budget_is_refused() -> None:
    # a job whose deadline has passed (validation that ran out of time): no render inside starts work
    with job_budget(-1.0), pytest.raises(TemplateRefused, match="demorou demais"):
        render_text("{{ cliente.nome }}", sample_context(), identity_confirmed=True)


def test_the_environment_bounds_even_unchecked_templates() -> None:
    # defence in depth: straight to the environment, without check_template
    env = make_environment()
    with pytest.raises(LimitExceeded):
        env.from_string("{{ x * n }}").render(x="ab", n=100_000_000)
    with pytest.raises(LimitExceeded):
        env.from_string("{{ x ~ x }}").render(x="a" * 15_000)
