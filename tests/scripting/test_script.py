import textwrap

import pytest

from scripting.render import check_template
from scripting.script import (
    IDENTITY_GATE,
    RIGHT_PARTY_OUTCOMES,
    ScriptError,
    check_script,
    load_default_script,
    load_script,
    validate_script,
)

GOOD = textwrap.dedent(
    """\
    id: teste
    version: 2
    title: Teste
    steps:
      - id: abertura
        title: Abertura
        text: Olá, falo da {{ empresa.nome }}. Posso falar com {{ cliente.nome }}?
        choices:
          - id: sim
            label: É a pessoa
            next: identidade
          - id: terceiro
            label: Terceiro
            dispose: RECADO
      - id: identidade
        title: Identidade
        gate: identity_confirmed
        text: Confirme a data de nascimento.
        choices:
          - id: ok
            label: Confere
            next: divida
            confirms_identity: true
          - id: nao
            label: Não confere
            dispose: RECADO
      - id: divida
        title: Dívida
        actions: [open_offer_calculator]
        text: |
          O total é {{ divida.total }}.
          Credor: {{ credor.nome }}.
        choices:
          - id: acordo
            label: Acordo
            dispose: ACORDO
            capture:
              key: forma
              catalogue:
                - {code: PIX, label: Pix}
    """
)


def errors(text: str) -> list[str]:
    try:
        check_script(text, "s.yaml")
    except ScriptError as exc:
        return [issue.format("s.yaml") for issue in exc.issues]
    return []


def test_good_script_loads() -> None:
    script = check_script(GOOD, "s.yaml")
    assert (script.id, script.version, script.start) == ("teste", 2, "abertura")
    step = script.step("divida")
    assert step.line == 27 and step.text_line == 31
    assert step.choices[0].capture is not None and step.choices[0].capture.codes() == {"PIX"}


def test_unknown_next_step_names_step_and_line() -> None:
    assert errors(GOOD.replace("next: divida", "next: dividas")) == [
        "s.yaml:20: step identidade: choice 'ok': next step 'dividas' does not exist",
        "s.yaml:27: step divida: unreachable from the start step 'abertura'",
    ]


def test_unreachable_step() -> None:
    extra = "  - id: solto\n    title: Solto\n    text: oi\n    choices:\n      - {id: fim, label: Fim, dispose: RECADO}\n"
    assert errors(GOOD + extra) == ["s.yaml:41: step solto: unreachable from the start step 'abertura'"]


def test_dead_end_loop() -> None:
    text = GOOD.replace("dispose: ACORDO", "next: laco") + (
        "  - id: laco\n    title: Laço\n    text: oi\n    choices:\n      - {id: volta, label: Volta, next: divida}\n"
    )
    assert errors(text) == [
        "s.yaml:27: step divida: dead end: no disposition can be reached from this step",
        "s.yaml:41: step laco: dead end: no disposition can be reached from this step",
    ]


def test_template_problems_point_at_the_template_line() -> None:
    text = GOOD.replace("Credor: {{ credor.nome }}.", "Credor: {{ credor.cnpj }}.")
    assert errors(text) == [
        "s.yaml:32: step divida: unknown variable 'credor.cnpj' (known: nome)",
    ]


def test_sandbox_escape_is_refused_at_validation() -> None:
    text = GOOD.replace("Confirme a data de nascimento.", "\"{{ ''.__class__.__mro__ }}\"")
    assert errors(text) == [
        "s.yaml:18: step identidade: access to internal attribute '__class__' is not allowed",
        "s.yaml:18: step identidade: access to internal attribute '__mro__' is not allowed",
    ]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("\"{{ 'a' * 100000000 }}\"", "número grande demais em '*' (o texto de um passo tem no máximo 20.000 caracteres)"),
        ("\"{% set n = 20000000 %}{{ cliente.nome * n }}\"", "o resultado teria 400.000.000 caracteres (limite de 20.000 por passo)"),
        ("\"{% autoescape false %}{{ cliente.nome }}{% endautoescape %}\"", "o escape do texto não pode ser desligado ({% autoescape %} não é permitido)"),
        ("\"{{ cliente.nome|safe }}\"", "o filtro 'safe' não é permitido: o texto do roteiro é sempre escapado"),
    ],
)
def test_unsafe_and_oversized_templates_are_refused_with_step_and_line(template: str, message: str) -> None:
    # the trial render with the sample customer catches limits that only show when the text is evaluated
    text = GOOD.replace("Confirme a data de nascimento.", template)
    assert errors(text) == [f"s.yaml:18: step identidade: {message}"]


def test_debt_before_identity_is_refused_with_the_path() -> None:
    text = GOOD.replace("        next: identidade", "        next: divida")
    found = errors(text)
    assert "s.yaml:15: step identidade: unreachable from the start step 'abertura'" in found
    assert (
        "s.yaml:27: step divida: shows credor.*, divida.* but can be reached before the identity is confirmed "
        "(abertura -> divida)" in found
    )
    assert any("outcome ACORDO needs a confirmed identity" in e for e in found)


def test_offer_calculator_counts_as_debt_detail() -> None:
    text = GOOD.replace("        next: identidade", "        next: divida").replace("{{ divida.total }}", "x").replace(
        "{{ credor.nome }}", "y"
    )
    assert any("opens the offer calculator but can be reached before" in e for e in errors(text))


def test_right_party_outcome_before_identity() -> None:
    text = GOOD.replace("dispose: RECADO\n  - id: identidade", "dispose: PROMESSA\n  - id: identidade")
    assert errors(text) == [
        "s.yaml:12: step abertura: choice 'terceiro': outcome PROMESSA needs a confirmed identity, "
        "but this step can be reached before it"
    ]


def test_unknown_outcome_and_custom_catalogue() -> None:
    text = GOOD.replace("dispose: ACORDO", "dispose: QUITADO")
    assert errors(text)[0].startswith("s.yaml:34: step divida: choice 'acordo': unknown outcome 'QUITADO'")
    script = load_script(text)
    assert validate_script(script, outcomes=frozenset({"QUITADO", "RECADO"})) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("title: Teste\n", ""), "s.yaml:1: script: missing 'title'"),
        (("version: 2", "version: dois"), "s.yaml:2: version must be a whole number >= 1"),
        (("    title: Identidade\n", "    title: Identidade\n    title: Outra\n"), "s.yaml:17: step identidade: step: duplicate key 'title'"),
        (("        next: identidade\n", "        next: identidade\n        dispose: RECADO\n"), "needs exactly one of 'next'"),
        (("actions: [open_offer_calculator]", "actions: [voar]"), "s.yaml:29: step divida: actions: unknown action 'voar'"),
        (("gate: identity_confirmed", "gate: outra"), "s.yaml:17: step identidade: unknown gate 'outra'"),
        (("  - id: identidade", "  - id: Identidade X"), "step id 'Identidade X' must be lower-case"),
        (("    text: Confirme a data de nascimento.\n", ""), "s.yaml:15: step identidade: step: missing 'text'"),
        (("title: Teste\n", "title: [Teste\n"), "not valid YAML"),
        (("        label: Confere\n", "        label: Confere\n        bogus: 1\n"), "choice: unknown key 'bogus'"),
    ],
)
def test_structural_errors(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    found = errors(GOOD.replace(old, new, 1))
    assert any(expected in e for e in found), found


def test_gate_rules() -> None:
    text = GOOD.replace("        confirms_identity: true\n", "")
    found = errors(text)
    assert "s.yaml:15: step identidade: identity gate step has no choice with confirms_identity: true" in found
    text = GOOD.replace("        next: identidade\n", "        next: identidade\n        confirms_identity: true\n")
    assert "s.yaml:9: step abertura: choice 'sim': confirms_identity outside the identity gate step" in errors(text)


def test_duplicate_step_and_choice_ids() -> None:
    text = GOOD.replace("  - id: identidade", "  - id: abertura")
    assert any("duplicate step id (first at line 5)" in e for e in errors(text))
    text = GOOD.replace("      - id: nao", "      - id: ok")
    assert any("duplicate choice id 'ok'" in e for e in errors(text))


# --- the shipped default script --------------------------------------------------------------


def test_default_script_validates_and_follows_spec_order() -> None:
    script = load_default_script()
    assert script.id == "padrao" and script.version >= 1
    happy = ["abertura", "identidade", "apresentar_divida", "motivo", "oferta", "objecoes", "confirmar"]
    for before, after in zip(happy, happy[1:]):
        assert any(c.next == after for c in script.step(before).choices), (before, after)
    assert any(c.next == "forma_pagamento" for c in script.step("confirmar").choices)
    assert {c.dispose for c in script.step("encerramento").choices} == {"ACORDO", "PROMESSA"}
    assert script.step("identidade").gate == IDENTITY_GATE
    outcomes = {c.dispose for s in script.steps for c in s.choices if c.dispose}
    assert outcomes == {
        "ACORDO", "PROMESSA", "RECUSA", "SEM_CONDICOES", "CONTESTA", "JA_PAGO", "RETORNAR", "RECADO", "TELEFONE_ERRADO", "FALECIDO",
    }


def test_default_script_opening_has_the_recording_notice_and_no_debt() -> None:
    opening = load_default_script().step("abertura")
    assert "gravada" in opening.text
    assert not check_template(opening.text).reveals_debt


def test_default_script_third_party_gets_only_first_name_and_company() -> None:
    step = load_default_script().step("terceiro")
    check = check_template(step.text)
    assert check.namespaces == {"agente", "empresa", "cliente"}
    assert "agente.nome" not in step.text and "primeiro_nome" in step.text
    assert not any(c.dispose in RIGHT_PARTY_OUTCOMES for c in step.choices)


def test_default_script_marks_company_caused_reasons() -> None:
    motivo = load_default_script().step("motivo")
    company = {i.code for c in motivo.choices if c.capture for i in c.capture.catalogue if i.company_caused}
    assert company == {"NAO_RECEBEU_FATURA", "PROBLEMA_PRODUTO_SERVICO", "CONTESTA_COBRANCA"}
    financial = {i.code for c in motivo.choices if c.capture for i in c.capture.catalogue if not i.company_caused}
    assert {"DESEMPREGO", "REDUCAO_RENDA"} <= financial
